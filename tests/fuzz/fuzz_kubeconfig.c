/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz driver for the kubeconfig reader: YAML or JSON bytes in, the resolved
 * current context out. Relative file names point into a directory that does
 * not exist, so the run stays in memory. Invariants checked: success yields
 * a server URL with a scheme and an origin, a client certificate only with
 * its key; failure leaves the output empty and gives a one-line reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct osw_kube_config c;
    struct osw_errbuf eb;
    memset(&c, 0, sizeof(c));
    eb.msg[0] = '\0';
    if (size > 65536)
        return 0;
    enum osw_err err = osw_kubeconfig_parse((const char *)data, size, "fuzz",
                                            "/nonexistent-osw-fuzz-dir", &c, &eb);
    if (err == OSW_OK) {
        if (!c.server || !c.origin)
            abort();
        if (strncmp(c.server, "https://", 8) != 0 && strncmp(c.server, "http://", 7) != 0)
            abort();
        if (c.server[strlen(c.server) - 1] == '/')
            abort();
        if (!c.client_cert_pem != !c.client_key_pem)
            abort();
        if (c.ca_pem && c.insecure_skip_tls_verify)
            abort();
        struct osw_kube_config d;
        if (osw_kube_config_copy(&d, &c) == OSW_OK) {
            if (strcmp(d.server, c.server) != 0)
                abort();
            osw_kube_config_free(&d);
        }
        osw_kube_config_free(&c);
    } else {
        if (c.server || c.token || c.ca_pem || c.origin || c.token_file)
            abort();
        if (!eb.msg[0] || strchr(eb.msg, '\n'))
            abort();
    }
    return 0;
}

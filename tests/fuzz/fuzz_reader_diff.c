/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential fuzz target: the fast reader (src/json/) against the jansson
 * reference reader on the same bytes. Any difference in the return code, or
 * in any field of the decoded view when both succeed, aborts. Besides the
 * raw input, the input minus its first byte is also embedded in one of a few
 * AdmissionReview templates (chosen by that first byte), so that mutations
 * reach the paths the reader extracts (annotations, metadata, spec, request
 * members, Ignition file entries) instead of dying at the envelope. When
 * reduced object trees are made, their CRI-O drop-in extract must equal the
 * extract of the whole object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/fuzz_template.h"
#include "../support/review_diff.h"
#include "osw/review.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENV "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
#define REQ ENV "\"request\":{\"uid\":\"u-1\",\"operation\":\"UPDATE\","

/* '@' marks where the payload goes (every '@' gets it). */
static const char *const templates[] = {
    REQ "\"object\":{\"metadata\":{\"name\":\"w\",\"annotations\":@},\"spec\":{}}}}",
    REQ "\"object\":{\"metadata\":{\"annotations\":{\"a\":\"b\",@}}}}}",
    REQ "\"object\":{\"metadata\":@,\"spec\":{\"osImageStream\":{\"name\":\"rhel-10\"}}}}}",
    REQ "\"object\":{\"metadata\":{\"name\":\"w\"},\"spec\":@},\"oldObject\":{\"spec\":@}}}",
    REQ "\"object\":{\"spec\":{\"osImageStream\":@}}}}",
    REQ "\"object\":@,\"oldObject\":@}}",
    REQ "\"kind\":@,\"resource\":@,\"name\":@,\"subResource\":@}}",
    REQ "\"object\":{},@}}",
    REQ "\"object\":{\"spec\":{\"machineConfigSelector\":@,\"paused\":@}},"
        "\"oldObject\":{\"spec\":{\"machineConfigSelector\":{\"matchLabels\":@}}}}}",
    REQ "\"userInfo\":@,\"object\":{\"spec\":{\"paused\":true,\"paused\":@}}}}",
    REQ "\"resource\":{\"group\":\"machineconfiguration.openshift.io\",\"resource\":"
        "\"machineconfigs\"},\"object\":@,\"oldObject\":{\"spec\":@}}}",
    REQ "\"resource\":{\"group\":\"machineconfiguration.openshift.io\",\"resource\":"
        "\"machineconfigs\"},\"object\":{\"spec\":{\"config\":{\"storage\":{\"files\":[@]}}}},"
        "\"oldObject\":{\"spec\":{\"config\":{\"storage\":{\"files\":[@,"
        "{\"path\":\"/etc/crio/crio.conf.d/z\"}]}}}}}}",
    REQ "\"object\":{\"metadata\":@},\"resource\":{\"group\":"
        "\"machineconfiguration.openshift.io\",\"resource\":\"osimagestreams\"},"
        "\"oldObject\":@}}",
    ENV "\"request\":@}",
    ENV "@}",
    "{@}",
};

#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

static void run(const char *body, size_t len)
{
    struct osw_review a, b;
    struct osw_errbuf ea, eb;
    enum osw_err ra = osw_review_decode_jansson(body, len, &a, &ea);
    enum osw_err rb = osw_review_decode_fast(body, len, &b, &eb);
    if (ra != rb) {
        fprintf(stderr, "verdict differs: jansson %d (%s) fast %d (%s)\n", (int)ra,
                ra ? ea.msg : "ok", (int)rb, rb ? eb.msg : "ok");
        abort();
    }
    if (ra == OSW_OK) {
        char buf[64];
        const char *w = review_diff(&a, &b, buf, sizeof(buf));
        if (w) {
            fprintf(stderr, "view differs at %s\n", w);
            abort();
        }
        w = review_diff_reduction_body(body, len, &a);
        if (w) {
            fprintf(stderr, "reduction changes the %s\n", w);
            abort();
        }
    } else if (b.storage != NULL || a.storage != NULL) {
        fprintf(stderr, "storage left on failure\n");
        abort();
    }
    osw_review_release(&a);
    osw_review_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    osw_fuzz_raw_and_templates(data, size, templates, NTEMPLATES, run);
    return 0;
}

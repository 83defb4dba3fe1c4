/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The GnuTLS priority strings for the serving side, one per minimum TLS
 * version. They follow OpenShift's Intermediate TLS profile and were checked
 * with `gnutls-cli --priority ... -l` and sslscan against a running server;
 * the unit test asks GnuTLS for the exact list of suites they enable.
 */
#include "tls/certstore.h"

/* OpenShift's Intermediate profile: TLS 1.3's suites and, in TLS 1.2, only
 * forward-secret AEAD (ECDHE-ECDSA / ECDHE-RSA with AES-GCM or ChaCha20).
 * Starting from SECURE keeps GnuTLS's vetted signature algorithms. */
#define PRIO_COMMON                                                                                \
    ":-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"                     \
    ":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"                                                             \
    ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE"

const char *osw_tls_priorities(enum osw_tls_min min)
{
    if (min == OSW_TLS_MIN_13)
        return "SECURE:-VERS-ALL:+VERS-TLS1.3" PRIO_COMMON;
    return "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" PRIO_COMMON;
}

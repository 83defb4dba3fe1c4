/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The GnuTLS priority strings for the serving side. They follow OpenShift's
 * Intermediate TLS profile and were checked with `gnutls-cli --priority ...
 * -l` and sslscan against a running server; the unit test asks GnuTLS for
 * the exact list of suites they enable. A chosen subset of the TLS 1.2
 * suites (`--tls-cipher-suites`) becomes one priority string per kind of
 * certificate key, applied by the server once a session is known to be TLS
 * 1.2 (see server.c, client_hello).
 */
#include <stdio.h>
#include <string.h>

#include "tls/priorities.h"

/* GnuTLS enables every combination of the key exchanges, ciphers and MACs a
 * priority string lists, and one cipher list serves TLS 1.2 and 1.3 alike.
 * So a subset such as {ECDHE_RSA with AES-128-GCM, ECDHE_ECDSA with
 * ChaCha20} cannot be one string, and dropping a cipher here would drop its
 * TLS 1.3 suite too. A session's certificate fixes the key exchange
 * (ECDHE_RSA or ECDHE_ECDSA), though, and for one key exchange the chosen
 * suites are just a cipher list: that is what osw_priorities_tls12 builds. */
#define PRIO_VERS_13 "SECURE:-VERS-ALL:+VERS-TLS1.3"
#define PRIO_VERS_12 "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define PRIO_GROUPS  ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE"

/* OpenShift's Intermediate profile: TLS 1.3's suites and, in TLS 1.2, only
 * forward-secret AEAD (ECDHE-ECDSA / ECDHE-RSA with AES-GCM or ChaCha20).
 * Starting from SECURE keeps GnuTLS's vetted signature algorithms. */
#define PRIO_COMMON                                                                                \
    ":-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"                     \
    ":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA" PRIO_GROUPS

static const struct {
    const char *iana;
    enum osw_tls_key key;
    const char *cipher; /* GnuTLS priority keyword */
} suites[OSW_TLS_SUITE_COUNT] = {
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", OSW_TLS_KEY_ECDSA, "AES-128-GCM"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", OSW_TLS_KEY_ECDSA, "AES-256-GCM"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", OSW_TLS_KEY_ECDSA, "CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", OSW_TLS_KEY_RSA, "AES-128-GCM"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", OSW_TLS_KEY_RSA, "AES-256-GCM"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", OSW_TLS_KEY_RSA, "CHACHA20-POLY1305"},
};

const char *osw_tls_priorities(enum osw_tls_min min)
{
    if (min == OSW_TLS_MIN_13)
        return PRIO_VERS_13 PRIO_COMMON;
    return PRIO_VERS_12 PRIO_COMMON;
}

const char *osw_priorities_suite_name(unsigned i)
{
    return i < OSW_TLS_SUITE_COUNT ? suites[i].iana : NULL;
}

static int suite_index(const char *name, size_t n)
{
    for (unsigned i = 0; i < OSW_TLS_SUITE_COUNT; i++) {
        if (strlen(suites[i].iana) == n && memcmp(suites[i].iana, name, n) == 0)
            return (int)i;
    }
    return -1;
}

bool osw_priorities_parse_suites(const char *list, unsigned *mask, const char **bad, size_t *badlen)
{
    unsigned m = 0;
    const char *p = list;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        int i = suite_index(p, n);
        if (i < 0) {
            *bad = p;
            *badlen = n;
            return false;
        }
        m |= 1u << (unsigned)i;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    *mask = m;
    return true;
}

bool osw_priorities_tls12(enum osw_tls_min min, unsigned mask, enum osw_tls_key key, char *buf,
                          size_t cap)
{
    char ciphers[128] = "";
    size_t used = 0;

    for (unsigned i = 0; i < OSW_TLS_SUITE_COUNT; i++) {
        if ((mask & (1u << i)) == 0 || suites[i].key != key)
            continue;
        int w = snprintf(ciphers + used, sizeof(ciphers) - used, ":+%s", suites[i].cipher);
        if (w < 0 || (size_t)w >= sizeof(ciphers) - used)
            return false;
        used += (size_t)w;
    }
    if (used == 0)
        return false;
    int w = snprintf(buf, cap, "%s:-CIPHER-ALL%s:-MAC-ALL:+AEAD:-KX-ALL:+%s%s",
                     min == OSW_TLS_MIN_13 ? PRIO_VERS_13 : PRIO_VERS_12, ciphers,
                     key == OSW_TLS_KEY_RSA ? "ECDHE-RSA" : "ECDHE-ECDSA", PRIO_GROUPS);
    return w > 0 && (size_t)w < cap;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serving side's GnuTLS priorities: which TLS versions, key exchanges,
 * ciphers and groups a handshake may use. OpenShift's Intermediate profile
 * by default (TLS 1.3, and in TLS 1.2 only ECDHE with AES-GCM or
 * ChaCha20-Poly1305); `--tls-cipher-suites` narrows the TLS 1.2 suites to a
 * chosen subset of those six, by IANA name, while TLS 1.3 keeps its three.
 */
#ifndef OSW_TLS_PRIORITIES_H
#define OSW_TLS_PRIORITIES_H

#include <stdbool.h>
#include <stddef.h>

enum osw_tls_min { OSW_TLS_MIN_12 = 0, OSW_TLS_MIN_13 };

/* The kind of key the serving certificate has: a TLS 1.2 suite names it
 * (ECDHE_RSA or ECDHE_ECDSA), so only half of the suites fit a given pair. */
enum osw_tls_key { OSW_TLS_KEY_RSA = 0, OSW_TLS_KEY_ECDSA };

/* The six TLS 1.2 suites `--tls-cipher-suites` accepts, as bits of a mask
 * (bit i = the i-th name osw_priorities_suite_name gives). */
#define OSW_TLS_SUITE_COUNT 6u
#define OSW_TLS_SUITES_ALL  0x3fu

/* The GnuTLS priority string: TLS 1.2 (optional) and 1.3 only; in 1.2 all
 * six suites above; X25519 / P-256 / P-384 groups; server precedence. It is
 * what every handshake starts with. Static string. */
const char *osw_tls_priorities(enum osw_tls_min min);

/* The IANA name of suite `i` (< OSW_TLS_SUITE_COUNT), e.g.
 * "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"; NULL past the end. Static. */
const char *osw_priorities_suite_name(unsigned i);

/*
 * Parses a `--tls-cipher-suites` value: IANA names separated by commas, no
 * spaces, case-sensitive, each one of the six suites (repeats allowed). On
 * success sets `*mask` (never 0) and returns true. Otherwise returns false
 * and points `*bad` / `*badlen` at the first name that is not accepted
 * (inside `list`, borrowed; an empty name has length 0).
 */
bool osw_priorities_parse_suites(const char *list, unsigned *mask, const char **bad,
                                 size_t *badlen);

/*
 * Writes into `buf` the priority string for a session already known to be
 * TLS 1.2 whose certificate has a key of kind `key`: the versions, groups
 * and signature algorithms of osw_tls_priorities(min), with only the TLS 1.2
 * suites of `mask` that fit that key. Only for TLS 1.2 sessions: GnuTLS
 * derives the TLS 1.3 suites from the same cipher list, so this string
 * would narrow them too. Returns false when no chosen suite fits the key
 * (TLS 1.2 handshakes with such a certificate must then fail) or when `cap`
 * is too small.
 */
bool osw_priorities_tls12(enum osw_tls_min min, unsigned mask, enum osw_tls_key key, char *buf,
                          size_t cap);

#endif /* OSW_TLS_PRIORITIES_H */

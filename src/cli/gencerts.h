/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `gen-certs` command: a local CA and a serving certificate signed by it
 * (ca.crt, tls.crt, tls.key; ECDSA P-256) for local runs and tests. Files are
 * written atomically (temporary file + rename) and are never overwritten
 * unless asked to; the key is never readable by others, not even briefly.
 */
#ifndef OSW_CLI_GENCERTS_H
#define OSW_CLI_GENCERTS_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/error.h"

/*
 * Writes `dir`/ca.crt, `dir`/tls.crt and `dir`/tls.key (mode 0600), creating
 * `dir` (and its parents, mode 0755) when missing. tls.crt is valid for each
 * of the `n` >= 1 names (an IPv4 or IPv6 literal is an IP SAN, anything else
 * must be an RFC 1123 host name, "*." allowed in front) and for 127.0.0.1
 * and ::1; its CN is the first DNS name. The CA's key is never written.
 * When any of the three files exists and `force` is false, nothing is changed
 * and OSW_EEXISTS is returned with a reason naming the file. A malformed name
 * gives OSW_EINVAL; I/O failures OSW_EIO; a crypto failure OSW_ETLS. All
 * arguments are borrowed.
 */
enum osw_err osw_gencerts_write(const char *dir, const char *const *dns_names, size_t n, bool force,
                                struct osw_errbuf *eb);

#endif /* OSW_CLI_GENCERTS_H */

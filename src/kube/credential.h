/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bytes of credentials a Kubernetes client takes from disk or from a
 * kubeconfig: bounded reads of regular files (never blocking on a FIFO),
 * token text, base64 through OpenSSL's EVP decoder, and PEM checks done once
 * at start-up so a bad certificate or key is reported by name instead of as
 * a failed handshake later. The file reader stands in for the project's
 * shared bounded reader until that exists.
 */
#ifndef OSW_KUBE_CREDENTIAL_H
#define OSW_KUBE_CREDENTIAL_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/error.h"

/*
 * Reads the regular file `path` whole into a new NUL-terminated buffer
 * (`*data` owned by the caller, `*len` without the NUL). The file is opened
 * with O_NONBLOCK and checked with fstat, so a FIFO or a device is refused
 * instead of blocking; more than `max` bytes is OSW_ETOOBIG; other failures
 * OSW_EIO, with the reason (not the path) in `eb`.
 */
enum osw_err osw_credential_read_file(const char *path, size_t max, char **data, size_t *len,
                                      struct osw_errbuf *eb);

/* Whitespace trimmed from both ends of a token's text, in place (`text` must
 * have room for the NUL at text[*len]); `*len` becomes the new length. A
 * token is refused (false) when empty or when it holds a control character,
 * which would break the Authorization header. */
bool osw_credential_token_clean(char *text, size_t *len);

/* Standard base64 (whitespace allowed) decoded into a new NUL-terminated
 * buffer (caller frees). OSW_EINVAL for bad input, OSW_ENOMEM. */
enum osw_err osw_credential_b64_decode(const char *in, size_t inlen, char **out, size_t *outlen);

/* The number of X.509 certificates that parse in a PEM blob (0: none). */
int osw_credential_pem_certs(const char *pem, size_t len);

/* OSW_OK when `cert` holds a PEM certificate and `key` the unencrypted PEM
 * private key that matches it; else OSW_EINVAL with "`where`: reason". */
enum osw_err osw_credential_check_pair(const char *cert, size_t clen, const char *key, size_t klen,
                                       const char *where, struct osw_errbuf *eb);

#endif /* OSW_KUBE_CREDENTIAL_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the Kubernetes API server is and how to authenticate to it: a
 * kubeconfig (read with libyaml through src/yaml, resolved as kubectl
 * resolves its current context) or the in-cluster service account. The
 * result is one plain struct that owns copies of everything, so the HTTP
 * client never looks at a kubeconfig. Errors are one line naming the file and
 * the field, and what kubectl would support but this webhook does not (an
 * exec plugin, an auth-provider) is refused by name rather than ignored.
 */
#ifndef OSW_KUBE_KUBECONFIG_H
#define OSW_KUBE_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/error.h"

/* Upper bounds for what is read from disk. */
#define OSW_KUBECONFIG_MAX_BYTES (4u << 20) /* a kubeconfig */
#define OSW_KUBE_PEM_MAX_BYTES   (1u << 20) /* a CA bundle, certificate or key */
#define OSW_KUBE_TOKEN_MAX_BYTES (64u << 10)

/* Everything is owned by the struct and freed by osw_kube_config_free(). */
struct osw_kube_config {
    char *server;  /* "https://host:port" (maybe with a path), no trailing slash */
    char *ca_pem;  /* certificate-authority(-data) or in-cluster ca.crt; NULL = system CAs */
    size_t ca_len; /* bytes in ca_pem (NUL-terminated too) */
    bool insecure_skip_tls_verify;
    char *token;           /* static bearer token, or NULL */
    char *token_file;      /* tokenFile or in-cluster token path, or NULL (re-read when it changes;
                            * when `token` is also set, the file wins while it can be read) */
    char *client_cert_pem; /* client-certificate(-data), or NULL */
    size_t client_cert_len;
    char *client_key_pem; /* client-key(-data); set exactly when client_cert_pem is */
    size_t client_key_len;
    char *origin; /* "kubeconfig /path (context X)" or "in-cluster", for messages */
};

/* Frees the members and zeroes `c` (the struct itself is the caller's); NULL is fine. */
void osw_kube_config_free(struct osw_kube_config *c);

/* Deep copy of `src` into `dst` (zeroed first; freed with osw_kube_config_free).
 * OSW_ENOMEM leaves `dst` empty. */
enum osw_err osw_kube_config_copy(struct osw_kube_config *dst, const struct osw_kube_config *src);

/*
 * Loads the kubeconfig at `path` and resolves its current-context: the
 * context's cluster (server, certificate-authority or -data, with -data
 * winning as in client-go, insecure-skip-tls-verify) and user (token,
 * tokenFile, client-certificate(-data) with client-key(-data)). Relative
 * file names are resolved against the kubeconfig's directory, as kubectl
 * does. Referenced files are read now (PEM is checked to parse, the key to
 * match the certificate, the token file to be readable and non-empty).
 * Refused with a one-line reason in `eb` (OSW_EINVAL, or OSW_EIO for files
 * that cannot be read): no current-context, a missing context, cluster or
 * user, a field of the wrong type, an exec plugin or auth-provider (named),
 * basic auth, impersonation, tls-server-name, proxy-url, a CA together with
 * insecure-skip-tls-verify, a certificate without its key. `out` is filled
 * only on OSW_OK (owned by the caller then).
 */
enum osw_err osw_kubeconfig_load(const char *path, struct osw_kube_config *out,
                                 struct osw_errbuf *eb);

/*
 * As osw_kubeconfig_load() for a list of kubeconfigs merged as kubectl merges
 * $KUBECONFIG: the first file that sets current-context wins, and for each
 * context, cluster and user name the first file that defines it wins (its
 * relative paths resolved against that file's directory). A file that does
 * not exist is skipped when n > 1 (kubectl does); any other failure to read
 * one is an error. `paths` borrowed.
 */
enum osw_err osw_kubeconfig_load_list(const char *const *paths, size_t n,
                                      struct osw_kube_config *out, struct osw_errbuf *eb);

/*
 * The parser under osw_kubeconfig_load(), on bytes: `name` is the file name
 * used in messages and `dir` the directory relative paths resolve against
 * (both borrowed). For tests and the fuzzer.
 */
enum osw_err osw_kubeconfig_parse(const char *data, size_t len, const char *name, const char *dir,
                                  struct osw_kube_config *out, struct osw_errbuf *eb);

/*
 * In-cluster configuration as client-go's rest.InClusterConfig builds it:
 * server "https://host:port" (an IPv6 `host` in brackets), the bearer token
 * file `sa_dir`/token (re-read by the client when it rotates) and the CA
 * `sa_dir`/ca.crt. `host` or `port` NULL or empty: OSW_EINVAL ("not running
 * in a cluster"). The token must be readable and non-empty and ca.crt must
 * hold a certificate now. All arguments borrowed.
 */
enum osw_err osw_kube_config_incluster(const char *host, const char *port, const char *sa_dir,
                                       struct osw_kube_config *out, struct osw_errbuf *eb);

#endif /* OSW_KUBE_KUBECONFIG_H */

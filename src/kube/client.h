/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An HTTP client for the Kubernetes API server on libcurl: one easy handle
 * (driven through a private multi handle so another thread can wake it)
 * per reflector thread, HTTP/1.1 keep-alive across calls, the server's
 * certificate verified against the configured CA only, a bearer token that
 * follows its file when the file is rotated, and streaming GETs for watches.
 * It neither logs nor retries: callers get the status, Retry-After and a
 * one-line reason, and decide.
 */
#ifndef OSW_KUBE_CLIENT_H
#define OSW_KUBE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/error.h"

#include "kube/kubeconfig.h"

struct osw_kube_client;

/* Timeouts; osw_kube_client_new() starts with the defaults below. */
struct osw_kube_limits {
    long connect_timeout_ms; /* TCP + TLS connect (default 10000) */
    long request_timeout_ms; /* whole non-watch request (default 60000) */
    /* A watch that delivers less than 1 byte/s over this many seconds is
     * ended as silent (default 330). Keep it above the timeoutSeconds the
     * watch asks for (client-go asks 300 to 600; 300 fits the default), or
     * a healthy but quiet watch is cut. TCP keep-alive probes meanwhile
     * detect a peer that vanished. */
    long watch_low_speed_s;
};

#define OSW_KUBE_CONNECT_TIMEOUT_MS 10000L
#define OSW_KUBE_REQUEST_TIMEOUT_MS 60000L
#define OSW_KUBE_WATCH_LOW_SPEED_S  330L

/* The most of an error answer's body kept to name its Status message. */
#define OSW_KUBE_ERROR_BODY_MAX (64u << 10)

/*
 * A client for `cfg` (deep-copied: the caller keeps its own). Needs
 * curl_global_init() done once by the process (main does). OSW_ENOMEM, or
 * OSW_EINVAL when libcurl refuses the configuration (eb says why). `*out`
 * is freed with osw_kube_client_free().
 */
enum osw_err osw_kube_client_new(const struct osw_kube_config *cfg, struct osw_kube_client **out,
                                 struct osw_errbuf *eb);

/* Closes the connection and frees everything; NULL is fine. No call may be
 * running (abort it and wait for it first). */
void osw_kube_client_free(struct osw_kube_client *c);

/* Replaces the timeouts (a value <= 0 keeps the current one). Not during a call. */
void osw_kube_client_set_limits(struct osw_kube_client *c, const struct osw_kube_limits *l);

struct osw_kube_response {
    long status;          /* HTTP status; 0 when no answer arrived */
    double retry_after_s; /* Retry-After in seconds (an HTTP date counted from now), or -1 */
};

/*
 * GET `path_and_query` ("/apis/...?...", appended to the server URL; it must
 * start with '/' and hold no space or control character, else OSW_EINVAL and
 * nothing is sent).
 *
 * A 2xx answer's body is given to `on_data` in arbitrary pieces as it
 * arrives (an event may end mid-piece or span many); `on_data` returning
 * false ends the transfer early, which is OSW_OK with the status seen. The
 * body of any other status is not given to `on_data`: up to
 * OSW_KUBE_ERROR_BODY_MAX of it is read and its Status `message` goes into
 * `eb` ("HTTP 403: <message>") while the call still returns OSW_OK.
 *
 * watch=true: no total timeout; a low-speed limit ends a silent stream (the
 * caller asks the server for timeoutSeconds). watch=false: the total
 * request timeout applies.
 *
 * Every request carries `Accept: application/json` and, when a token is
 * configured, `Authorization: Bearer <token>`: a token file is stat'ed when
 * each request starts and read again when it changed (device, inode, size,
 * mtime or ctime) or when it was last read less than a second after its
 * mtime (a rewrite within the file system's timestamp granularity looks
 * unchanged), so a request that starts 1 s or more after a rotation carries
 * the new token. When the file cannot be read the last token read from it
 * (else the kubeconfig's static token) is used; with neither, OSW_EIO and
 * nothing is sent. Tokens never appear in `eb`.
 *
 * The connection is kept alive between calls. The server certificate is
 * verified against the configured CA only (the system's CAs when none is
 * configured), unless insecure_skip_tls_verify; when it does not verify the
 * handshake fails and no request is sent. Proxies from the environment are
 * not used.
 *
 * OSW_OK: an HTTP answer arrived (any status, in resp->status). OSW_EIO:
 * transport failure or abort; eb says why ("certificate verify failed: ...",
 * "aborted", "timed out ..."), and resp->status is the status when a watch's
 * answer began but its stream then broke (else 0). `resp` is always filled.
 */
enum osw_err osw_kube_client_get(struct osw_kube_client *c, const char *path_and_query, bool watch,
                                 bool (*on_data)(void *ctx, const char *data, size_t len),
                                 void *ctx, struct osw_kube_response *resp, struct osw_errbuf *eb);

/*
 * POST `json` (`json_len` bytes, Content-Type: application/json) to `path`
 * (same rules as for GET), collecting the answer's body, whatever its status,
 * into `*body` (malloc'd and NUL-terminated, caller frees; `*body_len`
 * without the NUL). A body over `max_bytes` ends the call with OSW_ETOOBIG
 * and `*body` NULL. Other results as for osw_kube_client_get (watch=false).
 */
enum osw_err osw_kube_client_post(struct osw_kube_client *c, const char *path, const char *json,
                                  size_t json_len, size_t max_bytes, char **body, size_t *body_len,
                                  struct osw_kube_response *resp, struct osw_errbuf *eb);

/* From any thread: the running call (if any) and every later one return
 * OSW_EIO ("aborted") promptly; the running one is woken at once. */
void osw_kube_client_abort(struct osw_kube_client *c);

#endif /* OSW_KUBE_CLIENT_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access control for /metrics, the way kube-rbac-proxy and controller-runtime's
 * WithAuthenticationAndAuthorization do it: the scrape's bearer token goes to a
 * TokenReview, and the user it names to a SubjectAccessReview for verb `get` on
 * the non-resource path /metrics. Reviews run on a thread of their own, never
 * on a request thread, and their results are cached per token (by its SHA-256,
 * never the token itself): allowed for 30 s, 401 and 403 for 10 s, failures
 * not at all (CONTRACT.md "Metrics access").
 */
#ifndef OSW_KUBE_METRICSAUTH_H
#define OSW_KUBE_METRICSAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osw/error.h"

#include "obs/log.h"

/* The answer a scrape gets. */
enum osw_mauth_verdict {
    OSW_MAUTH_PENDING = 0,           /* a review was queued: `done` follows */
    OSW_MAUTH_ALLOWED = 200,         /* serve the metrics */
    OSW_MAUTH_UNAUTHENTICATED = 401, /* no token, or the TokenReview rejected it */
    OSW_MAUTH_FORBIDDEN = 403,       /* the SubjectAccessReview did not allow it */
    OSW_MAUTH_UNAVAILABLE = 503,     /* a review could not be completed, nothing cached */
};

#define OSW_MAUTH_ALLOW_TTL_MS 30000 /* contract: 15..60 s */
#define OSW_MAUTH_DENY_TTL_MS  10000 /* contract: at most 10 s */

/*
 * How reviews reach the API server; the production one wraps a
 * struct osw_kube_client (osw_mauth_reviewer_kube), tests pass a fake.
 * `post` runs on the review thread only; `abort` may be called from any
 * thread and makes the running and later posts fail promptly.
 */
struct osw_mauth_reviewer {
    void *ctx;
    /* POSTs `json` to `path`; on OSW_OK *status is the HTTP status and *body
     * (malloc'd, caller frees) the answer; OSW_EIO when no answer arrived. */
    enum osw_err (*post)(void *ctx, const char *path, const char *json, size_t len, char **body,
                         size_t *body_len, long *status, struct osw_errbuf *eb);
    void (*abort)(void *ctx);
    void (*free)(void *ctx); /* may be NULL */
};

struct osw_kube_config;

/* A reviewer over a new libcurl client for `cfg` (copied). */
enum osw_err osw_mauth_reviewer_kube(const struct osw_kube_config *cfg,
                                     struct osw_mauth_reviewer *out, struct osw_errbuf *eb);

struct osw_mauth;

/*
 * Starts the review thread. Takes ownership of `reviewer` (freed by
 * osw_mauth_free, or here on failure). `log` is borrowed and must outlive
 * `a`. `now_ms` is the clock the cache ages by (NULL: CLOCK_MONOTONIC in
 * milliseconds; tests pass their own).
 */
enum osw_err osw_mauth_new(const struct osw_mauth_reviewer *reviewer, const struct osw_log *log,
                           uint64_t (*now_ms)(void), struct osw_mauth **out, struct osw_errbuf *eb);

/*
 * Decides a scrape with the Authorization header value `authorization`
 * (NULL when absent). Returns ALLOWED, UNAUTHENTICATED or FORBIDDEN from the
 * cache or at once (no bearer token: 401), or PENDING after queuing a review:
 * `done(done_ctx, verdict)` is then called exactly once, from the review
 * thread, with the final verdict (never PENDING). Thread-safe.
 */
enum osw_mauth_verdict osw_mauth_check(struct osw_mauth *a, const char *authorization,
                                       void (*done)(void *done_ctx, enum osw_mauth_verdict v),
                                       void *done_ctx);

/* The verdict without queuing anything: UNAUTHENTICATED without a bearer
 * token, a fresh cached verdict, or PENDING (then call osw_mauth_check). */
enum osw_mauth_verdict osw_mauth_cached(struct osw_mauth *a, const char *authorization);

/* Stops the review thread: pending scrapes get `done(UNAVAILABLE)` before
 * this returns, and later checks are UNAVAILABLE at once. Idempotent. */
void osw_mauth_stop(struct osw_mauth *a);

/* Stops the thread: pending scrapes get `done(UNAVAILABLE)` before this
 * returns. Then frees everything. NULL is fine. */
void osw_mauth_free(struct osw_mauth *a);

#endif /* OSW_KUBE_METRICSAUTH_H */

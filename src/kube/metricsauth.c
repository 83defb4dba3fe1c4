/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics access control: a token cache in front of a review thread. A scrape
 * whose token is cached is answered at once; any other is queued, and the
 * review thread asks the API server (TokenReview, then SubjectAccessReview)
 * and calls the scrape's `done` callback, so a slow or unreachable API server
 * never holds a request thread. The cache keys are SHA-256 digests of the
 * tokens: a token itself lives only as long as its review.
 */
#include "kube/metricsauth.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "kube/client.h"

#define CACHE_SLOTS       128
#define HASH_LEN          32
#define REVIEW_MAX        (1u << 20) /* bytes of a review answer we read */
#define TOKEN_MAX         (16u << 10)
#define REVIEW_CONNECT_MS 3000L
#define REVIEW_TIMEOUT_MS 5000L
#define TOKENREVIEWS      "/apis/authentication.k8s.io/v1/tokenreviews"
#define ACCESSREVIEWS     "/apis/authorization.k8s.io/v1/subjectaccessreviews"

struct entry {
    bool used;
    unsigned char hash[HASH_LEN];
    enum osw_mauth_verdict verdict;
    uint64_t expires_ms;
};

struct job {
    struct job *next;
    unsigned char hash[HASH_LEN];
    char *token; /* owned; wiped and freed after the review */
    void (*done)(void *ctx, enum osw_mauth_verdict v);
    void *ctx;
};

struct osw_mauth {
    struct osw_mauth_reviewer rv; /* owned */
    const struct osw_log *log;
    uint64_t (*now_ms)(void);
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    struct job *head, **tail;
    bool stopping;
    pthread_t thread;
    bool thread_started;
    struct entry cache[CACHE_SLOTS];
};

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* "Bearer <token>": the scheme case-insensitively, one or more spaces, a
 * token without spaces. Anything else is no token. */
static bool bearer_token(const char *h, const char **tok, size_t *len)
{
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, " \t");
    if (n == 0 || n > TOKEN_MAX || h[n + strspn(h + n, " \t")] != '\0')
        return false;
    *tok = h;
    *len = n;
    return true;
}

static bool digest(const char *tok, size_t len, unsigned char out[HASH_LEN])
{
    unsigned int n = 0;
    return EVP_Digest(tok, len, out, &n, EVP_sha256(), NULL) == 1 && n == HASH_LEN;
}

/* Under a->mu: the cached verdict, or PENDING when none is fresh. */
static enum osw_mauth_verdict cache_get(struct osw_mauth *a, const unsigned char *hash,
                                        uint64_t now)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        const struct entry *e = &a->cache[i];
        if (e->used && e->expires_ms > now && memcmp(e->hash, hash, HASH_LEN) == 0)
            return e->verdict;
    }
    return OSW_MAUTH_PENDING;
}

/* Under a->mu: stores a verdict, replacing this token's entry, an expired
 * one, or the one that expires first. */
static void cache_put(struct osw_mauth *a, const unsigned char *hash, enum osw_mauth_verdict v,
                      uint64_t now)
{
    struct entry *slot = NULL;
    for (size_t i = 0; i < CACHE_SLOTS && slot == NULL; i++) {
        if (a->cache[i].used && memcmp(a->cache[i].hash, hash, HASH_LEN) == 0)
            slot = &a->cache[i];
    }
    for (size_t i = 0; i < CACHE_SLOTS && slot == NULL; i++) {
        if (!a->cache[i].used || a->cache[i].expires_ms <= now)
            slot = &a->cache[i];
    }
    if (slot == NULL) {
        slot = &a->cache[0];
        for (size_t i = 1; i < CACHE_SLOTS; i++) {
            if (a->cache[i].expires_ms < slot->expires_ms)
                slot = &a->cache[i];
        }
    }
    slot->used = true;
    memcpy(slot->hash, hash, HASH_LEN);
    slot->verdict = v;
    slot->expires_ms =
        now + (v == OSW_MAUTH_ALLOWED ? OSW_MAUTH_ALLOW_TTL_MS : OSW_MAUTH_DENY_TTL_MS);
}

/* POSTs `req` (taken) and parses a 2xx answer into *answer (caller
 * decrefs). false: the review could not be completed. */
static bool post_review(struct osw_mauth *a, const char *path, json_t *req, json_t **answer)
{
    struct osw_errbuf eb = {{0}};
    char *body = NULL, *json = req ? json_dumps(req, JSON_COMPACT) : NULL;
    size_t body_len = 0;
    long status = 0;
    bool ok = false;

    json_decref(req);
    *answer = NULL;
    if (json == NULL)
        goto out;
    enum osw_err err =
        a->rv.post(a->rv.ctx, path, json, strlen(json), &body, &body_len, &status, &eb);
    if (err != OSW_OK) {
        osw_log_write(
            a->log, OSW_LOG_WARN, "metrics review failed",
            (struct osw_log_field[]){OSW_LOGF_CSTR("path", path), OSW_LOGF_CSTR("error", eb.msg)},
            2);
        goto out;
    }
    if (status < 200 || status > 299) {
        osw_log_write(
            a->log, OSW_LOG_WARN, "metrics review refused",
            (struct osw_log_field[]){OSW_LOGF_CSTR("path", path), OSW_LOGF_INT("code", status)}, 2);
        goto out;
    }
    *answer = json_loadb(body, body_len, JSON_DECODE_INT_AS_REAL, NULL);
    ok = json_is_object(*answer);
out:
    if (json != NULL) {
        /* The request carried the token: wipe it before freeing. */
        memset(json, 0, strlen(json));
        free(json);
    }
    free(body);
    if (!ok) {
        json_decref(*answer);
        *answer = NULL;
    }
    return ok;
}

/* TokenReview: 401 when not authenticated, else the user (new reference). */
static enum osw_mauth_verdict token_review(struct osw_mauth *a, const char *token, json_t **user)
{
    json_t *answer = NULL;
    json_t *req = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "authentication.k8s.io/v1", "kind",
                            "TokenReview", "spec", "token", token);
    *user = NULL;
    if (!post_review(a, TOKENREVIEWS, req, &answer))
        return OSW_MAUTH_UNAVAILABLE;
    json_t *st = json_object_get(answer, "status");
    enum osw_mauth_verdict v = OSW_MAUTH_UNAUTHENTICATED;
    if (json_is_true(json_object_get(st, "authenticated")) &&
        json_is_object(json_object_get(st, "user"))) {
        *user = json_incref(json_object_get(st, "user"));
        v = OSW_MAUTH_ALLOWED; /* authenticated; authorization decides */
    }
    json_decref(answer);
    return v;
}

/* SubjectAccessReview for `get` on /metrics by `user` (TokenReview's
 * status.user: username, uid, groups, extra). */
static enum osw_mauth_verdict access_review(struct osw_mauth *a, const json_t *user)
{
    json_t *spec =
        json_pack("{s:{s:s, s:s}}", "nonResourceAttributes", "path", "/metrics", "verb", "get");
    static const char *const copy[][2] = {
        {"username", "user"}, {"uid", "uid"}, {"groups", "groups"}, {"extra", "extra"}};
    for (size_t i = 0; spec != NULL && i < sizeof(copy) / sizeof(copy[0]); i++) {
        json_t *v = json_object_get(user, copy[i][0]);
        if (v != NULL && json_object_set(spec, copy[i][1], v) != 0) {
            json_decref(spec);
            spec = NULL;
        }
    }
    json_t *req = spec ? json_pack("{s:s, s:s, s:o}", "apiVersion", "authorization.k8s.io/v1",
                                   "kind", "SubjectAccessReview", "spec", spec)
                       : NULL;
    json_t *answer = NULL;
    if (!post_review(a, ACCESSREVIEWS, req, &answer))
        return OSW_MAUTH_UNAVAILABLE;
    bool allowed = json_is_true(json_object_get(json_object_get(answer, "status"), "allowed"));
    json_decref(answer);
    return allowed ? OSW_MAUTH_ALLOWED : OSW_MAUTH_FORBIDDEN;
}

static enum osw_mauth_verdict review(struct osw_mauth *a, const char *token)
{
    json_t *user = NULL;
    enum osw_mauth_verdict v = token_review(a, token, &user);
    if (v == OSW_MAUTH_ALLOWED) {
        v = access_review(a, user);
        if (v == OSW_MAUTH_FORBIDDEN) {
            json_t *name = json_object_get(user, "username");
            osw_log_write(a->log, OSW_LOG_INFO, "metrics scrape forbidden",
                          (struct osw_log_field[]){OSW_LOGF_CSTR(
                              "user", json_is_string(name) ? json_string_value(name) : "")},
                          1);
        }
    }
    json_decref(user);
    return v;
}

static void job_free(struct job *j)
{
    if (j->token != NULL) {
        memset(j->token, 0, strlen(j->token));
        free(j->token);
    }
    free(j);
}

static void *review_thread(void *arg)
{
    struct osw_mauth *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (a->head == NULL && !a->stopping)
            pthread_cond_wait(&a->cv, &a->mu);
        struct job *j = a->head;
        if (j == NULL)
            break; /* stopping, queue drained */
        a->head = j->next;
        if (a->head == NULL)
            a->tail = &a->head;
        enum osw_mauth_verdict v =
            a->stopping ? OSW_MAUTH_UNAVAILABLE : cache_get(a, j->hash, a->now_ms());
        if (v == OSW_MAUTH_PENDING) {
            pthread_mutex_unlock(&a->mu);
            v = review(a, j->token);
            pthread_mutex_lock(&a->mu);
            if (v != OSW_MAUTH_UNAVAILABLE) /* failures are not cached */
                cache_put(a, j->hash, v, a->now_ms());
        }
        pthread_mutex_unlock(&a->mu);
        j->done(j->ctx, v);
        job_free(j);
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

enum osw_mauth_verdict osw_mauth_check(struct osw_mauth *a, const char *authorization,
                                       void (*done)(void *done_ctx, enum osw_mauth_verdict v),
                                       void *done_ctx)
{
    const char *tok = NULL;
    size_t len = 0;
    struct job *j = NULL;
    enum osw_mauth_verdict v;

    if (!bearer_token(authorization, &tok, &len))
        return OSW_MAUTH_UNAUTHENTICATED;
    j = calloc(1, sizeof(*j));
    if (j == NULL || !digest(tok, len, j->hash) || (j->token = strndup(tok, len)) == NULL) {
        if (j != NULL)
            job_free(j);
        return OSW_MAUTH_UNAVAILABLE;
    }
    j->done = done;
    j->ctx = done_ctx;
    pthread_mutex_lock(&a->mu);
    v = a->stopping ? OSW_MAUTH_UNAVAILABLE : cache_get(a, j->hash, a->now_ms());
    if (v == OSW_MAUTH_PENDING) {
        *a->tail = j;
        a->tail = &j->next;
        j = NULL;
        pthread_cond_signal(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    if (j != NULL)
        job_free(j);
    return v;
}

enum osw_mauth_verdict osw_mauth_cached(struct osw_mauth *a, const char *authorization)
{
    const char *tok = NULL;
    size_t len = 0;
    unsigned char hash[HASH_LEN];

    if (!bearer_token(authorization, &tok, &len))
        return OSW_MAUTH_UNAUTHENTICATED;
    if (!digest(tok, len, hash))
        return OSW_MAUTH_UNAVAILABLE;
    pthread_mutex_lock(&a->mu);
    enum osw_mauth_verdict v =
        a->stopping ? OSW_MAUTH_UNAVAILABLE : cache_get(a, hash, a->now_ms());
    pthread_mutex_unlock(&a->mu);
    return v;
}

enum osw_err osw_mauth_new(const struct osw_mauth_reviewer *reviewer, const struct osw_log *log,
                           uint64_t (*now_ms)(void), struct osw_mauth **out, struct osw_errbuf *eb)
{
    struct osw_mauth *a = calloc(1, sizeof(*a));
    *out = NULL;
    if (a == NULL) {
        if (reviewer->free != NULL)
            reviewer->free(reviewer->ctx);
        return osw_errbuf_set(eb, OSW_ENOMEM, "metrics auth: out of memory");
    }
    a->rv = *reviewer;
    a->log = log;
    a->now_ms = now_ms != NULL ? now_ms : monotonic_ms;
    a->tail = &a->head;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (pthread_create(&a->thread, NULL, review_thread, a) != 0) {
        osw_mauth_free(a);
        return osw_errbuf_set(eb, OSW_EIO, "metrics auth: cannot start its thread");
    }
    a->thread_started = true;
    *out = a;
    return OSW_OK;
}

void osw_mauth_stop(struct osw_mauth *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    a->stopping = true;
    pthread_cond_signal(&a->cv);
    bool join = a->thread_started;
    a->thread_started = false;
    pthread_mutex_unlock(&a->mu);
    if (a->rv.abort != NULL)
        a->rv.abort(a->rv.ctx);
    /* The thread answers every queued job before it ends; without a thread
     * nothing was ever queued. */
    if (join)
        pthread_join(a->thread, NULL);
}

void osw_mauth_free(struct osw_mauth *a)
{
    if (a == NULL)
        return;
    osw_mauth_stop(a);
    if (a->rv.free != NULL)
        a->rv.free(a->rv.ctx);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* ---- the production reviewer: a libcurl client of its own ---- */

static enum osw_err kube_post(void *ctx, const char *path, const char *json, size_t len,
                              char **body, size_t *body_len, long *status, struct osw_errbuf *eb)
{
    struct osw_kube_response resp = {0, -1.0};
    enum osw_err err =
        osw_kube_client_post(ctx, path, json, len, REVIEW_MAX, body, body_len, &resp, eb);
    *status = resp.status;
    return err;
}

static void kube_abort(void *ctx)
{
    osw_kube_client_abort(ctx);
}

static void kube_free(void *ctx)
{
    osw_kube_client_free(ctx);
}

enum osw_err osw_mauth_reviewer_kube(const struct osw_kube_config *cfg,
                                     struct osw_mauth_reviewer *out, struct osw_errbuf *eb)
{
    struct osw_kube_client *c = NULL;
    enum osw_err err = osw_kube_client_new(cfg, &c, eb);
    if (err != OSW_OK)
        return err;
    /* A scrape waits for the review: answer well within Prometheus's
     * default 10 s scrape timeout, with a 503 when the API is that slow. */
    struct osw_kube_limits lim = {REVIEW_CONNECT_MS, REVIEW_TIMEOUT_MS, 0};
    osw_kube_client_set_limits(c, &lim);
    *out = (struct osw_mauth_reviewer){c, kube_post, kube_abort, kube_free};
    return OSW_OK;
}

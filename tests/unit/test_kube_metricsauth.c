/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics access control against a scripted reviewer and a fake clock: the
 * 401/403/503 verdicts, what is cached and for how long, that failures are
 * not cached, that a cached verdict holds while the API is unreachable, the
 * review bodies (token, user, groups, extra, /metrics get), and that pending
 * scrapes are answered when the module stops.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kube/metricsauth.h"

/* ---- a scripted reviewer ---- */

struct script {
    pthread_mutex_t mu;
    int token_calls, access_calls;
    enum osw_err fail;      /* returned by every post when not OSW_OK */
    long token_status;      /* HTTP status of the TokenReview answer */
    const char *token_body; /* its body */
    long access_status;
    const char *access_body;
    char last_token_req[4096];
    char last_access_req[4096];
    bool block;   /* posts wait until aborted */
    bool aborted; /* abort() was called */
    pthread_cond_t cv;
};

static struct script S;
static uint64_t clock_ms = 1000;

static uint64_t fake_now(void)
{
    return __atomic_load_n(&clock_ms, __ATOMIC_SEQ_CST);
}

static void advance(uint64_t ms)
{
    __atomic_add_fetch(&clock_ms, ms, __ATOMIC_SEQ_CST);
}

static enum osw_err fake_post(void *ctx, const char *path, const char *json, size_t len,
                              char **body, size_t *body_len, long *status, struct osw_errbuf *eb)
{
    struct script *s = ctx;
    bool token = strstr(path, "tokenreviews") != NULL;
    pthread_mutex_lock(&s->mu);
    while (s->block && !s->aborted)
        pthread_cond_wait(&s->cv, &s->mu);
    if (token)
        s->token_calls++;
    else
        s->access_calls++;
    char *dst = token ? s->last_token_req : s->last_access_req;
    size_t n = len < 4095 ? len : 4095;
    memcpy(dst, json, n);
    dst[n] = '\0';
    enum osw_err fail = s->aborted ? OSW_EIO : s->fail;
    const char *answer = token ? s->token_body : s->access_body;
    *status = token ? s->token_status : s->access_status;
    pthread_mutex_unlock(&s->mu);
    if (fail != OSW_OK)
        return osw_errbuf_set(eb, fail, "scripted failure");
    *body = strdup(answer);
    *body_len = strlen(answer);
    return *body ? OSW_OK : OSW_ENOMEM;
}

static void fake_abort(void *ctx)
{
    struct script *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->aborted = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

#define AUTHENTICATED                                                                              \
    "{\"status\":{\"authenticated\":true,\"user\":{\"username\":\"system:serviceaccount:"          \
    "openshift-monitoring:prometheus-k8s\",\"uid\":\"u-1\",\"groups\":[\"system:"                  \
    "serviceaccounts\"],\"extra\":{\"scope\":[\"a\"]}}}}"
#define NOT_AUTHENTICATED "{\"status\":{\"authenticated\":false,\"error\":\"invalid token\"}}"
#define ALLOWED           "{\"status\":{\"allowed\":true}}"
#define DENIED            "{\"status\":{\"allowed\":false,\"reason\":\"no RBAC\"}}"

/* ---- completion ---- */

static sem_t done_sem;
static enum osw_mauth_verdict done_verdict;

static void on_done(void *ctx, enum osw_mauth_verdict v)
{
    (void)ctx;
    done_verdict = v;
    sem_post(&done_sem);
}

/* Checks `header`; when the answer is pending, waits for the review. */
static enum osw_mauth_verdict scrape(struct osw_mauth *a, const char *header, bool *was_pending)
{
    enum osw_mauth_verdict v = osw_mauth_check(a, header, on_done, NULL);
    *was_pending = v == OSW_MAUTH_PENDING;
    if (v == OSW_MAUTH_PENDING) {
        assert_int_equal(sem_wait(&done_sem), 0);
        v = done_verdict;
    }
    return v;
}

static struct osw_mauth *start(void)
{
    pthread_mutex_init(&S.mu, NULL);
    pthread_cond_init(&S.cv, NULL);
    S.fail = OSW_OK;
    S.token_status = 201;
    S.token_body = AUTHENTICATED;
    S.access_status = 201;
    S.access_body = ALLOWED;
    sem_init(&done_sem, 0, 0);
    struct osw_mauth_reviewer rv = {&S, fake_post, fake_abort, NULL};
    struct osw_mauth *a = NULL;
    struct osw_errbuf eb;
    assert_int_equal(osw_mauth_new(&rv, NULL, fake_now, &a, &eb), OSW_OK);
    return a;
}

static int reset(void **state)
{
    (void)state;
    memset(&S, 0, sizeof(S));
    clock_ms = 1000;
    return 0;
}

static void test_no_token_is_401_without_review(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    static const char *bad[] = {NULL,      "",           "Basic dXNlcjpwYXNz", "Bearer",
                                "Bearer ", "Bearer a b", "Token abc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(osw_mauth_check(a, bad[i], on_done, NULL), OSW_MAUTH_UNAUTHENTICATED);
    assert_int_equal(S.token_calls + S.access_calls, 0);
    osw_mauth_free(a);
}

static void test_allowed_is_cached_30s(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    bool pending;
    assert_int_equal(scrape(a, "Bearer tok-1", &pending), OSW_MAUTH_ALLOWED);
    assert_true(pending);
    assert_int_equal(S.token_calls, 1);
    assert_int_equal(S.access_calls, 1);
    /* The scheme is case-insensitive, as Go's net/http treats it. */
    advance(OSW_MAUTH_ALLOW_TTL_MS - 1);
    assert_int_equal(scrape(a, "bearer tok-1", &pending), OSW_MAUTH_ALLOWED);
    assert_false(pending);
    assert_int_equal(S.token_calls, 1);
    advance(1);
    assert_int_equal(scrape(a, "Bearer tok-1", &pending), OSW_MAUTH_ALLOWED);
    assert_true(pending);
    assert_int_equal(S.token_calls, 2);
    osw_mauth_free(a);
}

static void test_review_bodies(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    bool pending;
    assert_int_equal(scrape(a, "Bearer secret-token", &pending), OSW_MAUTH_ALLOWED);
    json_t *tr = json_loads(S.last_token_req, 0, NULL);
    json_t *sar = json_loads(S.last_access_req, 0, NULL);
    assert_non_null(tr);
    assert_non_null(sar);
    assert_string_equal(json_string_value(json_object_get(tr, "kind")), "TokenReview");
    assert_string_equal(json_string_value(json_object_get(json_object_get(tr, "spec"), "token")),
                        "secret-token");
    json_t *spec = json_object_get(sar, "spec");
    assert_string_equal(json_string_value(json_object_get(sar, "kind")), "SubjectAccessReview");
    assert_string_equal(json_string_value(json_object_get(spec, "user")),
                        "system:serviceaccount:openshift-monitoring:prometheus-k8s");
    assert_string_equal(json_string_value(json_object_get(spec, "uid")), "u-1");
    assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "groups"), 0)),
                        "system:serviceaccounts");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(spec, "extra"), "scope"), 0)),
                        "a");
    json_t *nra = json_object_get(spec, "nonResourceAttributes");
    assert_string_equal(json_string_value(json_object_get(nra, "path")), "/metrics");
    assert_string_equal(json_string_value(json_object_get(nra, "verb")), "get");
    /* The SubjectAccessReview never carries the token. */
    assert_null(strstr(S.last_access_req, "secret-token"));
    json_decref(tr);
    json_decref(sar);
    osw_mauth_free(a);
}

static void test_unauthenticated_cached_10s(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    S.token_body = NOT_AUTHENTICATED;
    bool pending;
    assert_int_equal(scrape(a, "Bearer bad", &pending), OSW_MAUTH_UNAUTHENTICATED);
    assert_int_equal(S.access_calls, 0);
    advance(OSW_MAUTH_DENY_TTL_MS - 1);
    assert_int_equal(scrape(a, "Bearer bad", &pending), OSW_MAUTH_UNAUTHENTICATED);
    assert_false(pending);
    advance(1);
    S.token_body = AUTHENTICATED; /* e.g. the token became valid */
    assert_int_equal(scrape(a, "Bearer bad", &pending), OSW_MAUTH_ALLOWED);
    assert_true(pending);
    osw_mauth_free(a);
}

static void test_forbidden_cached_10s(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    S.access_body = DENIED;
    bool pending;
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_FORBIDDEN);
    advance(5000);
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_FORBIDDEN);
    assert_false(pending);
    advance(OSW_MAUTH_DENY_TTL_MS);
    S.access_body = ALLOWED; /* RBAC granted meanwhile */
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_ALLOWED);
    assert_true(pending);
    osw_mauth_free(a);
}

static void test_failures_are_503_and_not_cached(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    bool pending;
    S.fail = OSW_EIO; /* unreachable */
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_UNAVAILABLE);
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_UNAVAILABLE);
    assert_true(pending); /* not cached: asked again */
    assert_int_equal(S.token_calls, 2);
    S.fail = OSW_OK;
    S.token_status = 500; /* any non-2xx */
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_UNAVAILABLE);
    S.token_status = 201;
    S.access_status = 403; /* the webhook itself may not create SARs */
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_UNAVAILABLE);
    S.access_status = 201;
    S.access_body = "not json";
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_UNAVAILABLE);
    S.access_body = ALLOWED;
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_ALLOWED);
    assert_true(pending);
    osw_mauth_free(a);
}

static void test_cache_holds_while_api_unreachable(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    bool pending;
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_ALLOWED);
    S.fail = OSW_EIO;
    advance(15000);
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_ALLOWED);
    assert_false(pending);
    /* Another token is not covered by this one's result. */
    assert_int_equal(scrape(a, "Bearer other", &pending), OSW_MAUTH_UNAVAILABLE);
    osw_mauth_free(a);
}

static void test_stop_answers_pending_scrapes(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    S.block = true; /* the API server never answers */
    assert_int_equal(osw_mauth_check(a, "Bearer one", on_done, NULL), OSW_MAUTH_PENDING);
    assert_int_equal(osw_mauth_check(a, "Bearer two", on_done, NULL), OSW_MAUTH_PENDING);
    osw_mauth_free(a); /* aborts the post, answers both */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sem_trywait(&done_sem), 0);
        assert_int_equal(done_verdict, OSW_MAUTH_UNAVAILABLE);
    }
    assert_int_equal(sem_trywait(&done_sem), -1);
}

static void test_cached_never_queues(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    bool pending;
    assert_int_equal(osw_mauth_cached(a, NULL), OSW_MAUTH_UNAUTHENTICATED);
    assert_int_equal(osw_mauth_cached(a, "Bearer t"), OSW_MAUTH_PENDING);
    assert_int_equal(S.token_calls, 0); /* nothing was queued */
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_ALLOWED);
    assert_int_equal(osw_mauth_cached(a, "Bearer t"), OSW_MAUTH_ALLOWED);
    advance(OSW_MAUTH_ALLOW_TTL_MS);
    assert_int_equal(osw_mauth_cached(a, "Bearer t"), OSW_MAUTH_PENDING);
    osw_mauth_free(a);
}

static void test_after_stop_everything_is_503(void **state)
{
    (void)state;
    struct osw_mauth *a = start();
    bool pending;
    assert_int_equal(scrape(a, "Bearer t", &pending), OSW_MAUTH_ALLOWED);
    osw_mauth_stop(a);
    osw_mauth_stop(a); /* idempotent */
    assert_int_equal(osw_mauth_cached(a, "Bearer t"), OSW_MAUTH_UNAVAILABLE);
    assert_int_equal(osw_mauth_check(a, "Bearer t", on_done, NULL), OSW_MAUTH_UNAVAILABLE);
    assert_int_equal(osw_mauth_cached(a, "Basic x"), OSW_MAUTH_UNAUTHENTICATED);
    osw_mauth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_token_is_401_without_review, reset),
        cmocka_unit_test_setup(test_allowed_is_cached_30s, reset),
        cmocka_unit_test_setup(test_review_bodies, reset),
        cmocka_unit_test_setup(test_unauthenticated_cached_10s, reset),
        cmocka_unit_test_setup(test_forbidden_cached_10s, reset),
        cmocka_unit_test_setup(test_failures_are_503_and_not_cached, reset),
        cmocka_unit_test_setup(test_cache_holds_while_api_unreachable, reset),
        cmocka_unit_test_setup(test_stop_answers_pending_scrapes, reset),
        cmocka_unit_test_setup(test_cached_never_queues, reset),
        cmocka_unit_test_setup(test_after_stop_everything_is_503, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

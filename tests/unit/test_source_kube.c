/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the Kubernetes API source over a scripted transport: a list with
 * the object publishes it and syncs; a list without it syncs an empty cache;
 * a kind that no version serves leaves it unsynced and is retried; an invalid object is refused and
 * counted while the last good snapshot stays (and, first of all, leaves the cache synced but
 * empty); DELETED empties the cache and ADDED fills it again; events for another name are ignored;
 * a relist of the same version is not a new update.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube_fake.h"
#include "source/source.h"

#define WAIT_MS 5000

struct fx {
    struct fake fake;
    struct osw_snapcell cell;
    struct osw_metrics *metrics;
    struct osw_log log;
    struct osw_source *src;
    char *strs[MAX_STEPS * 2];
    size_t nstrs;
};

static struct fx *fx_new(void)
{
    struct fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    pthread_mutex_init(&x->fake.mu, NULL);
    pthread_cond_init(&x->fake.cond, NULL);
    osw_snapcell_init(&x->cell);
    x->metrics = osw_metrics_new();
    osw_log_init(&x->log, OSW_LOG_ERROR, OSW_LOG_JSON, STDERR_FILENO);
    return x;
}

static void fx_start(struct fx *x, const char *name)
{
    struct osw_source_env env = {&x->cell, &x->log, x->metrics};
    struct osw_reflector_transport t = {&fake_ops, &x->fake};
    struct osw_errbuf eb;
    assert_int_equal(osw_source_kube_new(name, t, &env, &x->src, &eb), OSW_OK);
    assert_int_equal(osw_source_start(x->src, &eb), OSW_OK);
}

static void fx_free(struct fx *x)
{
    osw_source_destroy(x->src);
    assert_true(x->fake.destroyed);
    for (size_t i = 0; i < x->fake.ncalls; i++)
        free(x->fake.calls[i]);
    for (size_t i = 0; i < x->nstrs; i++)
        free(x->strs[i]);
    osw_snapcell_destroy(&x->cell);
    osw_metrics_free(x->metrics);
    pthread_mutex_destroy(&x->fake.mu);
    pthread_cond_destroy(&x->fake.cond);
    free(x);
}

/* The fixture OSImageStream named `name` at `rv`; `bad` breaks an image. */
static json_t *object(const char *name, const char *rv, bool bad)
{
    json_error_t jerr;
    json_t *o = json_load_file(OSW_TEST_DATA "/osimagestream.json", 0, &jerr);
    assert_non_null(o);
    json_t *meta = json_object_get(o, "metadata");
    json_object_set_new(meta, "name", json_string(name));
    json_object_set_new(meta, "resourceVersion", json_string(rv));
    if (bad) {
        json_t *s0 =
            json_array_get(json_object_get(json_object_get(o, "status"), "availableStreams"), 0);
        json_object_set_new(s0, "osImage", json_string("quay.io/x:latest"));
    }
    return o;
}

static const char *keep(struct fx *x, char *s)
{
    assert_non_null(s);
    assert_true(x->nstrs < MAX_STEPS * 2);
    x->strs[x->nstrs++] = s;
    return s;
}

/* A list answer holding `obj` (stolen; NULL: empty). */
static const char *list_body(struct fx *x, const char *rv, json_t *obj)
{
    json_t *items = json_array();
    if (obj)
        json_array_append_new(items, obj);
    json_t *l = json_pack("{s:{s:s},s:o}", "metadata", "resourceVersion", rv, "items", items);
    char *s = json_dumps(l, JSON_COMPACT);
    json_decref(l);
    return keep(x, s);
}

static const char *event_line(struct fx *x, const char *type, json_t *obj)
{
    json_t *e = json_pack("{s:s,s:o}", "type", type, "object", obj);
    char *s = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    size_t n = strlen(s);
    char *l = malloc(n + 2);
    assert_non_null(l);
    memcpy(l, s, n);
    l[n] = '\n';
    l[n + 1] = '\0';
    free(s);
    return keep(x, l);
}

static void step(struct fx *x, long status, const char *a, const char *b, bool hold)
{
    struct step st = {.status = status, .pieces = {a, b}, .hold = hold};
    pthread_mutex_lock(&x->fake.mu);
    x->fake.steps[x->fake.nsteps++] = st;
    pthread_cond_broadcast(&x->fake.cond);
    pthread_mutex_unlock(&x->fake.mu);
}

static double metric(struct fx *x, const char *key)
{
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_metrics_render(x->metrics, &b), OSW_OK);
    char line[160];
    snprintf(line, sizeof(line), "\n%s", key); /* a sample, not its # HELP line */
    const char *p = strstr(b.data, line);
    double v = p ? strtod(p + strlen(line), NULL) : -1;
    osw_buf_free(&b);
    return v;
}

/* Waits until the cell is synced and its snapshot has `count` streams (0: empty). */
static void wait_cell(struct fx *x, size_t count, const char *rv)
{
    int64_t end = now_ms() + WAIT_MS;
    for (;;) {
        struct osw_osis *s = osw_snapcell_acquire(&x->cell);
        bool ok = osw_snapcell_synced(&x->cell) &&
                  (count == 0 ? s == NULL
                              : s && osw_osis_count(s) == count &&
                                    osw_str_eq_cstr(osw_osis_resource_version(s), rv));
        osw_osis_unref(s);
        if (ok)
            return;
        if (now_ms() > end)
            fail_msg("cell never reached %zu streams at rv %s", count, rv ? rv : "-");
        usleep(1000);
    }
}

static void wait_calls(struct fx *x, size_t n)
{
    int64_t end = now_ms() + WAIT_MS;
    while (now_ms() < end) {
        pthread_mutex_lock(&x->fake.mu);
        size_t got = x->fake.ncalls;
        pthread_mutex_unlock(&x->fake.mu);
        if (got >= n)
            return;
        usleep(1000);
    }
    fail_msg("fewer than %zu calls", n);
}

static void list_publishes_and_events_follow(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    step(x, 200, list_body(x, "10", object("cluster", "10", false)), NULL, false);
    step(x, 200, event_line(x, "MODIFIED", object("other", "11", true)),
         event_line(x, "MODIFIED", object("cluster", "12", true)), false);
    step(x, 200, list_body(x, "12", object("cluster", "10", false)), NULL, false);
    step(x, 200, event_line(x, "DELETED", object("cluster", "13", false)), NULL, false);
    step(x, 200, list_body(x, "13", NULL), NULL, false);
    step(x, 200, event_line(x, "ADDED", object("cluster", "14", false)), NULL, true);
    assert_false(osw_snapcell_synced(&x->cell));
    fx_start(x, "cluster");
    wait_cell(x, 2, "10");
    assert_true(strstr(x->fake.calls[0], "fieldSelector=metadata.name%3Dcluster") != NULL);
    wait_calls(x, 6);
    wait_cell(x, 2, "14");
    /* other: ignored; cluster@12 invalid: counted once; the relist of @10
     * was no new update; DELETED emptied; ADDED filled. */
    assert_true(metric(x, "osstream_webhook_osimagestream_updates_total{result=\"invalid\"} ") ==
                1);
    assert_true(metric(x, "osstream_webhook_osimagestream_updates_total{result=\"success\"} ") ==
                2);
    assert_true(metric(x, "osstream_webhook_osimagestream_synced ") == 1);
    assert_true(metric(x, "osstream_webhook_osimagestream_streams ") == 2);
    fx_free(x);
}

static void deleted_empties(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    step(x, 200, list_body(x, "10", object("cluster", "10", false)), NULL, false);
    step(x, 200, event_line(x, "DELETED", object("cluster", "11", false)), NULL, true);
    fx_start(x, "cluster");
    wait_calls(x, 2);
    wait_cell(x, 0, NULL);
    assert_true(metric(x, "osstream_webhook_osimagestream_streams ") == 0);
    fx_free(x);
}

static void list_without_object_syncs_empty(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    step(x, 200, list_body(x, "3", NULL), NULL, false);
    fx_start(x, "cluster");
    wait_cell(x, 0, NULL);
    assert_true(metric(x, "osstream_webhook_osimagestream_synced ") == 1);
    fx_free(x);
}

static void invalid_first_object_syncs_empty(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    step(x, 200, list_body(x, "3", object("cluster", "3", true)), NULL, false);
    step(x, 200, event_line(x, "MODIFIED", object("cluster", "4", false)), NULL, true);
    fx_start(x, "cluster");
    wait_cell(x, 2, "4");
    assert_true(metric(x, "osstream_webhook_osimagestream_updates_total{result=\"invalid\"} ") ==
                1);
    fx_free(x);
}

static void invalid_relist_keeps_last_good(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    step(x, 200, list_body(x, "3", object("cluster", "3", false)), NULL, false);
    step(x, 200, "", NULL, false); /* watch ends */
    step(x, 200, list_body(x, "5", object("cluster", "5", true)), NULL, false);
    step(x, 200, "", NULL, false);
    /* The same invalid version again: not refused (nor counted) twice. */
    step(x, 200, list_body(x, "5", object("cluster", "5", true)), NULL, false);
    step(x, 200, "", NULL, true);
    fx_start(x, "cluster");
    wait_calls(x, 6);
    wait_cell(x, 2, "3");
    assert_true(metric(x, "osstream_webhook_osimagestream_updates_total{result=\"invalid\"} ") ==
                1);
    fx_free(x);
}

/* No version serving osimagestreams is a failure, not a sync (CONTRACT.md:
 * ready once a list succeeded): the cache stays unsynced, the lists are
 * retried with the backoff from v1, and a later list syncs it. */
static void not_served_is_retried_unsynced(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    step(x, 404, "{}", NULL, false);
    step(x, 404, "{}", NULL, false);
    step(x, 200, list_body(x, "5", object("cluster", "5", false)), NULL, false);
    fx_start(x, "cluster");
    int64_t end = now_ms() + WAIT_MS;
    for (;;) {
        pthread_mutex_lock(&x->fake.mu);
        size_t n = x->fake.ncalls;
        pthread_mutex_unlock(&x->fake.mu);
        if (n >= 2)
            break;
        assert_true(now_ms() < end);
        usleep(1000);
    }
    /* Both versions answered 404; the retry waits at least half the 250 ms
     * base of the backoff, so the cache is still unsynced now. */
    assert_false(osw_snapcell_synced(&x->cell));
    assert_true(metric(x, "osstream_webhook_osimagestream_synced ") == 0);
    assert_true(strstr(x->fake.calls[1], "/v1alpha1/osimagestreams?") != NULL);
    wait_cell(x, 2, "5");
    assert_true(strstr(x->fake.calls[2], "/v1/osimagestreams?") != NULL);
    assert_true(x->fake.call_ms[2] - x->fake.call_ms[1] >= 100);
    assert_true(metric(x, "osstream_webhook_watch_restarts_total{reason=\"not_served\"} ") >= 1);
    fx_free(x);
}

static void bad_arguments(void **state)
{
    (void)state;
    struct fake f;
    memset(&f, 0, sizeof(f));
    struct osw_source *src = NULL;
    struct osw_errbuf eb;
    struct osw_reflector_transport t = {&fake_ops, &f};
    struct osw_source_env env = {NULL, NULL, NULL};
    assert_int_equal(osw_source_kube_new("cluster", t, &env, &src, &eb), OSW_EINVAL);
    assert_null(src);
    assert_true(f.destroyed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(list_publishes_and_events_follow),
        cmocka_unit_test(deleted_empties),
        cmocka_unit_test(list_without_object_syncs_empty),
        cmocka_unit_test(invalid_first_object_syncs_empty),
        cmocka_unit_test(invalid_relist_keeps_last_good),
        cmocka_unit_test(not_served_is_retried_unsynced),
        cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

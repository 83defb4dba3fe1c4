/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the cluster-state caches over two scripted transports: paged
 * lists of pools and MachineConfigs (limit=100 and continue) publish a
 * synced snapshot only once both listed, with the cache metrics; watch
 * events (a MachineConfig gaining the label that brings it under a pool, a
 * deletion) change the snapshot the rules read; a kind answering 404 makes
 * the state "not served"; an object of the wrong shape is left out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube_fake.h"
#include "source/cluster_cache.h"

#define WAIT_MS 5000
#define G       "machineconfiguration.openshift.io"

struct fx {
    struct fake fake[2]; /* pools, machineconfigs */
    struct osw_clustercell cell;
    struct osw_metrics *metrics;
    struct osw_log log;
    struct osw_cluster_cache *cache;
};

static struct fx *fx_new(void)
{
    struct fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&x->fake[i].mu, NULL);
        pthread_cond_init(&x->fake[i].cond, NULL);
    }
    osw_clustercell_init(&x->cell, OSW_CLUSTER_OFF);
    x->metrics = osw_metrics_new();
    osw_log_init(&x->log, OSW_LOG_ERROR, OSW_LOG_JSON, STDERR_FILENO);
    struct osw_reflector_transport tp = {&fake_ops, &x->fake[0]}, tm = {&fake_ops, &x->fake[1]};
    struct osw_cluster_cache_tuning tune = {5, 20, 50, 1};
    struct osw_errbuf eb;
    assert_int_equal(
        osw_cluster_cache_new(tp, tm, &x->cell, &x->log, x->metrics, &tune, &x->cache, &eb),
        OSW_OK);
    return x;
}

static void fx_free(struct fx *x)
{
    osw_cluster_cache_free(x->cache);
    for (int i = 0; i < 2; i++) {
        assert_true(x->fake[i].destroyed);
        for (size_t j = 0; j < x->fake[i].ncalls; j++)
            free(x->fake[i].calls[j]);
        pthread_mutex_destroy(&x->fake[i].mu);
        pthread_cond_destroy(&x->fake[i].cond);
    }
    osw_clustercell_destroy(&x->cell);
    osw_metrics_free(x->metrics);
    free(x);
}

static void step(struct fx *x, int side, long status, const char *a, bool hold)
{
    struct step st = {.status = status, .pieces = {a}, .hold = hold};
    struct fake *f = &x->fake[side];
    pthread_mutex_lock(&f->mu);
    f->steps[f->nsteps++] = st;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
}

static void step_st(struct fx *x, int side, struct step st)
{
    struct fake *f = &x->fake[side];
    pthread_mutex_lock(&f->mu);
    f->steps[f->nsteps++] = st;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
}

/* Waits for `mode`; returns the snapshot (a reference) when synced. */
static struct osw_cluster *wait_mode(struct fx *x, enum osw_cluster_mode want, size_t npools,
                                     size_t nmcs)
{
    int64_t end = now_ms() + WAIT_MS;
    for (;;) {
        enum osw_cluster_mode m;
        struct osw_cluster *c = osw_clustercell_acquire(&x->cell, &m);
        if (m == want && (want != OSW_CLUSTER_SYNCED ||
                          (osw_cluster_pool_count(c) == npools && osw_cluster_mc_count(c) == nmcs)))
            return c;
        osw_cluster_unref(c);
        if (now_ms() > end)
            fail_msg("cell never reached mode %d with %zu pools, %zu MachineConfigs", (int)want,
                     npools, nmcs);
        usleep(1000);
    }
}

static double metric(struct fx *x, const char *key)
{
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_metrics_render(x->metrics, &b), OSW_OK);
    const char *p = strstr(b.data, key);
    double v = p ? strtod(p + strlen(key), NULL) : -1;
    osw_buf_free(&b);
    return v;
}

#define WORKER_POOL                                                                                \
    "{\"metadata\":{\"name\":\"worker\"},\"spec\":{\"machineConfigSelector\":{\"matchLabels\":{"   \
    "\"" G "/role\":\"worker\"}},\"osImageStream\":{\"name\":\"rhel-10\"}}}"
#define INFRA_POOL "{\"metadata\":{\"name\":\"infra\"},\"spec\":{}}"
#define MC(name, labels)                                                                           \
    "{\"metadata\":{\"name\":\"" name "\",\"resourceVersion\":\"20\",\"labels\":{" labels          \
    "}},\"spec\":{\"osImageURL\":"                                                                 \
    "\"quay.io/x:1\",\"config\":{\"storage\":{\"files\":[]}}}}"

static void lists_events_and_metrics(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    /* Pools in two pages; the second carries a pool of the wrong shape. */
    step(x, 0, 200,
         "{\"metadata\":{\"resourceVersion\":\"5\",\"continue\":\"tok\"},\"items\":[" WORKER_POOL
         "]}",
         false);
    step(x, 0, 200,
         "{\"metadata\":{\"resourceVersion\":\"5\"},\"items\":[" INFRA_POOL
         ",{\"metadata\":{\"name\":7}}]}",
         false);
    step(x, 0, 200, NULL, true); /* a quiet watch */
    assert_int_equal(osw_cluster_cache_start(x->cache, NULL), OSW_OK);
    /* Pools listed, MachineConfigs not yet: not synced. */
    osw_cluster_unref(wait_mode(x, OSW_CLUSTER_NOT_SYNCED, 0, 0));
    assert_true(metric(x, "osstream_webhook_cache_synced{resource=\"machineconfigs\"} ") == 0);
    step(x, 1, 200,
         "{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[" MC("99-a", "") "," MC(
             "98-bad-labels", "\"x\":1") "]}",
         false);
    struct osw_cluster *c = wait_mode(x, OSW_CLUSTER_SYNCED, 2, 1);
    assert_true(strstr(x->fake[0].calls[0], "limit=100") != NULL);
    assert_true(strstr(x->fake[0].calls[1], "continue=tok") != NULL);
    assert_true(strstr(x->fake[1].calls[0], "/machineconfigs?") != NULL);
    /* 99-a carries no role label: the worker selects nothing. */
    struct osw_selection s = osw_cluster_pool_selection(c, 1);
    assert_int_equal(s.n, 0);
    osw_cluster_unref(c);
    assert_true(metric(x, "osstream_webhook_cache_synced{resource=\"machineconfigpools\"} ") == 1);
    assert_true(metric(x, "osstream_webhook_cache_objects{resource=\"machineconfigpools\"} ") == 2);
    assert_true(metric(x, "osstream_webhook_cache_objects{resource=\"machineconfigs\"} ") == 1);
    /* The MachineConfig gains the worker role label: the pool selects it. */
    step(x, 1, 200,
         "{\"type\":\"MODIFIED\",\"object\":" MC(
             "99-a", "\"" G "/role\":\"worker\"") "}\n"
                                                  "{\"type\":\"ADDED\",\"object\":" MC("00-b",
                                                                                       "") "}\n",
         false);
    /* The watch ended: the relist says the same. */
    step(x, 1, 200,
         "{\"metadata\":{\"resourceVersion\":\"12\"},\"items\":[" MC(
             "99-a", "\"" G "/role\":\"worker\"") "," MC("00-b", "") "]}",
         false);
    c = wait_mode(x, OSW_CLUSTER_SYNCED, 2, 2);
    for (int64_t end = now_ms() + WAIT_MS; osw_cluster_pool_selection(c, 1).n != 1;) {
        osw_cluster_unref(c);
        assert_true(now_ms() < end);
        usleep(1000);
        c = wait_mode(x, OSW_CLUSTER_SYNCED, 2, 2);
    }
    s = osw_cluster_pool_selection(c, 1);
    const struct osw_mc *win = osw_cluster_url_winner(c, &s, OSW_STR_NULL, NULL);
    assert_true(win && osw_str_eq_cstr(win->name, "99-a"));
    osw_cluster_unref(c);
    step(x, 1, 200, "{\"type\":\"DELETED\",\"object\":" MC("99-a", "") "}\n", true);
    osw_cluster_unref(wait_mode(x, OSW_CLUSTER_SYNCED, 2, 1));
    assert_true(metric(x, "osstream_webhook_cache_objects{resource=\"machineconfigs\"} ") == 1);
    osw_cluster_cache_stop(x->cache);
    osw_cluster_cache_stop(x->cache); /* idempotent */
    fx_free(x);
}

static void not_served(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    step(x, 0, 200, "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}", false);
    step(x, 0, 200, NULL, true);
    step(x, 1, 404, "{\"kind\":\"Status\",\"code\":404}", false);
    assert_int_equal(osw_cluster_cache_start(x->cache, NULL), OSW_OK);
    osw_cluster_unref(wait_mode(x, OSW_CLUSTER_NOT_SERVED, 0, 0));
    assert_false(osw_clustercell_synced_once(&x->cell));
    /* Retried (50 ms here, 5 min by default): now served and listed. */
    step(x, 1, 200, "{\"metadata\":{\"resourceVersion\":\"2\"},\"items\":[" MC("99-a", "") "]}",
         false);
    step(x, 1, 200, NULL, true);
    osw_cluster_unref(wait_mode(x, OSW_CLUSTER_SYNCED, 0, 1));
    assert_true(osw_clustercell_synced_once(&x->cell));
    fx_free(x);
}

/* MachineConfig list elements are read as reduced trees (objtree.h): the
 * drop-ins among other Ignition files, the name, labels and osImageURL all
 * reach the extract; a page with an element that is not JSON fails the
 * list as it always did, and the relist brings the set. */
#define RUNC_PCT "data:,%5Bcrio.runtime%5D%0Adefault_runtime%3D%22runc%22"
#define MC_DROPIN(name)                                                                            \
    "{\"metadata\":{\"name\":\"" name "\",\"labels\":{\"" G "/role\":\"worker\"}},\"spec\":{"      \
    "\"osImageURL\":\"quay.io/"                                                                    \
    "y:2\",\"config\":{\"ignition\":{\"version\":\"3.2.0\"},\"storage\":{"                         \
    "\"files\":[{\"path\":\"/etc/a\",\"contents\":{\"source\":\"data:,aaaa\"}},{\"path\":"         \
    "\"/etc/crio/crio.conf.d/99-runc\",\"contents\":{\"source\":\"" RUNC_PCT "\"}}]}}}}"

static void machineconfig_items_keep_their_dropins(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    step(x, 0, 200, "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[" WORKER_POOL "]}",
         false);
    step(x, 0, 200, NULL, true);
    step(x, 1, 200,
         "{\"metadata\":{\"resourceVersion\":\"2\"},\"items\":[" MC_DROPIN(
             "99-r") ",{\"metadata\":{\"name\":\"x\"},\"spec\":{]}]}",
         false);
    step(x, 1, 200,
         "{\"metadata\":{\"resourceVersion\":\"3\"},\"items\":[" MC_DROPIN("99-r") "," MC("00-b",
                                                                                          "") "]}",
         false);
    step(x, 1, 200, NULL, true);
    assert_int_equal(osw_cluster_cache_start(x->cache, NULL), OSW_OK);
    struct osw_cluster *c = wait_mode(x, OSW_CLUSTER_SYNCED, 1, 2);
    assert_true(x->fake[1].ncalls >= 2); /* the broken page was relisted */
    const struct osw_mc *mc = osw_cluster_mc_find(c, OSW_STR_LIT("99-r"));
    assert_non_null(mc);
    assert_true(osw_str_eq_cstr(mc->url, "quay.io/y:2"));
    assert_true(mc->role_worker);
    assert_non_null(mc->crio);
    assert_int_equal(mc->crio->count, 1);
    assert_int_equal(mc->crio->dropins[0].state, OSW_CRIO_VALUE);
    assert_memory_equal(mc->crio->dropins[0].value, "runc", 4);
    struct osw_selection s = osw_cluster_pool_selection(c, 0);
    enum osw_tri runc = OSW_TRI_UNKNOWN;
    assert_int_equal(osw_cluster_runc(c, &s, OSW_STR_NULL, NULL, &runc), OSW_OK);
    assert_int_equal(runc, OSW_TRI_TRUE);
    osw_cluster_unref(c);
    fx_free(x);
}

/* Pools listed and watched quietly, MachineConfigs 99-a and 00-b listed:
 * the synced snapshot, and the publish count it was reached with. */
static unsigned long fx_synced(struct fx *x)
{
    step(x, 0, 200, "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[" WORKER_POOL "]}",
         false);
    step(x, 0, 200, NULL, true);
    step(x, 1, 200,
         "{\"metadata\":{\"resourceVersion\":\"2\"},\"items\":[" MC("99-a", "") "," MC("00-b",
                                                                                       "") "]}",
         false);
    assert_int_equal(osw_cluster_cache_start(x->cache, NULL), OSW_OK);
    osw_cluster_unref(wait_mode(x, OSW_CLUSTER_SYNCED, 1, 2));
    return osw_cluster_cache_publishes(x->cache);
}

#define EV(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"
#define WORKER_LABEL  "\"" G "/role\":\"worker\""

/* Waits for the snapshot of 1 pool and `nmcs` MachineConfigs where the
 * worker pool selects `nsel`. */
static struct osw_cluster *wait_selection(struct fx *x, size_t nmcs, size_t nsel)
{
    struct osw_cluster *c = wait_mode(x, OSW_CLUSTER_SYNCED, 1, nmcs);
    for (int64_t end = now_ms() + WAIT_MS; osw_cluster_pool_selection(c, 0).n != nsel;) {
        osw_cluster_unref(c);
        assert_true(now_ms() < end);
        usleep(1000);
        c = wait_mode(x, OSW_CLUSTER_SYNCED, 1, nmcs);
    }
    return c;
}

/* Events that arrive together are published together: a piece of the watch
 * stream carrying three whole events and half of a fourth publishes once
 * (with all three applied), the piece completing the fourth once more, and
 * the metrics count what was published. */
static void one_publish_per_piece(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    unsigned long p0 = fx_synced(x);
    step_st(x, 1,
            (struct step){.status = 200,
                          .pieces = {EV("MODIFIED", MC("99-a", WORKER_LABEL))
                                         EV("ADDED", MC("00-c", WORKER_LABEL))
                                             EV("DELETED", MC("00-b", "")) "{\"type\":\"ADDED\",",
                                     "\"object\":" MC("00-d", WORKER_LABEL) "}\n"},
                          .hold = true});
    struct osw_cluster *c = wait_selection(x, 3, 3);
    assert_null(osw_cluster_mc_find(c, OSW_STR_LIT("00-b")));
    assert_non_null(osw_cluster_mc_find(c, OSW_STR_LIT("00-d")));
    osw_cluster_unref(c);
    assert_int_equal(osw_cluster_cache_publishes(x->cache), p0 + 2);
    assert_true(metric(x, "osstream_webhook_cache_objects{resource=\"machineconfigs\"} ") == 3);
    fx_free(x);
}

/* Events that each span several pieces are each published as they complete
 * (delivered 16 bytes at a time: one publish per event); an event whose
 * object cannot be extracted changes nothing and publishes nothing. */
static void events_across_pieces(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    unsigned long p0 = fx_synced(x);
    step_st(x, 1,
            (struct step){.status = 200,
                          .chop = 16,
                          .pieces = {EV("MODIFIED", MC("99-a", WORKER_LABEL))
                                         EV("MODIFIED", MC("98-bad", "\"x\":1"))
                                             EV("ADDED", MC("00-c", WORKER_LABEL))},
                          .hold = true});
    osw_cluster_unref(wait_selection(x, 3, 2));
    assert_int_equal(osw_cluster_cache_publishes(x->cache), p0 + 2);
    fx_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lists_events_and_metrics),
        cmocka_unit_test(not_served),
        cmocka_unit_test(machineconfig_items_keep_their_dropins),
        cmocka_unit_test(one_publish_per_piece),
        cmocka_unit_test(events_across_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

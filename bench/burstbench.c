/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watch-burst benchmark: the real cluster cache lists P pools (default 3)
 * and N MachineConfigs (default 2,000) from in-memory transports, then the
 * MachineConfig watch delivers a burst of E MODIFIED events (default 200)
 * back to back in 16 KiB pieces, as libcurl hands over a busy stream: small
 * MachineConfigs (EVENT_MIB 0, the default), or rendered ones of EVENT_MIB
 * MiB of base64 Ignition as the MCO writes one per pool on every change. It
 * reports how long the reflector took to apply the burst (the pieces are
 * handed over synchronously, so the time to hand them all over is the time
 * to decode, apply and publish them) and checks the last snapshot shows the
 * last event.
 * Usage: osw-burstbench [EVENTS [EVENT_MIB [MACHINECONFIGS [POOLS]]]]
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "source/cluster_cache.h"

#define PAGE 100

struct feed {
    bool pools; /* this transport serves machineconfigpools */
    long nmcs, nevents, npools;
    size_t event_bytes; /* 0: small MachineConfigs */
    bool go, done;      /* the burst may start; it was handed over */
    double t_start, t_end;
    atomic_bool aborted;
    pthread_mutex_t mu;
    pthread_cond_t cond;
};

static void mc_name(long i, char *out, size_t cap)
{
    snprintf(out, cap, "%02ld-custom-%05ld", i % 100, i);
}

/* A small MachineConfig as the installer writes them: a few KiB. */
static void small_mc(struct writer *w, const char *name, long i, long rv)
{
    putf(w,
         "{\"apiVersion\":\"machineconfiguration.openshift.io/v1\",\"kind\":\"MachineConfig\","
         "\"metadata\":{\"name\":\"%s\",\"uid\":\"6f1c0d3e-%08lx\",\"resourceVersion\":\"%ld\","
         "\"creationTimestamp\":\"2026-11-01T10:00:00Z\",\"generation\":1,"
         "\"labels\":{\"machineconfiguration.openshift.io/role\":\"%s\"}},"
         "\"spec\":{\"osImageURL\":\"quay.io/x:%ld\",\"config\":{\"ignition\":{\"version\":"
         "\"3.4.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/custom/%s.conf\",\"mode\":420,"
         "\"overwrite\":true,\"contents\":{\"source\":\"data:,",
         name, (unsigned long)i, rv, i % 2 ? "worker" : "master", rv, name);
    for (int k = 0; k < 40; k++)
        PUTS(w, "key%3Dvalue%0A");
    PUTS(w, "\"}}]}}}}");
}

/* A rendered MachineConfig: megabytes of Ignition files (base64 data URLs)
 * and one small CRI-O drop-in. */
static void rendered_mc(struct writer *w, const struct feed *f, const char *name, long i, long rv)
{
    const char *b64 = b64_filler();
    putf(w,
         "{\"apiVersion\":\"machineconfiguration.openshift.io/v1\",\"kind\":\"MachineConfig\","
         "\"metadata\":{\"name\":\"%s\",\"uid\":\"7a2d1e4f-%08lx\",\"resourceVersion\":\"%ld\","
         "\"labels\":{\"machineconfiguration.openshift.io/role\":\"worker\"},"
         "\"ownerReferences\":[{\"apiVersion\":\"machineconfiguration.openshift.io/v1\","
         "\"kind\":\"MachineConfigPool\",\"name\":\"worker\",\"uid\":\"u\",\"controller\":true}]},"
         "\"spec\":{\"osImageURL\":\"quay.io/x:%ld\","
         "\"config\":{\"ignition\":{\"version\":\"3.4.0\"},\"storage\":{\"files\":["
         "{\"path\":\"/etc/crio/crio.conf.d/00-default\",\"mode\":420,\"contents\":{\"source\":"
         "\"data:,%%5Bcrio.runtime%%5D%%0Adefault_runtime%%20%%3D%%20%%22crun%%22%%0A\"}}",
         name, (unsigned long)i, rv, rv);
    size_t files = f->event_bytes / FILE_SIZE;
    for (size_t k = 0; k < files; k++) {
        putf(w,
             ",{\"path\":\"/etc/kubernetes/file-%zu\",\"mode\":420,\"overwrite\":true,"
             "\"contents\":{\"source\":\"data:;base64,",
             k);
        put(w, b64, FILE_SIZE - 64);
        PUTS(w, "\"}}");
    }
    PUTS(w, "]}}}}");
}

static void mc_page(struct writer *w, const struct feed *f, long first)
{
    long end = first + PAGE < f->nmcs ? first + PAGE : f->nmcs;
    PUTS(w, "{\"items\":[");
    for (long i = first; i < end && !w->stopped; i++) {
        char name[64];
        mc_name(i, name, sizeof(name));
        if (i > first)
            PUTS(w, ",");
        small_mc(w, name, i, 1000 + i);
    }
    if (end < f->nmcs)
        putf(w, "],\"metadata\":{\"resourceVersion\":\"9000\",\"continue\":\"%ld\"}}", end);
    else
        PUTS(w, "],\"metadata\":{\"resourceVersion\":\"9000\"}}");
}

/* master, worker, then custom pools selecting role pool-<i>. */
static void pool_page(struct writer *w, long npools)
{
    PUTS(w, "{\"metadata\":{\"resourceVersion\":\"9000\"},\"items\":[");
    for (long i = 0; i < npools; i++) {
        char name[32];
        if (i < 2)
            snprintf(name, sizeof(name), "%s", i ? "worker" : "master");
        else
            snprintf(name, sizeof(name), "pool-%ld", i);
        putf(w,
             "%s{\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"%ld\"},\"spec\":{"
             "\"machineConfigSelector\":{\"matchLabels\":{\"machineconfiguration.openshift.io/"
             "role\":\"%s\"}}}}",
             i ? "," : "", name, 100 + i, name);
    }
    PUTS(w, "]}");
}

/* The burst: event k modifies MachineConfig k % nmcs (resourceVersion and
 * osImageURL 10000 + k). */
static void burst(struct writer *w, const struct feed *f)
{
    for (long k = 0; k < f->nevents && !w->stopped; k++) {
        char name[64];
        long i = k % f->nmcs;
        mc_name(i, name, sizeof(name));
        PUTS(w, "{\"type\":\"MODIFIED\",\"object\":");
        if (f->event_bytes)
            rendered_mc(w, f, name, i, 10000 + k);
        else
            small_mc(w, name, i, 10000 + k);
        PUTS(w, "}\n");
    }
    flush(w);
}

static bool wait_flag(struct feed *f, const bool *flag)
{
    pthread_mutex_lock(&f->mu);
    while (!*flag && !atomic_load(&f->aborted))
        pthread_cond_wait(&f->cond, &f->mu);
    pthread_mutex_unlock(&f->mu);
    return !atomic_load(&f->aborted);
}

static enum osw_err feed_get(void *impl, const char *pq, bool watch,
                             bool (*on_data)(void *ctx, const char *data, size_t len), void *ctx,
                             struct osw_reflector_response *resp, struct osw_errbuf *eb)
{
    struct feed *f = impl;
    resp->retry_after_s = -1;
    resp->status = 200;
    struct writer *w = calloc(1, sizeof(*w));
    if (!w)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    w->on_data = on_data;
    w->ctx = ctx;
    if (watch && !f->pools && !f->done && wait_flag(f, &f->go)) {
        double t0 = now_s();
        burst(w, f);
        pthread_mutex_lock(&f->mu);
        f->t_start = t0;
        f->t_end = now_s();
        f->done = true;
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->mu);
    }
    if (watch) { /* then a quiet watch until the bench stops */
        bool never = false;
        wait_flag(f, &never);
    } else if (f->pools) {
        pool_page(w, f->npools);
    } else {
        const char *c = strstr(pq, "continue=");
        mc_page(w, f, c ? strtol(c + 9, NULL, 10) : 0);
    }
    flush(w);
    free(w);
    if (atomic_load(&f->aborted))
        return osw_errbuf_set(eb, OSW_EIO, "aborted");
    return OSW_OK;
}

static void feed_abort(void *impl)
{
    struct feed *f = impl;
    pthread_mutex_lock(&f->mu);
    atomic_store(&f->aborted, true);
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
}

static void feed_destroy(void *impl)
{
    (void)impl;
}

static const struct osw_reflector_transport_ops feed_ops = {feed_get, feed_abort, feed_destroy};

/* The snapshot once it holds `nmcs` MachineConfigs (a reference), or NULL. */
static struct osw_cluster *wait_synced(struct osw_clustercell *cell, size_t nmcs)
{
    for (double t0 = now_s(); now_s() - t0 < 60; usleep(1000)) {
        enum osw_cluster_mode mode;
        struct osw_cluster *cl = osw_clustercell_acquire(cell, &mode);
        if (mode == OSW_CLUSTER_SYNCED && osw_cluster_mc_count(cl) == nmcs)
            return cl;
        osw_cluster_unref(cl);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct feed pools = {.pools = true}, mcs = {.pools = false};
    mcs.nevents = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
    mcs.event_bytes = (size_t)(argc > 2 ? strtol(argv[2], NULL, 10) : 0) << 20;
    mcs.nmcs = argc > 3 ? strtol(argv[3], NULL, 10) : 2000;
    pools.npools = argc > 4 ? strtol(argv[4], NULL, 10) : 3;
    if (mcs.nmcs < 1 || mcs.nevents < 1 || pools.npools < 2) {
        fprintf(stderr, "usage: osw-burstbench [EVENTS [EVENT_MIB [MACHINECONFIGS [POOLS]]]]\n");
        return 2;
    }
    struct feed *fs[2] = {&pools, &mcs};
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&fs[i]->mu, NULL);
        pthread_cond_init(&fs[i]->cond, NULL);
        atomic_init(&fs[i]->aborted, false);
    }
    struct osw_clustercell cell;
    osw_clustercell_init(&cell, OSW_CLUSTER_NOT_SYNCED);
    struct osw_log log;
    osw_log_init(&log, OSW_LOG_WARN, OSW_LOG_JSON, STDERR_FILENO);
    struct osw_metrics *m = osw_metrics_new();
    struct osw_cluster_cache *cache = NULL;
    struct osw_errbuf eb;
    struct osw_reflector_transport tp = {&feed_ops, &pools}, tm = {&feed_ops, &mcs};
    if (!m || osw_cluster_cache_new(tp, tm, &cell, &log, m, NULL, &cache, &eb) != OSW_OK ||
        osw_cluster_cache_start(cache, &eb) != OSW_OK) {
        fprintf(stderr, "burstbench: set-up failed\n");
        return 1;
    }
    struct osw_cluster *cl = wait_synced(&cell, (size_t)mcs.nmcs);
    if (!cl) {
        fprintf(stderr, "burstbench: the caches never synced\n");
        return 1;
    }
    osw_cluster_unref(cl);
    usleep(100000); /* let the pool reflector settle into its watch */
    unsigned long publishes0 = osw_cluster_cache_publishes(cache);
    pthread_mutex_lock(&mcs.mu);
    mcs.go = true;
    pthread_cond_broadcast(&mcs.cond);
    pthread_mutex_unlock(&mcs.mu);
    bool done = wait_flag(&mcs, &mcs.done);
    /* The last event's change is visible once the burst was handed over. */
    char name[64], url[64];
    long last = mcs.nevents - 1;
    mc_name(last % mcs.nmcs, name, sizeof(name));
    snprintf(url, sizeof(url), "quay.io/x:%ld", 10000 + last);
    enum osw_cluster_mode mode;
    cl = osw_clustercell_acquire(&cell, &mode);
    const struct osw_mc *mc =
        cl ? osw_cluster_mc_find(cl, (struct osw_str){name, strlen(name)}) : NULL;
    bool seen = done && mc && osw_str_eq_cstr(mc->url, url);
    osw_cluster_unref(cl);
    unsigned long published = osw_cluster_cache_publishes(cache) - publishes0;
    osw_cluster_cache_free(cache);

    double ms = (mcs.t_end - mcs.t_start) * 1e3;
    printf("burst             %ld MODIFIED events (%s) over %ld MachineConfigs, %ld pools\n",
           mcs.nevents, mcs.event_bytes ? "rendered" : "small", mcs.nmcs, pools.npools);
    if (mcs.event_bytes)
        printf("event size        %zu MiB of Ignition\n", mcs.event_bytes >> 20);
    printf("applied in        %.1f ms (%.3f ms per event)\n", ms, ms / (double)mcs.nevents);
    printf("snapshots built   %lu\n", published);
    printf("last event seen   %s\n", seen ? "yes" : "NO");
    osw_clustercell_destroy(&cell);
    osw_metrics_free(m);
    return seen ? 0 : 1;
}

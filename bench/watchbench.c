/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watch-event benchmark: the real reflector and OSImageStream source, fed
 * N MODIFIED events (default 100,000) through an in-memory transport, one
 * event per chunk as a busy watch delivers them. It reports the event ->
 * decision latency (from handing the chunk to the reflector to a reader
 * seeing the new snapshot in the cell, which is what a request would load)
 * and the resident memory before, during and after, to show it stays flat.
 * Usage: osw-watchbench [EVENTS]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "source/source.h"

struct feed {
    long events;
    char *obj_prefix; /* the event line up to the resourceVersion value */
    char *obj_suffix; /* and after it */
    struct osw_snapcell *cell;
    double *lat_us;
    long rss_kib[4];
    atomic_bool aborted;
    bool done;
    pthread_mutex_t mu;
    pthread_cond_t cond;
};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The resourceVersion the cell serves now, as a number (0: none). */
static long served_rv(struct osw_snapcell *cell)
{
    struct osw_osis *s = osw_snapcell_acquire(cell);
    long rv = 0;
    if (s) {
        struct osw_str r = osw_osis_resource_version(s);
        char buf[32];
        size_t n = r.len < sizeof(buf) - 1 ? r.len : sizeof(buf) - 1;
        memcpy(buf, r.ptr, n);
        buf[n] = '\0';
        rv = strtol(buf, NULL, 10);
    }
    osw_osis_unref(s);
    return rv;
}

static enum osw_err feed_get(void *impl, const char *pq, bool watch,
                             bool (*on_data)(void *ctx, const char *data, size_t len), void *ctx,
                             struct osw_reflector_response *resp, struct osw_errbuf *eb)
{
    struct feed *f = impl;
    char line[8192];
    (void)pq;
    resp->retry_after_s = -1;
    resp->status = 200;
    if (atomic_load(&f->aborted))
        return osw_errbuf_set(eb, OSW_EIO, "aborted");
    if (!watch) {
        static const char empty[] = "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}";
        on_data(ctx, empty, sizeof(empty) - 1);
        return OSW_OK;
    }
    if (f->done) {
        pthread_mutex_lock(&f->mu);
        while (!atomic_load(&f->aborted))
            pthread_cond_wait(&f->cond, &f->mu);
        pthread_mutex_unlock(&f->mu);
        return osw_errbuf_set(eb, OSW_EIO, "aborted");
    }
    f->rss_kib[0] = rss_kib();
    for (long i = 0; i < f->events; i++) {
        int n = snprintf(line, sizeof(line), "%s%ld%s\n", f->obj_prefix, i + 2, f->obj_suffix);
        double t0 = now_us();
        if (!on_data(ctx, line, (size_t)n))
            break;
        while (served_rv(f->cell) != i + 2) {
        }
        f->lat_us[i] = now_us() - t0;
        if (i == f->events / 10)
            f->rss_kib[1] = rss_kib();
        if (i == f->events / 2)
            f->rss_kib[2] = rss_kib();
    }
    f->rss_kib[3] = rss_kib();
    pthread_mutex_lock(&f->mu);
    f->done = true;
    pthread_cond_broadcast(&f->cond);
    while (!atomic_load(&f->aborted))
        pthread_cond_wait(&f->cond, &f->mu);
    pthread_mutex_unlock(&f->mu);
    return osw_errbuf_set(eb, OSW_EIO, "aborted");
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct feed f;
    memset(&f, 0, sizeof(f));
    f.events = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    if (f.events < 10)
        f.events = 10;
    /* A realistic object: the fixture's two streams. */
    static const char img[] = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:";
    static const char hex[] = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2";
    char pre[512], suf[1024];
    snprintf(pre, sizeof(pre),
             "{\"type\":\"MODIFIED\",\"object\":{\"apiVersion\":\"machineconfiguration."
             "openshift.io/v1\",\"kind\":\"OSImageStream\",\"metadata\":{\"name\":\"cluster\","
             "\"resourceVersion\":\"");
    snprintf(suf, sizeof(suf),
             "\"},\"status\":{\"defaultStream\":\"rhel-9\",\"availableStreams\":["
             "{\"name\":\"rhel-9\",\"osImage\":\"%s%s\",\"osExtensionsImage\":\"%s%s\"},"
             "{\"name\":\"rhel-10\",\"osImage\":\"%s%s\",\"osExtensionsImage\":\"%s%s\"}]}}}",
             img, hex, img, hex, img, hex, img, hex);
    f.obj_prefix = pre;
    f.obj_suffix = suf;
    f.lat_us = calloc((size_t)f.events, sizeof(double));
    if (f.lat_us) /* resident from the start, or its pages would look like growth */
        memset(f.lat_us, 1, (size_t)f.events * sizeof(double));
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cond, NULL);

    struct osw_snapcell cell;
    osw_snapcell_init(&cell);
    f.cell = &cell;
    struct osw_log log;
    osw_log_init(&log, OSW_LOG_ERROR, OSW_LOG_JSON, STDERR_FILENO);
    struct osw_metrics *m = osw_metrics_new();
    struct osw_source_env env = {&cell, &log, m};
    struct osw_reflector_transport t = {&feed_ops, &f};
    struct osw_source *src = NULL;
    struct osw_errbuf eb;
    if (!f.lat_us || !m || osw_source_kube_new("cluster", t, &env, &src, &eb) != OSW_OK ||
        osw_source_start(src, &eb) != OSW_OK) {
        fprintf(stderr, "watchbench: set-up failed\n");
        return 1;
    }
    double t0 = now_us();
    pthread_mutex_lock(&f.mu);
    while (!f.done)
        pthread_cond_wait(&f.cond, &f.mu);
    pthread_mutex_unlock(&f.mu);
    double total_s = (now_us() - t0) / 1e6;
    osw_source_destroy(src);

    qsort(f.lat_us, (size_t)f.events, sizeof(double), cmp_double);
    printf("events            %ld in %.2f s (%.0f events/s)\n", f.events, total_s,
           (double)f.events / total_s);
    printf("event->decision   p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n",
           f.lat_us[f.events / 2], f.lat_us[f.events * 99 / 100], f.lat_us[f.events * 999 / 1000],
           f.lat_us[f.events - 1]);
    printf("RSS KiB           start %ld  at 10%% %ld  at 50%% %ld  end %ld\n", f.rss_kib[0],
           f.rss_kib[1], f.rss_kib[2], f.rss_kib[3]);
    osw_snapcell_destroy(&cell);
    osw_metrics_free(m);
    free(f.lat_us);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Prometheus registry behind /metrics. Every family of CONTRACT.md is a
 * fixed field of one struct, updated with C11 atomics so that the request
 * path never takes a lock; only the rare watch restart takes a small mutex to
 * register a new reason. Rendering reads the atomics and /proc/self and
 * writes the text exposition format, every family with HELP and TYPE.
 */
#include "obs/metrics.h"
#include "obs/rule_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NUM_EP      2
#define NUM_VERDICT 4
#define NUM_RESULT  2 /* success, invalid / error */
/* Distinct watch-restart reasons kept; later ones are counted as "other". */
#define MAX_REASONS    16
#define MAX_REASON_LEN 32

/* Upper bounds (seconds) of the duration histogram; +Inf follows. */
static const double bucket_le[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
#define NUM_BUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

struct histogram {
    /* Per-bucket (not cumulative) counts; the last slot is (10, +Inf]. The
     * count is their sum, so +Inf always equals _count in a scrape. */
    atomic_uint_fast64_t bucket[NUM_BUCKETS + 1];
    atomic_uint_fast64_t sum_ns;
};

struct osw_metrics {
    atomic_uint_fast64_t requests[NUM_EP][OSW_OP_COUNT][NUM_VERDICT];
    struct histogram duration[NUM_EP];
    atomic_int_fast64_t inflight;

    atomic_int synced;
    atomic_uint_fast64_t streams;
    atomic_uint_fast64_t last_update_bits; /* double bit pattern */
    atomic_uint_fast64_t osis_updates[NUM_RESULT];

    pthread_mutex_t reasons_mu; /* guards reason names and nreasons */
    char reason_name[MAX_REASONS + 1][MAX_REASON_LEN];
    atomic_uint_fast64_t reason_count[MAX_REASONS + 1]; /* last slot: "other" */
    size_t nreasons;
    bool other_used;

    atomic_uint_fast64_t cert_expiry_bits; /* double bit pattern */
    atomic_uint_fast64_t cert_reloads[NUM_RESULT];

    atomic_uint_fast64_t start_time_bits; /* cached; 0 until read once */

    struct osw_rule_metrics parity; /* cluster-state caches, rule verdicts */
};

static const char *const op_names[OSW_OP_COUNT] = {"unknown", "CREATE", "UPDATE", "DELETE",
                                                   "CONNECT"};

enum osw_op osw_op_from_str(struct osw_str s)
{
    for (int op = OSW_OP_CREATE; op < OSW_OP_COUNT; op++) {
        if (osw_str_eq_cstr(s, op_names[op]))
            return (enum osw_op)op;
    }
    return OSW_OP_UNKNOWN;
}

const char *osw_op_name(enum osw_op op)
{
    if ((int)op < 0 || op >= OSW_OP_COUNT)
        return op_names[OSW_OP_UNKNOWN];
    return op_names[op];
}

static uint64_t dbl_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static double bits_dbl(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

struct osw_metrics *osw_metrics_new(void)
{
    struct osw_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    if (pthread_mutex_init(&m->reasons_mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    /* calloc's zero bytes are valid zero atomics on every platform we build
     * for; set the doubles explicitly so that 0.0 does not depend on it. */
    atomic_init(&m->last_update_bits, dbl_bits(0.0));
    atomic_init(&m->cert_expiry_bits, dbl_bits(0.0));
    atomic_init(&m->start_time_bits, dbl_bits(0.0));
    memcpy(m->reason_name[MAX_REASONS], "other", sizeof("other"));
    return m;
}

void osw_metrics_free(struct osw_metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->reasons_mu);
    free(m);
}

static void add1(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

void osw_metrics_request(struct osw_metrics *m, enum osw_endpoint ep, enum osw_op op,
                         enum osw_verdict v, double seconds)
{
    if (m == NULL || (int)ep < 0 || (int)ep >= NUM_EP || (int)v < 0 || (int)v >= NUM_VERDICT)
        return;
    if ((int)op < 0 || op >= OSW_OP_COUNT)
        op = OSW_OP_UNKNOWN;
    add1(&m->requests[ep][op][v]);
    if (!(seconds >= 0.0)) /* negative or NaN: no observation */
        return;

    size_t i = 0;
    while (i < NUM_BUCKETS && seconds > bucket_le[i])
        i++;
    /* Nanoseconds, capped at ~31 years per observation so that the sum
     * cannot overflow from a handful of absurd values. */
    double ns = seconds * 1e9;
    uint64_t add = ns >= 1e18 ? (uint64_t)1e18 : (uint64_t)(ns + 0.5);
    atomic_fetch_add_explicit(&m->duration[ep].sum_ns, add, memory_order_relaxed);
    add1(&m->duration[ep].bucket[i]);
}

void osw_metrics_inflight_add(struct osw_metrics *m, int delta)
{
    if (m != NULL)
        atomic_fetch_add_explicit(&m->inflight, delta, memory_order_relaxed);
}

void osw_metrics_set_synced(struct osw_metrics *m, bool synced)
{
    if (m != NULL)
        atomic_store_explicit(&m->synced, synced ? 1 : 0, memory_order_relaxed);
}

void osw_metrics_set_streams(struct osw_metrics *m, size_t n)
{
    if (m != NULL)
        atomic_store_explicit(&m->streams, (uint_fast64_t)n, memory_order_relaxed);
}

void osw_metrics_set_last_update(struct osw_metrics *m, double unix_seconds)
{
    if (m != NULL)
        atomic_store_explicit(&m->last_update_bits, dbl_bits(unix_seconds), memory_order_relaxed);
}

void osw_metrics_osis_update(struct osw_metrics *m, const char *result)
{
    if (m == NULL)
        return;
    bool ok = result != NULL && strcmp(result, "success") == 0;
    add1(&m->osis_updates[ok ? 0 : 1]);
}

void osw_metrics_watch_restart(struct osw_metrics *m, const char *reason)
{
    size_t i;

    if (m == NULL)
        return;
    if (reason == NULL || reason[0] == '\0')
        reason = "unknown";
    /* Reasons longer than a slot are cut; they are short tokens in practice. */
    size_t len = strnlen(reason, MAX_REASON_LEN - 1);

    pthread_mutex_lock(&m->reasons_mu);
    for (i = 0; i < m->nreasons; i++) {
        if (strncmp(m->reason_name[i], reason, len) == 0 && m->reason_name[i][len] == '\0')
            break;
    }
    if (i == m->nreasons) {
        if (m->nreasons < MAX_REASONS) {
            memcpy(m->reason_name[i], reason, len);
            m->reason_name[i][len] = '\0';
            m->nreasons++;
        } else {
            i = MAX_REASONS;
            m->other_used = true;
        }
    }
    add1(&m->reason_count[i]);
    pthread_mutex_unlock(&m->reasons_mu);
}

void osw_metrics_set_cert_expiry(struct osw_metrics *m, double unix_seconds)
{
    if (m != NULL)
        atomic_store_explicit(&m->cert_expiry_bits, dbl_bits(unix_seconds), memory_order_relaxed);
}

void osw_metrics_cert_reload(struct osw_metrics *m, bool success)
{
    if (m != NULL)
        add1(&m->cert_reloads[success ? 0 : 1]);
}

void osw_metrics_set_cache(struct osw_metrics *m, enum osw_cache_resource r, bool synced,
                           size_t objects)
{
    if (m == NULL || (int)r < 0 || (int)r >= OSW_CACHE_RESOURCES)
        return;
    atomic_store_explicit(&m->parity.cache_synced[r], synced ? 1 : 0, memory_order_relaxed);
    atomic_store_explicit(&m->parity.cache_objects[r], (uint_fast64_t)objects,
                          memory_order_relaxed);
}

void osw_metrics_rules(struct osw_metrics *m, unsigned rules)
{
    if (m != NULL)
        osw_rule_metrics_count(&m->parity, rules);
}

/* ---- /proc/self ---------------------------------------------------------- */

/* Reads up to cap-1 bytes of a small /proc file into buf (NUL-terminated).
 * Returns false when it cannot be read. */
static bool read_small_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    bool ok = false;

    if (fd < 0)
        return false;
    while (len < cap - 1) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    ok = len > 0;
out:
    close(fd);
    return ok;
}

/* Parses an unsigned decimal at *p, skipping leading spaces; advances *p. */
static bool parse_u64(const char **p, unsigned long long *out)
{
    char *end;

    while (**p == ' ')
        (*p)++;
    if (**p < '0' || **p > '9')
        return false;
    *out = strtoull(*p, &end, 10);
    *p = end;
    return true;
}

/* Fields 14 (utime), 15 (stime) and 22 (starttime), in clock ticks, of
 * /proc/self/stat as proc(5) numbers them. The command name (field 2) may
 * hold spaces and parentheses, so fields are counted from the last ')'. */
static bool stat_fields(unsigned long long *utime, unsigned long long *stime,
                        unsigned long long *starttime)
{
    char buf[1024];
    unsigned long long v;

    if (!read_small_file("/proc/self/stat", buf, sizeof(buf)))
        return false;
    const char *p = strrchr(buf, ')');
    if (p == NULL)
        return false;
    p++;
    /* Field 3 (state) is a letter; skip it. */
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return false;
    p++;
    for (int field = 4; field <= 22; field++) {
        /* Fields 4..22 are all (possibly negative) integers. */
        while (*p == ' ')
            p++;
        if (*p == '-')
            p++;
        if (!parse_u64(&p, &v))
            return false;
        if (field == 14)
            *utime = v;
        else if (field == 15)
            *stime = v;
        else if (field == 22)
            *starttime = v;
    }
    return true;
}

/* The boot time ("btime" line of /proc/stat). The file has a line per CPU and
 * a long "intr" line, so it is read line by line with a small buffer. */
static bool boot_time(unsigned long long *btime)
{
    FILE *f = fopen("/proc/stat", "re");
    char line[256];
    bool at_start = true, ok = false;

    if (f == NULL)
        return false;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strlen(line);
        if (at_start && strncmp(line, "btime ", 6) == 0) {
            const char *p = line + 6;
            ok = parse_u64(&p, btime);
            break;
        }
        at_start = n > 0 && line[n - 1] == '\n';
    }
    fclose(f);
    return ok;
}

static bool start_time_seconds(double *out)
{
    unsigned long long ut, st, start, btime;
    long tck = sysconf(_SC_CLK_TCK);

    if (tck <= 0 || !stat_fields(&ut, &st, &start) || !boot_time(&btime))
        return false;
    *out = (double)btime + (double)start / (double)tck;
    return true;
}

static bool cpu_seconds(double *out)
{
    unsigned long long ut, st, start;
    long tck = sysconf(_SC_CLK_TCK);

    if (tck <= 0 || !stat_fields(&ut, &st, &start))
        return false;
    *out = (double)(ut + st) / (double)tck;
    return true;
}

static bool resident_bytes(double *out)
{
    char buf[256];
    unsigned long long size, resident;
    long page = sysconf(_SC_PAGESIZE);

    if (page <= 0 || !read_small_file("/proc/self/statm", buf, sizeof(buf)))
        return false;
    const char *p = buf;
    if (!parse_u64(&p, &size) || !parse_u64(&p, &resident))
        return false;
    *out = (double)resident * (double)page;
    return true;
}

static bool open_fds(double *out)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    unsigned long n = 0;

    if (d == NULL)
        return false;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.')
            n++;
    }
    closedir(d);
    /* The directory stream's own descriptor was listed too. */
    *out = n > 0 ? (double)(n - 1) : 0.0;
    return true;
}

/* ---- rendering ----------------------------------------------------------- */

/* A sample value as Prometheus reads it: NaN, +Inf, -Inf, or the shortest
 * decimal that reads back as the same double. */
static enum osw_err put_value(struct osw_buf *b, double d)
{
    char tmp[40];

    if (isnan(d))
        return osw_buf_append_cstr(b, "NaN");
    if (isinf(d))
        return osw_buf_append_cstr(b, d > 0 ? "+Inf" : "-Inf");
    snprintf(tmp, sizeof(tmp), "%.15g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof(tmp), "%.17g", d);
    return osw_buf_append_cstr(b, tmp);
}

static enum osw_err family(struct osw_buf *b, const char *name, const char *type, const char *help)
{
    return osw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Appends a label value escaped as the exposition format wants (\\, \", \n). */
static enum osw_err put_label_value(struct osw_buf *b, const char *v)
{
    enum osw_err err = OSW_OK;
    for (const char *p = v; *p != '\0' && err == OSW_OK; p++) {
        if (*p == '\\')
            err = osw_buf_append(b, "\\\\", 2);
        else if (*p == '"')
            err = osw_buf_append(b, "\\\"", 2);
        else if (*p == '\n')
            err = osw_buf_append(b, "\\n", 2);
        else
            err = osw_buf_append(b, p, 1);
    }
    return err;
}

/* `name value\n` for a gauge or counter without labels. */
static enum osw_err gauge(struct osw_buf *b, const char *name, const char *type, const char *help,
                          double v)
{
    enum osw_err err;
    if ((err = family(b, name, type, help)) != OSW_OK ||
        (err = osw_buf_printf(b, "%s ", name)) != OSW_OK || (err = put_value(b, v)) != OSW_OK)
        return err;
    return osw_buf_append(b, "\n", 1);
}

/* A process_* gauge: the family always, the sample when /proc gave one. */
static enum osw_err proc_gauge(struct osw_buf *b, const char *name, const char *type,
                               const char *help, bool ok, double v)
{
    if (ok)
        return gauge(b, name, type, help, v);
    return family(b, name, type, help);
}

static enum osw_err render_requests(struct osw_metrics *m, struct osw_buf *b)
{
    const char *name = "osstream_webhook_requests_total";
    enum osw_err err = family(b, name, "counter",
                              "Admission requests answered, by endpoint, operation and verdict.");

    for (int ep = 0; ep < NUM_EP && err == OSW_OK; ep++) {
        for (int op = 0; op < OSW_OP_COUNT && err == OSW_OK; op++) {
            for (int v = 0; v < NUM_VERDICT && err == OSW_OK; v++) {
                uint_fast64_t c =
                    atomic_load_explicit(&m->requests[ep][op][v], memory_order_relaxed);
                err =
                    osw_buf_printf(b, "%s{endpoint=\"%s\",operation=\"%s\",verdict=\"%s\"} %llu\n",
                                   name, osw_endpoint_name((enum osw_endpoint)ep), op_names[op],
                                   osw_verdict_name((enum osw_verdict)v), (unsigned long long)c);
            }
        }
    }
    return err;
}

static enum osw_err render_histogram(struct osw_metrics *m, struct osw_buf *b)
{
    const char *name = "osstream_webhook_request_duration_seconds";
    enum osw_err err =
        family(b, name, "histogram", "Time from request received to answer decided, in seconds.");

    for (int ep = 0; ep < NUM_EP && err == OSW_OK; ep++) {
        const char *epn = osw_endpoint_name((enum osw_endpoint)ep);
        struct histogram *h = &m->duration[ep];
        uint_fast64_t cum = 0;

        for (size_t i = 0; i <= NUM_BUCKETS && err == OSW_OK; i++) {
            cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
            if ((err = osw_buf_printf(b, "%s_bucket{endpoint=\"%s\",le=\"", name, epn)) != OSW_OK)
                break;
            if (i < NUM_BUCKETS)
                err = put_value(b, bucket_le[i]);
            else
                err = osw_buf_append_cstr(b, "+Inf");
            if (err == OSW_OK)
                err = osw_buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
        }
        if (err != OSW_OK)
            break;
        uint_fast64_t ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
        if ((err = osw_buf_printf(b, "%s_sum{endpoint=\"%s\"} ", name, epn)) != OSW_OK ||
            (err = put_value(b, (double)ns / 1e9)) != OSW_OK)
            break;
        err = osw_buf_printf(b, "\n%s_count{endpoint=\"%s\"} %llu\n", name, epn,
                             (unsigned long long)cum);
    }
    return err;
}

/* A counter with one `result` label and its two fixed values. */
static enum osw_err render_results(struct osw_buf *b, const char *name, const char *help,
                                   const char *r0, const char *r1,
                                   atomic_uint_fast64_t counts[NUM_RESULT])
{
    enum osw_err err = family(b, name, "counter", help);
    const char *res[NUM_RESULT] = {r0, r1};

    for (int i = 0; i < NUM_RESULT && err == OSW_OK; i++) {
        err = osw_buf_printf(
            b, "%s{result=\"%s\"} %llu\n", name, res[i],
            (unsigned long long)atomic_load_explicit(&counts[i], memory_order_relaxed));
    }
    return err;
}

static enum osw_err render_restarts(struct osw_metrics *m, struct osw_buf *b)
{
    const char *name = "osstream_webhook_watch_restarts_total";
    enum osw_err err = family(b, name, "counter",
                              "Times a Kubernetes API watch (the OSImageStream, and with cluster "
                              "state the pools and MachineConfigs) ended or failed, by reason.");

    pthread_mutex_lock(&m->reasons_mu);
    for (size_t i = 0; i <= MAX_REASONS && err == OSW_OK; i++) {
        if (i >= m->nreasons && !(i == MAX_REASONS && m->other_used))
            continue;
        if ((err = osw_buf_printf(b, "%s{reason=\"", name)) != OSW_OK ||
            (err = put_label_value(b, m->reason_name[i])) != OSW_OK)
            break;
        err = osw_buf_printf(
            b, "\"} %llu\n",
            (unsigned long long)atomic_load_explicit(&m->reason_count[i], memory_order_relaxed));
    }
    pthread_mutex_unlock(&m->reasons_mu);
    return err;
}

static enum osw_err render_process(struct osw_metrics *m, struct osw_buf *b)
{
    enum osw_err err;
    double v = 0.0;
    bool ok;

    ok = resident_bytes(&v);
    if ((err = proc_gauge(b, "process_resident_memory_bytes", "gauge",
                          "Resident memory size in bytes.", ok, v)) != OSW_OK)
        return err;
    ok = open_fds(&v);
    if ((err = proc_gauge(b, "process_open_fds", "gauge", "Number of open file descriptors.", ok,
                          v)) != OSW_OK)
        return err;
    /* The start time never changes: read it once. */
    v = bits_dbl(atomic_load_explicit(&m->start_time_bits, memory_order_relaxed));
    ok = v > 0.0;
    if (!ok && (ok = start_time_seconds(&v)))
        atomic_store_explicit(&m->start_time_bits, dbl_bits(v), memory_order_relaxed);
    if ((err = proc_gauge(b, "process_start_time_seconds", "gauge",
                          "Start time of the process since unix epoch in seconds.", ok, v)) !=
        OSW_OK)
        return err;
    ok = cpu_seconds(&v);
    return proc_gauge(b, "process_cpu_seconds_total", "counter",
                      "Total user and system CPU time spent in seconds.", ok, v);
}

enum osw_err osw_metrics_render(struct osw_metrics *m, struct osw_buf *out)
{
    enum osw_err err;

    if (m == NULL || out == NULL)
        return OSW_EINVAL;
    if ((err = render_requests(m, out)) != OSW_OK || (err = render_histogram(m, out)) != OSW_OK)
        return err;
    if ((err = gauge(out, "osstream_webhook_inflight_requests", "gauge",
                     "Admission requests being handled now.",
                     (double)atomic_load_explicit(&m->inflight, memory_order_relaxed))) != OSW_OK)
        return err;
    if ((err = gauge(out, "osstream_webhook_osimagestream_synced", "gauge",
                     "1 once the OSImageStream source has synced, else 0.",
                     (double)atomic_load_explicit(&m->synced, memory_order_relaxed))) != OSW_OK)
        return err;
    if ((err = gauge(out, "osstream_webhook_osimagestream_streams", "gauge",
                     "Streams in the cached OSImageStream.",
                     (double)atomic_load_explicit(&m->streams, memory_order_relaxed))) != OSW_OK)
        return err;
    if ((err = gauge(out, "osstream_webhook_osimagestream_last_update_timestamp_seconds", "gauge",
                     "Unix time of the last accepted OSImageStream update.",
                     bits_dbl(atomic_load_explicit(&m->last_update_bits, memory_order_relaxed)))) !=
        OSW_OK)
        return err;
    if ((err = render_results(out, "osstream_webhook_osimagestream_updates_total",
                              "OSImageStream updates seen, by result.", "success", "invalid",
                              m->osis_updates)) != OSW_OK)
        return err;
    if ((err = render_restarts(m, out)) != OSW_OK)
        return err;
    if ((err = gauge(out, "osstream_webhook_tls_certificate_expiry_timestamp_seconds", "gauge",
                     "Unix time at which the serving certificate expires.",
                     bits_dbl(atomic_load_explicit(&m->cert_expiry_bits, memory_order_relaxed)))) !=
        OSW_OK)
        return err;
    if ((err = render_results(out, "osstream_webhook_tls_certificate_reloads_total",
                              "Serving certificate reloads, by result.", "success", "error",
                              m->cert_reloads)) != OSW_OK)
        return err;
    if ((err = osw_rule_metrics_render(&m->parity, out)) != OSW_OK)
        return err;
    return render_process(m, out);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the metrics registry (src/obs/metrics.c). Each test renders
 * the exposition text and parses it back with a small parser of the text
 * format, so what is checked is what Prometheus would scrape: HELP and TYPE
 * for every family, label values, exact counter steps, cumulative buckets
 * with +Inf equal to _count, and plausible process_* values.
 */
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "obs/metrics.h"

/* ---- a small exposition parser ------------------------------------------- */

#define MAX_FAMILIES 64
#define MAX_SAMPLES  512

struct family {
    char name[128];
    char type[16];
    bool help;
    int first_sample; /* index of its first sample, -1 when none */
};

struct sample {
    char name[128];
    char labels[256]; /* as rendered, without braces */
    double value;
};

struct expo {
    struct family fam[MAX_FAMILIES];
    size_t nfam;
    struct sample smp[MAX_SAMPLES];
    size_t nsmp;
};

static struct family *find_family(struct expo *e, const char *name)
{
    for (size_t i = 0; i < e->nfam; i++) {
        if (strcmp(e->fam[i].name, name) == 0)
            return &e->fam[i];
    }
    return NULL;
}

/* The family a sample name belongs to (histogram suffixes stripped). */
static struct family *family_of(struct expo *e, const char *sample)
{
    struct family *f = find_family(e, sample);
    if (f != NULL)
        return f;
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(sample), k = strlen(suffixes[i]);
        if (n > k && strcmp(sample + n - k, suffixes[i]) == 0) {
            char base[128];
            snprintf(base, sizeof(base), "%.*s", (int)(n - k), sample);
            f = find_family(e, base);
            if (f != NULL && strcmp(f->type, "histogram") == 0)
                return f;
        }
    }
    return NULL;
}

static void copy_field(char *dst, size_t cap, const char *src, size_t len)
{
    assert_true(len < cap);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Parses the whole text; fails the test on any malformed line. */
static void parse_expo(const char *text, struct expo *e)
{
    memset(e, 0, sizeof(*e));
    const char *p = text;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        if (nl == NULL) {
            fail_msg("last line without newline: %s", p);
            return;
        }
        size_t len = (size_t)(nl - p);
        char line[512];
        copy_field(line, sizeof(line), p, len);
        p = nl + 1;

        if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0) {
            const char *name = line + 7;
            const char *sp = strchr(name, ' ');
            if (sp == NULL || sp[1] == '\0') {
                fail_msg("bad comment line: %s", line);
                return;
            }
            char n[128];
            copy_field(n, sizeof(n), name, (size_t)(sp - name));
            struct family *f = find_family(e, n);
            if (f == NULL) {
                assert_true(e->nfam < MAX_FAMILIES);
                f = &e->fam[e->nfam++];
                snprintf(f->name, sizeof(f->name), "%s", n);
                f->first_sample = -1;
            } else if (f->first_sample >= 0) {
                fail_msg("HELP/TYPE of %s after its samples", n);
            }
            if (line[2] == 'H') {
                assert_false(f->help);
                f->help = true;
            } else {
                assert_string_equal(f->type, "");
                snprintf(f->type, sizeof(f->type), "%s", sp + 1);
            }
            continue;
        }
        if (line[0] == '#' || line[0] == '\0') {
            fail_msg("unexpected line: '%s'", line);
            return;
        }

        assert_true(e->nsmp < MAX_SAMPLES);
        struct sample *s = &e->smp[e->nsmp];
        const char *brace = strchr(line, '{');
        const char *sp;
        if (brace != NULL) {
            const char *close = strstr(brace, "} ");
            if (close == NULL) {
                fail_msg("bad labels: %s", line);
                return;
            }
            copy_field(s->name, sizeof(s->name), line, (size_t)(brace - line));
            copy_field(s->labels, sizeof(s->labels), brace + 1, (size_t)(close - brace - 1));
            sp = close + 1;
        } else {
            sp = strchr(line, ' ');
            if (sp == NULL) {
                fail_msg("sample without value: %s", line);
                return;
            }
            copy_field(s->name, sizeof(s->name), line, (size_t)(sp - line));
        }
        char *end;
        s->value = strtod(sp + 1, &end);
        if (end == sp + 1 || *end != '\0') {
            fail_msg("bad value: %s", line);
            return;
        }
        struct family *f = family_of(e, s->name);
        if (f == NULL) {
            fail_msg("sample %s has no HELP/TYPE before it", s->name);
            return;
        }
        if (f->first_sample < 0)
            f->first_sample = (int)e->nsmp;
        e->nsmp++;
    }
}

/* Value of the sample (name, labels); fails when absent. */
static double get(struct expo *e, const char *name, const char *labels)
{
    for (size_t i = 0; i < e->nsmp; i++) {
        if (strcmp(e->smp[i].name, name) == 0 && strcmp(e->smp[i].labels, labels) == 0)
            return e->smp[i].value;
    }
    fail_msg("no sample %s{%s}", name, labels);
    return NAN;
}

static bool has(struct expo *e, const char *name, const char *labels)
{
    for (size_t i = 0; i < e->nsmp; i++) {
        if (strcmp(e->smp[i].name, name) == 0 && strcmp(e->smp[i].labels, labels) == 0)
            return true;
    }
    return false;
}

static size_t count_samples(struct expo *e, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nsmp; i++)
        n += strcmp(e->smp[i].name, name) == 0;
    return n;
}

static struct expo *scrape(struct osw_metrics *m)
{
    static struct expo e;
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_metrics_render(m, &b), OSW_OK);
    assert_non_null(b.data);
    parse_expo(b.data, &e);
    osw_buf_free(&b);
    return &e;
}

static int setup(void **state)
{
    *state = osw_metrics_new();
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    osw_metrics_free(*state);
    return 0;
}

/* ---- families ----------------------------------------------------------- */

static const struct {
    const char *name, *type;
} contract_families[] = {
    {"osstream_webhook_requests_total", "counter"},
    {"osstream_webhook_request_duration_seconds", "histogram"},
    {"osstream_webhook_inflight_requests", "gauge"},
    {"osstream_webhook_osimagestream_synced", "gauge"},
    {"osstream_webhook_osimagestream_streams", "gauge"},
    {"osstream_webhook_osimagestream_last_update_timestamp_seconds", "gauge"},
    {"osstream_webhook_osimagestream_updates_total", "counter"},
    {"osstream_webhook_watch_restarts_total", "counter"},
    {"osstream_webhook_tls_certificate_expiry_timestamp_seconds", "gauge"},
    {"osstream_webhook_tls_certificate_reloads_total", "counter"},
    {"osstream_webhook_cache_synced", "gauge"},
    {"osstream_webhook_cache_objects", "gauge"},
    {"osstream_webhook_rule_verdicts_total", "counter"},
    {"process_resident_memory_bytes", "gauge"},
    {"process_open_fds", "gauge"},
    {"process_start_time_seconds", "gauge"},
    {"process_cpu_seconds_total", "counter"},
};

static void test_every_family_from_first_scrape(void **state)
{
    struct expo *e = scrape(*state);
    size_t n = sizeof(contract_families) / sizeof(contract_families[0]);

    for (size_t i = 0; i < n; i++) {
        struct family *f = find_family(e, contract_families[i].name);
        if (f == NULL) {
            fail_msg("family %s missing", contract_families[i].name);
            return;
        }
        assert_true(f->help);
        assert_string_equal(f->type, contract_families[i].type);
    }
    /* Nothing else, and every family has HELP and TYPE. */
    assert_int_equal(e->nfam, n);
    for (size_t i = 0; i < e->nfam; i++) {
        assert_true(e->fam[i].help);
        assert_string_not_equal(e->fam[i].type, "");
    }

    /* Initial values. */
    assert_true(get(e, "osstream_webhook_inflight_requests", "") == 0);
    assert_true(get(e, "osstream_webhook_osimagestream_synced", "") == 0);
    assert_true(get(e, "osstream_webhook_osimagestream_streams", "") == 0);
    assert_true(get(e, "osstream_webhook_osimagestream_updates_total", "result=\"success\"") == 0);
    assert_true(get(e, "osstream_webhook_osimagestream_updates_total", "result=\"invalid\"") == 0);
    assert_true(get(e, "osstream_webhook_tls_certificate_reloads_total", "result=\"success\"") ==
                0);
    assert_true(get(e, "osstream_webhook_tls_certificate_reloads_total", "result=\"error\"") == 0);
    assert_int_equal(count_samples(e, "osstream_webhook_watch_restarts_total"), 0);
    /* All 2 x 5 x 4 request series, at 0. */
    assert_int_equal(count_samples(e, "osstream_webhook_requests_total"), 40);
    for (size_t i = 0; i < e->nsmp; i++) {
        if (strcmp(e->smp[i].name, "osstream_webhook_requests_total") == 0)
            assert_true(e->smp[i].value == 0);
    }
}

/* ---- parity families ------------------------------------------------------ */

static void test_parity_families(void **state)
{
    struct osw_metrics *m = *state;
    struct expo *e = scrape(m);
    assert_int_equal(count_samples(e, "osstream_webhook_cache_synced"), 2);
    assert_int_equal(count_samples(e, "osstream_webhook_rule_verdicts_total"), 6);
    assert_true(get(e, "osstream_webhook_cache_synced", "resource=\"machineconfigs\"") == 0);
    assert_true(get(e, "osstream_webhook_rule_verdicts_total",
                    "rule=\"conflict\",verdict=\"denied\"") == 0);
    osw_metrics_set_cache(m, OSW_CACHE_POOLS, true, 7);
    osw_metrics_set_cache(m, OSW_CACHE_MACHINECONFIGS, false, 2000);
    osw_metrics_set_cache(m, (enum osw_cache_resource)9, true, 1); /* ignored */
    /* One request counts at most 1 per rule and verdict. */
    osw_metrics_rules(m, OSW_RULE_CONFLICT_WARNED | OSW_RULE_DELETE_GUARD_DENIED);
    osw_metrics_rules(m, OSW_RULE_CONFLICT_WARNED);
    osw_metrics_rules(m, 0);
    e = scrape(m);
    assert_true(get(e, "osstream_webhook_cache_synced", "resource=\"machineconfigpools\"") == 1);
    assert_true(get(e, "osstream_webhook_cache_objects", "resource=\"machineconfigpools\"") == 7);
    assert_true(get(e, "osstream_webhook_cache_synced", "resource=\"machineconfigs\"") == 0);
    assert_true(get(e, "osstream_webhook_cache_objects", "resource=\"machineconfigs\"") == 2000);
    assert_true(get(e, "osstream_webhook_rule_verdicts_total",
                    "rule=\"conflict\",verdict=\"warned\"") == 2);
    assert_true(get(e, "osstream_webhook_rule_verdicts_total",
                    "rule=\"conflict\",verdict=\"denied\"") == 0);
    assert_true(get(e, "osstream_webhook_rule_verdicts_total",
                    "rule=\"delete_guard\",verdict=\"denied\"") == 1);
    assert_true(
        get(e, "osstream_webhook_rule_verdicts_total", "rule=\"runc\",verdict=\"warned\"") == 0);
    osw_metrics_rules(NULL, OSW_RULE_CONFLICT_DENIED); /* no-op */
    osw_metrics_set_cache(NULL, OSW_CACHE_POOLS, true, 1);
}

/* ---- requests_total ------------------------------------------------------- */

static const char *const ep_names[] = {"validate", "mutate"};
static const char *const op_label[] = {"unknown", "CREATE", "UPDATE", "DELETE", "CONNECT"};
static const char *const verdict_names[] = {"allowed", "denied", "patched", "error"};

static void request_labels(char *out, size_t cap, int ep, int op, int v)
{
    snprintf(out, cap, "endpoint=\"%s\",operation=\"%s\",verdict=\"%s\"", ep_names[ep],
             op_label[op], verdict_names[v]);
}

/* Checks that only series (ep, op, v) moved, by exactly 1, since `before`;
 * then updates `before` to the scrape. */
static void check_only_moved(struct expo *e, double before[2][OSW_OP_COUNT][4], int ep, int op,
                             int v)
{
    char labels[256];
    for (int ep2 = 0; ep2 < 2; ep2++) {
        for (int op2 = 0; op2 < OSW_OP_COUNT; op2++) {
            for (int v2 = 0; v2 < 4; v2++) {
                request_labels(labels, sizeof(labels), ep2, op2, v2);
                double want =
                    before[ep2][op2][v2] + (ep2 == ep && op2 == op && v2 == v ? 1.0 : 0.0);
                double got = get(e, "osstream_webhook_requests_total", labels);
                if (got != want)
                    fail_msg("%s: got %g want %g", labels, got, want);
                before[ep2][op2][v2] = got;
            }
        }
    }
}

static void test_requests_count_exactly_one(void **state)
{
    struct osw_metrics *m = *state;
    double before[2][OSW_OP_COUNT][4] = {{{0}}};
    char labels[256];

    /* Every series starts at 0 (check_only_moved with no change). */
    struct expo *e = scrape(m);
    check_only_moved(e, before, -1, -1, -1);

    /* Each combination once, then check that exactly that series moved. */
    for (int ep = 0; ep < 2; ep++) {
        for (int op = 0; op < OSW_OP_COUNT; op++) {
            for (int v = 0; v < 4; v++) {
                osw_metrics_request(m, (enum osw_endpoint)ep, (enum osw_op)op, (enum osw_verdict)v,
                                    v == 3 ? -1.0 : 0.001);
                check_only_moved(scrape(m), before, ep, op, v);
            }
        }
    }

    /* Out-of-range operations count as unknown; bad endpoint/verdict are
     * dropped rather than written out of bounds. */
    osw_metrics_request(m, OSW_EP_VALIDATE, (enum osw_op)42, OSW_VERDICT_DENIED, -1);
    osw_metrics_request(m, (enum osw_endpoint)7, OSW_OP_CREATE, OSW_VERDICT_DENIED, -1);
    osw_metrics_request(m, OSW_EP_MUTATE, OSW_OP_CREATE, (enum osw_verdict)9, -1);
    e = scrape(m);
    request_labels(labels, sizeof(labels), 0, 0, 1);
    assert_true(get(e, "osstream_webhook_requests_total", labels) == before[0][0][1] + 1);
    request_labels(labels, sizeof(labels), 1, 1, 1);
    assert_true(get(e, "osstream_webhook_requests_total", labels) == before[1][1][1]);
    osw_metrics_request(NULL, OSW_EP_MUTATE, OSW_OP_CREATE, OSW_VERDICT_ALLOWED, 1);
}

static void test_op_names(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        enum osw_op op;
    } cases[] = {
        {"CREATE", OSW_OP_CREATE},   {"UPDATE", OSW_OP_UPDATE},  {"DELETE", OSW_OP_DELETE},
        {"CONNECT", OSW_OP_CONNECT}, {"create", OSW_OP_UNKNOWN}, {"", OSW_OP_UNKNOWN},
        {"CREATEX", OSW_OP_UNKNOWN}, {"CREAT", OSW_OP_UNKNOWN},  {"unknown", OSW_OP_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(osw_op_from_str(osw_str_from_cstr(cases[i].s)), cases[i].op);
    assert_int_equal(osw_op_from_str(OSW_STR_NULL), OSW_OP_UNKNOWN);
    /* A NUL inside the slice is not "CREATE". */
    assert_int_equal(osw_op_from_str((struct osw_str){"CREATE\0", 7}), OSW_OP_UNKNOWN);
    for (int op = 0; op < OSW_OP_COUNT; op++)
        assert_string_equal(osw_op_name((enum osw_op)op), op_label[op]);
    assert_string_equal(osw_op_name(OSW_OP_COUNT), "unknown");
    assert_string_equal(osw_op_name((enum osw_op) - 3), "unknown");
}

/* ---- histogram ------------------------------------------------------------ */

/* Reads one endpoint's buckets; checks they are cumulative, that +Inf equals
 * _count, and returns the number of finite buckets (les[] / counts[]). */
static size_t read_histogram(struct expo *e, const char *ep, double *les, double *counts,
                             double *count, double *sum)
{
    const char *name = "osstream_webhook_request_duration_seconds_bucket";
    char prefix[64];
    size_t n = 0;
    double prev_le = -1, prev = 0, inf = -1;

    snprintf(prefix, sizeof(prefix), "endpoint=\"%s\",le=\"", ep);
    for (size_t i = 0; i < e->nsmp; i++) {
        if (strcmp(e->smp[i].name, name) != 0 ||
            strncmp(e->smp[i].labels, prefix, strlen(prefix)) != 0)
            continue;
        const char *le = e->smp[i].labels + strlen(prefix);
        assert_true(inf < 0); /* +Inf comes last */
        assert_true(e->smp[i].value >= prev);
        prev = e->smp[i].value;
        if (strcmp(le, "+Inf\"") == 0) {
            inf = e->smp[i].value;
            continue;
        }
        char *end;
        double v = strtod(le, &end);
        assert_string_equal(end, "\"");
        assert_true(v > prev_le);
        prev_le = v;
        assert_true(n < 64);
        les[n] = v;
        counts[n] = e->smp[i].value;
        n++;
    }
    char labels[64];
    snprintf(labels, sizeof(labels), "endpoint=\"%s\"", ep);
    *count = get(e, "osstream_webhook_request_duration_seconds_count", labels);
    *sum = get(e, "osstream_webhook_request_duration_seconds_sum", labels);
    assert_true(inf >= 0);
    assert_true(inf == *count);
    return n;
}

static void test_histogram_shape(void **state)
{
    struct expo *e = scrape(*state);
    double les[2][64], counts[64], count, sum;
    size_t n[2];

    for (int ep = 0; ep < 2; ep++) {
        n[ep] = read_histogram(e, ep_names[ep], les[ep], counts, &count, &sum);
        assert_true(n[ep] >= 8);
        assert_true(les[ep][0] <= 0.0005);
        assert_true(les[ep][n[ep] - 1] >= 10);
        assert_true(count == 0 && sum == 0);
    }
    assert_int_equal(n[0], n[1]);
    assert_memory_equal(les[0], les[1], n[0] * sizeof(double));
}

static void test_histogram_observations(void **state)
{
    struct osw_metrics *m = *state;
    static const struct {
        double seconds;
        double le; /* smallest bucket that must count it; INFINITY: only +Inf */
        bool observed;
    } cases[] = {
        {0.0, 0.0001, true},        {0.0001, 0.0001, true}, {0.00011, 0.00025, true},
        {0.003, 0.005, true},       {0.25, 0.25, true},     {1.0, 1, true},
        {9.99, 10, true},           {10.0, 10, true},       {10.5, INFINITY, true},
        {1e12, INFINITY, true},     {-1.0, 0, false},       {NAN, 0, false},
        {INFINITY, INFINITY, true},
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        double les[64] = {0}, b0[64] = {0}, b1[64] = {0}, les_m[64] = {0}, bm[64] = {0},
               bm1[64] = {0};
        double count0, count1, sum0, sum1, cm, sm, cm1, sm1;

        struct expo *e = scrape(m);
        size_t n = read_histogram(e, "validate", les, b0, &count0, &sum0);
        read_histogram(e, "mutate", les_m, bm, &cm, &sm);

        osw_metrics_request(m, OSW_EP_VALIDATE, OSW_OP_CREATE, OSW_VERDICT_ALLOWED,
                            cases[c].seconds);
        e = scrape(m);
        read_histogram(e, "validate", les, b1, &count1, &sum1);
        read_histogram(e, "mutate", les_m, bm1, &cm1, &sm1);

        /* The other endpoint does not move. */
        assert_true(cm1 == cm && sm1 == sm);
        assert_memory_equal(bm, bm1, n * sizeof(double));

        if (!cases[c].observed) {
            assert_true(count1 == count0 && sum1 == sum0);
            assert_memory_equal(b0, b1, n * sizeof(double));
            continue;
        }
        assert_true(count1 == count0 + 1);
        for (size_t i = 0; i < n; i++) {
            double want = b0[i] + (les[i] >= cases[c].le ? 1 : 0);
            if (b1[i] != want) {
                fail_msg("case %g: bucket le=%g got %g want %g", cases[c].seconds, les[i], b1[i],
                         want);
                return;
            }
        }
        if (isfinite(cases[c].seconds) && cases[c].seconds < 1e6)
            assert_true(fabs((sum1 - sum0) - cases[c].seconds) < 1e-6);
        else
            assert_true(sum1 > sum0); /* capped, but counted */
    }
}

/* ---- gauges and small counters ------------------------------------------------ */

static void test_gauges(void **state)
{
    struct osw_metrics *m = *state;
    struct expo *e;

    osw_metrics_inflight_add(m, 1);
    osw_metrics_inflight_add(m, 1);
    e = scrape(m);
    assert_true(get(e, "osstream_webhook_inflight_requests", "") == 2);
    osw_metrics_inflight_add(m, -2);
    e = scrape(m);
    assert_true(get(e, "osstream_webhook_inflight_requests", "") == 0);

    osw_metrics_set_synced(m, true);
    osw_metrics_set_streams(m, 3);
    osw_metrics_set_last_update(m, 1764158400.25);
    osw_metrics_set_cert_expiry(m, 1795694400.0);
    e = scrape(m);
    assert_true(get(e, "osstream_webhook_osimagestream_synced", "") == 1);
    assert_true(get(e, "osstream_webhook_osimagestream_streams", "") == 3);
    assert_true(get(e, "osstream_webhook_osimagestream_last_update_timestamp_seconds", "") ==
                1764158400.25);
    assert_true(get(e, "osstream_webhook_tls_certificate_expiry_timestamp_seconds", "") ==
                1795694400.0);

    osw_metrics_set_synced(m, false);
    osw_metrics_set_streams(m, 0);
    osw_metrics_set_last_update(m, 0.1 + 0.2); /* needs 17 digits to round-trip */
    e = scrape(m);
    assert_true(get(e, "osstream_webhook_osimagestream_synced", "") == 0);
    assert_true(get(e, "osstream_webhook_osimagestream_streams", "") == 0);
    assert_true(get(e, "osstream_webhook_osimagestream_last_update_timestamp_seconds", "") ==
                0.1 + 0.2);

    /* NULL registry: every setter is a no-op; render refuses. */
    osw_metrics_inflight_add(NULL, 1);
    osw_metrics_set_synced(NULL, true);
    osw_metrics_set_streams(NULL, 1);
    osw_metrics_set_last_update(NULL, 1);
    osw_metrics_set_cert_expiry(NULL, 1);
    osw_metrics_osis_update(NULL, "success");
    osw_metrics_cert_reload(NULL, true);
    osw_metrics_watch_restart(NULL, "x");
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_metrics_render(NULL, &b), OSW_EINVAL);
    assert_int_equal(osw_metrics_render(m, NULL), OSW_EINVAL);
    osw_buf_free(&b);
    osw_metrics_free(NULL);
}

static void test_result_counters(void **state)
{
    struct osw_metrics *m = *state;
    static const struct {
        const char *result;
        const char *label; /* which series must move */
    } osis[] = {
        {"success", "result=\"success\""}, {"invalid", "result=\"invalid\""},
        {"bogus", "result=\"invalid\""},   {NULL, "result=\"invalid\""},
        {"", "result=\"invalid\""},        {"success", "result=\"success\""},
    };
    const char *name = "osstream_webhook_osimagestream_updates_total";
    for (size_t i = 0; i < sizeof(osis) / sizeof(osis[0]); i++) {
        struct expo *e = scrape(m);
        double s0 = get(e, name, "result=\"success\""), i0 = get(e, name, "result=\"invalid\"");
        osw_metrics_osis_update(m, osis[i].result);
        e = scrape(m);
        bool ok = strcmp(osis[i].label, "result=\"success\"") == 0;
        assert_true(get(e, name, "result=\"success\"") == s0 + (ok ? 1 : 0));
        assert_true(get(e, name, "result=\"invalid\"") == i0 + (ok ? 0 : 1));
    }

    name = "osstream_webhook_tls_certificate_reloads_total";
    static const bool reloads[] = {true, false, false, true};
    for (size_t i = 0; i < sizeof(reloads) / sizeof(reloads[0]); i++) {
        struct expo *e = scrape(m);
        double s0 = get(e, name, "result=\"success\""), e0 = get(e, name, "result=\"error\"");
        osw_metrics_cert_reload(m, reloads[i]);
        e = scrape(m);
        assert_true(get(e, name, "result=\"success\"") == s0 + (reloads[i] ? 1 : 0));
        assert_true(get(e, name, "result=\"error\"") == e0 + (reloads[i] ? 0 : 1));
    }
}

static void test_watch_restarts(void **state)
{
    struct osw_metrics *m = *state;
    const char *name = "osstream_webhook_watch_restarts_total";

    osw_metrics_watch_restart(m, "closed");
    osw_metrics_watch_restart(m, "gone");
    osw_metrics_watch_restart(m, "closed");
    osw_metrics_watch_restart(m, NULL);
    osw_metrics_watch_restart(m, "");
    osw_metrics_watch_restart(m, "we\"ird\\\nreason");
    struct expo *e = scrape(m);
    assert_true(get(e, name, "reason=\"closed\"") == 2);
    assert_true(get(e, name, "reason=\"gone\"") == 1);
    assert_true(get(e, name, "reason=\"unknown\"") == 2);
    /* Escaped as the exposition format wants: \" \\ \n. */
    assert_true(get(e, name, "reason=\"we\\\"ird\\\\\\nreason\"") == 1);
    assert_int_equal(count_samples(e, name), 4);

    /* A long reason is cut to the slot size; the same prefix is one series. */
    osw_metrics_watch_restart(m, "a-very-long-reason-that-goes-on-and-on-1");
    osw_metrics_watch_restart(m, "a-very-long-reason-that-goes-on-and-on-2");
    e = scrape(m);
    assert_int_equal(count_samples(e, name), 5);
    assert_true(get(e, name, "reason=\"a-very-long-reason-that-goes-on\"") == 2);

    /* Past the table's 16 reasons, new ones are counted as "other". */
    for (int i = 0; i < 20; i++) {
        char r[16];
        snprintf(r, sizeof(r), "r%d", i);
        osw_metrics_watch_restart(m, r);
    }
    e = scrape(m);
    assert_int_equal(count_samples(e, name), 17);
    assert_true(get(e, name, "reason=\"r10\"") == 1);
    assert_false(has(e, name, "reason=\"r11\""));
    assert_true(get(e, name, "reason=\"other\"") == 9);
    /* Known reasons still count on their own series. */
    osw_metrics_watch_restart(m, "gone");
    e = scrape(m);
    assert_true(get(e, name, "reason=\"gone\"") == 2);
}

/* ---- process_* ------------------------------------------------------------ */

/* When main() started (the test's own clock, for the start-time check). */
static time_t main_started;

/* Open descriptors counted without /proc: poll(2) marks every descriptor
 * that is not open with POLLNVAL (one call per 4096 descriptors). */
static double count_fds_by_poll(void)
{
    static struct pollfd p[4096];
    long max = sysconf(_SC_OPEN_MAX);
    double n = 0;

    if (max < 0 || max > 1 << 22)
        max = 1 << 22;
    for (long base = 0; base < max; base += 4096) {
        nfds_t k = (nfds_t)(max - base < 4096 ? max - base : 4096);
        for (nfds_t i = 0; i < k; i++)
            p[i] = (struct pollfd){(int)(base + (long)i), 0, 0};
        assert_true(poll(p, k, 0) >= 0);
        for (nfds_t i = 0; i < k; i++)
            n += (p[i].revents & POLLNVAL) == 0;
    }
    return n;
}

static double rusage_cpu_seconds(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double rusage_sys_seconds(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void test_process_metrics(void **state)
{
    struct osw_metrics *m = *state;
    struct expo *e = scrape(m);
    double rss = get(e, "process_resident_memory_bytes", "");
    double fds = get(e, "process_open_fds", "");
    double start = get(e, "process_start_time_seconds", "");
    double cpu = get(e, "process_cpu_seconds_total", "");
    double now = (double)time(NULL);

    assert_true(rss > 1024 * 1024 && rss < 64.0 * 1024 * 1024 * 1024);
    assert_true(fds >= 3 && fds < 100000);
    assert_true(fds == count_fds_by_poll());
    /* This process started just before main() (allow for a slow start under
     * a loaded machine, and for /proc's clock-tick and boot-time rounding). */
    assert_true(start <= (double)main_started + 2 && start > (double)main_started - 30);
    assert_true(start <= now + 2);
    assert_true(cpu >= 0 && cpu < 3600);

    /* Opening a file is seen as one more descriptor; closing it, one less. */
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    e = scrape(m);
    assert_true(get(e, "process_open_fds", "") == fds + 1);
    close(fd);
    e = scrape(m);
    assert_true(get(e, "process_open_fds", "") == fds);

    /* Burn some CPU (bounded by the CPU used, not by a clock), then the
     * counter agrees with getrusage to within a few clock ticks. */
    volatile unsigned long sink = 0;
    for (int round = 0; round < 1000 && rusage_cpu_seconds() < 0.3; round++) {
        for (unsigned long i = 0; i < 1000000; i++)
            sink += i ^ (sink >> 3);
    }
    /* And some system time: getppid() is a real system call each time. */
    for (int round = 0; round < 1000 && rusage_sys_seconds() < 0.25; round++) {
        for (int i = 0; i < 10000; i++)
            sink += (unsigned long)syscall(SYS_getppid);
    }
    assert_true(rusage_sys_seconds() >= 0.25);
    double ru = rusage_cpu_seconds();
    e = scrape(m);
    cpu = get(e, "process_cpu_seconds_total", "");
    assert_true(ru >= 0.3);
    if (fabs(cpu - ru) > 0.1) {
        fail_msg("process_cpu_seconds_total %g, getrusage %g", cpu, ru);
        return;
    }

    /* The start time does not move between scrapes. */
    assert_true(get(e, "process_start_time_seconds", "") == start);
    /* CPU time never goes backwards. */
    assert_true(get(e, "process_cpu_seconds_total", "") >= cpu);
    (void)sink;
}

/* ---- concurrency ------------------------------------------------------------ */

#define THREADS    4
#define PER_THREAD 5000

static void *hammer(void *p)
{
    struct osw_metrics *m = p;
    for (int i = 0; i < PER_THREAD; i++) {
        osw_metrics_inflight_add(m, 1);
        osw_metrics_request(m, OSW_EP_MUTATE, OSW_OP_UPDATE, OSW_VERDICT_PATCHED, 0.002);
        osw_metrics_inflight_add(m, -1);
        if (i % 1000 == 0)
            osw_metrics_watch_restart(m, "closed");
    }
    return NULL;
}

static void test_concurrent_updates_are_exact(void **state)
{
    struct osw_metrics *m = *state;
    pthread_t th[THREADS];

    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, hammer, m), 0);
    /* Scrapes while the writers run stay well-formed (+Inf == _count is
     * checked by read_histogram). */
    for (int i = 0; i < 5; i++) {
        double les[64], b[64], c, s;
        read_histogram(scrape(m), "mutate", les, b, &c, &s);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);

    struct expo *e = scrape(m);
    double total = THREADS * PER_THREAD;
    assert_true(get(e, "osstream_webhook_requests_total",
                    "endpoint=\"mutate\",operation=\"UPDATE\",verdict=\"patched\"") == total);
    assert_true(get(e, "osstream_webhook_request_duration_seconds_count", "endpoint=\"mutate\"") ==
                total);
    assert_true(get(e, "osstream_webhook_request_duration_seconds_bucket",
                    "endpoint=\"mutate\",le=\"0.0025\"") == total);
    assert_true(get(e, "osstream_webhook_request_duration_seconds_bucket",
                    "endpoint=\"mutate\",le=\"0.001\"") == 0);
    assert_true(
        fabs(get(e, "osstream_webhook_request_duration_seconds_sum", "endpoint=\"mutate\"") -
             total * 0.002) < 1e-6);
    assert_true(get(e, "osstream_webhook_inflight_requests", "") == 0);
    const int restarts = THREADS * (PER_THREAD / 1000); /* i % 1000 == 0 */
    assert_true(get(e, "osstream_webhook_watch_restarts_total", "reason=\"closed\"") == restarts);
}

/* ---- promtool (when installed) ---------------------------------------------- */

static void test_promtool_accepts_output(void **state)
{
    struct osw_metrics *m = *state;
    if (access("/usr/bin/promtool", X_OK) != 0) {
        skip();
        return;
    }
    osw_metrics_request(m, OSW_EP_VALIDATE, OSW_OP_CREATE, OSW_VERDICT_DENIED, 0.0003);
    osw_metrics_watch_restart(m, "gone");
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_metrics_render(m, &b), OSW_OK);

    char path[] = "/tmp/osw-test-metrics-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    osw_buf_free(&b);

    char cmd[256];
    snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < %s", path);
    int rc = system(cmd);
    unlink(path);
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), 0);
}

int main(void)
{
    main_started = time(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_family_from_first_scrape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests_count_exactly_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parity_families, setup, teardown),
        cmocka_unit_test(test_op_names),
        cmocka_unit_test_setup_teardown(test_histogram_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_histogram_observations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gauges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_updates_are_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_promtool_accepts_output, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

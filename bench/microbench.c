/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Microbenchmark of the decision path alone: osw_admit() (decode + decide +
 * encode of one AdmissionReview), with no I/O, for both endpoints and both
 * readers, at bodies of about 1 KB, 7.5 KB (the fixture), 100 KB and 1 MB.
 * The bodies are derived from tests/data with jansson; the large ones are
 * padded with MachineConfig sources in spec (or annotations), as a big pool
 * would be. Prints ns/op and MB/s per case, and one machine-readable line each.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "osw/admit.h"
#include "osw/osis.h"

#ifndef OSW_BENCH_DATA
#define OSW_BENCH_DATA "tests/data"
#endif

#define FIXTURE   "admissionreview-update-worker-rhel10.json"
#define SNAPSHOT  "osimagestream.json"
#define MAX_INPUT (64u * 1024u * 1024u)

enum pad_kind { PAD_NONE, PAD_SPEC, PAD_ANNOTATIONS };

/* One body under test (owned text). */
struct body {
    const char *label;
    char *text;
    size_t len;
};

#define REPS 5

/* What one case measured. */
struct result {
    double ns_median, ns_min, mb_s;
    unsigned long long iters;
    const char *verdict, *same; /* static strings */
    size_t resp_len;
};

struct options {
    const char *data_dir;
    double seconds; /* minimum measured time per case */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len;

    if (f == NULL) {
        fprintf(stderr, "osw-microbench: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    buf = malloc(MAX_INPUT + 1);
    if (buf != NULL) {
        len = fread(buf, 1, MAX_INPUT + 1, f);
        if (ferror(f) || len > MAX_INPUT) {
            fprintf(stderr, "osw-microbench: %s: unreadable or too large\n", path);
            free(buf);
            buf = NULL;
        } else {
            buf[len] = '\0';
            *len_out = len;
        }
    }
    fclose(f);
    return buf;
}

static json_t *get_path(json_t *root, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n && root != NULL; i++)
        root = json_object_get(root, keys[i]);
    return root;
}

/* About 1 KB: a CREATE of the fixture's pool, without status, oldObject,
 * user info and the rendered configuration. */
static char *small_body(const json_t *fixture, size_t *len)
{
    json_t *doc = json_deep_copy(fixture);
    json_t *req, *obj, *spec;
    char *text = NULL;

    if (doc == NULL)
        return NULL;
    req = json_object_get(doc, "request");
    obj = json_object_get(req, "object");
    spec = json_object_get(obj, "spec");
    json_object_del(req, "oldObject");
    json_object_del(req, "userInfo");
    json_object_del(req, "requestKind");
    json_object_del(req, "requestResource");
    json_object_set_new(req, "operation", json_string("CREATE"));
    json_object_del(obj, "status");
    json_object_del(spec, "configuration");
    text = json_dumps(doc, JSON_COMPACT);
    if (text != NULL)
        *len = strlen(text);
    json_decref(doc);
    return text;
}

/* A pad entry of a fixed length, numbered `i`. */
static json_t *pad_entry(enum pad_kind kind, size_t i, char *key, size_t keysz)
{
    snprintf(key, keysz, "99-worker-bench-padding-%08zu", i);
    if (kind == PAD_ANNOTATIONS)
        return json_string("bench padding value, about sixty bytes long, not read by the webhook");
    return json_pack("{s:s, s:s, s:s}", "apiVersion", "machineconfiguration.openshift.io/v1",
                     "kind", "MachineConfig", "name", key);
}

static bool pad_object(json_t *obj, enum pad_kind kind, size_t count)
{
    static const char *const spec_path[] = {"spec", "configuration", "source"};
    static const char *const ann_path[] = {"metadata", "annotations"};
    json_t *target = kind == PAD_SPEC ? get_path(obj, spec_path, 3) : get_path(obj, ann_path, 2);
    char key[64];

    if (target == NULL)
        return false;
    for (size_t i = 0; i < count; i++) {
        json_t *e = pad_entry(kind, i, key, sizeof(key));

        if (e == NULL)
            return false;
        if (kind == PAD_SPEC ? json_array_append_new(target, e) != 0
                             : json_object_set_new(target, key, e) != 0)
            return false;
    }
    return true;
}

/* The fixture (an UPDATE: object and oldObject) padded to about `target`
 * bytes of compact JSON, half of the padding in each object. */
static char *padded_body(const json_t *fixture, enum pad_kind kind, size_t target, size_t *len)
{
    json_t *doc = json_deep_copy(fixture), *req, *one;
    char *text = NULL, key[64];
    size_t base, entry, count;

    if (doc == NULL)
        return NULL;
    req = json_object_get(doc, "request");
    base = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    one = pad_entry(kind, 0, key, sizeof(key));
    if (one == NULL)
        goto out;
    /* An entry costs its text, a comma, and for annotations its key. */
    entry = json_dumpb(one, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY) + 1;
    if (kind == PAD_ANNOTATIONS)
        entry += strlen(key) + 3;
    json_decref(one);
    count = target > base ? (target - base) / (2 * entry) : 0;
    if (!pad_object(json_object_get(req, "object"), kind, count) ||
        !pad_object(json_object_get(req, "oldObject"), kind, count))
        goto out;
    text = json_dumps(doc, JSON_COMPACT);
    if (text != NULL)
        *len = strlen(text);
out:
    json_decref(doc);
    return text;
}

enum bench_reader { BENCH_READER_FAST = 0, BENCH_READER_JANSSON };

/* One decision as the server makes it: the default policy, no cluster state. */
static enum osw_err admit(const char *body, size_t len, const struct osw_osis *snap,
                          enum osw_endpoint ep, struct osw_str name, enum bench_reader rd,
                          struct osw_admit *a)
{
    struct osw_policy policy = osw_policy_default();
    policy.osimagestream_name = name;
    struct osw_inputs in = {snap, true, OSW_CLUSTER_OFF, NULL, &policy};
    return osw_admit(
        body, len, &in, ep,
        rd == BENCH_READER_JANSSON ? osw_review_decode_jansson : osw_review_decode_fast, a);
}

static const char *reader_name(enum bench_reader r)
{
    return r == BENCH_READER_FAST ? "fast" : "jansson";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/*
 * Runs one case: checks the answer once (and that it equals the other
 * reader's), then repeats osw_admit() in batches for REPS slices of
 * `opt->seconds`. Returns false when the call fails or does not answer 200.
 */
static bool run_case(const struct options *opt, const struct body *b, const struct osw_osis *snap,
                     enum osw_endpoint ep, enum bench_reader rd, struct osw_buf *reference,
                     struct result *res)
{
    const struct osw_str name = OSW_STR_LIT("cluster");
    struct osw_admit a;
    unsigned long long total_iters = 0;
    double ns[REPS];
    const char *verdict, *same = "ref";
    size_t resp_len;
    bool ok = false;

    osw_admit_init(&a);
    if (admit(b->text, b->len, snap, ep, name, rd, &a) != OSW_OK || a.http_status != 200) {
        fprintf(stderr, "osw-microbench: %s %s %s: status %d: %.*s\n", b->label,
                osw_endpoint_name(ep), reader_name(rd), a.http_status, (int)a.body.len,
                a.body.data ? a.body.data : "");
        goto out;
    }
    verdict = osw_verdict_name(a.decision.verdict);
    resp_len = a.body.len;
    /* The first reader's answer is the reference the other must match. */
    if (reference->len == 0) {
        if (osw_buf_append(reference, a.body.data, a.body.len) != OSW_OK)
            goto out;
    } else {
        same =
            (reference->len == a.body.len && memcmp(reference->data, a.body.data, a.body.len) == 0)
                ? "yes"
                : "NO";
    }
    osw_admit_reset(&a, true);

    /* REPS timed repetitions; the median resists a noisy neighbour. */
    for (int rep = 0; rep < REPS; rep++) {
        unsigned long long iters = 0, batch = 1;
        double t0 = now_s(), elapsed = 0;

        while (elapsed < opt->seconds / REPS) {
            for (unsigned long long i = 0; i < batch; i++) {
                if (admit(b->text, b->len, snap, ep, name, rd, &a) != OSW_OK)
                    goto out;
                osw_admit_reset(&a, true);
            }
            iters += batch;
            elapsed = now_s() - t0;
            if (elapsed < opt->seconds / REPS / 10 && batch < (1ull << 20))
                batch *= 2;
        }
        ns[rep] = elapsed * 1e9 / (double)iters;
        total_iters += iters;
    }
    qsort(ns, REPS, sizeof(ns[0]), cmp_double);
    res->ns_median = ns[REPS / 2];
    res->ns_min = ns[0];
    res->iters = total_iters;
    res->mb_s = (double)b->len / res->ns_median * 1e3;
    res->verdict = verdict;
    res->resp_len = resp_len;
    res->same = same;
    printf("%-7s %8zu  %-8s %-7s %9llu %12.0f %12.0f %9.1f  %-8s %5zu  %s\n", b->label, b->len,
           osw_endpoint_name(ep), reader_name(rd), total_iters, res->ns_median, res->ns_min,
           res->mb_s, verdict, resp_len, same);
    fflush(stdout);
    ok = true;
out:
    osw_admit_reset(&a, false);
    return ok;
}

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: osw-microbench [--data DIR] [--seconds S]\n"
               "  DIR holds " FIXTURE " and " SNAPSHOT " (default " OSW_BENCH_DATA ");\n"
               "  each case runs for at least S seconds (default 0.3).\n");
    return rc;
}

int main(int argc, char **argv)
{
    struct options opt = {OSW_BENCH_DATA, 0.3};
    struct body bodies[5];
    struct result results[5][2][2]; /* body, endpoint, reader */
    size_t nbodies = 0;
    struct osw_osis *snap = NULL;
    struct osw_errbuf eb;
    json_t *fixture = NULL, *isj = NULL;
    json_error_t jerr;
    char path[4096];
    int rc = 1;

    memset(bodies, 0, sizeof(bodies));
    memset(results, 0, sizeof(results));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            return usage(stdout, 0);
        if (i + 1 >= argc)
            return usage(stderr, 2);
        if (strcmp(argv[i], "--data") == 0) {
            opt.data_dir = argv[++i];
        } else if (strcmp(argv[i], "--seconds") == 0) {
            char *end = NULL;

            opt.seconds = strtod(argv[++i], &end);
            if (end == argv[i] || *end != '\0' || !(opt.seconds > 0 && opt.seconds < 3600))
                return usage(stderr, 2);
        } else {
            return usage(stderr, 2);
        }
    }

    snprintf(path, sizeof(path), "%s/%s", opt.data_dir, SNAPSHOT);
    isj = json_load_file(path, 0, &jerr);
    if (isj == NULL) {
        fprintf(stderr, "osw-microbench: %s: %s\n", path, jerr.text);
        goto out;
    }
    if (osw_osis_parse(isj, &snap, &eb) != OSW_OK) {
        fprintf(stderr, "osw-microbench: %s: %s\n", path, eb.msg);
        goto out;
    }

    snprintf(path, sizeof(path), "%s/%s", opt.data_dir, FIXTURE);
    bodies[1].label = "7.5k";
    bodies[1].text = read_file(path, &bodies[1].len);
    if (bodies[1].text == NULL)
        goto out;
    fixture = json_loadb(bodies[1].text, bodies[1].len, 0, &jerr);
    if (fixture == NULL) {
        fprintf(stderr, "osw-microbench: %s: %s\n", path, jerr.text);
        goto out;
    }
    bodies[0].label = "1k";
    bodies[0].text = small_body(fixture, &bodies[0].len);
    bodies[2].label = "100k";
    bodies[2].text = padded_body(fixture, PAD_SPEC, 100u * 1024u, &bodies[2].len);
    bodies[3].label = "1m";
    bodies[3].text = padded_body(fixture, PAD_SPEC, 1024u * 1024u, &bodies[3].len);
    bodies[4].label = "1m-ann";
    bodies[4].text = padded_body(fixture, PAD_ANNOTATIONS, 1024u * 1024u, &bodies[4].len);
    nbodies = 5;
    for (size_t i = 0; i < nbodies; i++) {
        if (bodies[i].text == NULL) {
            fprintf(stderr, "osw-microbench: cannot build body %s\n", bodies[i].label);
            goto out;
        }
    }

    printf("# decision path (osw_admit: decode + decide + encode), >= %.2f s per case\n",
           opt.seconds);
    printf("# 1k: CREATE, compact; 7.5k: the fixture as is; 100k/1m: fixture padded with\n"
           "# spec.configuration.source entries, 1m-ann: with annotations (compact JSON)\n");
    printf("%-7s %8s  %-8s %-7s %9s %12s %12s %9s  %-8s %5s  %s\n", "body", "bytes", "endpoint",
           "reader", "iters", "ns/op(med)", "ns/op(min)", "MB/s", "verdict", "resp", "same");
    rc = 0;
    for (size_t i = 0; i < nbodies; i++) {
        for (int ep = OSW_EP_VALIDATE; ep <= OSW_EP_MUTATE; ep++) {
            struct osw_buf reference = OSW_BUF_INIT;

            for (int rd = BENCH_READER_FAST; rd <= BENCH_READER_JANSSON; rd++) {
                struct result *res = &results[i][ep][rd];

                if (!run_case(&opt, &bodies[i], snap, (enum osw_endpoint)ep, (enum bench_reader)rd,
                              &reference, res)) {
                    rc = 1;
                    res->iters = 0;
                }
            }
            osw_buf_free(&reference);
        }
    }
    /* Machine-readable lines (bench/report.py reads them). */
    for (size_t i = 0; i < nbodies; i++) {
        for (int ep = OSW_EP_VALIDATE; ep <= OSW_EP_MUTATE; ep++) {
            for (int rd = BENCH_READER_FAST; rd <= BENCH_READER_JANSSON; rd++) {
                const struct result *res = &results[i][ep][rd];

                if (res->iters == 0)
                    continue;
                printf("MICRO body=%s bytes=%zu endpoint=%s reader=%s iters=%llu ns_op=%.1f "
                       "ns_op_min=%.1f mb_s=%.1f verdict=%s resp_bytes=%zu same_as_fast=%s\n",
                       bodies[i].label, bodies[i].len, osw_endpoint_name((enum osw_endpoint)ep),
                       reader_name((enum bench_reader)rd), res->iters, res->ns_median, res->ns_min,
                       res->mb_s, res->verdict, res->resp_len, res->same);
            }
        }
    }
out:
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        free(bodies[i].text);
    json_decref(fixture);
    json_decref(isj);
    osw_osis_unref(snap);
    return rc;
}

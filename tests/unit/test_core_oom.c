/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The core's out-of-memory policy: every allocation failure is returned as
 * OSW_ENOMEM (the server answers 500), never a crash, a leak or a wrong
 * answer. Proved by failing the 1st, 2nd, ... Nth allocation of a whole
 * osw_admit() until a run completes without failing: the core's own
 * allocations and jansson's (through the project's jansson hooks) both go
 * through the linker's --wrap. Under ASan, LeakSanitizer checks nothing leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "osw/admit.h"
#include "osw/cluster.h"
#include "../support/admit_util.h"
#include "../support/oom.h"

static char *read_all(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", OSW_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *b = __real_malloc(65536);
    *len = fread(b, 1, 65535, f);
    fclose(f);
    return b;
}

static void exhaust_in(const char *body, size_t len, const struct osw_inputs *in,
                       enum osw_endpoint ep, int reader, int want_status)
{
    for (long n = 0;; n++) {
        struct osw_admit a;
        osw_admit_init(&a);
        failed = false;
        countdown = n;
        enum osw_err err = test_admit_in(body, len, in, ep, reader, &a);
        countdown = -1;
        if (!failed) {
            /* no allocation failed: this run must be the normal answer */
            assert_int_equal(err, OSW_OK);
            assert_int_equal(a.http_status, want_status);
            osw_admit_reset(&a, false);
            assert_true(n > 0);
            return;
        }
        /* an allocation failed: either reported as ENOMEM, or absorbed by a
         * path that does not need it (jansson failing → a 400 is wrong!) */
        if (err == OSW_OK && a.http_status != want_status)
            fail_msg("allocation %ld failed and the answer became %d", n, a.http_status);
        assert_true(err == OSW_OK || err == OSW_ENOMEM);
        osw_admit_reset(&a, false);
    }
}

static void exhaust(const char *body, size_t len, const struct osw_osis *snap, enum osw_endpoint ep,
                    int reader, int want_status)
{
    struct osw_policy policy = osw_policy_default();
    struct osw_inputs in = {snap, true, OSW_CLUSTER_OFF, NULL, &policy};
    exhaust_in(body, len, &in, ep, reader, want_status);
}

static void test_admit_survives_every_allocation_failure(void **state)
{
    (void)state;
    /* The project's hooks call malloc, which --wrap routes to the countdown. */
    osw_review_install_alloc_hooks();
    size_t osis_len, rev_len;
    char *osis = read_all("osimagestream.json", &osis_len);
    char *rev = read_all("admissionreview-update-worker-rhel10.json", &rev_len);
    json_t *j = json_loadb(osis, osis_len, 0, NULL);
    struct osw_osis *snap = NULL;
    assert_int_equal(osw_osis_parse(j, &snap, NULL), OSW_OK);
    json_decref(j);
    /* The fixture asks for rhel-10: mutate patches it, validate allows it;
     * with no snapshot, validate denies 503 (the message path). */
    for (int reader = 0; reader < 2; reader++) {
        exhaust(rev, rev_len, snap, OSW_EP_MUTATE, reader, 200);
        exhaust(rev, rev_len, snap, OSW_EP_VALIDATE, reader, 200);
        exhaust(rev, rev_len, NULL, OSW_EP_VALIDATE, reader, 200);
    }
    /* An escaped extracted string makes the fast reader allocate too. */
    char *esc = strstr(rev, "\"rhel-10\"");
    assert_non_null(esc);
    char *body = __real_malloc(rev_len + 16);
    size_t head = (size_t)(esc - rev);
    memcpy(body, rev, head);
    const char *from = "\"rhel-10\"", *to = "\"rhel\\u002d10\"";
    size_t nf = strlen(from), nt = strlen(to);
    memcpy(body + head, to, nt); // NOLINT(bugprone-not-null-terminated-result): a sized body
    memcpy(body + head + nt, esc + nf, rev_len - head - nf);
    size_t body_len = rev_len - nf + nt;
    for (int reader = 0; reader < 2; reader++)
        exhaust(body, body_len, snap, OSW_EP_MUTATE, reader, 200);
    free(body);
    osw_osis_unref(snap);
    free(osis);
    free(rev);
}

#define G        "machineconfiguration.openshift.io"
#define ENV      "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
#define SEL      "\"machineConfigSelector\":{\"matchLabels\":{\"" G "/role\":\"worker\"}}"
#define URL      "quay.io/example/os:1"
#define SEL_RUNC "\"machineConfigSelector\":{\"matchLabels\":{\"" G "/role\":\"runc\"}}"
#define RUNC_FILE                                                                                  \
    "{\"path\":\"/etc/crio/crio.conf.d/99-runc.conf\",\"contents\":{\"source\":"                   \
    "\"data:,%5Bcrio.runtime%5D%0Adefault_runtime%3D%22runc%22\"}}"
#define CRUN_FILE                                                                                  \
    "{\"path\":\"/etc/crio/crio.conf.d/99-zz.conf\",\"contents\":{\"source\":"                     \
    "\"data:;base64,W2NyaW8ucnVudGltZV0KZGVmYXVsdF9ydW50aW1lPSJjcnVuIgo=\"}}"

static struct osw_cluster_builder *parity_builder(void)
{
    static const char *const pools[] = {
        "{\"metadata\":{\"name\":\"worker\"},\"spec\":{" SEL
        ",\"osImageStream\":{\"name\":\"rhel-10\"}}}",
        "{\"metadata\":{\"name\":\"infra\"},\"spec\":{" SEL "}}",
        "{\"metadata\":{\"name\":\"rpool\"},\"spec\":{" SEL_RUNC "}}",
    };
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    for (size_t i = 0; i < 3; i++) {
        json_t *j = json_loads(pools[i], 0, NULL);
        struct osw_pool *p;
        assert_int_equal(osw_pool_extract(j, &p, NULL), OSW_OK);
        assert_int_equal(osw_cluster_builder_add_pool(b, p), OSW_OK);
        osw_pool_unref(p);
        json_decref(j);
    }
    static const char *const mcs[] = {
        "{\"metadata\":{\"name\":\"99-url\",\"labels\":{\"" G
        "/role\":\"worker\"}},\"spec\":{\"osImageURL\":\"" URL "\"}}",
        /* rule R: runc for the custom pool rpool, which inherits rhel-10 */
        "{\"metadata\":{\"name\":\"50-runc\",\"labels\":{\"" G
        "/role\":\"runc\"}},\"spec\":{\"config\":{\"storage\":{\"files\":[" RUNC_FILE "]}}}}",
    };
    for (size_t i = 0; i < 2; i++) {
        json_t *j = json_loads(mcs[i], 0, NULL);
        struct osw_mc *m;
        assert_non_null(j);
        assert_int_equal(osw_mc_extract(j, &m, NULL), OSW_OK);
        assert_int_equal(osw_cluster_builder_add_mc(b, m), OSW_OK);
        osw_mc_unref(m);
        json_decref(j);
    }
    return b;
}

static struct osw_cluster *parity_cluster(void)
{
    struct osw_cluster_builder *b = parity_builder();
    struct osw_cluster *c;
    assert_int_equal(osw_cluster_build(b, &c), OSW_OK);
    osw_cluster_builder_free(b);
    return c;
}

/* A pool's extract (its selector parsed and its text kept) fails every
 * allocation in turn: ENOMEM, no pool, nothing leaked (LSan). */
static void test_pool_extract_survives_every_allocation_failure(void **state)
{
    (void)state;
    osw_review_install_alloc_hooks();
    json_t *j = json_loads("{\"metadata\":{\"name\":\"infra\"},\"spec\":{" SEL "}}", 0, NULL);
    assert_non_null(j);
    for (long n = 0;; n++) {
        struct osw_pool *p = (struct osw_pool *)j; /* must be reset */
        countdown = n;
        failed = false;
        enum osw_err err = osw_pool_extract(j, &p, NULL);
        countdown = -1;
        if (!failed) {
            assert_int_equal(err, OSW_OK);
            assert_true(p->selector_text.len > 0);
            osw_pool_unref(p);
            break;
        }
        assert_int_equal(err, OSW_ENOMEM);
        assert_null(p);
    }
    json_decref(j);
}

/* The snapshot build (indexes, selections, the runc pools list) fails every
 * allocation in turn: ENOMEM, nothing returned, nothing leaked (LSan). */
static void test_cluster_build_survives_every_allocation_failure(void **state)
{
    (void)state;
    struct osw_cluster_builder *b = parity_builder();
    for (long n = 0;; n++) {
        struct osw_cluster *c = (struct osw_cluster *)b; /* must be reset */
        countdown = n;
        failed = false;
        enum osw_err err = osw_cluster_build(b, &c);
        countdown = -1;
        if (!failed) {
            assert_int_equal(err, OSW_OK);
            const uint32_t *idx;
            assert_int_equal(osw_cluster_runc_pools(c, &idx), 1); /* rpool */
            osw_cluster_unref(c);
            break;
        }
        assert_int_equal(err, OSW_ENOMEM);
        assert_null(c);
    }
    osw_cluster_builder_free(b);
}

/* The parity paths (rule C and its mirror, warnings, implicit streams, the
 * OSImageStream rules) under the same failing allocator. */
static void test_parity_survives_every_allocation_failure(void **state)
{
    (void)state;
    osw_review_install_alloc_hooks();
    size_t osis_len;
    char *osis = read_all("osimagestream.json", &osis_len);
    json_t *j = json_loadb(osis, osis_len, 0, NULL);
    struct osw_osis *snap = NULL;
    assert_int_equal(osw_osis_parse(j, &snap, NULL), OSW_OK);
    json_decref(j);
    struct osw_cluster *c = parity_cluster();
    struct osw_policy policy = osw_policy_default();
    policy.annotate_implicit_streams = true;
    struct osw_inputs in = {snap, true, OSW_CLUSTER_SYNCED, c, &policy};
    static const char *const bodies[] = {
        /* pool UPDATE kept in conflict: W-CONFLICT, W-INHERIT */
        ENV "\"uid\":\"u\",\"operation\":\"UPDATE\",\"resource\":{\"group\":\"" G
            "\",\"resource\":\"machineconfigpools\"},\"object\":{\"metadata\":{\"name\":"
            "\"worker\"},\"spec\":{" SEL ",\"osImageStream\":{\"name\":\"rhel-10\"}}},"
            "\"oldObject\":{\"metadata\":{\"name\":\"worker\"},\"spec\":{" SEL "}}}}",
        /* MachineConfig newly in conflict: denied */
        ENV "\"uid\":\"u\",\"operation\":\"CREATE\",\"resource\":{\"group\":\"" G
            "\",\"resource\":\"machineconfigs\"},\"object\":{\"metadata\":{\"name\":"
            "\"99-zz\",\"labels\":{\"" G "/role\":\"worker\"}},\"spec\":{\"osImageURL\":"
            "\"q/x:2\"}}}}",
        /* rule R: a crun MachineConfig lifting rpool's kept violation */
        ENV "\"uid\":\"u\",\"operation\":\"CREATE\",\"resource\":{\"group\":\"" G
            "\",\"resource\":\"machineconfigs\"},\"object\":{\"metadata\":{\"name\":"
            "\"99-zz\",\"labels\":{\"" G "/role\":\"runc\"}},\"spec\":{\"config\":{"
            "\"storage\":{\"files\":[" CRUN_FILE "]}}}}}}",
        /* rule R: a new custom pool inheriting rhel-10 with runc: denied */
        ENV "\"uid\":\"u\",\"operation\":\"CREATE\",\"resource\":{\"group\":\"" G
            "\",\"resource\":\"machineconfigpools\"},\"object\":{\"metadata\":{\"name\":"
            "\"rpool2\"},\"spec\":{\"machineConfigSelector\":{\"matchExpressions\":[{"
            "\"key\":\"" G "/role\",\"operator\":\"In\",\"values\":[\"runc\"]}]}}}}}",
        /* OSImageStream default downgrade */
        ENV "\"uid\":\"u\",\"operation\":\"UPDATE\",\"resource\":{\"group\":\"" G
            "\",\"resource\":\"osimagestreams\"},\"object\":{\"spec\":{\"defaultStream\":"
            "\"rhel-9\"}},\"oldObject\":{\"spec\":{\"defaultStream\":\"rhel-10\"}}}}",
    };
    for (int reader = 0; reader < 2; reader++) {
        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
            exhaust_in(bodies[i], strlen(bodies[i]), &in, OSW_EP_VALIDATE, reader, 200);
        /* mutation with stream-source */
        exhaust_in(bodies[0], strlen(bodies[0]), &in, OSW_EP_MUTATE, reader, 200);
    }
    osw_cluster_unref(c);
    osw_osis_unref(snap);
    free(osis);
}

/* A worker MachineConfig `i` with one drop-in (runc for even i, crun for
 * odd), extracted with the allocator failing after `n` calls (-1: never).
 * Returns OSW_OK or OSW_ENOMEM. */
static enum osw_err dropin_mc(int i, long n, struct osw_mc **out)
{
    char name[32], path[64];
    snprintf(name, sizeof(name), "mc-%03d", i);
    snprintf(path, sizeof(path), "/etc/crio/crio.conf.d/%03d.conf", i);
    json_t *o = json_pack("{s:{s:s, s:{s:s}}, s:{s:{s:{s:[{s:s, s:{s:s}}]}}}}", "metadata", "name",
                          name, "labels", G "/role", "worker", "spec", "config", "storage", "files",
                          "path", path, "contents", "source",
                          i % 2 ? "data:,%5Bcrio.runtime%5D%0Adefault_runtime%3D%22crun%22"
                                : "data:,%5Bcrio.runtime%5D%0Adefault_runtime%3D%22runc%22");
    assert_non_null(o);
    failed = false;
    countdown = n;
    enum osw_err err = osw_mc_extract(o, out, NULL);
    countdown = -1;
    json_decref(o);
    return err;
}

/* Rule R's precomputation and recomputation: the drop-in extract, runc(P)
 * for a pool selecting 70 MachineConfigs with drop-ins (past every stack
 * array) at build time, and with a MachineConfig left out and put in. */
static void test_runc_survives_every_allocation_failure(void **state)
{
    (void)state;
    struct osw_mc *m = NULL;
    long n = 0;
    for (; dropin_mc(0, n, &m) == OSW_ENOMEM; n++)
        assert_null(m);
    assert_false(failed);
    assert_true(n > 0);
    assert_non_null(m->crio);
    osw_mc_unref(m);

    struct osw_cluster_builder *b = osw_cluster_builder_new();
    for (int i = 0; i < 70; i++) {
        assert_int_equal(dropin_mc(i, -1, &m), OSW_OK);
        assert_int_equal(osw_cluster_builder_add_mc(b, m), OSW_OK);
        osw_mc_unref(m);
    }
    json_t *j = json_loads("{\"metadata\":{\"name\":\"worker\"},\"spec\":{" SEL "}}", 0, NULL);
    struct osw_pool *p;
    assert_int_equal(osw_pool_extract(j, &p, NULL), OSW_OK);
    json_decref(j);
    assert_int_equal(osw_cluster_builder_add_pool(b, p), OSW_OK);
    osw_pool_unref(p);
    struct osw_cluster *c = NULL;
    for (n = 0;; n++) {
        failed = false;
        countdown = n;
        enum osw_err err = osw_cluster_build(b, &c);
        countdown = -1;
        if (!failed) {
            assert_int_equal(err, OSW_OK);
            break;
        }
        assert_int_equal(err, OSW_ENOMEM);
        assert_null(c);
    }
    osw_cluster_builder_free(b);
    struct osw_selection s = osw_cluster_pool_selection(c, 0);
    assert_int_equal(s.n, 70);
    assert_int_equal(s.runc, OSW_TRI_FALSE); /* 069.conf: crun */
    struct osw_mc *extra = NULL;
    assert_int_equal(dropin_mc(70, -1, &extra), OSW_OK); /* 070.conf: runc */
    for (n = 0;; n++) {
        enum osw_tri t = OSW_TRI_UNKNOWN;
        failed = false;
        countdown = n;
        enum osw_err err = osw_cluster_runc(c, &s, OSW_STR_LIT("mc-001"), extra, &t);
        countdown = -1;
        if (!failed) {
            assert_int_equal(err, OSW_OK);
            assert_int_equal(t, OSW_TRI_TRUE);
            break;
        }
        assert_int_equal(err, OSW_ENOMEM);
        assert_int_equal(t, OSW_TRI_UNKNOWN); /* untouched */
    }
    assert_true(n > 0);
    osw_mc_unref(extra);
    osw_cluster_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admit_survives_every_allocation_failure),
        cmocka_unit_test(test_parity_survives_every_allocation_failure),
        cmocka_unit_test(test_cluster_build_survives_every_allocation_failure),
        cmocka_unit_test(test_pool_extract_survives_every_allocation_failure),
        cmocka_unit_test(test_runc_survives_every_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

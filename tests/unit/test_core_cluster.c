/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster-state snapshot: extracts of MachineConfigs and pools (types
 * checked, malformed streams name none), merge order (role worker first, then
 * by name), a later object replacing an earlier one of the same name,
 * precomputed selections, reuse of a cached pool's selection only when the
 * selector is equal, and the effURL winner with a MachineConfig left out or
 * put in, as the MachineConfig mirror of rule C needs; runc(P) precomputed
 * per pool and recomputed with a MachineConfig left out or put in (rule R).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "osw/cluster.h"

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("bad test JSON %s: %s", s, e.text);
    return j;
}

static struct osw_mc *mc(const char *name, const char *role, const char *url, bool generated)
{
    json_t *o = json_pack("{s:{s:s, s:{}, s:{}}, s:{}}", "metadata", "name", name, "labels",
                          "annotations", "spec");
    if (role)
        json_object_set_new(json_object_get(json_object_get(o, "metadata"), "labels"),
                            "machineconfiguration.openshift.io/role", json_string(role));
    if (generated)
        json_object_set_new(json_object_get(json_object_get(o, "metadata"), "annotations"),
                            OSW_MC_GENERATED_ANNO, json_string("4.19.0"));
    if (url)
        json_object_set_new(json_object_get(o, "spec"), "osImageURL", json_string(url));
    struct osw_mc *m = NULL;
    struct osw_errbuf eb;
    assert_int_equal(osw_mc_extract(o, &m, &eb), OSW_OK);
    json_decref(o);
    return m;
}

static struct osw_pool *pool(const char *json)
{
    json_t *o = parse(json);
    struct osw_pool *p = NULL;
    struct osw_errbuf eb;
    assert_int_equal(osw_pool_extract(o, &p, &eb), OSW_OK);
    json_decref(o);
    return p;
}

#define SEL_ROLE(r)                                                                                \
    "\"machineConfigSelector\":{\"matchExpressions\":[{\"key\":"                                   \
    "\"machineconfiguration.openshift.io/role\",\"operator\":\"In\",\"values\":[" r "]}]}"

static void add_mc(struct osw_cluster_builder *b, struct osw_mc *m)
{
    assert_int_equal(osw_cluster_builder_add_mc(b, m), OSW_OK);
    osw_mc_unref(m);
}

static void add_pool(struct osw_cluster_builder *b, struct osw_pool *p)
{
    assert_int_equal(osw_cluster_builder_add_pool(b, p), OSW_OK);
    osw_pool_unref(p);
}

static struct osw_cluster *fixture(void)
{
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    assert_non_null(b);
    add_mc(b, mc("99-infra-url", "infra", "quay.io/x:infra", false));
    add_mc(b, mc("50-worker-url", "worker", "quay.io/x:old", false));
    add_mc(b, mc("00-worker", "worker", NULL, true));
    add_mc(b, mc("60-worker-gen", "worker", "quay.io/x:gen", true));
    add_mc(b, mc("50-worker-url", "worker", "quay.io/x:w", false)); /* replaces */
    add_mc(b, mc("01-master", "master", NULL, false));
    add_pool(b, pool("{\"metadata\":{\"name\":\"worker\"},\"spec\":{" SEL_ROLE(
                    "\"worker\"") ","
                                  "\"osImageStream\":{\"name\":\"rhel-10\"}}}"));
    add_pool(b, pool("{\"metadata\":{\"name\":\"infra\"},\"spec\":{" SEL_ROLE(
                    "\"worker\",\"infra\"") ",\"osImageStream\":{},\"paused\":true}}"));
    add_pool(b, pool("{\"metadata\":{\"name\":\"master\"},\"spec\":{\"machineConfigSelector\":{},"
                     "\"osImageStream\":{\"name\":\"RHEL\"}}}"));
    struct osw_cluster *c = NULL;
    assert_int_equal(osw_cluster_build(b, &c), OSW_OK);
    osw_cluster_builder_free(b); /* the snapshot keeps its own references */
    return c;
}

static void test_merge_order_and_replace(void **state)
{
    (void)state;
    struct osw_cluster *c = fixture();
    const char *want[] = {"00-worker", "50-worker-url", "60-worker-gen", "01-master",
                          "99-infra-url"};
    assert_int_equal(osw_cluster_mc_count(c), 5);
    for (size_t i = 0; i < 5; i++)
        assert_true(osw_str_eq_cstr(osw_cluster_mc_at(c, i)->name, want[i]));
    const struct osw_mc *m = osw_cluster_mc_find(c, OSW_STR_LIT("50-worker-url"));
    assert_non_null(m);
    assert_true(osw_str_eq_cstr(m->url, "quay.io/x:w"));
    assert_null(osw_cluster_mc_find(c, OSW_STR_LIT("nope")));
    osw_cluster_unref(c);
}

static void test_pools(void **state)
{
    (void)state;
    struct osw_cluster *c = fixture();
    assert_int_equal(osw_cluster_pool_count(c), 3);
    assert_true(osw_str_eq_cstr(osw_cluster_pool_at(c, 0)->name, "infra"));
    const struct osw_pool *infra = osw_cluster_pool_find(c, OSW_STR_LIT("infra"));
    const struct osw_pool *master = osw_cluster_pool_find(c, OSW_STR_LIT("master"));
    const struct osw_pool *worker = osw_cluster_pool_find(c, OSW_STR_LIT("worker"));
    assert_int_equal(infra->stream.len, 0); /* {} names none */
    assert_true(infra->paused);
    assert_int_equal(master->stream.len, 0); /* malformed name names none */
    assert_true(osw_str_eq_cstr(worker->stream, "rhel-10"));
    assert_true(osw_pool_name_is_custom(infra->name));
    assert_false(osw_pool_name_is_custom(master->name));

    struct osw_selection s = osw_cluster_pool_selection(c, 0); /* infra: worker + infra */
    assert_int_equal(s.n, 4);
    const struct osw_mc *win = osw_cluster_url_winner(c, &s, OSW_STR_NULL, NULL);
    assert_true(osw_str_eq_cstr(win->name, "99-infra-url"));
    /* Leaving out the winner exposes the next; generated ones never win. */
    win = osw_cluster_url_winner(c, &s, OSW_STR_LIT("99-infra-url"), NULL);
    assert_true(osw_str_eq_cstr(win->name, "50-worker-url"));
    s = osw_cluster_pool_selection(c, 1); /* master: {} selects nothing */
    assert_int_equal(s.n, 0);
    assert_null(osw_cluster_url_winner(c, &s, OSW_STR_NULL, NULL));
    s = osw_cluster_pool_selection(c, 2); /* worker */
    assert_int_equal(s.n, 3);
    struct osw_mc *extra = mc("55-worker-new", "worker", "quay.io/x:new", false);
    win = osw_cluster_url_winner(c, &s, OSW_STR_NULL, extra);
    assert_ptr_equal(win, extra);
    struct osw_mc *early = mc("10-worker-new", "worker", "quay.io/x:new", false);
    win = osw_cluster_url_winner(c, &s, OSW_STR_NULL, early);
    assert_true(osw_str_eq_cstr(win->name, "50-worker-url"));
    osw_mc_unref(extra);
    osw_mc_unref(early);
    osw_cluster_unref(c);
}

static void test_select_reuse(void **state)
{
    (void)state;
    struct osw_cluster *c = fixture();
    struct osw_pool *same =
        pool("{\"metadata\":{\"name\":\"worker\"},\"spec\":{" SEL_ROLE("\"worker\"") "}}");
    struct osw_selection s;
    assert_int_equal(osw_cluster_select(c, same->name, same->selector, &s), OSW_OK);
    assert_null(s.owned); /* borrowed: the cached worker's */
    assert_int_equal(s.n, 3);
    osw_selection_free(&s);
    struct osw_pool *other =
        pool("{\"metadata\":{\"name\":\"worker\"},\"spec\":{" SEL_ROLE("\"master\"") "}}");
    assert_int_equal(osw_cluster_select(c, other->name, other->selector, &s), OSW_OK);
    assert_non_null(s.owned);
    assert_int_equal(s.n, 1);
    assert_true(osw_str_eq_cstr(osw_cluster_mc_at(c, s.idx[0])->name, "01-master"));
    osw_selection_free(&s);
    assert_int_equal(osw_cluster_select(c, OSW_STR_LIT("new"), NULL, &s), OSW_OK);
    assert_int_equal(s.n, 0);
    osw_selection_free(&s);
    osw_pool_unref(same);
    osw_pool_unref(other);
    osw_cluster_unref(c);
}

static void test_extract_types(void **state)
{
    (void)state;
    const char *bad[] = {
        "{\"metadata\":[]}",
        "{\"metadata\":{\"name\":1}}",
        "{\"metadata\":{\"labels\":{\"a\":1}}}",
        "{\"metadata\":{\"annotations\":[]}}",
        "{\"spec\":\"x\"}",
        "{\"spec\":{\"osImageURL\":7}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = parse(bad[i]);
        struct osw_mc *m = NULL;
        struct osw_errbuf eb;
        assert_int_equal(osw_mc_extract(o, &m, &eb), OSW_EBADOBJ);
        assert_null(m);
        json_decref(o);
    }
    json_t *o = parse("{\"metadata\":{\"name\":\"x\",\"annotations\":{\"" OSW_MC_GENERATED_ANNO
                      "\":\"\"}},\"spec\":{\"osImageURL\":null}}");
    struct osw_mc *m = NULL;
    struct osw_errbuf eb;
    assert_int_equal(osw_mc_extract(o, &m, &eb), OSW_OK);
    assert_false(m->generated); /* empty annotation: not generated */
    assert_int_equal(m->url.len, 0);
    osw_mc_unref(m);
    json_decref(o);
    o = parse("{\"metadata\":{\"name\":3}}");
    struct osw_pool *p = NULL;
    assert_int_equal(osw_pool_extract(o, &p, &eb), OSW_EBADOBJ);
    json_decref(o);
}

/* A MachineConfig with role `role` and one drop-in at `path` setting
 * `runtime` (NULL: an https:// source, undecodable). */
static struct osw_mc *dropin_mc(const char *name, const char *role, const char *path,
                                const char *runtime)
{
    char src[256];
    if (runtime)
        snprintf(src, sizeof(src), "data:,%%5Bcrio.runtime%%5D%%0Adefault_runtime%%3D%%22%s%%22",
                 runtime);
    else
        snprintf(src, sizeof(src), "https://example.com/x.conf");
    json_t *o = json_pack("{s:{s:s, s:{s:s}}, s:{s:{s:{s:[{s:s, s:{s:s}}]}}}}", "metadata", "name",
                          name, "labels", "machineconfiguration.openshift.io/role", role, "spec",
                          "config", "storage", "files", "path", path, "contents", "source", src);
    assert_non_null(o);
    struct osw_mc *m = NULL;
    struct osw_errbuf eb;
    assert_int_equal(osw_mc_extract(o, &m, &eb), OSW_OK);
    json_decref(o);
    return m;
}

#define D "/etc/crio/crio.conf.d/"

static void test_runc(void **state)
{
    (void)state;
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    add_mc(b, dropin_mc("00-worker-crun", "worker", D "00-default", "crun"));
    add_mc(b, dropin_mc("99-worker-runc", "worker", D "99-runc.conf", "runc"));
    add_mc(b, dropin_mc("10-infra-crun", "infra", D "00-default", "crun"));
    /* 70 MachineConfigs without drop-ins: a selection past the stack array. */
    for (int i = 0; i < 70; i++) {
        char name[32];
        snprintf(name, sizeof(name), "50-filler-%02d", i);
        struct osw_mc *m = mc(name, "infra", NULL, false);
        assert_null(m->crio); /* no drop-in: nothing kept */
        add_mc(b, m);
    }
    add_pool(b, pool("{\"metadata\":{\"name\":\"worker\"},\"spec\":{" SEL_ROLE("\"worker\"") "}}"));
    add_pool(b, pool("{\"metadata\":{\"name\":\"infra\"},\"spec\":{" SEL_ROLE(
                    "\"worker\",\"infra\"") "}}"));
    struct osw_cluster *c = NULL;
    assert_int_equal(osw_cluster_build(b, &c), OSW_OK);
    osw_cluster_builder_free(b);

    /* infra: worker's first (runc at 99-runc.conf wins path order). */
    struct osw_selection s = osw_cluster_pool_selection(c, 0);
    assert_true(s.cached);
    assert_int_equal(s.n, 73);
    assert_int_equal(s.runc, OSW_TRI_TRUE);
    enum osw_tri t = OSW_TRI_UNKNOWN;
    assert_int_equal(osw_cluster_runc(c, &s, OSW_STR_NULL, NULL, &t), OSW_OK);
    assert_int_equal(t, OSW_TRI_TRUE);
    /* Left out, the runc MachineConfig no longer counts. */
    assert_int_equal(osw_cluster_runc(c, &s, OSW_STR_LIT("99-worker-runc"), NULL, &t), OSW_OK);
    assert_int_equal(t, OSW_TRI_FALSE);
    /* Put in, a crun drop-in later in path order wins; an undecodable one
     * makes the answer unknown; one at the same path earlier in merge order
     * loses to the cached runc. */
    struct osw_mc *zz = dropin_mc("99-worker-zz", "worker", D "99-zz.conf", "crun");
    struct osw_mc *bad = dropin_mc("98-infra-bad", "infra", D "01-x.conf", NULL);
    struct osw_mc *early = dropin_mc("01-worker-early", "worker", D "99-runc.conf", "crun");
    assert_int_equal(osw_cluster_runc(c, &s, OSW_STR_NULL, zz, &t), OSW_OK);
    assert_int_equal(t, OSW_TRI_FALSE);
    assert_int_equal(osw_cluster_runc(c, &s, OSW_STR_NULL, bad, &t), OSW_OK);
    assert_int_equal(t, OSW_TRI_UNKNOWN);
    assert_int_equal(osw_cluster_runc(c, &s, OSW_STR_NULL, early, &t), OSW_OK);
    assert_int_equal(t, OSW_TRI_TRUE);
    /* Replacing the runc MachineConfig by a crun one of the same name. */
    struct osw_mc *same = dropin_mc("99-worker-runc", "worker", D "99-runc.conf", "crun");
    assert_int_equal(osw_cluster_runc(c, &s, same->name, same, &t), OSW_OK);
    assert_int_equal(t, OSW_TRI_FALSE);

    /* A selector equal to the cached worker's borrows its precomputed runc. */
    struct osw_pool *w =
        pool("{\"metadata\":{\"name\":\"worker\"},\"spec\":{" SEL_ROLE("\"worker\"") "}}");
    assert_int_equal(osw_cluster_select(c, w->name, w->selector, &s), OSW_OK);
    assert_true(s.cached);
    assert_int_equal(s.runc, OSW_TRI_TRUE);
    osw_selection_free(&s);
    /* Another selector (role infra only) computes afresh: crun. */
    struct osw_pool *i =
        pool("{\"metadata\":{\"name\":\"worker\"},\"spec\":{" SEL_ROLE("\"infra\"") "}}");
    assert_int_equal(osw_cluster_select(c, i->name, i->selector, &s), OSW_OK);
    assert_false(s.cached);
    assert_int_equal(osw_cluster_runc(c, &s, OSW_STR_NULL, NULL, &t), OSW_OK);
    assert_int_equal(t, OSW_TRI_FALSE);
    osw_selection_free(&s);
    osw_pool_unref(w);
    osw_pool_unref(i);
    osw_mc_unref(zz);
    osw_mc_unref(bad);
    osw_mc_unref(early);
    osw_mc_unref(same);
    osw_cluster_unref(c);
}

/* The pools a stream change alone can make violate rule R: runc(P) true or
 * unknown, in pool order; false ones and an empty cluster give none. */
static void test_runc_pools(void **state)
{
    (void)state;
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    add_mc(b, dropin_mc("10-infra-crun", "infra", D "00-default", "crun"));
    add_mc(b, dropin_mc("20-gpu-runc", "gpu", D "00-default", "runc"));
    add_mc(b, dropin_mc("30-edge-bad", "edge", D "00-default", NULL));
    add_pool(b, pool("{\"metadata\":{\"name\":\"infra\"},\"spec\":{" SEL_ROLE("\"infra\"") "}}"));
    add_pool(b, pool("{\"metadata\":{\"name\":\"gpu\"},\"spec\":{" SEL_ROLE("\"gpu\"") "}}"));
    add_pool(b, pool("{\"metadata\":{\"name\":\"edge\"},\"spec\":{" SEL_ROLE("\"edge\"") "}}"));
    add_pool(b, pool("{\"metadata\":{\"name\":\"worker\"}}")); /* selects nothing */
    struct osw_cluster *c = NULL;
    assert_int_equal(osw_cluster_build(b, &c), OSW_OK);
    osw_cluster_builder_free(b);
    const uint32_t *idx = NULL;
    assert_int_equal(osw_cluster_runc_pools(c, &idx), 2);
    /* Pools by name: edge (unknown), gpu (runc), infra (crun), worker. */
    assert_true(osw_str_eq_cstr(osw_cluster_pool_at(c, idx[0])->name, "edge"));
    assert_int_equal(osw_cluster_pool_selection(c, idx[0]).runc, OSW_TRI_UNKNOWN);
    assert_true(osw_str_eq_cstr(osw_cluster_pool_at(c, idx[1])->name, "gpu"));
    assert_int_equal(osw_cluster_pool_selection(c, idx[1]).runc, OSW_TRI_TRUE);
    osw_cluster_unref(c);

    b = osw_cluster_builder_new();
    add_mc(b, dropin_mc("10-infra-crun", "infra", D "00-default", "crun"));
    add_pool(b, pool("{\"metadata\":{\"name\":\"infra\"},\"spec\":{" SEL_ROLE("\"infra\"") "}}"));
    assert_int_equal(osw_cluster_build(b, &c), OSW_OK);
    osw_cluster_builder_free(b);
    idx = (const uint32_t *)&idx; /* must be reset */
    assert_int_equal(osw_cluster_runc_pools(c, &idx), 0);
    assert_null(idx);
    osw_cluster_unref(c);
    assert_int_equal(osw_cluster_runc_pools(NULL, &idx), 0);
}

/* A request's selector with the cached pool's text (whitespace outside
 * strings aside) borrows the cached selection without parsing; any other
 * text, a pool not cached, or no selector object falls back to parsing. */
static void test_select_same_text(void **state)
{
    (void)state;
#define ROLE_W    "\"machineconfiguration.openshift.io/role\":\"worker\""
#define NOT_AB(k) "\"matchExpressions\":[{\"key\":\"" k "\",\"operator\":\"DoesNotExist\"}]"
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    add_mc(b, mc("00-worker", "worker", NULL, false));
    add_pool(b, pool("{\"metadata\":{\"name\":\"worker\"},\"spec\":{\"machineConfigSelector\":{"
                     "\"matchLabels\":{" ROLE_W "}, " NOT_AB("a\\\"b") "}}}"));
    add_pool(b, pool("{\"metadata\":{\"name\":\"infra\"},\"spec\":{"
                     "\"machineConfigSelector\":[]}}"));
    struct osw_cluster *c = NULL;
    assert_int_equal(osw_cluster_build(b, &c), OSW_OK);
    osw_cluster_builder_free(b);
    const struct osw_pool *w = osw_cluster_pool_find(c, OSW_STR_LIT("worker"));
    /* The kept text is jansson's compact dump, as the jansson reader's. */
    static const char canon[] = "{\"matchLabels\":{" ROLE_W "}," NOT_AB("a\\\"b") "}";
    assert_true(osw_str_eq_cstr(w->selector_text, canon));
    assert_int_equal(osw_cluster_pool_find(c, OSW_STR_LIT("infra"))->selector_text.len, 0);

    struct osw_selection s;
    assert_true(
        osw_cluster_select_same_text(c, OSW_STR_LIT("worker"), osw_str_from_cstr(canon), &s));
    assert_true(s.cached);
    assert_int_equal(s.n, 1); /* 00-worker */
    /* Pretty-printed, as the fast reader hands over the body's own bytes. */
    assert_true(osw_cluster_select_same_text(
        c, OSW_STR_LIT("worker"),
        OSW_STR_LIT(" {\n  \"matchLabels\" : {\r\n\t\"machineconfiguration.openshift.io/role\": "
                    "\"worker\" },\n  \"matchExpressions\": [ { \"key\": \"a\\\"b\", "
                    "\"operator\": \"DoesNotExist\" } ]\n}\n"),
        &s));
    assert_true(s.cached);
    assert_int_equal(s.n, 1);
    static const char *const misses[] = {
        /* whitespace inside a string counts, after an escaped quote too */
        "{\"matchLabels\":{" ROLE_W "}," NOT_AB("a\\\" b") "}",
        "{\"matchLabels\":{" ROLE_W "}," NOT_AB("a\\\"b ") "}",
        /* another value, another order, a prefix, more */
        "{\"matchLabels\":{" ROLE_W "}," NOT_AB("a\\\"c") "}",
        "{" NOT_AB("a\\\"b") ",\"matchLabels\":{" ROLE_W "}}",
        "{\"matchLabels\":{" ROLE_W "}",
        "{\"matchLabels\":{" ROLE_W "}," NOT_AB("a\\\"b") "},",
        "",
    };
    for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
        s.cached = true;
        assert_false(osw_cluster_select_same_text(c, OSW_STR_LIT("worker"),
                                                  osw_str_from_cstr(misses[i]), &s));
        assert_false(s.cached); /* zeroed */
    }
#undef ROLE_W
#undef NOT_AB
    /* Not cached, or cached without a selector object. */
    assert_false(osw_cluster_select_same_text(c, OSW_STR_LIT("gpu"), osw_str_from_cstr(canon), &s));
    assert_false(osw_cluster_select_same_text(c, OSW_STR_LIT("infra"), OSW_STR_LIT("[]"), &s));
    assert_false(
        osw_cluster_select_same_text(NULL, OSW_STR_LIT("worker"), osw_str_from_cstr(canon), &s));
    osw_cluster_unref(c);

    /* A pool made from parts keeps no text. */
    struct osw_pool *p = NULL;
    assert_int_equal(osw_pool_make(OSW_STR_LIT("x"), OSW_STR_NULL, false, NULL, &p), OSW_OK);
    assert_int_equal(p->selector_text.len, 0);
    osw_pool_unref(p);
}

static void test_empty(void **state)
{
    (void)state;
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    struct osw_cluster *c = NULL;
    assert_int_equal(osw_cluster_build(b, &c), OSW_OK);
    assert_int_equal(osw_cluster_pool_count(c), 0);
    assert_int_equal(osw_cluster_mc_count(c), 0);
    assert_null(osw_cluster_pool_find(c, OSW_STR_LIT("worker")));
    assert_ptr_equal(osw_cluster_ref(c), c);
    osw_cluster_unref(c);
    osw_cluster_unref(c);
    osw_cluster_builder_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_order_and_replace),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_select_reuse),
        cmocka_unit_test(test_extract_types),
        cmocka_unit_test(test_runc),
        cmocka_unit_test(test_runc_pools),
        cmocka_unit_test(test_select_same_text),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

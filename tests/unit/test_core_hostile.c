/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile inputs through the whole decision (osw_admit), with both readers:
 * every wrong JSON type at every field the decision reads, duplicate keys at
 * those fields (the last one wins, as jansson has it), invalid UTF-8, deep
 * nesting at and past the limit, and a huge document. Each case states the
 * answer: a 400, or a 200 with a given verdict and, for denials, the code
 * and the cause field.
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
#include "../support/admit_util.h"

static struct osw_osis *snap;

static int setup(void **state)
{
    (void)state;
    json_t *j = json_load_file(OSW_TEST_DATA "/osimagestream.json", 0, NULL);
    assert_non_null(j);
    assert_int_equal(osw_osis_parse(j, &snap, NULL), OSW_OK);
    json_decref(j);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    osw_osis_unref(snap);
    return 0;
}

/* A valid CREATE of pool "worker" asking for rhel-10 (allowed). */
static json_t *base_review(void)
{
    return json_pack(
        "{s:s,s:s,s:{s:s,s:{s:s,s:s,s:s},s:{s:s,s:s,s:s},s:s,s:s,s:{s:{s:s,s:{s:s}},s:{s:{s:s}}}}}",
        "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview", "request", "uid", "u1",
        "kind", "group", "machineconfiguration.openshift.io", "version", "v1", "kind",
        "MachineConfigPool", "resource", "group", "machineconfiguration.openshift.io", "version",
        "v1", "resource", "machineconfigpools", "name", "worker", "operation", "CREATE", "object",
        "metadata", "name", "worker", "annotations", "a", "b", "spec", "osImageStream", "name",
        "rhel-10");
}

/* Sets the member at dotted `path` (parents must exist) to `v` (stolen). */
static void set_path(json_t *root, const char *path, json_t *v)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = root;
    char *tok = buf, *dot;
    while ((dot = strchr(tok, '.')) != NULL) {
        *dot = '\0';
        cur = json_object_get(cur, tok);
        assert_non_null(cur);
        tok = dot + 1;
    }
    json_object_set_new(cur, tok, v);
}

struct want {
    int status;        /* 200 or 400 */
    int allowed;       /* for 200 */
    int code;          /* for denials */
    const char *field; /* cause field for 422 */
};

static void expect_body(const char *body, size_t len, struct want w, const char *what)
{
    for (int rd = 0; rd < 2; rd++) {
        struct osw_admit a;
        osw_admit_init(&a);
        assert_int_equal(test_admit(body, len, snap, OSW_EP_VALIDATE, rd, &a), OSW_OK);
        if (a.http_status != w.status)
            fail_msg("%s (reader %d): status %d, want %d: %.*s", what, rd, a.http_status, w.status,
                     (int)a.body.len, a.body.data);
        if (w.status == 200) {
            json_t *r = json_loadb(a.body.data, a.body.len, JSON_ALLOW_NUL, NULL);
            json_t *resp = json_object_get(r, "response");
            if (json_is_true(json_object_get(resp, "allowed")) != (w.allowed != 0))
                fail_msg("%s (reader %d): allowed differs: %.*s", what, rd, (int)a.body.len,
                         a.body.data);
            if (!w.allowed) {
                json_t *st = json_object_get(resp, "status");
                assert_int_equal(json_integer_value(json_object_get(st, "code")), w.code);
                json_t *cause =
                    json_array_get(json_object_get(json_object_get(st, "details"), "causes"), 0);
                if (w.field)
                    assert_string_equal(json_string_value(json_object_get(cause, "field")),
                                        w.field);
            }
            json_decref(r);
        }
        osw_admit_reset(&a, false);
    }
}

static void expect_review(json_t *review, struct want w, const char *what)
{
    size_t n = json_dumpb(review, NULL, 0, JSON_COMPACT);
    char *b = malloc(n);
    assert_int_equal(json_dumpb(review, b, n, JSON_COMPACT), n);
    expect_body(b, n, w, what);
    free(b);
    json_decref(review);
}

enum { T_NULL, T_NUM, T_BOOL, T_STR, T_ARR, T_OBJ, T_COUNT };

static json_t *value_of(int t)
{
    switch (t) {
    case T_NULL:
        return json_null();
    case T_NUM:
        return json_integer(7);
    case T_BOOL:
        return json_true();
    case T_STR:
        return json_string("x");
    case T_ARR:
        return json_pack("[s]", "rhel-10");
    default:
        return json_pack("{s:s}", "k", "v");
    }
}

#define W400                                                                                       \
    {                                                                                              \
        400, 0, 0, NULL                                                                            \
    }
#define WALLOW                                                                                     \
    {                                                                                              \
        200, 1, 0, NULL                                                                            \
    }
#define W422(f)                                                                                    \
    {                                                                                              \
        200, 0, 422, f                                                                             \
    }
#define STREAM     "spec.osImageStream"
#define STREAMNAME "spec.osImageStream.name"

/* For each field the decision reads: the answer for each JSON type. The
 * field's own valid type is the baseline (allowed, or as noted). */
static void test_wrong_type_at_every_field(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        struct want by_type[T_COUNT]; /* null, number, bool, string, array, object */
    } t[] = {
        {"request.operation", {WALLOW, W400, W400, WALLOW, W400, W400}},
        {"request.subResource", {WALLOW, W400, W400, WALLOW, W400, W400}},
        {"request.resource", {WALLOW, W400, W400, W400, W400, WALLOW}},
        {"request.resource.group", {WALLOW, W400, W400, WALLOW, W400, W400}},
        {"request.resource.resource", {WALLOW, W400, W400, WALLOW, W400, W400}},
        {"request.object", {W400, W400, W400, W400, W400, WALLOW}},
        {"request.object.metadata", {WALLOW, W400, W400, W400, W400, WALLOW}},
        {"request.object.metadata.name", {WALLOW, W400, W400, WALLOW, W400, W400}},
        {"request.object.metadata.annotations", {WALLOW, W400, W400, W400, W400, WALLOW}},
        {"request.object.spec", {WALLOW, W400, W400, W400, W400, WALLOW}},
        {"request.object.spec.osImageStream",
         {WALLOW, W422(STREAM), W422(STREAM), W422(STREAM), W422(STREAM), W422(STREAMNAME)}},
        {"request.object.spec.osImageStream.name",
         {W422(STREAMNAME), W422(STREAMNAME), W422(STREAMNAME), W422(STREAMNAME), W422(STREAMNAME),
          W422(STREAMNAME)}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        for (int ty = 0; ty < T_COUNT; ty++) {
            json_t *r = base_review();
            set_path(r, t[i].path, value_of(ty));
            char what[128];
            snprintf(what, sizeof what, "%s as type %d", t[i].path, ty);
            expect_review(r, t[i].by_type[ty], what);
        }
    }
}

static void test_duplicate_keys_last_wins(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        struct want w;
    } t[] = {
        /* the later osImageStream wins: unknown stream then known */
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
         "\"uid\":\"u\",\"operation\":\"CREATE\",\"resource\":{\"group\":"
         "\"machineconfiguration.openshift.io\",\"resource\":\"machineconfigpools\"},"
         "\"object\":{\"spec\":{\"osImageStream\":{\"name\":\"rhel-8\"},"
         "\"osImageStream\":{\"name\":\"rhel-9\"}}}}}",
         WALLOW},
        /* ... and the other way round */
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
         "\"uid\":\"u\",\"operation\":\"CREATE\",\"resource\":{\"group\":"
         "\"machineconfiguration.openshift.io\",\"resource\":\"machineconfigpools\"},"
         "\"object\":{\"spec\":{\"osImageStream\":{\"name\":\"rhel-9\",\"name\":\"rhel-8\"}}}}}",
         W422(STREAMNAME)},
        /* a whole later "object" replaces the earlier one's fields */
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
         "\"uid\":\"u\",\"operation\":\"CREATE\",\"resource\":{\"group\":"
         "\"machineconfiguration.openshift.io\",\"resource\":\"machineconfigpools\"},"
         "\"object\":{\"spec\":{\"osImageStream\":{\"name\":\"rhel-8\"}}},\"object\":{}}}",
         WALLOW},
        /* a later non-object metadata hides the earlier bad annotations */
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
         "\"uid\":\"u\",\"operation\":\"CREATE\",\"resource\":{\"group\":"
         "\"machineconfiguration.openshift.io\",\"resource\":\"machineconfigpools\"},"
         "\"object\":{\"metadata\":{\"annotations\":{\"a\":1}},\"metadata\":null}}}",
         WALLOW},
        /* annotations {"a":1,"a":"x"} is a string map after resolution */
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
         "\"uid\":\"u\",\"operation\":\"CREATE\",\"resource\":{\"group\":"
         "\"machineconfiguration.openshift.io\",\"resource\":\"machineconfigpools\"},"
         "\"object\":{\"metadata\":{\"annotations\":{\"a\":1,\"a\":\"x\"}}}}}",
         WALLOW},
        /* a later empty uid wins: 400 */
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
         "\"uid\":\"u\",\"uid\":\"\"}}",
         W400},
        /* a later apiVersion wins */
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"apiVersion\":\"v2\",\"kind\":"
         "\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}",
         W400},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "duplicate case %zu", i);
        expect_body(t[i].body, strlen(t[i].body), t[i].w, what);
    }
}

static void test_invalid_utf8_and_nul(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        size_t len;
        struct want w;
    } t[] = {
#define REV(s)                                                                                     \
    "{\"apiVersion\":\"admission.k8s.io/"                                                          \
    "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"" s "\"}}"
        {REV("\xc3\x28"), sizeof(REV("\xc3\x28")) - 1, W400},                 /* bad continuation */
        {REV("\xc0\xaf"), sizeof(REV("\xc0\xaf")) - 1, W400},                 /* overlong '/' */
        {REV("\xed\xa0\x80"), sizeof(REV("\xed\xa0\x80")) - 1, W400},         /* UTF-8 surrogate */
        {REV("\xf4\x90\x80\x80"), sizeof(REV("\xf4\x90\x80\x80")) - 1, W400}, /* > U+10FFFF */
        {REV("\\ud800"), sizeof(REV("\\ud800")) - 1, W400}, /* lone surrogate escape */
        {REV("\\ud83d\\ude00"), sizeof(REV("\\ud83d\\ude00")) - 1, WALLOW}, /* a pair */
        {REV("a\\u0000b"), sizeof(REV("a\\u0000b")) - 1, WALLOW}, /* escaped NUL is fine */
        {REV("a\0b"), sizeof(REV("a\0b")) - 1, W400},             /* a raw NUL is not */
        {"\xef\xbb\xbf" REV("u"), sizeof("\xef\xbb\xbf" REV("u")) - 1, W400}, /* BOM */
        {REV("u") " x", sizeof(REV("u") " x") - 1, W400},                     /* trailing garbage */
        {REV("u") " \n", sizeof(REV("u") " \n") - 1, WALLOW},                 /* trailing space */
#undef REV
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "utf8 case %zu", i);
        expect_body(t[i].body, t[i].len, t[i].w, what);
    }
}

/* An AdmissionReview whose request.object.spec.x holds `depth` nested arrays. */
static char *deep_body(size_t depth, size_t *len)
{
    const char *head = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                       "\"request\":{\"uid\":\"u\",\"object\":{\"spec\":{\"x\":";
    size_t hl = strlen(head);
    char *b = malloc(hl + 2 * depth + 8);
    memcpy(b, head, hl);
    memset(b + hl, '[', depth);
    memset(b + hl + depth, ']', depth);
    memcpy(b + hl + 2 * depth, "}}}}", 5);
    *len = hl + 2 * depth + 4;
    return b;
}

static void test_depth_limit(void **state)
{
    (void)state;
    /* The document nests 4 objects before spec.x: jansson's limit is 2048
     * levels in all, so 2044 arrays are accepted and 2045 refused. */
    size_t len;
    char *ok = deep_body(2044, &len);
    expect_body(ok, len, (struct want)WALLOW, "depth 2048");
    free(ok);
    char *bad = deep_body(2045, &len);
    expect_body(bad, len, (struct want)W400, "depth 2049");
    free(bad);
    char *huge = deep_body(200000, &len);
    expect_body(huge, len, (struct want)W400, "depth 200004");
    free(huge);
}

static void test_huge_document(void **state)
{
    (void)state;
    /* 3.5 MB of annotations around the fields that matter: still decided,
     * and the stream is still found. */
    json_t *r = base_review();
    json_t *ann = json_object();
    char key[32], val[400];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < 9000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        json_object_set_new(ann, key, json_string(val));
    }
    set_path(r, "request.object.metadata.annotations", ann);
    set_path(r, "request.object.spec.osImageStream.name", json_string("rhel-8"));
    expect_review(r, (struct want)W422(STREAMNAME), "huge");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_type_at_every_field),
        cmocka_unit_test(test_duplicate_keys_last_wins),
        cmocka_unit_test(test_invalid_utf8_and_nul),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_huge_document),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The label-selector matcher against Kubernetes' rules, as a table: each row
 * is a selector, a label map and whether it selects it. Invalid selectors,
 * null and {} select nothing; equality of parsed selectors ignores the order
 * of requirements and values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "osw/selector.h"

struct row {
    const char *selector; /* JSON */
    const char *labels;   /* JSON object */
    bool selects;
};

#define W       "{\"machineconfiguration.openshift.io/role\":\"worker\"}"
#define ROLE(v) "{\"matchLabels\":{\"machineconfiguration.openshift.io/role\":\"" v "\"}}"
#define EXPR(k, op, vals)                                                                          \
    "{\"matchExpressions\":[{\"key\":\"" k "\",\"operator\":\"" op "\"" vals "}]}"

static const struct row rows[] = {
    /* matchLabels */
    {ROLE("worker"), W, true},
    {ROLE("worker"), "{\"machineconfiguration.openshift.io/role\":\"infra\"}", false},
    {ROLE("worker"), "{}", false},
    {"{\"matchLabels\":{\"a\":\"1\",\"b\":\"2\"}}", "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}", true},
    {"{\"matchLabels\":{\"a\":\"1\",\"b\":\"2\"}}", "{\"a\":\"1\"}", false},
    {"{\"matchLabels\":{\"a\":\"\"}}", "{\"a\":\"\"}", true},
    /* In / NotIn / Exists / DoesNotExist */
    {EXPR("a", "In", ",\"values\":[\"x\",\"y\"]"), "{\"a\":\"y\"}", true},
    {EXPR("a", "In", ",\"values\":[\"x\",\"y\"]"), "{\"a\":\"z\"}", false},
    {EXPR("a", "In", ",\"values\":[\"x\"]"), "{}", false},
    {EXPR("a", "NotIn", ",\"values\":[\"x\"]"), "{}", true},
    {EXPR("a", "NotIn", ",\"values\":[\"x\"]"), "{\"a\":\"y\"}", true},
    {EXPR("a", "NotIn", ",\"values\":[\"x\"]"), "{\"a\":\"x\"}", false},
    {EXPR("a", "Exists", ""), "{\"a\":\"\"}", true},
    {EXPR("a", "Exists", ",\"values\":[]"), "{\"a\":\"v\"}", true},
    {EXPR("a", "Exists", ""), "{\"b\":\"\"}", false},
    {EXPR("a", "DoesNotExist", ""), "{\"b\":\"\"}", true},
    {EXPR("a", "DoesNotExist", ",\"values\":null"), "{\"a\":\"\"}", false},
    /* matchLabels AND matchExpressions */
    {"{\"matchLabels\":{\"a\":\"1\"},\"matchExpressions\":[{\"key\":\"b\",\"operator\":"
     "\"Exists\"}]}",
     "{\"a\":\"1\",\"b\":\"\"}", true},
    {"{\"matchLabels\":{\"a\":\"1\"},\"matchExpressions\":[{\"key\":\"b\",\"operator\":"
     "\"Exists\"}]}",
     "{\"a\":\"1\"}", false},
    /* Nothing: null, {}, no requirements, invalid. */
    {"null", "{}", false},
    {"{}", "{}", false},
    {"{\"matchLabels\":{}}", "{\"a\":\"1\"}", false},
    {"{\"matchLabels\":null,\"matchExpressions\":[]}", "{}", false},
    {"\"role=worker\"", W, false},
    {EXPR("a", "In", ""), "{\"a\":\"x\"}", false},
    {EXPR("a", "In", ",\"values\":[]"), "{\"a\":\"x\"}", false},
    {EXPR("a", "NotIn", ""), "{}", false},
    {EXPR("a", "Exists", ",\"values\":[\"x\"]"), "{\"a\":\"x\"}", false},
    {EXPR("a", "DoesNotExist", ",\"values\":[\"x\"]"), "{}", false},
    {EXPR("a", "in", ",\"values\":[\"x\"]"), "{\"a\":\"x\"}", false},
    {EXPR("a", "Gt", ",\"values\":[\"1\"]"), "{\"a\":\"2\"}", false},
    {"{\"matchLabels\":{\"a\":1}}", "{\"a\":\"1\"}", false},
    {"{\"matchLabels\":[]}", "{}", false},
    {"{\"matchExpressions\":{}}", "{}", false},
    {"{\"matchExpressions\":[{\"operator\":\"Exists\"}]}", "{\"a\":\"\"}", false},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[1]}]}", "{\"a\":\"1\"}",
     false},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":\"x\"}]}",
     "{\"a\":\"x\"}", false},
    /* One invalid requirement spoils an otherwise matching selector. */
    {"{\"matchLabels\":{\"a\":\"1\"},\"matchExpressions\":[{\"key\":\"b\",\"operator\":\"In\"}]}",
     "{\"a\":\"1\",\"b\":\"x\"}", false},
};

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
    if (!j)
        fail_msg("bad test JSON %s: %s", s, e.text);
    return j;
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *sj = parse(rows[i].selector), *lj = parse(rows[i].labels);
        struct osw_selector *s = NULL;
        struct osw_labels l;
        assert_int_equal(osw_selector_parse(sj, &s), OSW_OK);
        assert_int_equal(osw_labels_from_json(lj, &l), OSW_OK);
        if (osw_selector_matches(s, &l) != rows[i].selects)
            fail_msg("row %zu: %s on %s should %sselect", i, rows[i].selector, rows[i].labels,
                     rows[i].selects ? "" : "not ");
        osw_selector_free(s);
        osw_labels_free(&l);
        json_decref(sj);
        json_decref(lj);
    }
}

static void test_equal(void **state)
{
    (void)state;
    const char *same[][2] = {
        {"{\"matchLabels\":{\"a\":\"1\",\"b\":\"2\"}}",
         "{\"matchLabels\":{\"b\":\"2\",\"a\":\"1\"}}"},
        {EXPR("a", "In", ",\"values\":[\"x\",\"y\"]"),
         EXPR("a", "In", ",\"values\":[\"y\",\"x\",\"y\"]")},
        {"{\"matchLabels\":{\"a\":\"1\"}}", EXPR("a", "In", ",\"values\":[\"1\"]")},
        {"{}", "null"},
    };
    const char *differ[][2] = {
        {"{\"matchLabels\":{\"a\":\"1\"}}", "{\"matchLabels\":{\"a\":\"2\"}}"},
        {EXPR("a", "In", ",\"values\":[\"x\"]"), EXPR("a", "NotIn", ",\"values\":[\"x\"]")},
        {"{\"matchLabels\":{\"a\":\"1\"}}", "{}"},
        {EXPR("a", "In", ",\"values\":[\"x\"]"), EXPR("a", "In", ",\"values\":[\"x\",\"y\"]")},
    };
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < 4; i++) {
            const char *const *pair = pass == 0 ? same[i] : differ[i];
            json_t *a = parse(pair[0]), *b = parse(pair[1]);
            struct osw_selector *sa, *sb;
            assert_int_equal(osw_selector_parse(a, &sa), OSW_OK);
            assert_int_equal(osw_selector_parse(b, &sb), OSW_OK);
            if (osw_selector_equal(sa, sb) != (pass == 0))
                fail_msg("%s vs %s", pair[0], pair[1]);
            osw_selector_free(sa);
            osw_selector_free(sb);
            json_decref(a);
            json_decref(b);
        }
    }
}

static void test_labels_bad(void **state)
{
    (void)state;
    struct osw_labels l;
    json_t *j = parse("{\"a\":1}");
    assert_int_equal(osw_labels_from_json(j, &l), OSW_EBADOBJ);
    json_decref(j);
    j = parse("[]");
    assert_int_equal(osw_labels_from_json(j, &l), OSW_EBADOBJ);
    json_decref(j);
    assert_int_equal(osw_labels_from_json(NULL, &l), OSW_OK);
    assert_int_equal(l.n, 0);
    assert_null(osw_labels_get(&l, OSW_STR_LIT("a")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_labels_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of YAML/JSON input: YAML 1.2 core-schema scalar resolution, multi-
 * document streams with empty documents, keys, aliases with their budget
 * (billion laughs, depth), error positions, the JSON-or-YAML choice and the
 * bounded file reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sys/fileio.h"
#include "yaml/yaml.h"

/* Parses `yaml` and compares the array of documents with `want_json`. */
static void expect_docs(const char *yaml, const char *want_json)
{
    struct osw_errbuf eb;
    json_t *docs = NULL;
    json_error_t jerr;
    eb.msg[0] = '\0';
    enum osw_err err = osw_yaml_parse(yaml, strlen(yaml), NULL, &docs, &eb);
    if (err != OSW_OK)
        fail_msg("parse of <<%s>> failed: %s", yaml, eb.msg);
    json_t *want = json_loads(want_json, JSON_ALLOW_NUL, &jerr);
    assert_non_null(want);
    if (!json_equal(docs, want)) {
        char *got = json_dumps(docs, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("<<%s>> gave %s, want %s", yaml, got, want_json);
    }
    json_decref(want);
    json_decref(docs);
}

/* Parses `yaml` with `lim` (NULL: defaults) expecting `code` and a reason
 * containing `want`. */
static void expect_error(const char *yaml, const struct osw_yaml_limits *lim, enum osw_err code,
                         const char *want)
{
    struct osw_errbuf eb;
    json_t *docs = (json_t *)1;
    eb.msg[0] = '\0';
    enum osw_err err = osw_yaml_parse(yaml, strlen(yaml), lim, &docs, &eb);
    if (err != code)
        fail_msg("<<%s>>: got %d (%s), want %d", yaml, err, eb.msg, code);
    assert_null(docs);
    if (!strstr(eb.msg, want))
        fail_msg("<<%s>>: reason \"%s\" lacks \"%s\"", yaml, eb.msg, want);
}

static void test_plain_scalars(void **state)
{
    (void)state;
    expect_docs("[~, null, Null, NULL, '', ]", "[[null, null, null, null, \"\"]]");
    expect_docs("a:\nb: ~\n", "[{\"a\": null, \"b\": null}]");
    expect_docs("[true, True, TRUE, false, False, FALSE]",
                "[[true, true, true, false, false, false]]");
    /* YAML 1.1 booleans are strings under 1.2's core schema. */
    expect_docs("[yes, no, on, off, y, tRUE]",
                "[[\"yes\", \"no\", \"on\", \"off\", \"y\", \"tRUE\"]]");
    expect_docs("[0, 12, -3, +4, 012, 0x1F, 0xff, 0o17, 9223372036854775807]",
                "[[0, 12, -3, 4, 12, 31, 255, 15, 9223372036854775807]]");
    expect_docs("[1.5, -0.5e3, .5, 1e3, 2., +1.0E-2]", "[[1.5, -500.0, 0.5, 1000.0, 2.0, 0.01]]");
    /* Beyond 64 bits: a real, as JSON decoders read it. */
    expect_docs("[99999999999999999999, 0xffffffffffffffffff]", "[[1e20, 4.722366482869645e21]]");
    expect_docs("[0x, 0o8, 1.2.3, 12abc, '-', +, ., e3, 1e, 0x1g, -0x10]",
                "[[\"0x\", \"0o8\", \"1.2.3\", \"12abc\", \"-\", \"+\", \".\", \"e3\", \"1e\", "
                "\"0x1g\", \"-0x10\"]]");
    expect_docs("name: rhel-10\nimage: quay.io/x@sha256:abc\n",
                "[{\"name\": \"rhel-10\", \"image\": \"quay.io/x@sha256:abc\"}]");
}

static void test_quoted_and_tagged(void **state)
{
    (void)state;
    expect_docs("['true', \"123\", 'null', \"~\", '']",
                "[[\"true\", \"123\", \"null\", \"~\", \"\"]]");
    expect_docs("a: |\n  x\n  y\nb: >\n  p\n  q\n", "[{\"a\": \"x\\ny\\n\", \"b\": \"p q\\n\"}]");
    expect_docs("[!!str 123, !!str true, ! 5, !!int 7, !!int \"8\", !!bool \"true\", !!null '']",
                "[[\"123\", \"true\", \"5\", 7, 8, true, null]]");
    /* Unknown tags are ignored. */
    expect_docs("[!custom 5, !custom x]", "[[5, \"x\"]]");
    /* A NUL from an escape is kept (the string is length-delimited). */
    expect_docs("a: \"x\\0y\"", "[{\"a\": \"x\\u0000y\"}]");
}

static void test_non_json_numbers(void **state)
{
    (void)state;
    expect_error("a: .inf", NULL, OSW_EINVAL, "1:4: infinity and NaN");
    expect_error("a:\n  - -.Inf", NULL, OSW_EINVAL, "2:5: infinity");
    expect_error("[.nan]", NULL, OSW_EINVAL, "1:2: infinity and NaN");
    expect_error("x: 1e400", NULL, OSW_EINVAL, "1:4: number is out of range");
    /* Quoted, they are strings. */
    expect_docs("['.inf', \".nan\", '1e400']", "[[\".inf\", \".nan\", \"1e400\"]]");
}

static void test_documents(void **state)
{
    (void)state;
    expect_docs("", "[]");
    expect_docs("# only a comment\n", "[]");
    expect_docs("---\n---\na: 1\n---\n# comment\n---\n~\n...\n---\nb: 2\n---\n",
                "[{\"a\": 1}, {\"b\": 2}]");
    expect_docs("a: 1\n---\n[1, 2]\n---\nplain\n", "[{\"a\": 1}, [1, 2], \"plain\"]");
}

static void test_keys(void **state)
{
    (void)state;
    expect_docs("1: a\ntrue: b\n~: c\n0x10: d\n'q': e\n<<: f\n",
                "[{\"1\": \"a\", \"true\": \"b\", \"~\": \"c\", \"0x10\": \"d\", \"q\": \"e\", "
                "\"<<\": \"f\"}]");
    expect_error("? [a]\n: 1\n", NULL, OSW_EINVAL, "1:3: mapping keys must be scalars");
    expect_error("? {a: 1}\n: 1\n", NULL, OSW_EINVAL, "mapping keys must be scalars");
    expect_error("a: &k x\n*k : 1\n", NULL, OSW_EINVAL, "2:1: an alias cannot be a mapping key");
    expect_error("a: 1\nb: 2\na: 3\n", NULL, OSW_EINVAL, "3:1: duplicate mapping key");
}

static void test_aliases(void **state)
{
    (void)state;
    expect_docs("a: &x {k: v, n: [1, 2]}\nb: *x\nc: &s str\nd: *s\n",
                "[{\"a\": {\"k\": \"v\", \"n\": [1, 2]}, \"b\": {\"k\": \"v\", \"n\": [1, 2]}, "
                "\"c\": \"str\", \"d\": \"str\"}]");
    /* A redefined anchor: the latest definition wins. */
    expect_docs("[&a 1, *a, &a 2, *a]", "[[1, 1, 2, 2]]");
    /* Copies are independent values. */
    struct osw_errbuf eb;
    json_t *docs = NULL;
    const char *y = "a: &x {k: v}\nb: *x\n";
    assert_int_equal(osw_yaml_parse(y, strlen(y), NULL, &docs, &eb), OSW_OK);
    json_t *doc = json_array_get(docs, 0);
    assert_ptr_not_equal(json_object_get(doc, "a"), json_object_get(doc, "b"));
    json_decref(docs);

    expect_error("a: *nope\n", NULL, OSW_EINVAL, "1:4: unknown anchor");
    /* Anchors do not cross documents. */
    expect_error("a: &x 1\n---\nb: *x\n", NULL, OSW_EINVAL, "3:4: unknown anchor");
    /* An alias to the node being built is unknown until it is complete. */
    expect_error("&a [*a]\n", NULL, OSW_EINVAL, "unknown anchor");
}

static const char laughs[] = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                             "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                             "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                             "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                             "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                             "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                             "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                             "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                             "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";

static void test_billion_laughs(void **state)
{
    (void)state;
    const struct osw_yaml_limits small = {10000, 256};
    expect_error(laughs, &small, OSW_ETOOBIG, "too many nodes");
    /* The default budget stops it too (a million nodes, not 387 million). */
    expect_error(laughs, NULL, OSW_ETOOBIG, "aliases expand too far");
    /* Within budget, aliases expand fully: 1 + 3 keys... count b's nodes. */
    const struct osw_yaml_limits enough = {200, 256};
    const char *two = "a: &a [l, l, l]\nb: [*a, *a, *a]\n";
    struct osw_errbuf eb;
    json_t *docs = NULL;
    assert_int_equal(osw_yaml_parse(two, strlen(two), &enough, &docs, &eb), OSW_OK);
    assert_int_equal(json_array_size(json_object_get(json_array_get(docs, 0), "b")), 3);
    json_decref(docs);
    /* Exactly at the budget: map(1) + a(1) + [l,l,l](4) + b(1) + [..](1) + 3*4 = 20 nodes. */
    const struct osw_yaml_limits exact = {20, 256}, under = {19, 256};
    assert_int_equal(osw_yaml_parse(two, strlen(two), &exact, &docs, &eb), OSW_OK);
    json_decref(docs);
    expect_error(two, &under, OSW_ETOOBIG, "too many nodes");
}

/* The budget is per document: a stream of documents that each fit is read
 * whole, however many there are; alias copies stay bounded over the stream. */
static void test_budget_per_document(void **state)
{
    (void)state;
    const struct osw_yaml_limits lim = {20, 256};
    struct osw_errbuf eb;
    json_t *docs = NULL;
    /* Each document: map(1) + 3 keys and values (6) = 7 nodes; 10 of them. */
    char many[400] = "";
    for (int i = 0; i < 10; i++)
        strncat(many, "a: 1\nb: 2\nc: 3\n---\n", sizeof(many) - strlen(many) - 1);
    assert_int_equal(osw_yaml_parse(many, strlen(many), &lim, &docs, &eb), OSW_OK);
    assert_int_equal(json_array_size(docs), 10);
    json_decref(docs);
    /* One document over the budget still fails. */
    expect_error("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]\n", &lim,
                 OSW_ETOOBIG, "too many nodes");
    /* Aliases: each document copies 5 nodes (within its budget), but the
     * stream's copies add up past 20 by the fifth document. */
    const char *al = "a: &a [l, l, l, l]\nb: *a\n---\na: &a [l, l, l, l]\nb: *a\n---\n"
                     "a: &a [l, l, l, l]\nb: *a\n---\na: &a [l, l, l, l]\nb: *a\n---\n"
                     "a: &a [l, l, l, l]\nb: *a\n";
    expect_error(al, &lim, OSW_ETOOBIG, "aliases expand too far");
}

static void test_depth(void **state)
{
    (void)state;
    char deep[2 * 300 + 1];
    for (int i = 0; i < 300; i++) {
        deep[i] = '[';
        deep[600 - 1 - i] = ']';
    }
    deep[600] = '\0';
    expect_error(deep, NULL, OSW_ETOOBIG, "nesting is too deep");
    /* 256 levels are fine. */
    char ok[513];
    memcpy(ok, deep, 256);
    memset(ok + 256, ']', 256);
    ok[512] = '\0';
    struct osw_errbuf eb;
    json_t *docs = NULL;
    assert_int_equal(osw_yaml_parse(ok, strlen(ok), NULL, &docs, &eb), OSW_OK);
    json_decref(docs);
    /* Depth reached through an alias counts too. */
    const struct osw_yaml_limits lim = {1000, 5};
    expect_docs("a: &x [[[1]]]\n", "[{\"a\": [[[1]]]}]");
    expect_error("a: &x [[[1]]]\nb: [*x]\n", &lim, OSW_ETOOBIG, "2:5: nesting is too deep");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_error("a: b: c\n", NULL, OSW_EINVAL, "1:5: mapping values are not allowed");
    expect_error("a: [1, 2\nb: 3\n", NULL, OSW_EINVAL, "did not find expected ',' or ']'");
    expect_error("a: 'x\n", NULL, OSW_EINVAL, "found unexpected end of stream");
    expect_error("key: \"a\xff\"\n", NULL, OSW_EINVAL, "byte offset 7: invalid leading UTF-8");
    expect_error("a: \"\\ud800\"\n", NULL, OSW_EINVAL,
                 "1:7: found invalid Unicode character escape");
}

static void test_parse_any(void **state)
{
    (void)state;
    struct osw_errbuf eb;
    json_t *docs = NULL;
    const char js[] = "  \n{\"a\": \"x\\u0000y\", \"b\": [1]}";
    assert_int_equal(osw_yaml_parse_any(js, sizeof(js) - 1, &docs, &eb), OSW_OK);
    assert_int_equal(json_array_size(docs), 1);
    assert_int_equal(json_string_length(json_object_get(json_array_get(docs, 0), "a")), 3);
    json_decref(docs);

    const char arr[] = "[1, 2]";
    assert_int_equal(osw_yaml_parse_any(arr, sizeof(arr) - 1, &docs, &eb), OSW_OK);
    assert_true(json_is_array(json_array_get(docs, 0)));
    json_decref(docs);

    const char bad[] = "{\"a\": 1,\n \"b\" 2}";
    docs = (json_t *)1;
    assert_int_equal(osw_yaml_parse_any(bad, sizeof(bad) - 1, &docs, &eb), OSW_EINVAL);
    assert_null(docs);
    assert_non_null(strstr(eb.msg, "2:"));

    /* YAML flow style starts with '{' too, and is not JSON: still read. */
    const char flow[] = "{kind: OSImageStream, n: 1, s: 'x'}";
    assert_int_equal(osw_yaml_parse_any(flow, sizeof(flow) - 1, &docs, &eb), OSW_OK);
    assert_string_equal(json_string_value(json_object_get(json_array_get(docs, 0), "kind")),
                        "OSImageStream");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(docs, 0), "n")), 1);
    json_decref(docs);

    const char y[] = "# yaml\na: 1\n---\nb: 2\n";
    assert_int_equal(osw_yaml_parse_any(y, sizeof(y) - 1, &docs, &eb), OSW_OK);
    assert_int_equal(json_array_size(docs), 2);
    json_decref(docs);

    const char ybad[] = "a: b: c";
    assert_int_equal(osw_yaml_parse_any(ybad, sizeof(ybad) - 1, &docs, &eb), OSW_EINVAL);
    assert_non_null(strstr(eb.msg, "1:5:"));
}

static void test_fixture_yaml_equals_json(void **state)
{
    (void)state;
    struct osw_errbuf eb;
    char *data = NULL;
    size_t len = 0;
    json_t *docs = NULL;
    json_error_t jerr;

    assert_int_equal(
        osw_fileio_read(OSW_TEST_DATA "/osimagestream.yaml", 1 << 20, &data, &len, &eb), OSW_OK);
    assert_int_equal(osw_yaml_parse_any(data, len, &docs, &eb), OSW_OK);
    free(data);
    json_t *want = json_load_file(OSW_TEST_DATA "/osimagestream.json", 0, &jerr);
    assert_non_null(want);
    assert_true(json_equal(json_array_get(docs, 0), want));
    json_decref(want);
    json_decref(docs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_scalars),
        cmocka_unit_test(test_quoted_and_tagged),
        cmocka_unit_test(test_non_json_numbers),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_budget_per_document),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_parse_any),
        cmocka_unit_test(test_fixture_yaml_equals_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

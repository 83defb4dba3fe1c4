/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the fast request reader (src/json/) against the jansson
 * reference reader. A table of edge cases (numbers, escapes, surrogates,
 * UTF-8, NUL, nesting depth, trailing bytes, BOM, duplicate keys, envelope)
 * gives the return code jansson 2.14 was measured to give; both readers must
 * give it and, when they succeed, the same view. A few cases then check the
 * extracted values themselves, so the two readers cannot agree on a wrong one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../support/review_diff.h"
#include "osw/review.h"

#define ENV "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
#define REQ ENV "\"request\":{\"uid\":\"u-1\","
/* A value placed at request.object.metadata.annotations["k"]: deep inside
 * the paths the reader extracts. */
#define AT_ANN(v) REQ "\"object\":{\"metadata\":{\"annotations\":{\"k\":" v "}}}}}"
/* A value placed at request.object.spec.osImageStream.name. */
#define AT_NAME(v) REQ "\"object\":{\"spec\":{\"osImageStream\":{\"name\":" v "}}}}}"
/* A value somewhere the reader skips. */
#define AT_SKIP(v) REQ "\"userInfo\":{\"extra\":[" v "]}}}"

struct edge {
    const char *name;
    const char *body;
    size_t len;
    enum osw_err want;
};

#define E(n, lit, w)                                                                               \
    {                                                                                              \
        n, lit, sizeof(lit) - 1, w                                                                 \
    }
#define OK      OSW_OK
#define BADJSON OSW_EBADJSON
#define BADREQ  OSW_EBADREQ

static const struct edge edges[] = {
    /* Top level: jansson (without JSON_DECODE_ANY) wants an object or array. */
    E("empty body", "", BADJSON),
    E("only whitespace", " \t\r\n", BADJSON),
    E("top-level string", "\"x\"", BADJSON),
    E("top-level number", "1", BADJSON),
    E("top-level null", "null", BADJSON),
    E("top-level array", "[]", BADREQ),
    E("top-level array of junk", "[1,", BADJSON),
    E("empty object", "{}", BADREQ),
    E("BOM before object", "\xEF\xBB\xBF{}", BADJSON),
    E("whitespace around", " \t\r\n" ENV "\"request\":{\"uid\":\"u\"}} \r\n\t", OK),
    E("form feed is not whitespace", ENV "\"request\":{\"uid\":\"u\"}}\f", BADJSON),
    E("vertical tab is not whitespace", "\v{}", BADJSON),
    E("trailing garbage", ENV "\"request\":{\"uid\":\"u\"}} x", BADJSON),
    E("trailing second object", ENV "\"request\":{\"uid\":\"u\"}}{}", BADJSON),
    E("trailing NUL after object", ENV "\"request\":{\"uid\":\"u\"}}\0", BADJSON),
    E("truncated", ENV "\"request\":{\"uid\":\"u\"}", BADJSON),
    E("trailing comma in object", ENV "\"request\":{\"uid\":\"u\",}}", BADJSON),
    E("trailing comma in array", AT_SKIP("1,"), BADJSON),
    E("missing colon", ENV "\"request\" {\"uid\":\"u\"}}", BADJSON),
    E("missing comma", ENV "\"request\":{\"uid\":\"u\"} \"x\":1}", BADJSON),
    E("single quotes", "{'a':1}", BADJSON),
    E("unquoted key", "{a:1}", BADJSON),
    E("comment", "{/* c */}", BADJSON),

    /* Numbers: RFC 8259 grammar, long long integers, finite doubles. */
    E("int zero", AT_ANN("0"), OK),
    E("int minus zero", AT_ANN("-0"), OK),
    E("int leading zero", AT_ANN("01"), BADJSON),
    E("int minus leading zero", AT_ANN("-01"), BADJSON),
    E("plus sign", AT_ANN("+1"), BADJSON),
    E("lone minus", AT_ANN("-"), BADJSON),
    E("minus space", AT_ANN("- 1"), BADJSON),
    E("dot without digits", AT_ANN("1."), BADJSON),
    E("leading dot", AT_ANN(".5"), BADJSON),
    E("exponent without digits", AT_ANN("1e"), BADJSON),
    E("exponent sign only", AT_ANN("1e+"), BADJSON),
    E("exponent forms", AT_ANN("[1e5,1E5,1e+5,1e-5,1.5E-5,0.0,-0.0e0]"), OK),
    E("hex", AT_ANN("0x10"), BADJSON),
    E("NaN", AT_ANN("NaN"), BADJSON),
    E("Infinity", AT_ANN("Infinity"), BADJSON),
    E("-Infinity", AT_ANN("-Infinity"), BADJSON),
    E("int64 max", AT_ANN("9223372036854775807"), OK),
    E("int64 max + 1", AT_ANN("9223372036854775808"), OK),
    E("int64 min", AT_ANN("-9223372036854775808"), OK),
    E("int64 min - 1", AT_ANN("-9223372036854775809"), OK),
    E("20-digit int", AT_ANN("10000000000000000000"), OK),
    E("2^64 as Go writes a float64", AT_ANN("18446744073709552000"), OK),
    E("1e20 as Go writes a float64", AT_ANN("100000000000000000000"), OK),
    E("negative big int", AT_ANN("-18446744073709552000"), OK),
    E("big int in an annotation value", AT_ANN("{\"a\":18446744073709552000}"), OK),
    E("big int as real", AT_ANN("10000000000000000000.0"), OK),
    E("big int with exponent", AT_ANN("99999999999999999999e0"), OK),
    E("double max", AT_ANN("1.7976931348623157e308"), OK),
    E("rounds to double max", AT_ANN("1.7976931348623158e308"), OK),
    E("rounds to infinity", AT_ANN("1.7976931348623159e308"), BADJSON),
    E("negative overflow", AT_ANN("-1e400"), BADJSON),
    E("1e308", AT_ANN("1e308"), OK),
    E("1e309", AT_ANN("1e309"), BADJSON),
    E("10e308", AT_ANN("10e308"), BADJSON),
    E("0.1e310", AT_ANN("0.1e310"), BADJSON),
    E("0.01e310", AT_ANN("0.01e310"), OK),
    E("huge exponent", AT_ANN("1e99999999999999999999999999"), BADJSON),
    E("underflow is fine", AT_ANN("1e-400"), OK),
    E("huge negative exponent", AT_ANN("1e-99999999999999999999999999"), OK),
    E("zero with huge exponent", AT_ANN("0e99999999999999999999999999"), OK),
    E("zero fraction huge exponent", AT_ANN("0.000e400"), OK),
    E("309 digits",
      AT_ANN("1797693134862315708145274237317043567980705675258449965989174768"
             "0315726078002853876058955863276687817154045895351438246423432132"
             "6889464182768467546703537516986049910576551282076245490090389328"
             "9440758685084551339423045832369032229481658085593321233482747978"
             "26204144723168738177180919299881250404026184124858368.0"),
      OK),
    E("309-digit integer at double max",
      AT_ANN("1797693134862315708145274237317043567980705675258449965989174768"
             "0315726078002853876058955863276687817154045895351438246423432132"
             "6889464182768467546703537516986049910576551282076245490090389328"
             "9440758685084551339423045832369032229481658085593321233482747978"
             "26204144723168738177180919299881250404026184124858368"),
      OK),
    E("309-digit integer above max",
      AT_ANN("1797693134862315808145274237317043567980705675258449965989"
             "1747680315726078002853876058955863276687817154045895351438"
             "2464234321326889464182768467546703537516986049910576551282"
             "0762454900903893289440758685084551339423045832369032229481"
             "6580855933212334827479782620414472316873817718091929988125"
             "0404026184124858368"),
      BADJSON),
    E("309 digits above max",
      AT_ANN("1797693134862315808145274237317043567980705675258449965989"
             "1747680315726078002853876058955863276687817154045895351438"
             "2464234321326889464182768467546703537516986049910576551282"
             "0762454900903893289440758685084551339423045832369032229481"
             "6580855933212334827479782620414472316873817718091929988125"
             "0404026184124858368.0"),
      BADJSON),

    /* 2^1024 - 2^970, the midpoint above DBL_MAX: ties round to even, which
     * is infinity. */
    E("overflow midpoint",
      AT_ANN("17976931348623158079372897140530341507993413271003782693617377898044496829276475"
             "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
             "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
             "936475292719074168444365510704342711559699508093042880177904174497792"
             ".0"),
      BADJSON),
    E("just below midpoint",
      AT_ANN("17976931348623158079372897140530341507993413271003782693617377898044496829276475"
             "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
             "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
             "936475292719074168444365510704342711559699508093042880177904174497791"
             ".0"),
      OK),
    E("midpoint minus a fraction",
      AT_ANN("17976931348623158079372897140530341507993413271003782693617377898044496829276475"
             "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
             "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
             "936475292719074168444365510704342711559699508093042880177904174497791"
             ".999999999999999999999999"),
      OK),
    E("midpoint as 0.Dxe309",
      AT_ANN("0."
             "17976931348623158079372897140530341507993413271003782693617377898044496829276475"
             "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
             "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
             "936475292719074168444365510704342711559699508093042880177904174497792"
             "e309"),
      BADJSON),
    E("midpoint with trailing zeros",
      AT_ANN("17976931348623158079372897140530341507993413271003782693617377898044496829276475"
             "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
             "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
             "936475292719074168444365510704342711559699508093042880177904174497792"
             "000e-3"),
      BADJSON),
    E("midpoint with fraction digits",
      AT_ANN("17976931348623158079372897140530341507993413271003782693617377898044496829276475"
             "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
             "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
             "936475292719074168444365510704342711559699508093042880177904174497792"
             ".000000000000000000001"),
      BADJSON),
    E("midpoint below 1 with exponent",
      AT_ANN("0.000"
             "17976931348623158079372897140530341507993413271003782693617377898044496829276475"
             "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
             "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
             "936475292719074168444365510704342711559699508093042880177904174497792"
             "e312"),
      BADJSON),

    /* Literals: jansson reads a whole run of letters. */
    E("literals", AT_ANN("[true,false,null]"), OK),
    E("literal with letters after", AT_ANN("truex"), BADJSON),
    E("capitalised literal", AT_ANN("True"), BADJSON),
    E("truncated literal", AT_ANN("nul"), BADJSON),
    E("literal then digit", AT_ANN("[true1]"), BADJSON),

    /* A raw NUL is never JSON, even where json_loadb's look-ahead skips one
     * (right after a number or literal): both readers refuse it. */
    E("NUL after number", AT_ANN("1\0"), BADJSON),
    E("NUL after real", AT_ANN("1.5e3\0"), BADJSON),
    E("NUL after literal", AT_ANN("null\0"), BADJSON),
    E("two NULs after number", AT_ANN("1\0\0"), BADJSON),
    E("NUL inside literal", AT_ANN("nu\0ll"), BADJSON),
    E("NUL after string", AT_ANN("\"s\"\0"), BADJSON),
    E("NUL between tokens", ENV "\"request\":{\"uid\":\"u\"},\0\"x\":1}", BADJSON),
    E("NUL quirk in array", "[1\0]", BADJSON),

    /* Strings: escapes, control characters, NUL. */
    E("all short escapes", AT_ANN("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), OK),
    E("unknown escape", AT_ANN("\"\\a\""), BADJSON),
    E("escaped quote at end", AT_ANN("\"\\\""), BADJSON),
    E("short \\u", AT_ANN("\"\\u12\""), BADJSON),
    E("bad hex in \\u", AT_ANN("\"\\u12G4\""), BADJSON),
    E("upper and lower hex", AT_ANN("\"\\u00E9\\u00e9\""), OK),
    E("escaped NUL in value", AT_ANN("\"a\\u0000b\""), OK),
    E("escaped NUL in key", REQ "\"object\":{\"metadata\":{\"annotations\":{\"\\u0000\":\"x\"}}}}}",
      BADJSON),
    E("escaped NUL in skipped key", AT_SKIP("{\"a\\u0000\":1}"), BADJSON),
    E("escaped NUL in root key", "{\"\\u0000\":1}", BADJSON),
    E("raw NUL in string", AT_ANN("\"a\0b\""), BADJSON),
    E("raw tab in string", AT_ANN("\"a\tb\""), BADJSON),
    E("raw newline in string", AT_ANN("\"a\nb\""), BADJSON),
    E("raw 0x1f in string", AT_ANN("\"a\x1f\""), BADJSON),
    E("raw DEL in string", AT_ANN("\"a\x7f\""), OK),
    E("unterminated string", AT_ANN("\"abc"), BADJSON),
    E("backslash at end of body", "{\"a\\", BADJSON),

    /* Surrogates in \u escapes. */
    E("surrogate pair", AT_ANN("\"\\uD83D\\uDE00\""), OK),
    E("surrogate pair lower case", AT_ANN("\"\\ud83d\\ude00\""), OK),
    E("lone high surrogate", AT_ANN("\"\\uD800\""), BADJSON),
    E("lone high at string end", AT_ANN("\"x\\uDBFF\""), BADJSON),
    E("lone low surrogate", AT_ANN("\"\\uDC00\""), BADJSON),
    E("high then non-surrogate", AT_ANN("\"\\uD800\\u0041\""), BADJSON),
    E("high then high", AT_ANN("\"\\uD800\\uD800\""), BADJSON),
    E("high then short escape", AT_ANN("\"\\uD800\\n\""), BADJSON),
    E("high then text", AT_ANN("\"\\uD800abcdef\""), BADJSON),
    E("reversed pair", AT_ANN("\"\\uDE00\\uD83D\""), BADJSON),
    E("max pair", AT_ANN("\"\\uDBFF\\uDFFF\""), OK),
    E("U+FFFF", AT_ANN("\"\\uFFFF\""), OK),

    /* Raw UTF-8. */
    E("valid UTF-8 boundaries",
      AT_ANN("\"\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF "
             "\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF\""),
      OK),
    E("overlong NUL", AT_ANN("\"\xC0\x80\""), BADJSON),
    E("overlong C1", AT_ANN("\"\xC1\xBF\""), BADJSON),
    E("overlong 3-byte", AT_ANN("\"\xE0\x9F\xBF\""), BADJSON),
    E("overlong 4-byte", AT_ANN("\"\xF0\x8F\xBF\xBF\""), BADJSON),
    E("UTF-8 encoded surrogate", AT_ANN("\"\xED\xA0\x80\""), BADJSON),
    E("UTF-8 encoded low surrogate", AT_ANN("\"\xED\xBF\xBF\""), BADJSON),
    E("above U+10FFFF", AT_ANN("\"\xF4\x90\x80\x80\""), BADJSON),
    E("F5 lead", AT_ANN("\"\xF5\x80\x80\x80\""), BADJSON),
    E("FF byte", AT_ANN("\"\xFF\""), BADJSON),
    E("lone continuation", AT_ANN("\"\x80\""), BADJSON),
    E("truncated 2-byte", AT_ANN("\"\xC3\""), BADJSON),
    E("truncated 3-byte", AT_ANN("\"\xE2\x82\""), BADJSON),
    E("truncated at body end", "{\"a\xE2\x82", BADJSON),
    E("bad continuation", AT_ANN("\"\xE2\x28\xA1\""), BADJSON),
    E("UTF-8 outside strings", REQ "\"a\":1}\xC3\xA9}", BADJSON),
    E("invalid UTF-8 in skipped value", AT_SKIP("\"\xC0\xAF\""), BADJSON),
    E("invalid UTF-8 in key", AT_SKIP("{\"\xFF\":1}"), BADJSON),

    /* Envelope, in the reference reader's order. */
    E("v1beta1",
      "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\","
      "\"request\":{\"uid\":\"u\"}}",
      OK),
    E("apiVersion missing", "{\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}", BADREQ),
    E("apiVersion v2",
      "{\"apiVersion\":\"admission.k8s.io/v2\",\"kind\":\"AdmissionReview\","
      "\"request\":{\"uid\":\"u\"}}",
      BADREQ),
    E("apiVersion with NUL",
      "{\"apiVersion\":\"admission.k8s.io/v1\\u0000\",\"kind\":"
      "\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}",
      BADREQ),
    E("apiVersion escaped",
      "{\"apiVersion\":\"admission.k8s.io\\/v1\",\"kind\":"
      "\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}",
      OK),
    E("apiVersion not a string",
      "{\"apiVersion\":1,\"kind\":\"AdmissionReview\","
      "\"request\":{\"uid\":\"u\"}}",
      BADREQ),
    E("kind wrong",
      "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Review\","
      "\"request\":{\"uid\":\"u\"}}",
      BADREQ),
    E("kind missing", "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u\"}}",
      BADREQ),
    E("request missing", ENV "\"response\":{}}", BADREQ),
    E("request null", ENV "\"request\":null}", BADREQ),
    E("request array", ENV "\"request\":[{\"uid\":\"u\"}]}", BADREQ),
    E("uid missing", ENV "\"request\":{}}", BADREQ),
    E("uid empty", ENV "\"request\":{\"uid\":\"\"}}", BADREQ),
    E("uid number", ENV "\"request\":{\"uid\":7}}", BADREQ),
    E("uid only NUL", ENV "\"request\":{\"uid\":\"\\u0000\"}}", OK),
    E("escaped keys",
      "{\"\\u0061piVersion\":\"admission.k8s.io/v1\",\"kin\\u0064\":"
      "\"AdmissionReview\",\"\\u0072equest\":{\"\\u0075id\":\"u\"}}",
      OK),
    E("invalid JSON wins over bad envelope", "{\"apiVersion\":1,}", BADJSON),

    /* Duplicate keys: the last one wins, at every level. */
    E("dup apiVersion last bad", ENV "\"request\":{\"uid\":\"u\"},\"apiVersion\":\"v1\"}", BADREQ),
    E("dup apiVersion last good",
      "{\"apiVersion\":\"x\",\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
      "\"request\":{\"uid\":\"u\"}}",
      OK),
    E("dup request last has no uid", ENV "\"request\":{\"uid\":\"u\"},\"request\":{}}", BADREQ),
    E("dup request last has uid", ENV "\"request\":{},\"request\":{\"uid\":\"u\"}}", OK),
    E("dup request last not object", ENV "\"request\":{\"uid\":\"u\"},\"request\":1}", BADREQ),
    E("dup uid last empty", ENV "\"request\":{\"uid\":\"u\",\"uid\":\"\"}}", BADREQ),
    E("dup object", REQ "\"object\":{\"metadata\":{\"name\":\"a\"}},\"object\":{\"spec\":{}}}}",
      OK),
    E("dup metadata, last not object",
      REQ "\"object\":{\"metadata\":{\"name\":\"a\",\"annotations\":{}},\"metadata\":[]}}}", OK),
    E("dup spec", REQ "\"object\":{\"spec\":{\"osImageStream\":{\"name\":\"a\"}},\"spec\":{}}}}",
      OK),
    E("dup osImageStream",
      REQ "\"object\":{\"spec\":{\"osImageStream\":{\"name\":\"a\"},\"osImageStream\":null}}}}",
      OK),
    E("dup annotation value", AT_ANN("1,\"k\":\"x\""), OK),
    E("dup annotations map",
      REQ "\"object\":{\"metadata\":{\"annotations\":{\"a\":1},"
          "\"annotations\":{\"b\":\"x\"}}}}}",
      OK),
    E("dup annotations own key",
      REQ "\"object\":{\"metadata\":{\"annotations\":{"
          "\"osimagestream.machineconfiguration.openshift.io/stream\":\"a\"},"
          "\"annotations\":{}}}}}",
      OK),
    E("dup kind", REQ "\"kind\":{\"group\":\"g\"},\"kind\":{\"version\":\"v\"}}}", OK),
    E("dup at skipped level", AT_SKIP("{\"a\":1,\"a\":2}"), OK),
};

/* Runs both readers on `body` and checks both give `want` and, on success,
 * the same view. */
static void check_both(const char *name, const char *body, size_t len, enum osw_err want)
{
    struct osw_review a, b;
    struct osw_errbuf ea, eb;
    ea.msg[0] = eb.msg[0] = '\0';
    enum osw_err ra = osw_review_decode_jansson(body, len, &a, &ea);
    enum osw_err rb = osw_review_decode_fast(body, len, &b, &eb);
    if (ra != want)
        fail_msg("%s: jansson reader gave %d (%s), table says %d", name, (int)ra, ea.msg,
                 (int)want);
    if (rb != want)
        fail_msg("%s: fast reader gave %d (%s), table says %d", name, (int)rb, eb.msg, (int)want);
    if (want == OSW_OK) {
        char buf[64];
        const char *w = review_diff(&a, &b, buf, sizeof(buf));
        if (w)
            fail_msg("%s: views differ at %s", name, w);
        w = review_diff_reduction_body(body, len, &a);
        if (w)
            fail_msg("%s: reduction changes the %s", name, w);
    } else {
        assert_null(b.storage);
        assert_true(eb.msg[0] != '\0');
        assert_null(strchr(eb.msg, '\n'));
    }
    osw_review_release(&a);
    osw_review_release(&b);
}

static void test_edge_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        /* An exact-size heap copy, so a sanitizer build catches any read
         * past the end. */
        const struct edge *e = &edges[i];
        char *copy = malloc(e->len ? e->len : 1);
        assert_non_null(copy);
        memcpy(copy, e->body, e->len);
        check_both(e->name, copy, e->len, e->want);
        free(copy);
    }
}

/* The table's verdicts are jansson's own (integers read as doubles, so that
 * RFC 8259 integers past 64 bits are accepted): json_loadb agrees on each, except
 * that any raw NUL byte is refused (json_loadb skips one after a number). */
static void test_table_matches_json_loadb(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        const struct edge *e = &edges[i];
        if (memchr(e->body, '\0', e->len)) {
            if (e->want != OSW_EBADJSON)
                fail_msg("%s: a raw NUL must be refused", e->name);
            continue;
        }
        json_t *j = json_loadb(e->body, e->len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
        if ((j != NULL) != (e->want != OSW_EBADJSON))
            fail_msg("%s: json_loadb %s", e->name, j ? "accepts" : "refuses");
        json_decref(j);
    }
}

/* `n` nested arrays around `inner`, as the annotations value. */
static char *nested(size_t n, const char *inner, size_t *len)
{
    const char *pre = REQ "\"object\":{\"metadata\":{\"annotations\":{\"k\":";
    const char *post = "}}}}}";
    size_t lp = strlen(pre), li = strlen(inner), lq = strlen(post);
    *len = lp + n + li + n + lq;
    char *b = malloc(*len);
    assert_non_null(b);
    memcpy(b, pre, lp); // NOLINT(bugprone-not-null-terminated-result): a sized body
    memset(b + lp, '[', n);
    memcpy(b + lp + n, inner, li); // NOLINT(bugprone-not-null-terminated-result)
    memset(b + lp + n + li, ']', n);
    memcpy(b + lp + n + li + n, post, lq); // NOLINT(bugprone-not-null-terminated-result)
    return b;
}

static void test_depth_limit(void **state)
{
    (void)state;
    /* The annotations value sits at depth 6; jansson allows depth 2048,
     * scalars included. */
    static const struct {
        size_t arrays;
        const char *inner;
        enum osw_err want;
    } cases[] = {
        {2043, "", OSW_OK},         {2044, "", OSW_EBADJSON},
        {2042, "1", OSW_OK},        {2043, "1", OSW_EBADJSON},
        {2042, "{}", OSW_OK},       {2043, "{}", OSW_EBADJSON},
        {2042, "\"s\"", OSW_OK},    {2042, "{\"a\":1}", OSW_EBADJSON},
        {100000, "", OSW_EBADJSON},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        char *b = nested(cases[i].arrays, cases[i].inner, &len);
        char name[64];
        snprintf(name, sizeof(name), "%zu arrays around '%s'", cases[i].arrays, cases[i].inner);
        check_both(name, b, len, cases[i].want);
        free(b);
    }
    /* Objects nest the same way, also at the top level. */
    size_t n = 2048;
    char *b = malloc(2 * n + 2);
    assert_non_null(b);
    memset(b, '[', n);
    memset(b + n, ']', n);
    check_both("2048 top-level arrays", b, 2 * n, OSW_EBADREQ);
    free(b);
    n = 2049;
    b = malloc(2 * n);
    assert_non_null(b);
    memset(b, '[', n);
    memset(b + n, ']', n);
    check_both("2049 top-level arrays", b, 2 * n, OSW_EBADJSON);
    free(b);
}

static struct osw_str S(const char *s) {
    return osw_str_from_cstr(s);
}

static void
assert_field(const struct osw_jfield *f, enum osw_jtype t, const char *s, size_t len)
{
    assert_int_equal(f->type, t);
    if (t == OSW_JT_STRING) {
        assert_int_equal(f->str.len, len);
        assert_memory_equal(f->str.ptr, s, len);
    }
}

static char *read_fixture(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", OSW_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void test_fixture_values(void **state)
{
    (void)state;
    size_t len;
    char *body = read_fixture("admissionreview-update-worker-rhel10.json", &len);
    check_both("fixture", body, len, OSW_OK);
    struct osw_review r;
    assert_int_equal(osw_review_decode_fast(body, len, &r, NULL), OSW_OK);
    assert_int_equal(r.api_version, OSW_API_V1);
    assert_true(osw_str_eq(r.uid, S("0df28fbd-5f5f-4b8a-9b8e-3c7b3f2d6a11")));
    assert_field(&r.operation, OSW_JT_STRING, "UPDATE", 6);
    assert_field(&r.name, OSW_JT_STRING, "worker", 6);
    assert_field(&r.sub_resource, OSW_JT_ABSENT, NULL, 0);
    assert_field(&r.username, OSW_JT_STRING, "system:admin", 12);
    assert_int_equal(r.kind_type, OSW_JT_OBJECT);
    assert_field(&r.kind_kind, OSW_JT_STRING, "MachineConfigPool", 17);
    assert_field(&r.resource_resource, OSW_JT_STRING, "machineconfigpools", 18);
    assert_field(&r.object.stream_name, OSW_JT_STRING, "rhel-10", 7);
    assert_field(&r.old_object.stream_name, OSW_JT_STRING, "rhel-9", 6);
    assert_int_equal(r.object.annotations_type, OSW_JT_OBJECT);
    assert_true(r.object.annotations_string_map);
    /* No escapes in the fixture: every slice points into the body. */
    assert_null(r.storage);
    assert_true(r.uid.ptr >= body && r.uid.ptr < body + len);
    osw_review_release(&r);
    free(body);
}

static void test_escaped_values(void **state)
{
    (void)state;
    static const char body[] =
        REQ "\"name\":\"a\\u00e9\\ud83d\\ude00\\n\\/\\u0000z\",\"object\":{\"metadata\":{"
            "\"annotations\":{\"osimagestream.machineconfiguration.openshift.io\\/stream\":"
            "\"rhel\\u002d10\"}}}}}";
    check_both("escaped values", body, sizeof(body) - 1, OSW_OK);
    struct osw_review r;
    assert_int_equal(osw_review_decode_fast(body, sizeof(body) - 1, &r, NULL), OSW_OK);
    assert_field(&r.name, OSW_JT_STRING, "a\xC3\xA9\xF0\x9F\x98\x80\n/\0z", 11);
    assert_field(&r.object.annotations[OSW_ANNOT_STREAM], OSW_JT_STRING, "rhel-10", 7);
    assert_non_null(r.storage);
    osw_review_release(&r);
    assert_null(r.storage);
}

/* The parity fields: selector text, paused, userInfo.username, and the
 * object trees that only MachineConfig and OSImageStream requests get. */
static void test_parity_fields(void **state)
{
    (void)state;
    static const char pool[] =
        REQ "\"userInfo\":{\"username\":\"system:admin\",\"extra\":{\"a\":[1]}},"
            "\"object\":{\"spec\":{\"machineConfigSelector\":{\"matchLabels\":{\"a\":\"b\"}},"
            "\"paused\":true}},\"oldObject\":{\"spec\":{\"machineConfigSelector\":\"x\","
            "\"paused\":1}}}}";
    check_both("parity pool", pool, sizeof(pool) - 1, OSW_OK);
    struct osw_review r;
    assert_int_equal(osw_review_decode_fast(pool, sizeof(pool) - 1, &r, NULL), OSW_OK);
    assert_field(&r.username, OSW_JT_STRING, "system:admin", 12);
    assert_int_equal(r.object.selector_type, OSW_JT_OBJECT);
    assert_memory_equal(r.object.selector_json.ptr, "{\"matchLabels\":{\"a\":\"b\"}}", 25);
    assert_int_equal(r.object.paused_type, OSW_JT_BOOL);
    assert_true(r.object.paused);
    assert_int_equal(r.old_object.selector_type, OSW_JT_STRING);
    assert_int_equal(r.old_object.selector_json.len, 0);
    assert_int_equal(r.old_object.paused_type, OSW_JT_NUMBER);
    assert_null(r.object_tree); /* a pool request: no trees */
    osw_review_release(&r);

    static const char mc[] =
        REQ "\"resource\":{\"group\":\"machineconfiguration.openshift.io\",\"resource\":"
            "\"machineconfigs\"},\"object\":{\"metadata\":{\"name\":\"99-x\"},\"spec\":"
            "{\"osImageURL\":\"q\\u0041\",\"config\":{\"ignition\":{}},\"kernelArguments\":"
            "[\"a\"]}},\"oldObject\":null}}";
    check_both("parity mc", mc, sizeof(mc) - 1, OSW_OK);
    for (int i = 0; i < 2; i++) {
        enum osw_err err = i == 0 ? osw_review_decode_fast(mc, sizeof(mc) - 1, &r, NULL)
                                  : osw_review_decode_jansson(mc, sizeof(mc) - 1, &r, NULL);
        assert_int_equal(err, OSW_OK);
        assert_non_null(r.object_tree);
        assert_null(r.old_object_tree);
        const json_t *url = json_object_get(json_object_get(r.object_tree, "spec"), "osImageURL");
        assert_string_equal(json_string_value(url), "qA");
        /* Reduced: of the rest of spec only the Ignition config (rule R's
         * drop-ins) is parsed into the tree, and of it only `storage`. */
        const json_t *spec = json_object_get(r.object_tree, "spec");
        assert_true(json_is_object(json_object_get(spec, "config")));
        assert_int_equal(json_object_size(json_object_get(spec, "config")), 0);
        assert_null(json_object_get(spec, "kernelArguments"));
        assert_null(json_object_get(r.object_tree, "apiVersion"));
        osw_review_release(&r);
    }
}

/* spec.config of a MachineConfig request whose object is `cfg`. */
#define MC_CFG(cfg)                                                                                \
    REQ "\"resource\":{\"group\":\"machineconfiguration.openshift.io\",\"resource\":"              \
        "\"machineconfigs\"},\"object\":{\"spec\":{\"config\":" cfg "}}}}"
#define DROPIN(name)                                                                               \
    "{\"path\":\"/etc/crio/crio.conf.d/" name "\",\"contents\":{\"source\":\"data:,\"}}"
#define OTHER(name) "{\"path\":\"/etc/" name "\",\"contents\":{\"source\":\"data:,x\"}}"

/* Both readers give `body` the reduced spec.config whose JSON is `want`
 * (NULL: no config member). */
static void check_config(const char *name, const char *body, const char *want)
{
    size_t len = strlen(body);
    check_both(name, body, len, OSW_OK);
    json_t *w =
        want ? json_loads(want, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL)
             : NULL;
    if (want && !w)
        fail_msg("%s: bad expectation", name);
    for (int i = 0; i < 2; i++) {
        struct osw_review r;
        enum osw_err err = i == 0 ? osw_review_decode_fast(body, len, &r, NULL)
                                  : osw_review_decode_jansson(body, len, &r, NULL);
        assert_int_equal(err, OSW_OK);
        const json_t *got = json_object_get(json_object_get(r.object_tree, "spec"), "config");
        if (!(w ? got && json_equal(got, w) : !got)) {
            char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            fail_msg("%s: %s reader kept %s, want %s", name, i ? "jansson" : "fast",
                     g ? g : "nothing", want ? want : "nothing");
        }
        osw_review_release(&r);
    }
    json_decref(w);
}

/* The reduced spec.config keeps exactly what the drop-in extract reads:
 * every shape that makes a MachineConfig undecodable as a whole, and the
 * drop-in entries; other files are dropped. */
static void test_config_reduced(void **state)
{
    (void)state;
    /* config: absent, null, not an object. */
    check_config("no config",
                 REQ "\"resource\":{\"group\":\"machineconfiguration.openshift.io\","
                     "\"resource\":\"machineconfigs\"},\"object\":{\"spec\":{}}}}",
                 NULL);
    check_config("config null", MC_CFG("null"), "null");
    check_config("config a list", MC_CFG("[1,{\"storage\":{}}]"), "[1,{\"storage\":{}}]");
    check_config("config a string", MC_CFG("\"x\""), "\"x\"");
    check_config("config without storage", MC_CFG("{\"ignition\":{\"version\":\"3.4.0\"}}"), "{}");
    /* storage: null, not an object, duplicates. */
    check_config("storage null", MC_CFG("{\"ignition\":{},\"storage\":null}"),
                 "{\"storage\":null}");
    check_config("storage a list", MC_CFG("{\"storage\":[" OTHER("a") "]}"),
                 "{\"storage\":[" OTHER("a") "]}");
    check_config("storage without files", MC_CFG("{\"storage\":{\"directories\":[]}}"),
                 "{\"storage\":{}}");
    check_config("storage last wins",
                 MC_CFG("{\"storage\":{\"files\":[" DROPIN("a") "]},\"storage\":{\"files\":[]}}"),
                 "{\"storage\":{\"files\":[]}}");
    /* files: null, not a list, duplicates. */
    check_config("files null", MC_CFG("{\"storage\":{\"files\":null}}"),
                 "{\"storage\":{\"files\":null}}");
    check_config("files an object", MC_CFG("{\"storage\":{\"files\":{\"a\":" OTHER("b") "}}}"),
                 "{\"storage\":{\"files\":{\"a\":" OTHER("b") "}}}");
    check_config("files last wins",
                 MC_CFG("{\"storage\":{\"files\":[" DROPIN("a") "],\"links\":[],\"files\":[" OTHER(
                     "b") "," DROPIN("c") "]}}"),
                 "{\"storage\":{\"files\":[" DROPIN("c") "]}}");
    /* entries: not an object, no path, a path that is not a string. */
    check_config(
        "entries not objects",
        MC_CFG("{\"storage\":{\"files\":[" OTHER("a") ",1,null,\"/etc/crio/crio.conf.d/x\",[]]}}"),
        "{\"storage\":{\"files\":[1,null,\"/etc/crio/crio.conf.d/x\",[]]}}");
    check_config(
        "entry without path",
        MC_CFG("{\"storage\":{\"files\":[" OTHER("a") ",{\"contents\":{}}," OTHER("b") "]}}"),
        "{\"storage\":{\"files\":[{\"contents\":{}}]}}");
    check_config("entry path not a string",
                 MC_CFG("{\"storage\":{\"files\":[{\"path\":null},{\"path\":[\"/etc/x\"]}]}}"),
                 "{\"storage\":{\"files\":[{\"path\":null},{\"path\":[\"/etc/x\"]}]}}");
    check_config("entry last path wins",
                 MC_CFG("{\"storage\":{\"files\":[{\"path\":\"/etc/crio/crio.conf.d/a\",\"path\":"
                        "\"/etc/b\"},{\"path\":\"/etc/b\",\"path\":\"/etc/crio/crio.conf.d/c\"},"
                        "{\"path\":\"/etc/b\",\"path\":7}]}}"),
                 "{\"storage\":{\"files\":[{\"path\":\"/etc/crio/crio.conf.d/c\"},{\"path\":7}]}}");
    /* drop-ins: kept whole, with contents, append and whatever else; the
     * prefix is bytes (escaped or not), nothing normalised. */
    check_config(
        "drop-ins kept whole",
        MC_CFG("{\"ignition\":{\"version\":\"2.2.0\"},\"storage\":{\"files\":["
               "{\"filesystem\":\"root\",\"path\":\"/etc/crio/crio.conf.d/10\",\"append\":true,"
               "\"contents\":{\"source\":\"data:,a\",\"compression\":\"gzip\"},\"mode\":420},"
               "{\"path\":\"/etc/crio/crio.conf.d/\",\"contents\":7}," OTHER(
                   "crio/crio.conf.d") ","
                                       "{\"path\":\"/etc/crio/crio.conf.d\"},{\"path\":\"/etc/crio/"
                                       "crio.conf.d/../x\"},"
                                       "{\"path\":\"/etc/CRIO/crio.conf.d/x\"},{\"path\":\"//etc/"
                                       "crio/crio.conf.d/x\"}]}}"),
        "{\"storage\":{\"files\":["
        "{\"filesystem\":\"root\",\"path\":\"/etc/crio/crio.conf.d/10\",\"append\":true,"
        "\"contents\":{\"source\":\"data:,a\",\"compression\":\"gzip\"},\"mode\":420},"
        "{\"path\":\"/etc/crio/crio.conf.d/\",\"contents\":7},"
        "{\"path\":\"/etc/crio/crio.conf.d/../x\"}]}}");
    check_config(
        "escaped paths",
        MC_CFG("{\"storage\":{\"files\":[{\"p\\u0061th\":\"\\/etc\\/crio\\/crio.conf.d\\/a\"},"
               "{\"path\":\"/etc/crio/crio.conf.\\u0064/\\u0000\"},"
               "{\"path\":\"/etc/crio/crio.conf.d\\u002F\"},"
               "{\"path\":\"/etc/crio/crio.conf.d\\\\\"},"
               "{\"path\":\"\\u00e9tc/crio/crio.conf.d/a\"}]}}"),
        "{\"storage\":{\"files\":[{\"path\":\"/etc/crio/crio.conf.d/a\"},"
        "{\"path\":\"/etc/crio/crio.conf.d/\\u0000\"},{\"path\":\"/etc/crio/crio.conf.d/\"}]}}");
    /* More than 256 drop-ins: all kept, so the extract still counts them. */
    enum { N = 300, ITEM = 160 };
    char *big = malloc(N * ITEM + 512), *want = malloc(N * ITEM + 512);
    assert_non_null(big);
    assert_non_null(want);
    static const char head[] = MC_CFG("{\"storage\":{\"files\":[");
    /* The head without the four closing braces of the template. */
    size_t o = (size_t)snprintf(big, sizeof(head), "%.*s", (int)(sizeof(head) - 5), head), w = 0;
    w += (size_t)snprintf(want, 64, "{\"storage\":{\"files\":[");
    for (int i = 0; i < N; i++) {
        o += (size_t)snprintf(big + o, ITEM, "%s" DROPIN("%03d") "," OTHER("%03d"), i ? "," : "", i,
                              i);
        w += (size_t)snprintf(want + w, ITEM, "%s" DROPIN("%03d"), i ? "," : "", i);
    }
    snprintf(big + o, 16, "]}}}}}}");
    snprintf(want + w, 16, "]}}");
    check_config("300 drop-ins", big, want);
    free(big);
    free(want);
    /* The same reduction on oldObject, and a later config replaces. */
    static const char old[] =
        REQ "\"resource\":{\"group\":\"machineconfiguration.openshift.io\",\"resource\":"
            "\"machineconfigs\"},\"object\":{\"spec\":{\"config\":{\"storage\":{\"files\":"
            "[" DROPIN("a") "]}},\"config\":{\"storage\":{\"files\":[" OTHER(
                "b") "]}}}},"
                     "\"oldObject\":{\"spec\":{\"config\":{\"storage\":{\"files\":[" OTHER(
                         "c") "," DROPIN("d") "]}}}}}}";
    check_config("config last wins", old, "{\"storage\":{\"files\":[]}}");
    struct osw_review r;
    assert_int_equal(osw_review_decode_fast(old, sizeof(old) - 1, &r, NULL), OSW_OK);
    json_t *wo =
        json_loads("{\"storage\":{\"files\":[" DROPIN("d") "]}}", JSON_DECODE_INT_AS_REAL, NULL);
    assert_true(
        json_equal(json_object_get(json_object_get(r.old_object_tree, "spec"), "config"), wo));
    json_decref(wo);
    osw_review_release(&r);
}

static void test_duplicate_values(void **state)
{
    (void)state;
    struct osw_review r;
    static const char dup_meta[] =
        REQ "\"object\":{\"metadata\":{\"name\":\"a\",\"annotations\":{\"x\":1}},"
            "\"spec\":{\"osImageStream\":{\"name\":\"s\"}},\"metadata\":7}}}";
    check_both("dup metadata", dup_meta, sizeof(dup_meta) - 1, OSW_OK);
    assert_int_equal(osw_review_decode_fast(dup_meta, sizeof(dup_meta) - 1, &r, NULL), OSW_OK);
    assert_int_equal(r.object.metadata_type, OSW_JT_NUMBER);
    assert_int_equal(r.object.name.type, OSW_JT_ABSENT);
    assert_int_equal(r.object.annotations_type, OSW_JT_ABSENT);
    assert_true(r.object.annotations_string_map);
    /* A later metadata does not touch spec. */
    assert_field(&r.object.stream_name, OSW_JT_STRING, "s", 1);
    osw_review_release(&r);

    static const char map_ok[] = AT_ANN("1,\"k\":\"x\"");
    check_both("annotations last string", map_ok, sizeof(map_ok) - 1, OSW_OK);
    assert_int_equal(osw_review_decode_fast(map_ok, sizeof(map_ok) - 1, &r, NULL), OSW_OK);
    assert_true(r.object.annotations_string_map);
    osw_review_release(&r);

    static const char map_bad[] = AT_ANN("\"x\",\"k\":{}");
    check_both("annotations last object", map_bad, sizeof(map_bad) - 1, OSW_OK);
    assert_int_equal(osw_review_decode_fast(map_bad, sizeof(map_bad) - 1, &r, NULL), OSW_OK);
    assert_false(r.object.annotations_string_map);
    osw_review_release(&r);

    static const char own_key[] =
        REQ "\"object\":{\"metadata\":{\"annotations\":{"
            "\"osimagestream.machineconfiguration.openshift.io/os-image\":\"a\","
            "\"osimagestream.machineconfiguration.openshift.io/os-image\":null}}}}}";
    check_both("own annotation last null", own_key, sizeof(own_key) - 1, OSW_OK);
    assert_int_equal(osw_review_decode_fast(own_key, sizeof(own_key) - 1, &r, NULL), OSW_OK);
    assert_int_equal(r.object.annotations[OSW_ANNOT_OS_IMAGE].type, OSW_JT_NULL);
    assert_false(r.object.annotations_string_map);
    osw_review_release(&r);

    static const char dup_req[] = ENV "\"request\":{\"uid\":\"a\",\"operation\":\"CREATE\"},"
                                      "\"request\":{\"uid\":\"b\"}}";
    check_both("dup request", dup_req, sizeof(dup_req) - 1, OSW_OK);
    assert_int_equal(osw_review_decode_fast(dup_req, sizeof(dup_req) - 1, &r, NULL), OSW_OK);
    assert_true(osw_str_eq(r.uid, S("b")));
    assert_int_equal(r.operation.type, OSW_JT_ABSENT);
    osw_review_release(&r);

    /* request.userInfo.username: the last userInfo wins, and within it the
     * last username; a userInfo that is not an object leaves it absent. */
    static const char dup_user[] =
        REQ "\"userInfo\":{\"username\":\"a\"},"
            "\"userInfo\":{\"username\":\"b\",\"extra\":{\"k\":[\"v\"]},\"username\":\"c\"}}}";
    check_both("dup userInfo", dup_user, sizeof(dup_user) - 1, OSW_OK);
    assert_int_equal(osw_review_decode_fast(dup_user, sizeof(dup_user) - 1, &r, NULL), OSW_OK);
    assert_field(&r.username, OSW_JT_STRING, "c", 1);
    osw_review_release(&r);

    static const char user_gone[] = REQ "\"userInfo\":{\"username\":\"a\"},\"userInfo\":[\"x\"]}}";
    check_both("userInfo not an object", user_gone, sizeof(user_gone) - 1, OSW_OK);
    assert_int_equal(osw_review_decode_fast(user_gone, sizeof(user_gone) - 1, &r, NULL), OSW_OK);
    assert_int_equal(r.username.type, OSW_JT_ABSENT);
    osw_review_release(&r);

    static const char user_num[] = REQ "\"userInfo\":{\"username\":7}}}";
    check_both("username a number", user_num, sizeof(user_num) - 1, OSW_OK);
    assert_int_equal(osw_review_decode_fast(user_num, sizeof(user_num) - 1, &r, NULL), OSW_OK);
    assert_int_equal(r.username.type, OSW_JT_NUMBER);
    osw_review_release(&r);
}

static void test_wrong_types(void **state)
{
    (void)state;
    static const char body[] = REQ "\"operation\":1,\"kind\":\"k\",\"resource\":{\"group\":[]},"
                                   "\"object\":{\"metadata\":{\"annotations\":[]},\"spec\":"
                                   "{\"osImageStream\":\"x\"}},\"oldObject\":true}}";
    check_both("wrong types", body, sizeof(body) - 1, OSW_OK);
    struct osw_review r;
    assert_int_equal(osw_review_decode_fast(body, sizeof(body) - 1, &r, NULL), OSW_OK);
    assert_int_equal(r.operation.type, OSW_JT_NUMBER);
    assert_int_equal(r.kind_type, OSW_JT_STRING);
    assert_int_equal(r.kind_kind.type, OSW_JT_ABSENT);
    assert_int_equal(r.resource_group.type, OSW_JT_ARRAY);
    assert_int_equal(r.object.annotations_type, OSW_JT_ARRAY);
    assert_true(r.object.annotations_string_map);
    assert_int_equal(r.object.stream_type, OSW_JT_STRING);
    assert_int_equal(r.object.stream_name.type, OSW_JT_ABSENT);
    assert_int_equal(r.old_object.type, OSW_JT_BOOL);
    assert_int_equal(r.old_object.metadata_type, OSW_JT_ABSENT);
    osw_review_release(&r);
}

static void test_null_body(void **state)
{
    (void)state;
    struct osw_review r;
    struct osw_errbuf eb;
    assert_int_equal(osw_review_decode_fast(NULL, 0, &r, &eb), OSW_EBADJSON);
    assert_null(r.storage);
}

/* A jansson allocation failure in the rare annotations check is ENOMEM,
 * never a 400 or a wrong map verdict. */
static int fail_after;
static void *failing_malloc(size_t n)
{
    return fail_after-- > 0 ? malloc(n) : NULL;
}

static void test_annotations_check_oom(void **state)
{
    (void)state;
    static const char body[] = AT_ANN("1,\"k\":\"x\"");
    bool saw_nomem = false, saw_ok = false;
    for (int n = 0; n < 64 && !saw_ok; n++) {
        struct osw_review r;
        /* Let the fast reader's own allocations (none here) through and
         * fail jansson's n-th one. */
        json_set_alloc_funcs(failing_malloc, free);
        fail_after = n;
        enum osw_err err = osw_review_decode_fast(body, sizeof(body) - 1, &r, NULL);
        json_set_alloc_funcs(malloc, free);
        if (err == OSW_ENOMEM) {
            saw_nomem = true;
            assert_null(r.storage);
        } else {
            assert_int_equal(err, OSW_OK);
            assert_true(r.object.annotations_string_map);
            saw_ok = true;
        }
        osw_review_release(&r);
    }
    assert_true(saw_nomem);
    assert_true(saw_ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_table),     cmocka_unit_test(test_table_matches_json_loadb),
        cmocka_unit_test(test_depth_limit),    cmocka_unit_test(test_fixture_values),
        cmocka_unit_test(test_escaped_values), cmocka_unit_test(test_duplicate_values),
        cmocka_unit_test(test_wrong_types),    cmocka_unit_test(test_null_body),
        cmocka_unit_test(test_parity_fields),  cmocka_unit_test(test_annotations_check_oom),
        cmocka_unit_test(test_config_reduced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TOML reader, by table: every spelling of crio.runtime.default_runtime
 * the contract lists and the path failures it names; then documents that
 * set the key correctly but break TOML v1.0.0 elsewhere (each must be
 * undecodable) and valid documents full of other value types (each must
 * still give the value). Depth and size bounds close the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "osw/toml.h"

static const char *const PATH[] = {"crio", "runtime", "default_runtime"};

static enum osw_toml_found lookup(const char *doc, size_t len, struct osw_buf *value)
{
    enum osw_toml_found found = OSW_TOML_MISSING;
    osw_buf_reset(value);
    assert_int_equal(osw_toml_lookup(doc, len, PATH, 3, &found, value), OSW_OK);
    return found;
}

struct tcase {
    const char *doc;
    enum osw_toml_found want;
    const char *value; /* for OSW_TOML_STRING */
};

#define S(doc, v)                                                                                  \
    {                                                                                              \
        doc, OSW_TOML_STRING, v                                                                    \
    }
#define M(doc)                                                                                     \
    {                                                                                              \
        doc, OSW_TOML_MISSING, NULL                                                                \
    }
#define U(doc)                                                                                     \
    {                                                                                              \
        doc, OSW_TOML_UNDECODABLE, NULL                                                            \
    }
#define RT "[crio.runtime]\ndefault_runtime = "

static const struct tcase spellings[] = {
    S(RT "\"runc\"\n", "runc"),
    S("[crio]\nruntime.default_runtime = \"runc\"", "runc"),
    S("crio.runtime.default_runtime = \"runc\"", "runc"),
    S("crio = { runtime = { default_runtime = \"runc\" } }", "runc"),
    S("[crio]\nruntime = { default_runtime = 'runc' }", "runc"),
    S("crio.runtime = { default_runtime = \"runc\" }", "runc"),
    S("[CRIO.Runtime]\nDefault_Runtime = \"runc\"", "runc"),
    S("[\"crio\".'runtime']\n\"default_runtime\" = \"runc\"", "runc"),
    S("[ crio . runtime ]\n  default_runtime   =   \"runc\"   # why\n", "runc"),
    S("\xef\xbb\xbf" RT "\"runc\"", "runc"),
    S("[crio.runtime]\r\ndefault_runtime = \"runc\"\r\n", "runc"),
    S(RT "\"\"\"runc\"\"\"", "runc"),
    S(RT "\"\"\"\nrunc\"\"\"", "runc"),
    S(RT "'''runc'''", "runc"),
    S(RT "'''\r\nrunc'''", "runc"),
    S(RT "\"\\u0072un\\U00000063\"", "runc"),
    S(RT "\"\"\"\\\n   ru\\  \n\n  nc\"\"\"", "runc"),
    S(RT "\"crun\"", "crun"),
    S(RT "\"ru\\nc\"", "ru\nc"),
    S(RT "\"\"", ""),
    S(RT "\"runc\"\n[CRIO.runtime]\ndefault_runtime = \"runc\"", "runc"),
    S(RT "\"runc\"\n[crio.RUNTIME]\nother = 1", "runc"),
    S(RT "\"runc\"\nDEFAULT_RUNTIME = \"runc\"", "runc"),
    S(RT "\"runc\"\n[crio]\nx = 1", "runc"),
    S("[crio.runtime.runtimes.runc]\nruntime_root = \"/run/runc\"\n" RT "\"runc\"", "runc"),
    S("[crio]\nruntime.default_runtime = \"runc\"\n[crio.runtime.runtimes.runc]\nx = 1", "runc"),
    S("crio.runtime.default_runtime = \"runc\"\ncrio.runtime.other = 1\ncrio.api.x = 2", "runc"),
    M(""),
    M("# only a comment\n"),
    M("\n\n   \t\n"),
    M("[crio]\nlog_level = \"info\""),
    M("[crio.runtime]\nconmon = \"/usr/bin/conmon\""),
    M("[other]\ndefault_runtime = \"runc\""),
    M("[crio.runtimes]\ndefault_runtime = \"runc\""),
    M("crio_runtime.default_runtime = \"runc\""),
    M("default_runtime = \"runc\""),
    M("[crio.runtime.x]\ndefault_runtime = \"runc\""),
    M("[crio]\n[crio.runtime]"),
    U("[[crio]]\n[crio.runtime]\ndefault_runtime = \"runc\""),
    U("crio = 1"),
    U("crio = \"x\"\n"),
    U("Crio = []"),
    U("[crio]\nruntime = 1"),
    U("[crio]\nruntime = [ { default_runtime = \"runc\" } ]"),
    U("[[crio.runtime]]\ndefault_runtime = \"runc\""),
    U("[crio.runtime.default_runtime]"),
    U(RT "1"),
    U(RT "[\"runc\"]"),
    U(RT "true"),
    U(RT "{ name = \"runc\" }"),
    U(RT "1979-05-27"),
    U(RT "\"runc\"\n[CRIO.runtime]\ndefault_runtime = \"crun\""),
    U(RT "\"runc\"\nDefault_Runtime = \"crun\""),
    U(RT "\"\"\nDEFAULT_RUNTIME = \"runc\""),
    U("CRIO = 1\n" RT "\"runc\""),
    U(RT "\"runc\"\n[Crio]\nRuntime = 5"),
    U("crio.runtime.x = 1\n" RT "\"runc\""),
    U("crio = { runtime = { default_runtime = \"runc\" } }\n[CRIO.runtime]\ndefault_runtime = "
      "\"crun\""),
};

/* Each breaks TOML v1.0.0 after a correct default_runtime. */
static const char *const invalid[] = {
    "a = 1\na = 2",
    "[a]\n[a]",
    "[a]\nb = 1\n[a.b]",
    "a.b = 1\n[a]",
    "[a]\nb.c = 1\n[a.b]",
    "[a.b.c]\nz = 1\n[a]\nb.c.t = 1",
    "[a.b.c]\n[a]\nb.x = 1\n[a.b]",
    "a = {}\n[a]",
    "a = {}\n[a.b]",
    "a = { b = 1 }\na.c = 2",
    "a = [1]\n[[a]]",
    "a = []\n[a.b]",
    "[[a]]\n[a]",
    "[a]\n[[a]]",
    "a.b = 1\na.b.c = 2",
    "a = 1\na.b = 2",
    "a = { b = 1, b = 2 }",
    "a = { b.c = 1, b = 2 }",
    "a = { b = { c = 1 }, b.d = 2 }",
    "a = [ { b = 1, b = 2 } ]",
    "a = { b = 1, }",
    "a = { b = 1\n}",
    "a = {\nb = 1 }",
    "a = { # c\n}",
    "a = [1,,2]",
    "a = [,]",
    "a = [1 2]",
    "a = [1",
    "a = 1 b = 2",
    "a = ",
    "a =",
    "= 1",
    "a",
    "a b = 1",
    "a.=1",
    ".a=1",
    "a..b=1",
    "\"\"\"k\"\"\" = 1",
    "a = \"x",
    "a = \"x\ny\"",
    "a = \"\\e\"",
    "a = \"\\x41\"",
    "a = \"\\uD800\"",
    "a = \"\\U00110000\"",
    "a = \"\\u12\"",
    "a = \"\\ \"",
    "a = \"tab\\\tx\"",
    "a = 'x\ny'",
    "a = '''x",
    "a = \"\"\"x\"\"\"\"\"\"",
    "a = \"\"\"\\   x\"\"\"",
    "a = \"x\x01\"",
    "a = 'x\x7f'",
    "a = \"\"\"x\ry\"\"\"",
    "a = 01",
    "a = 00",
    "a = 0_0",
    "a = 1__0",
    "a = 1_",
    "a = _1",
    "a = 0x",
    "a = +0x1",
    "a = 0X1",
    "a = 0x_1",
    "a = 0b102",
    "a = 0o8",
    "a = 1.",
    "a = .1",
    "a = 1e",
    "a = 1.e5",
    "a = 1e_5",
    "a = 1._5",
    "a = 01.5",
    "a = 9223372036854775808",
    "a = -9223372036854775809",
    "a = 0x8000000000000000",
    "a = 0xFFFFFFFFFFFFFFFFF",
    "a = 1e309",
    "a = 2e308",
    "a = 1.8e308",
    "a = -1.7976931348623159e308",
    "a = 179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017"
    "977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273"
    "854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704"
    "342711559699508093042880177904174497792.0",
    "a = infinity",
    "a = Inf",
    "a = True",
    "a = tru",
    "a = truex",
    "a = 1979-02-29",
    "a = 1900-02-29",
    "a = 1979-04-31",
    "a = 1979-13-01",
    "a = 1979-00-01",
    "a = 1979-05-00",
    "a = 1979-05-27T25:00:00",
    "a = 1979-05-27T07:32",
    "a = 1979-05-27T07:60:00",
    "a = 1979-05-27T07:32:60",
    "a = 1979-05-27T07:32:00+24:00",
    "a = 1979-05-27T07:32:00+07",
    "a = 1979-05-27T07:32:00.",
    "a = 1979-05-27T07:32:00Zx",
    "a = 1979-05-27X07:32:00",
    "a = 1979-5-27",
    "a = 07:32",
    "a = 7:32:00",
    "a = 07:32:00Z",
    "# a\x01b",
    "# a\x7f",
    "a = 1\rb = 2",
    "# \xff",
    "a = \"\xc0\x80\"",
    "a = \"\xed\xa0\x80\"",
    "a = \"\xf4\x90\x80\x80\"",
    "a = \"\xe2\x82\"",
    "a = 1\n\xef\xbb\xbf"
    "b = 2",
    "[a]]",
    "[[a]",
    "[ [a]]",
    "[[a] ]",
    "[]",
    "[a.]",
    "[.a]",
    "[a..b]",
    "[a] b = 1",
    "[a\nb]",
    "\xc3\xa9 = 1",
    "[crio.runtime]",
};

/* Each is valid TOML v1.0.0 and keeps the value. */
static const char *const valid[] = {
    "a = 1\nA = 2",
    "a = 1e308\nb = 1.7976931348623157e308\nc = -1.7976931348623157e308\nd = 1e-400",
    "a = 9223372036854775807\nb = -9223372036854775808\nc = 0x7FFFFFFFFFFFFFFF",
    "a = 0o777\nb = 0b0001\nc = 0x00000000000000000001\nd = 0xdead_BEEF",
    "a = +1\nb = -0\nc = +0.0\nd = -0.0\ne = 6.626e-34\nf = 224_617.445_991_228",
    "a = 1E+05\nb = 1e05\nc = 1e-0_5\nd = 3.0e+1_0",
    "a = inf\nb = +inf\nc = -inf\nd = nan\ne = +nan\nf = -nan",
    "a = true\nb = false",
    "a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00.999999-07:00\nc = 1979-05-27 07:32:00",
    "a = 1979-05-27t07:32:00z\nb = 2000-02-29\nc = 23:59:59.999999999999\nd = 00:00:00",
    "a = 1979-05-27 # a date, then a comment",
    "a = 1979-05-27T07:32:00\nb = 1979-05-27T07:32:00.5+14:00",
    "a = [ ]\nb = [[1, 2], [\"a\"], []]\nc = [ { x = 1 }, { x = 2 } ]\nd = [1,]",
    "a = [\n  1, # one\n  # nothing\n  2,\n]\n",
    "a = [\"x\", 1, 1.5, true, 1979-05-27, { y = [ 1 ] }]",
    "a = {}\nb = { c.d = 1, c.e = 2 }\nf = { g = { h = 1 } }",
    "[a.b.c]\n[a]\n[a.b]",
    "[a]\nb.c = 1\nb.d = 2\n[a.b.e]",
    "[[a]]\nb = 1\n[a.c]\nd = 1\n[[a]]\nb = 2\n[a.c]\nd = 2",
    "[[a.b]]\n[[a.b]]\n[a]\nx = 1",
    "\"\" = 1\n\"a b\" = 2\n'c\"d' = 3\n\"\\u00e9\" = 4\n1234 = 5\na-b_c = 6\ntrue = 7",
    "[a.\"b.c\"]\nx = 1\n[a.b]\nc = 1",
    "a = \"\"\"\nline1\nline2\n\"\"\"\nb = '''x''y'''\nc = \"\"\"x\"\"y\"\"\"\nd = "
    "\"\"\"x\"\"\"\"\"",
    "a = '''x'''''\nb = ''''''\nc = \"\"\"\"\"\"",
    "a = \"tab\there\"\nb = \"\\u0000\"\nc = 'C:\\path'\nd = \"\\\"\\\\\\b\\t\\n\\f\\r\"",
    "# comment with \xc3\xa9 and \t a tab\n",
    "a = \"\xf0\x9f\x98\x80\"",
    "a = 1",
    "   \n\t\n",
    "a = \"\"\"\\\r\n  x\"\"\"",
};

static void test_spellings(void **state)
{
    (void)state;
    struct osw_buf v = OSW_BUF_INIT;
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        const struct tcase *c = &spellings[i];
        enum osw_toml_found got = lookup(c->doc, strlen(c->doc), &v);
        if (got != c->want)
            fail_msg("spelling %zu:\n%s\ngot %d, want %d", i, c->doc, got, c->want);
        if (c->want == OSW_TOML_STRING &&
            (v.len != strlen(c->value) || (v.len && memcmp(v.data, c->value, v.len) != 0)))
            fail_msg("spelling %zu:\n%s\nwrong value", i, c->doc);
    }
    osw_buf_free(&v);
}

/* `body` at the root after a correct dotted key, or before a correct
 * table: the answer is the same. */
static enum osw_toml_found with_runc(const char *body, bool after, struct osw_buf *v)
{
    char doc[2048];
    int n = after ? snprintf(doc, sizeof doc, "crio.runtime.default_runtime = \"runc\"\n%s", body)
                  : snprintf(doc, sizeof doc, "%s\n" RT "\"runc\"\n", body);
    assert_true(n > 0 && (size_t)n < sizeof doc);
    /* strlen would stop at an embedded NUL: count the bytes. */
    size_t len = (size_t)n;
    return lookup(doc, len, v);
}

static void test_invalid_documents(void **state)
{
    (void)state;
    struct osw_buf v = OSW_BUF_INIT;
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        if (with_runc(invalid[i], true, &v) != OSW_TOML_UNDECODABLE)
            fail_msg("invalid %zu accepted after the table:\n%s", i, invalid[i]);
    }
    /* Those that end in a complete line also fail in front of it. */
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        if (strcmp(invalid[i], "[crio.runtime]") == 0)
            continue; /* in front it is the table itself */
        if (with_runc(invalid[i], false, &v) != OSW_TOML_UNDECODABLE)
            fail_msg("invalid %zu accepted before the table:\n%s", i, invalid[i]);
    }
    /* NUL bytes count: "a = 1\0" with its NUL. */
    static const char nul[] = RT "\"runc\"\na = 1\0";
    assert_int_equal(lookup(nul, sizeof nul - 1, &v), OSW_TOML_UNDECODABLE);
    osw_buf_free(&v);
}

static void test_valid_documents(void **state)
{
    (void)state;
    struct osw_buf v = OSW_BUF_INIT;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        if (with_runc(valid[i], true, &v) != OSW_TOML_STRING || v.len != 4 ||
            memcmp(v.data, "runc", 4) != 0)
            fail_msg("valid %zu refused after the table:\n%s", i, valid[i]);
        if (with_runc(valid[i], false, &v) != OSW_TOML_STRING)
            fail_msg("valid %zu refused before the table:\n%s", i, valid[i]);
    }
    osw_buf_free(&v);
}

/* A real CRI-O drop-in, as the MCO's templates and administrators write it. */
static void test_realistic_dropin(void **state)
{
    (void)state;
    static const char doc[] = "[crio]\n"
                              "log_dir = \"/var/log/crio/pods\"\n"
                              "[crio.api]\n"
                              "listen = \"/var/run/crio/crio.sock\"\n"
                              "stream_port = \"0\"\n"
                              "grpc_max_send_msg_size = 16_777_216\n"
                              "[crio.runtime]\n"
                              "selinux = true\n"
                              "conmon_env = [\n"
                              "    \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\",\n"
                              "]\n"
                              "default_ulimits = [\n"
                              "  # no limits\n"
                              "]\n"
                              "pids_limit = -1\n"
                              "default_runtime = \"crun\"\n"
                              "[crio.runtime.runtimes.crun]\n"
                              "runtime_path = \"/usr/bin/crun\"\n"
                              "runtime_root = \"/run/crun\"\n"
                              "allowed_annotations = [ \"io.containers.trace-syscall\" ]\n"
                              "[[crio.runtime.workloads_list]]\n"
                              "x = 1\n"
                              "[crio.image]\n"
                              "global_auth_file = \"/var/lib/kubelet/config.json\"\n"
                              "pause_image = \"quay.io/openshift/pause:latest\"\n"
                              "[crio.network]\n"
                              "network_dir = \"/etc/kubernetes/cni/net.d/\"\n"
                              "plugin_dirs = [\"/var/lib/cni/bin\", \"/usr/libexec/cni\"]\n"
                              "[crio.metrics]\n"
                              "enable_metrics = true\n"
                              "metrics_port = 9537\n";
    struct osw_buf v = OSW_BUF_INIT;
    assert_int_equal(lookup(doc, sizeof doc - 1, &v), OSW_TOML_STRING);
    assert_int_equal(v.len, 4);
    assert_memory_equal(v.data, "crun", 4);
    osw_buf_free(&v);
}

static void nest(struct osw_buf *b, size_t depth, char open, char close, const char *inner)
{
    osw_buf_reset(b);
    assert_int_equal(osw_buf_append_cstr(b, RT "\"runc\"\nx = "), OSW_OK);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(osw_buf_append(b, open == '{' ? "{a=" : "[", open == '{' ? 3 : 1), OSW_OK);
    assert_int_equal(osw_buf_append_cstr(b, inner), OSW_OK);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(osw_buf_append(b, &close, 1), OSW_OK);
}

static void test_depth_bound(void **state)
{
    (void)state;
    struct osw_buf doc = OSW_BUF_INIT, v = OSW_BUF_INIT;
    nest(&doc, OSW_TOML_MAX_DEPTH, '[', ']', "");
    assert_int_equal(lookup(doc.data, doc.len, &v), OSW_TOML_STRING);
    nest(&doc, OSW_TOML_MAX_DEPTH + 1, '[', ']', "");
    assert_int_equal(lookup(doc.data, doc.len, &v), OSW_TOML_UNDECODABLE);
    nest(&doc, OSW_TOML_MAX_DEPTH, '{', '}', "1");
    assert_int_equal(lookup(doc.data, doc.len, &v), OSW_TOML_STRING);
    nest(&doc, OSW_TOML_MAX_DEPTH + 1, '{', '}', "1");
    assert_int_equal(lookup(doc.data, doc.len, &v), OSW_TOML_UNDECODABLE);
    /* Far deeper than any stack would take, without recursion trouble. */
    nest(&doc, 200000, '[', ']', "");
    assert_int_equal(lookup(doc.data, doc.len, &v), OSW_TOML_UNDECODABLE);
    osw_buf_free(&doc);
    osw_buf_free(&v);
}

/* A megabyte of distinct keys in one table (the hash keeps this linear),
 * then the same with one duplicate at the very end. */
static void test_many_keys(void **state)
{
    (void)state;
    struct osw_buf doc = OSW_BUF_INIT, v = OSW_BUF_INIT;
    assert_int_equal(osw_buf_append_cstr(&doc, RT "\"runc\"\n"), OSW_OK);
    for (unsigned i = 0; doc.len < (1u << 20) - 16; i++)
        assert_int_equal(osw_buf_printf(&doc, "k%u=%u\n", i, i), OSW_OK);
    assert_int_equal(lookup(doc.data, doc.len, &v), OSW_TOML_STRING);
    assert_int_equal(osw_buf_append_cstr(&doc, "k7=1\n"), OSW_OK);
    assert_int_equal(lookup(doc.data, doc.len, &v), OSW_TOML_UNDECODABLE);
    osw_buf_free(&doc);
    osw_buf_free(&v);
}

static void test_arguments(void **state)
{
    (void)state;
    struct osw_buf v = OSW_BUF_INIT;
    enum osw_toml_found found = OSW_TOML_STRING;
    assert_int_equal(osw_toml_lookup(NULL, 0, PATH, 3, &found, &v), OSW_OK);
    assert_int_equal(found, OSW_TOML_UNDECODABLE);
    assert_int_equal(osw_toml_lookup("a = 1", 5, PATH, 0, &found, &v), OSW_OK);
    assert_int_equal(found, OSW_TOML_UNDECODABLE);
    /* A one-key path at the root. */
    static const char *const one[] = {"A"};
    assert_int_equal(osw_toml_lookup("a = 'x'", 7, one, 1, &found, &v), OSW_OK);
    assert_int_equal(found, OSW_TOML_STRING);
    assert_int_equal(v.len, 1);
    osw_buf_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings),       cmocka_unit_test(test_invalid_documents),
        cmocka_unit_test(test_valid_documents), cmocka_unit_test(test_realistic_dropin),
        cmocka_unit_test(test_depth_bound),     cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

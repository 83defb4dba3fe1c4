/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flag parsing: both spellings, lists, booleans, durations, sizes, the
 * environment fallback and its precedence, and every error path (exit 2).
 * Also --listen parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/flags.h"
#include "cli/listen.h"

struct settings {
    const char *name;
    struct osw_strlist list;
    bool force;
    long long delay;
    unsigned long long size;
    const char *mode;
};

static const char *fake_env(const char *name)
{
    if (strcmp(name, "OSSTREAM_NAME") == 0)
        return "from-env";
    if (strcmp(name, "OSSTREAM_DELAY") == 0)
        return "3s";
    return NULL;
}

static const char *bad_env(const char *name)
{
    return strcmp(name, "OSSTREAM_DELAY") == 0 ? "soon" : NULL;
}

static const char *bad_choice_env(const char *name)
{
    return strcmp(name, "OSSTREAM_MODE") == 0 ? "fastest" : NULL;
}

static enum osw_flags_result parse(struct settings *s, struct osw_strlist *pos, osw_getenv_fn env,
                                   char *errtext, size_t cap, int argc, const char *const *argv)
{
    const struct osw_flag flags[] = {
        {"name", OSW_FLAG_STRING, &s->name, "N", "a name", true},
        {"item", OSW_FLAG_LIST, &s->list, "I", "repeatable", false},
        {"force", OSW_FLAG_BOOL, &s->force, NULL, "force", false},
        {"delay", OSW_FLAG_DURATION, &s->delay, "D", "a duration", true},
        {"size", OSW_FLAG_SIZE, &s->size, "N", "bytes", false},
        {"mode", OSW_FLAG_CHOICE, &s->mode, "fast|slow", "a choice", true},
    };
    const struct osw_command_spec spec = {
        "t", "t [flags] [ARG]", "test", flags, 6, 1, .short_aliases = "x=nothing f=force"};
    FILE *out = tmpfile(), *err = tmpfile();
    enum osw_flags_result r =
        osw_flags_parse(&spec, argc, (char **)(uintptr_t)argv, pos, env, out, err);
    rewind(err);
    size_t n = fread(errtext, 1, cap - 1, err);
    errtext[n] = '\0';
    fclose(out);
    fclose(err);
    return r;
}

#define ARGV(...) ((const char *const[]){"t", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((const char *[]){"t", __VA_ARGS__}) / sizeof(char *)))

static void test_spellings_and_kinds(void **state)
{
    (void)state;
    struct settings s = {0};
    struct osw_strlist pos = {0};
    char e[512];
    assert_int_equal(parse(&s, &pos, NULL, e, sizeof e,
                           ARGC("--name=a", "--item", "x", "--item=y", "--force", "--delay",
                                "1m30s", "--size=42", "file"),
                           ARGV("--name=a", "--item", "x", "--item=y", "--force", "--delay",
                                "1m30s", "--size=42", "file")),
                     OSW_FLAGS_OK);
    assert_string_equal(s.name, "a");
    assert_int_equal(s.list.len, 2);
    assert_string_equal(s.list.items[1], "y");
    assert_true(s.force);
    assert_int_equal(s.delay, 90000);
    assert_int_equal(s.size, 42);
    assert_int_equal(pos.len, 1);
    assert_string_equal(pos.items[0], "file");
    osw_strlist_free(&s.list);
    osw_strlist_free(&pos);
}

static void test_env_fallback_and_precedence(void **state)
{
    (void)state;
    struct settings s = {0};
    struct osw_strlist pos = {0};
    char e[512];
    assert_int_equal(parse(&s, &pos, fake_env, e, sizeof e, 1, ARGV(NULL)), OSW_FLAGS_OK);
    assert_string_equal(s.name, "from-env");
    assert_int_equal(s.delay, 3000);
    memset(&s, 0, sizeof s);
    assert_int_equal(
        parse(&s, &pos, fake_env, e, sizeof e, ARGC("--name", "flag"), ARGV("--name", "flag")),
        OSW_FLAGS_OK);
    assert_string_equal(s.name, "flag"); /* the flag wins */
    assert_int_equal(parse(&s, &pos, bad_env, e, sizeof e, 1, ARGV(NULL)), OSW_FLAGS_ERROR);
    /* The variable is named, not the flag, with the form expected. */
    assert_non_null(strstr(e, "OSSTREAM_DELAY: \"soon\" is not a duration; use a number and a "
                              "unit, e.g. 5s"));
    assert_null(strstr(e, "--delay"));
    assert_int_equal(parse(&s, &pos, bad_choice_env, e, sizeof e, 1, ARGV(NULL)), OSW_FLAGS_ERROR);
    assert_non_null(strstr(e, "OSSTREAM_MODE: \"fastest\" is not one of fast|slow"));
    osw_strlist_free(&pos);
}

static void test_errors_are_one_line(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"--nope", NULL, "unknown flag --nope"},
        {"-x", NULL, "unknown flag -x"},
        {"--name", NULL, "needs a value"},
        {"--delay", "forever", "--delay: \"forever\" is not a duration"},
        {"--delay", "5", "--delay: \"5\" is not a duration; use a number and a unit, e.g. 5s"},
        {"--size", "-1", "--size: \"-1\" is not a size; use a whole number of bytes"},
        {"--size", "4M", "--size: \"4M\" is not a size"},
        {"--force=maybe", NULL, "--force: \"maybe\" is not a boolean; use true or false"},
        {"-F", NULL, "unknown flag -F"},
        {"--mode", "Fast", "--mode: \"Fast\" is not one of fast|slow"},
        {"--mode=", NULL, "--mode: \"\" is not one of fast|slow"},
        {"-ff", NULL, "unknown flag -ff"},
        {"a", "b", "unexpected argument \"b\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct settings s = {0};
        struct osw_strlist pos = {0};
        char e[512];
        const char *const argv[] = {"t", cases[i][0], cases[i][1], NULL};
        int argc = cases[i][1] ? 3 : 2;
        assert_int_equal(parse(&s, &pos, NULL, e, sizeof e, argc, argv), OSW_FLAGS_ERROR);
        if (!strstr(e, cases[i][2]))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e, cases[i][2]);
        char *nl = strchr(e, '\n');
        assert_true(nl != NULL && nl[1] == '\0');
        osw_strlist_free(&pos);
        osw_strlist_free(&s.list);
    }
}

static void test_help(void **state)
{
    (void)state;
    struct settings s = {0};
    struct osw_strlist pos = {0};
    char e[512];
    assert_int_equal(parse(&s, &pos, NULL, e, sizeof e, 2, ARGV("--help")), OSW_FLAGS_HELP);
    assert_string_equal(e, "");
    assert_int_equal(parse(&s, &pos, NULL, e, sizeof e, 2, ARGV("-h")), OSW_FLAGS_HELP);
    /* A one-letter alias sets its flag. */
    assert_false(s.force);
    assert_int_equal(parse(&s, &pos, NULL, e, sizeof e, 2, ARGV("-f")), OSW_FLAGS_OK);
    assert_true(s.force);
    assert_int_equal(parse(&s, &pos, NULL, e, sizeof e, 2, ARGV("--mode=slow")), OSW_FLAGS_OK);
    assert_string_equal(s.mode, "slow");
    /* after "--", everything is positional */
    assert_int_equal(parse(&s, &pos, NULL, e, sizeof e, 3, ARGV("--", "--name")), OSW_FLAGS_OK);
    assert_string_equal(pos.items[0], "--name");
    osw_strlist_free(&pos);
}

/* --help lists every flag as --name (with its one-letter alias) and, when
 * the command has them, its exit codes. */
static void test_help_text(void **state)
{
    (void)state;
    bool force = false;
    const struct osw_flag flags[] = {
        {"force", OSW_FLAG_BOOL, &force, NULL, "replace", false},
        {"dir", OSW_FLAG_STRING, NULL, "D", "where", true},
    };
    const struct osw_command_spec spec = {"t", "t [flags]", "test",        flags,
                                          2,   0,           "  0  fine\n", "f=force"};
    char text[2048];
    FILE *out = tmpfile();
    assert_non_null(out);
    osw_flags_print_help(&spec, out);
    rewind(out);
    size_t n = fread(text, 1, sizeof(text) - 1, out);
    text[n] = '\0';
    fclose(out);
    assert_non_null(strstr(text, "  -f, --force "));
    assert_non_null(strstr(text, "  --dir D "));
    assert_non_null(strstr(text, "[$OSSTREAM_DIR]"));
    assert_non_null(strstr(text, "\nExit status:\n  0  fine\n"));
}

/* Where a value came from: the flag when argv sets it (before "--"), else
 * its variable. */
static void test_origin(void **state)
{
    (void)state;
    char buf[64];
    static char a0[] = "serve", a1[] = "--listen=x", a2[] = "--max-request-bytes", a3[] = "5",
                a4[] = "--", a5[] = "--osimagestream-name";
    char *const argv[] = {a0, a1, a2, a3, a4, a5, NULL};
    osw_flags_origin("listen", 6, argv, buf, sizeof(buf));
    assert_string_equal(buf, "--listen");
    osw_flags_origin("max-request-bytes", 6, argv, buf, sizeof(buf));
    assert_string_equal(buf, "--max-request-bytes");
    osw_flags_origin("osimagestream-name", 6, argv, buf, sizeof(buf));
    assert_string_equal(buf, "OSSTREAM_OSIMAGESTREAM_NAME");
    osw_flags_origin("max", 6, argv, buf, sizeof(buf)); /* a prefix is not the flag */
    assert_string_equal(buf, "OSSTREAM_MAX");
    osw_flags_origin("listen", 6, argv, buf, 5); /* cut, still terminated */
    assert_string_equal(buf, "--li");
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool ok;
        long long ms;
    } t[] = {
        {"0", true, 0},       {"0s", true, 0},        {"500ms", true, 500},
        {"2s", true, 2000},   {"1m", true, 60000},    {"1h", true, 3600000},
        {"1.5s", true, 1500}, {"1m30s", true, 90000}, {"", false, 0},
        {"5", false, 0},      {"s", false, 0},        {"1x", false, 0},
        {"-1s", false, 0},    {"1e3s", false, 0},     {"99999999999h", false, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        long long ms = -7;
        bool ok = osw_flags_parse_duration(t[i].in, &ms);
        if (ok != t[i].ok || (ok && ms != t[i].ms))
            fail_msg("duration \"%s\": ok=%d ms=%lld", t[i].in, ok, ms);
    }
}

static void test_listen(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool ok;
        const char *host;
        unsigned short port;
    } t[] = {
        {"0.0.0.0:8443", true, "0.0.0.0", 8443},
        {"127.0.0.1:0", true, "127.0.0.1", 0},
        {":9443", true, "", 9443},
        {"[::]:8443", true, "::", 8443},
        {"[::1]:1", true, "::1", 1},
        {"localhost:80", true, "127.0.0.1", 80},
        {"8443", false, NULL, 0},
        {"::1:8443", false, NULL, 0},
        {"1.2.3.4:65536", false, NULL, 0},
        {"1.2.3.4:", false, NULL, 0},
        {"example.com:80", false, NULL, 0},
        {"[::1]8443", false, NULL, 0},
        {"[]:80", false, NULL, 0},
        {"1.2.3.4:+80", false, NULL, 0},
        {"[1.2.3.4]:80", false, NULL, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char host[64] = "unset";
        unsigned short port = 7;
        bool ok = osw_listen_parse(t[i].in, host, sizeof host, &port);
        if (ok != t[i].ok)
            fail_msg("listen \"%s\": ok=%d", t[i].in, ok);
        if (ok && (strcmp(host, t[i].host) != 0 || port != t[i].port))
            fail_msg("listen \"%s\": host=%s port=%u", t[i].in, host, port);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings_and_kinds),
        cmocka_unit_test(test_env_fallback_and_precedence),
        cmocka_unit_test(test_errors_are_one_line),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_help_text),
        cmocka_unit_test(test_origin),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the structured logger (src/obs/log.c): lines are captured
 * through a pipe or a temporary file and parsed back, JSON ones with
 * jansson, so escaping, field order, level filtering and the one-line rule
 * are checked on the bytes a log collector would see.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "obs/log.h"

/* ---- capture helpers ----------------------------------------------------- */

struct capture {
    int rfd, wfd;
    char out[64 * 1024];
    size_t len;
};

static void capture_open(struct capture *c)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    c->rfd = fds[0];
    c->wfd = fds[1];
    c->len = 0;
    c->out[0] = '\0';
}

/* Closes the write end and reads everything written (the lines written by
 * one test are far below the pipe's capacity, so nothing blocks). */
static const char *capture_done(struct capture *c)
{
    close(c->wfd);
    for (;;) {
        assert_true(c->len < sizeof(c->out) - 1);
        ssize_t r = read(c->rfd, c->out + c->len, sizeof(c->out) - 1 - c->len);
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r >= 0);
        if (r == 0)
            break;
        c->len += (size_t)r;
    }
    c->out[c->len] = '\0';
    close(c->rfd);
    return c->out;
}

/* Logs one event in `format` and returns the captured text (static buffer). */
static const char *log_one(enum osw_log_format format, enum osw_log_level min,
                           enum osw_log_level level, const char *msg,
                           const struct osw_log_field *fields, size_t n)
{
    static struct capture c;
    struct osw_log log;

    capture_open(&c);
    osw_log_init(&log, min, format, c.wfd);
    osw_log_write(&log, level, msg, fields, n);
    return capture_done(&c);
}

/* Asserts `s` is exactly one line: ends with '\n', holds no other '\n' or
 * '\r'. */
static void assert_one_line(const char *s)
{
    size_t len = strlen(s);
    assert_true(len > 1);
    assert_int_equal(s[len - 1], '\n');
    assert_null(memchr(s, '\n', len - 1));
    assert_null(strchr(s, '\r'));
}

/* Parses a JSON log line (one line, a JSON object); caller json_decref()s. */
static json_t *parse_json_line(const char *s)
{
    json_error_t jerr;
    assert_one_line(s);
    json_t *j = json_loads(s, JSON_ALLOW_NUL, &jerr);
    if (j == NULL)
        fail_msg("not JSON (%s): %s", jerr.text, s);
    assert_true(json_is_object(j));
    return j;
}

/* `ts` is RFC 3339 UTC with milliseconds and close to now. */
static void assert_ts(const char *ts)
{
    assert_int_equal(strlen(ts), 24);
    for (size_t i = 0; i < 24; i++) {
        char c = ts[i];
        switch (i) {
        case 4:
        case 7:
            assert_int_equal(c, '-');
            break;
        case 10:
            assert_int_equal(c, 'T');
            break;
        case 13:
        case 16:
            assert_int_equal(c, ':');
            break;
        case 19:
            assert_int_equal(c, '.');
            break;
        case 23:
            assert_int_equal(c, 'Z');
            break;
        default:
            assert_true(c >= '0' && c <= '9');
        }
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(end);
    assert_int_equal(*end, '.');
    time_t t = timegm(&tm);
    time_t now = time(NULL);
    /* Plausibility, not timing: the clock is UTC and not off by hours. */
    assert_true(t <= now + 1 && t >= now - 3600);
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("field %s is not a string", key);
    return json_string_value(v);
}

/* ---- JSON format --------------------------------------------------------- */

static void test_json_basic_fields_in_order(void **state)
{
    (void)state;
    struct osw_log_field f[] = {
        OSW_LOGF_CSTR("uid", "705ab4f5-6393-11e8-b7cc-42010a800002"),
        OSW_LOGF_CSTR("operation", "CREATE"),
        OSW_LOGF_STR("resource", OSW_STR_LIT("machineconfigpools")),
        OSW_LOGF_CSTR("verdict", "denied"),
        OSW_LOGF_INT("code", 422),
        OSW_LOGF_DBL("duration_ms", 1.25),
    };
    const char *line =
        log_one(OSW_LOG_JSON, OSW_LOG_INFO, OSW_LOG_INFO, "admission", f, sizeof(f) / sizeof(f[0]));
    json_t *j = parse_json_line(line);

    assert_ts(jstr(j, "ts"));
    assert_string_equal(jstr(j, "level"), "info");
    assert_string_equal(jstr(j, "msg"), "admission");
    assert_string_equal(jstr(j, "uid"), "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_string_equal(jstr(j, "operation"), "CREATE");
    assert_string_equal(jstr(j, "resource"), "machineconfigpools");
    assert_string_equal(jstr(j, "verdict"), "denied");
    assert_true(json_is_integer(json_object_get(j, "code")));
    assert_int_equal(json_integer_value(json_object_get(j, "code")), 422);
    assert_true(json_is_real(json_object_get(j, "duration_ms")));
    assert_true(fabs(json_real_value(json_object_get(j, "duration_ms")) - 1.25) < 1e-9);
    assert_int_equal(json_object_size(j), 9);

    /* ts, level, msg first, then the fields in the order given. */
    const char *keys[] = {"\"ts\"",      "\"level\"",     "\"msg\"",
                          "\"uid\"",     "\"operation\"", "\"resource\"",
                          "\"verdict\"", "\"code\"",      "\"duration_ms\""};
    const char *prev = line;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *at = strstr(line, keys[i]);
        assert_non_null(at);
        assert_true(at >= prev);
        prev = at;
    }
    assert_int_equal(line[0], '{');
    json_decref(j);
}

static void test_json_no_fields(void **state)
{
    (void)state;
    json_t *j =
        parse_json_line(log_one(OSW_LOG_JSON, OSW_LOG_DEBUG, OSW_LOG_ERROR, "boom", NULL, 0));
    assert_string_equal(jstr(j, "level"), "error");
    assert_string_equal(jstr(j, "msg"), "boom");
    assert_int_equal(json_object_size(j), 3);
    json_decref(j);

    /* fields NULL with a count, and a NULL message, are harmless. */
    j = parse_json_line(log_one(OSW_LOG_JSON, OSW_LOG_DEBUG, OSW_LOG_WARN, NULL, NULL, 5));
    assert_string_equal(jstr(j, "level"), "warn");
    assert_string_equal(jstr(j, "msg"), "");
    assert_int_equal(json_object_size(j), 3);
    json_decref(j);

    /* A field without a key is skipped. */
    struct osw_log_field f[] = {OSW_LOGF_INT(NULL, 1), OSW_LOGF_INT("k", 2)};
    j = parse_json_line(log_one(OSW_LOG_JSON, OSW_LOG_DEBUG, OSW_LOG_DEBUG, "m", f, 2));
    assert_string_equal(jstr(j, "level"), "debug");
    assert_int_equal(json_integer_value(json_object_get(j, "k")), 2);
    assert_int_equal(json_object_size(j), 4);
    json_decref(j);
}

struct escape_case {
    const char *name;
    const char *in;
    size_t in_len;
    const char *want; /* decoded value expected back */
    size_t want_len;
};

#define ESC(n, in, want)                                                                           \
    {                                                                                              \
        (n), (in), sizeof(in) - 1, (want), sizeof(want) - 1                                        \
    }

static const struct escape_case escape_cases[] = {
    ESC("plain", "rhel-10", "rhel-10"),
    ESC("quote", "say \"hi\"", "say \"hi\""),
    ESC("backslash", "a\\b\\", "a\\b\\"),
    ESC("newline", "line1\nline2\n", "line1\nline2\n"),
    ESC("cr tab", "a\rb\tc", "a\rb\tc"),
    ESC("controls", "\x01\x02\x1b[31m\x1f\x7f\b\f", "\x01\x02\x1b[31m\x1f\x7f\b\f"),
    ESC("nul", "a\0b", "a\0b"),
    ESC("latin", "caf\xc3\xa9", "caf\xc3\xa9"),
    ESC("cjk", "\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"),
    ESC("emoji", "\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!"),
    ESC("u2028", "a\xe2\x80\xa8z", "a\xe2\x80\xa8z"),
    ESC("json injection", "\",\"level\":\"error", "\",\"level\":\"error"),
    /* Bytes that are not UTF-8 become U+FFFD so the line stays JSON. */
    ESC("invalid byte",
        "a\xff"
        "b",
        "a\xef\xbf\xbd"
        "b"),
    ESC("lone continuation", "\x80", "\xef\xbf\xbd"),
    ESC("truncated sequence", "x\xe6\x97", "x\xef\xbf\xbd\xef\xbf\xbd"),
    ESC("overlong", "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"),
    ESC("surrogate", "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
    ESC("empty", "", ""),
};

static void test_json_escaping(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
        const struct escape_case *tc = &escape_cases[i];
        struct osw_log_field f[] = {
            OSW_LOGF_STR("v", ((struct osw_str){tc->in, tc->in_len})),
        };
        const char *line = log_one(OSW_LOG_JSON, OSW_LOG_INFO, OSW_LOG_INFO, "m", f, 1);
        json_t *j = parse_json_line(line);
        json_t *v = json_object_get(j, "v");
        if (!json_is_string(v) || json_string_length(v) != tc->want_len ||
            memcmp(json_string_value(v), tc->want, tc->want_len) != 0)
            fail_msg("case %s: unexpected value in %s", tc->name, line);
        json_decref(j);
    }
}

static void test_json_message_escaped(void **state)
{
    (void)state;
    json_t *j = parse_json_line(
        log_one(OSW_LOG_JSON, OSW_LOG_INFO, OSW_LOG_INFO, "bad \"file\"\n\tnext\xff", NULL, 0));
    assert_string_equal(jstr(j, "msg"), "bad \"file\"\n\tnext\xef\xbf\xbd");
    json_decref(j);
}

static void test_json_numbers(void **state)
{
    (void)state;
    struct osw_log_field f[] = {
        OSW_LOGF_INT("max", LLONG_MAX), OSW_LOGF_INT("min", LLONG_MIN),
        OSW_LOGF_INT("zero", 0),        OSW_LOGF_DBL("half", 0.5),
        OSW_LOGF_DBL("neg", -12.75),    OSW_LOGF_DBL("tiny", 2.5e-7),
        OSW_LOGF_DBL("huge", 1e300),    OSW_LOGF_DBL("nan", NAN),
        OSW_LOGF_DBL("inf", INFINITY),  OSW_LOGF_DBL("ninf", -INFINITY),
        OSW_LOGF_DBL("dzero", 0.0),
    };
    json_t *j = parse_json_line(
        log_one(OSW_LOG_JSON, OSW_LOG_INFO, OSW_LOG_INFO, "n", f, sizeof(f) / sizeof(f[0])));
    assert_int_equal(json_integer_value(json_object_get(j, "max")), LLONG_MAX);
    assert_int_equal(json_integer_value(json_object_get(j, "min")), LLONG_MIN);
    assert_true(json_is_integer(json_object_get(j, "zero")));
    assert_true(json_number_value(json_object_get(j, "half")) == 0.5);
    assert_true(json_number_value(json_object_get(j, "neg")) == -12.75);
    double tiny = json_number_value(json_object_get(j, "tiny"));
    assert_true(fabs(tiny - 2.5e-7) < 1e-12);
    double huge = json_number_value(json_object_get(j, "huge"));
    assert_true(fabs(huge / 1e300 - 1.0) < 1e-5);
    assert_true(json_is_null(json_object_get(j, "nan")));
    assert_true(json_is_null(json_object_get(j, "inf")));
    assert_true(json_is_null(json_object_get(j, "ninf")));
    assert_true(json_is_number(json_object_get(j, "dzero")));
    assert_true(json_number_value(json_object_get(j, "dzero")) == 0.0);
    json_decref(j);
}

static void test_json_long_value_truncated(void **state)
{
    (void)state;
    /* 1023 ASCII bytes and then a 2-byte character across the 1 KiB cut. */
    size_t n = 5000;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    big[1023] = '\xc3';
    big[1024] = '\xa9';
    struct osw_log_field f[] = {OSW_LOGF_STR("name", ((struct osw_str){big, n}))};
    const char *line = log_one(OSW_LOG_JSON, OSW_LOG_INFO, OSW_LOG_INFO, "m", f, 1);
    assert_true(strlen(line) < 1200);
    json_t *j = parse_json_line(line);
    const char *v = jstr(j, "name");
    /* Cut before the character, never inside it, and marked. */
    assert_int_equal(strlen(v), 1023 + 3);
    assert_string_equal(v + 1023, "...");
    json_decref(j);
    free(big);
}

/* ---- levels and parsing ------------------------------------------------- */

static void test_level_filtering(void **state)
{
    (void)state;
    for (int min = OSW_LOG_DEBUG; min <= OSW_LOG_ERROR; min++) {
        for (int lv = OSW_LOG_DEBUG; lv <= OSW_LOG_ERROR; lv++) {
            struct osw_log log;
            osw_log_init(&log, (enum osw_log_level)min, OSW_LOG_JSON, -1);
            bool want = lv >= min;
            assert_int_equal(osw_log_enabled(&log, (enum osw_log_level)lv), want);
            const char *out = log_one(OSW_LOG_JSON, (enum osw_log_level)min, (enum osw_log_level)lv,
                                      "x", NULL, 0);
            assert_int_equal(out[0] != '\0', want);
            struct capture c;
            capture_open(&c);
            osw_log_init(&log, (enum osw_log_level)min, OSW_LOG_TEXT, c.wfd);
            osw_log_printf(&log, (enum osw_log_level)lv, "n=%d", lv);
            assert_int_equal(capture_done(&c)[0] != '\0', want);
        }
    }
    /* Out-of-range levels and a NULL logger log nothing. */
    const char *out = log_one(OSW_LOG_JSON, OSW_LOG_DEBUG, (enum osw_log_level)7, "x", NULL, 0);
    assert_string_equal(out, "");
    out = log_one(OSW_LOG_JSON, OSW_LOG_DEBUG, (enum osw_log_level) - 1, "x", NULL, 0);
    assert_string_equal(out, "");
    assert_false(osw_log_enabled(NULL, OSW_LOG_ERROR));
    osw_log_write(NULL, OSW_LOG_ERROR, "x", NULL, 0);
    osw_log_printf(NULL, OSW_LOG_ERROR, "x %d", 1);
}

static void test_level_names(void **state)
{
    (void)state;
    static const struct {
        enum osw_log_level level;
        const char *json, *text;
    } cases[] = {
        {OSW_LOG_DEBUG, "debug", "DEBUG"},
        {OSW_LOG_INFO, "info", "INFO"},
        {OSW_LOG_WARN, "warn", "WARN"},
        {OSW_LOG_ERROR, "error", "ERROR"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j =
            parse_json_line(log_one(OSW_LOG_JSON, OSW_LOG_DEBUG, cases[i].level, "m", NULL, 0));
        assert_string_equal(jstr(j, "level"), cases[i].json);
        json_decref(j);
        const char *t = log_one(OSW_LOG_TEXT, OSW_LOG_DEBUG, cases[i].level, "m", NULL, 0);
        char want[64];
        snprintf(want, sizeof(want), " %s m\n", cases[i].text);
        assert_string_equal(t + 24, want);
    }
}

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
        enum osw_log_level level;
    } levels[] = {
        {"debug", true, OSW_LOG_DEBUG},
        {"info", true, OSW_LOG_INFO},
        {"warn", true, OSW_LOG_WARN},
        {"error", true, OSW_LOG_ERROR},
        {"DEBUG", false, 0},
        {"warning", false, 0},
        {"", false, 0},
        {"info ", false, 0},
        {"fatal", false, 0},
    };
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        enum osw_log_level out = (enum osw_log_level)99;
        assert_int_equal(osw_log_level_parse(levels[i].s, &out), levels[i].ok);
        if (levels[i].ok)
            assert_int_equal(out, levels[i].level);
        else
            assert_int_equal(out, 99);
    }
    enum osw_log_level lv;
    assert_false(osw_log_level_parse(NULL, &lv));

    static const struct {
        const char *s;
        bool ok;
        enum osw_log_format format;
    } formats[] = {
        {"json", true, OSW_LOG_JSON},
        {"text", true, OSW_LOG_TEXT},
        {"JSON", false, 0},
        {"logfmt", false, 0},
        {"", false, 0},
        {"jsonx", false, 0},
    };
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        enum osw_log_format out = (enum osw_log_format)99;
        assert_int_equal(osw_log_format_parse(formats[i].s, &out), formats[i].ok);
        if (formats[i].ok)
            assert_int_equal(out, formats[i].format);
        else
            assert_int_equal(out, 99);
    }
    enum osw_log_format fm;
    assert_false(osw_log_format_parse(NULL, &fm));
}

/* ---- text format --------------------------------------------------------- */

static void test_text_basic(void **state)
{
    (void)state;
    struct osw_log_field f[] = {
        OSW_LOGF_CSTR("uid", "abc-123"),
        OSW_LOGF_CSTR("verdict", "denied"),
        OSW_LOGF_INT("code", 422),
        OSW_LOGF_DBL("duration_ms", 0.5),
    };
    const char *line = log_one(OSW_LOG_TEXT, OSW_LOG_INFO, OSW_LOG_INFO, "admission decided", f,
                               sizeof(f) / sizeof(f[0]));
    assert_one_line(line);
    char ts[25];
    memcpy(ts, line, 24);
    ts[24] = '\0';
    assert_ts(ts);
    assert_string_equal(line + 24, " INFO admission decided uid=abc-123 verdict=denied code=422 "
                                   "duration_ms=0.500\n");
    json_error_t jerr;
    assert_null(json_loads(line, JSON_DECODE_ANY, &jerr));
}

struct text_case {
    const char *name;
    const char *in;
    size_t in_len;
    const char *want; /* the rendered value after "v=" */
};

#define TXT(n, in, want)                                                                           \
    {                                                                                              \
        (n), (in), sizeof(in) - 1, (want)                                                          \
    }

static const struct text_case text_cases[] = {
    TXT("plain", "rhel-10", "rhel-10"),
    TXT("empty", "", "\"\""),
    TXT("space", "two words", "\"two words\""),
    TXT("quote", "say \"hi\"", "\"say \\\"hi\\\"\""),
    TXT("equals", "a=b", "\"a=b\""),
    TXT("backslash", "a\\b", "\"a\\\\b\""),
    TXT("newline", "l1\nl2", "\"l1\\nl2\""),
    TXT("cr tab", "a\rb\tc", "\"a\\rb\\tc\""),
    TXT("control",
        "a\x01\x1b"
        "b\x7f",
        "\"a\\x01\\x1bb\\x7f\""),
    TXT("nul", "a\0b", "\"a\\x00b\""),
    TXT("utf8 kept", "caf\xc3\xa9", "caf\xc3\xa9"),
    TXT("invalid byte", "a\xff", "\"a\\xff\""),
    TXT("json-looking", "{\"a\":1}", "\"{\\\"a\\\":1}\""),
};

static void test_text_escaping(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
        const struct text_case *tc = &text_cases[i];
        struct osw_log_field f[] = {
            OSW_LOGF_STR("v", ((struct osw_str){tc->in, tc->in_len})),
            OSW_LOGF_INT("n", 1),
        };
        const char *line = log_one(OSW_LOG_TEXT, OSW_LOG_INFO, OSW_LOG_WARN, "m", f, 2);
        assert_one_line(line);
        char want[256];
        snprintf(want, sizeof(want), " WARN m v=%s n=1\n", tc->want);
        if (strcmp(line + 24, want) != 0)
            fail_msg("case %s: got %s want %s", tc->name, line + 24, want);
    }
}

static void test_text_message_and_numbers(void **state)
{
    (void)state;
    struct osw_log_field f[] = {
        OSW_LOGF_DBL("nan", NAN),
        OSW_LOGF_DBL("inf", INFINITY),
        OSW_LOGF_DBL("ninf", -INFINITY),
        OSW_LOGF_INT("neg", -5),
    };
    const char *line =
        log_one(OSW_LOG_TEXT, OSW_LOG_INFO, OSW_LOG_ERROR, "multi\nline \"msg\"", f, 4);
    assert_one_line(line);
    assert_string_equal(line + 24,
                        " ERROR multi\\nline \\\"msg\\\" nan=NaN inf=+Inf ninf=-Inf neg=-5\n");
}

/* ---- printf ---------------------------------------------------------------- */

static void test_printf(void **state)
{
    (void)state;
    struct capture c;
    struct osw_log log;

    capture_open(&c);
    osw_log_init(&log, OSW_LOG_INFO, OSW_LOG_JSON, c.wfd);
    osw_log_printf(&log, OSW_LOG_WARN, "reload of %s failed: %d (%s)", "tls.crt", 5, "bad\npem");
    json_t *j = parse_json_line(capture_done(&c));
    assert_string_equal(jstr(j, "msg"), "reload of tls.crt failed: 5 (bad\npem)");
    assert_string_equal(jstr(j, "level"), "warn");
    json_decref(j);
}

static void test_printf_truncates_long_message(void **state)
{
    (void)state;
    /* 3000 bytes of 3-byte characters after one ASCII byte, so the 1 KiB cut
     * falls inside a character: it must be dropped whole. */
    char *big = malloc(3002);
    assert_non_null(big);
    big[0] = 'x';
    for (size_t i = 0; i < 1000; i++)
        memcpy(big + 1 + 3 * i, "\xe6\x97\xa5", 3);
    big[3001] = '\0';

    struct capture c;
    struct osw_log log;
    capture_open(&c);
    osw_log_init(&log, OSW_LOG_DEBUG, OSW_LOG_JSON, c.wfd);
    osw_log_printf(&log, OSW_LOG_INFO, "%s", big);
    const char *line = capture_done(&c);
    assert_true(strlen(line) < 1200);
    json_t *j = parse_json_line(line);
    const char *msg = jstr(j, "msg");
    size_t len = strlen(msg);
    assert_true(len <= 1023 && len > 1000);
    assert_string_equal(msg + len - 3, "...");
    assert_int_equal((len - 3 - 1) % 3, 0);
    assert_memory_equal(msg, big, len - 3);
    json_decref(j);

    /* The text format truncates the same way and stays one line. */
    capture_open(&c);
    osw_log_init(&log, OSW_LOG_DEBUG, OSW_LOG_TEXT, c.wfd);
    osw_log_printf(&log, OSW_LOG_INFO, "%s", big);
    line = capture_done(&c);
    assert_one_line(line);
    assert_true(strlen(line) < 1100);
    free(big);
}

/* ---- writing ----------------------------------------------------------------- */

static void test_bad_fd_is_harmless(void **state)
{
    (void)state;
    struct osw_log log;
    osw_log_init(&log, OSW_LOG_DEBUG, OSW_LOG_JSON, -1);
    osw_log_write(&log, OSW_LOG_ERROR, "nowhere", NULL, 0);
    osw_log_printf(&log, OSW_LOG_ERROR, "nowhere %d", 2);

    /* A pipe whose reader is gone (EPIPE; SIGPIPE ignored here). */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    osw_log_init(&log, OSW_LOG_DEBUG, OSW_LOG_TEXT, fds[1]);
    osw_log_write(&log, OSW_LOG_ERROR, "gone", NULL, 0);
    signal(SIGPIPE, old);
    close(fds[1]);
}

#define THREADS        4
#define LINES_PER_THRD 200

struct writer_arg {
    const struct osw_log *log;
    int id;
};

static void *writer(void *p)
{
    const struct writer_arg *a = p;
    char payload[600];
    memset(payload, 'a' + a->id, sizeof(payload) - 1);
    payload[sizeof(payload) - 1] = '\0';
    for (int i = 0; i < LINES_PER_THRD; i++) {
        struct osw_log_field f[] = {
            OSW_LOGF_INT("thread", a->id),
            OSW_LOGF_INT("i", i),
            OSW_LOGF_CSTR("payload", payload),
        };
        osw_log_write(a->log, OSW_LOG_INFO, "concurrent", f, 3);
    }
    return NULL;
}

/* Lines written by several threads at once to one file never interleave:
 * every line read back is a whole JSON object, and none is missing. */
static void test_concurrent_lines_do_not_interleave(void **state)
{
    (void)state;
    char path[] = "/tmp/osw-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    /* O_APPEND so that each write(2) lands whole at the end. */
    assert_int_equal(fcntl(fd, F_SETFL, O_APPEND), 0);

    struct osw_log log;
    osw_log_init(&log, OSW_LOG_DEBUG, OSW_LOG_JSON, fd);
    pthread_t th[THREADS];
    struct writer_arg args[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = (struct writer_arg){&log, t};
        assert_int_equal(pthread_create(&th[t], NULL, writer, &args[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);

    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    FILE *f = fdopen(fd, "r");
    assert_non_null(f);
    char line[2048];
    int seen[THREADS] = {0};
    int total = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        json_t *j = parse_json_line(line);
        json_int_t t = json_integer_value(json_object_get(j, "thread"));
        assert_true(t >= 0 && t < THREADS);
        assert_int_equal(json_integer_value(json_object_get(j, "i")), seen[t]);
        assert_int_equal(strlen(jstr(j, "payload")), 599);
        assert_int_equal(jstr(j, "payload")[0], 'a' + (int)t);
        seen[t]++;
        total++;
        json_decref(j);
    }
    fclose(f);
    assert_int_equal(total, THREADS * LINES_PER_THRD);
}

/* ---- interrupted and partial writes -------------------------------------- */

static atomic_int signals_handled;

static void on_signal(int sig)
{
    (void)sig;
    atomic_fetch_add(&signals_handled, 1);
}

#define BIG_FIELDS 100
#define BIG_VALUE  1000

struct big_writer {
    const struct osw_log *log;
    atomic_int tid;
};

static void *big_writer_main(void *p)
{
    struct big_writer *w = p;
    static char value[BIG_VALUE + 1];
    struct osw_log_field f[BIG_FIELDS];
    char keys[BIG_FIELDS][16];

    memset(value, 'v', BIG_VALUE);
    for (int i = 0; i < BIG_FIELDS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        f[i] = OSW_LOGF_CSTR(keys[i], value);
    }
    atomic_store(&w->tid, (int)syscall(SYS_gettid));
    osw_log_write(w->log, OSW_LOG_INFO, "big", f, BIG_FIELDS);
    return NULL;
}

/* Waits (bounded) until thread `tid` sleeps in the kernel: here, blocked in
 * write(2) on the full pipe, since the writer does nothing else that sleeps. */
static void wait_blocked(int tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
    for (int i = 0; i < 20000; i++) {
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        assert_true(n > 0);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');
        assert_non_null(p);
        if (p[1] == ' ' && p[2] == 'S')
            return;
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    fail_msg("writer thread never blocked");
}

static void wait_handled(int n)
{
    for (int i = 0; i < 20000 && atomic_load(&signals_handled) < n; i++) {
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(atomic_load(&signals_handled), n);
}

/* A line larger than the pipe (about 100 KiB) is written while signals
 * without SA_RESTART interrupt the writer: the first returns a partial
 * write (64 KiB were taken), the second interrupts a write that has taken
 * nothing yet (EINTR). The reader must still get the whole line, once. */
static void test_interrupted_and_partial_writes(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: write(2) returns early */
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    atomic_store(&signals_handled, 0);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct osw_log log;
    osw_log_init(&log, OSW_LOG_DEBUG, OSW_LOG_JSON, fds[1]);
    struct big_writer w = {&log, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, big_writer_main, &w), 0);
    for (int i = 0; i < 20000 && atomic_load(&w.tid) == 0; i++) {
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    int tid = atomic_load(&w.tid);
    assert_true(tid > 0);

    for (int n = 1; n <= 3; n++) {
        wait_blocked(tid);
        assert_int_equal(pthread_kill(th, SIGUSR1), 0);
        wait_handled(n);
    }

    /* Drain: the writer finishes once there is room. */
    size_t cap = (size_t)256 * 1024, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    bool joined = false;
    for (;;) {
        assert_true(len < cap - 1);
        /* A generous timeout so that a lost line fails instead of hanging. */
        struct pollfd pfd = {fds[0], POLLIN, 0};
        if (poll(&pfd, 1, 10000) == 0)
            fail_msg("no complete line after %zu bytes", len);
        ssize_t r = read(fds[0], out + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r >= 0);
        if (r == 0)
            break;
        len += (size_t)r;
        if (!joined && memchr(out, '\n', len) != NULL) {
            pthread_join(th, NULL);
            joined = true;
            close(fds[1]);
        }
    }
    assert_true(joined);
    close(fds[0]);
    out[len] = '\0';
    assert_true(len > 100000);
    json_t *j = parse_json_line(out);
    assert_int_equal(json_object_size(j), 3 + BIG_FIELDS);
    assert_int_equal(strlen(jstr(j, "k0")), BIG_VALUE);
    assert_int_equal(strlen(jstr(j, "k99")), BIG_VALUE);
    json_decref(j);
    free(out);
    sigaction(SIGUSR1, &old, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_basic_fields_in_order),
        cmocka_unit_test(test_json_no_fields),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_json_message_escaped),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_json_long_value_truncated),
        cmocka_unit_test(test_level_filtering),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_text_basic),
        cmocka_unit_test(test_text_escaping),
        cmocka_unit_test(test_text_message_and_numbers),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_printf_truncates_long_message),
        cmocka_unit_test(test_bad_fd_is_harmless),
        cmocka_unit_test(test_concurrent_lines_do_not_interleave),
        cmocka_unit_test(test_interrupted_and_partial_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

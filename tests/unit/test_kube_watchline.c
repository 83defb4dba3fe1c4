/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the watch-stream splitter and event decoder: a stream of events is
 * split at every byte position (and fed byte by byte) and must always give
 * the same events; blank lines and CRLF are tolerated; a line past the bound
 * is an error that resets the splitter, not a crash; the handler can stop a
 * feed; and each kind of line that is not an event is named as such.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube/watchline.h"

#define STREAM                                                                                     \
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"}}}\n"  \
    "\r\n"                                                                                         \
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"2\"}}}\r\n"            \
    "\n"                                                                                           \
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":"         \
    "\"3\"},\"s\":\"x\\ny\"}}\n"                                                                   \
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"4\"}}}"  \
    "\n"                                                                                           \
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"message\":\"too old\"}}\n"

struct seen {
    char types[64];
    char rvs[64];
    int n;
    int stop_after; /* 0: never */
};

static bool on_line(void *ctx, const char *line, size_t len)
{
    struct seen *s = ctx;
    struct osw_watch_event ev;
    struct osw_errbuf eb;
    assert_int_equal(osw_watchline_decode(line, len, &ev, &eb), OSW_OK);
    s->types[s->n] = osw_watchline_type_name(ev.type)[0];
    s->rvs[s->n] = ev.resource_version ? ev.resource_version[0] : (char)('0' + ev.code % 10);
    if (ev.type == OSW_WATCH_ERROR) {
        assert_int_equal(ev.code, 410);
        assert_string_equal(ev.message, "too old");
    }
    s->n++;
    osw_watchline_event_free(&ev);
    return s->stop_after == 0 || s->n < s->stop_after;
}

static void split_at_every_byte(void **state)
{
    (void)state;
    const char *stream = STREAM;
    size_t len = strlen(stream);
    for (size_t cut = 0; cut <= len; cut++) {
        struct osw_watchline w;
        struct seen s;
        memset(&s, 0, sizeof(s));
        osw_watchline_init(&w, 0);
        assert_int_equal(osw_watchline_feed(&w, stream, cut, on_line, &s, NULL), OSW_OK);
        assert_int_equal(osw_watchline_feed(&w, stream + cut, len - cut, on_line, &s, NULL),
                         OSW_OK);
        assert_int_equal(s.n, 5);
        assert_memory_equal(s.types, "ABMDE", 5);
        assert_memory_equal(s.rvs, "12340", 5);
        assert_int_equal(osw_watchline_pending(&w), 0);
        osw_watchline_free(&w);
    }
}

static void byte_by_byte(void **state)
{
    (void)state;
    const char *stream = STREAM;
    struct osw_watchline w;
    struct seen s;
    memset(&s, 0, sizeof(s));
    osw_watchline_init(&w, 0);
    for (size_t i = 0; stream[i]; i++)
        assert_int_equal(osw_watchline_feed(&w, stream + i, 1, on_line, &s, NULL), OSW_OK);
    assert_int_equal(s.n, 5);
    osw_watchline_free(&w);
}

static void unfinished_line_is_pending(void **state)
{
    (void)state;
    struct osw_watchline w;
    struct seen s;
    memset(&s, 0, sizeof(s));
    osw_watchline_init(&w, 0);
    assert_int_equal(osw_watchline_feed(&w, "{\"type\":", 8, on_line, &s, NULL), OSW_OK);
    assert_int_equal(osw_watchline_pending(&w), 8);
    assert_int_equal(s.n, 0);
    osw_watchline_reset(&w);
    assert_int_equal(osw_watchline_pending(&w), 0);
    osw_watchline_free(&w);
    osw_watchline_free(NULL);
}

static void oversized_line_is_an_error_then_recovers(void **state)
{
    (void)state;
    struct osw_watchline w;
    struct seen s;
    struct osw_errbuf eb;
    memset(&s, 0, sizeof(s));
    osw_watchline_init(&w, 64);
    char big[100];
    memset(big, 'x', sizeof(big));
    /* Split: the buffer grows to the bound and refuses more. */
    assert_int_equal(osw_watchline_feed(&w, big, 60, on_line, &s, &eb), OSW_OK);
    assert_int_equal(osw_watchline_feed(&w, big, 10, on_line, &s, &eb), OSW_ETOOBIG);
    assert_non_null(strstr(eb.msg, "longer than 64"));
    assert_int_equal(osw_watchline_pending(&w), 0);
    /* Whole in one piece, with its newline. */
    char line[80];
    memset(line, 'y', 70);
    line[70] = '\n';
    assert_int_equal(osw_watchline_feed(&w, line, 71, on_line, &s, &eb), OSW_ETOOBIG);
    /* Exactly at the bound is fine, and the splitter works again. */
    const char *ok = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}\n";
    osw_watchline_free(&w);
    osw_watchline_init(&w, strlen(ok) - 1);
    assert_int_equal(osw_watchline_feed(&w, ok, 10, on_line, &s, &eb), OSW_OK);
    assert_int_equal(osw_watchline_feed(&w, ok + 10, strlen(ok) - 10, on_line, &s, &eb), OSW_OK);
    assert_int_equal(s.n, 1);
    osw_watchline_free(&w);
}

static void handler_can_stop(void **state)
{
    (void)state;
    struct osw_watchline w;
    struct seen s;
    memset(&s, 0, sizeof(s));
    s.stop_after = 2;
    osw_watchline_init(&w, 0);
    assert_int_equal(osw_watchline_feed(&w, STREAM, strlen(STREAM), on_line, &s, NULL), OSW_EINVAL);
    assert_int_equal(s.n, 2);
    assert_int_equal(osw_watchline_pending(&w), 0);
    osw_watchline_free(&w);
}

static void expect_bad(const char *line, enum osw_err want, const char *fragment)
{
    struct osw_watch_event ev;
    struct osw_errbuf eb;
    eb.msg[0] = '\0';
    assert_int_equal(osw_watchline_decode(line, strlen(line), &ev, &eb), want);
    assert_null(ev.root);
    if (strstr(eb.msg, fragment) == NULL)
        fail_msg("\"%s\" not in \"%s\"", fragment, eb.msg);
}

static void lines_that_are_not_events(void **state)
{
    (void)state;
    expect_bad("garbage", OSW_EBADJSON, "not JSON");
    expect_bad("{\"type\":\"ADDED\"", OSW_EBADJSON, "not JSON");
    expect_bad("[1,2]", OSW_EBADOBJ, "not an event");
    expect_bad("{\"object\":{}}", OSW_EBADOBJ, "not an event");
    expect_bad("{\"type\":7,\"object\":{}}", OSW_EBADOBJ, "not an event");
    expect_bad("{\"type\":\"RENAMED\",\"object\":{}}", OSW_EBADOBJ, "unknown type");
    expect_bad("{\"type\":\"ADDED\"}", OSW_EBADOBJ, "without an object");
    expect_bad("{\"type\":\"ADDED\",\"object\":[]}", OSW_EBADOBJ, "without an object");
    expect_bad("{\"type\":\"ADDED\",\"object\":{}}", OSW_EBADOBJ, "resourceVersion");
    expect_bad("{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":5}}}",
               OSW_EBADOBJ, "resourceVersion");
    expect_bad("{\"type\":\"ERROR\",\"object\":{\"code\":\"410\"}}", OSW_EBADOBJ, "integer");
    expect_bad("{\"type\":\"ERROR\",\"object\":{\"code\":410.5}}", OSW_EBADOBJ, "integer");
}

/* Go writes float64 fields past 2^63 as plain integers: such an object is
 * still an event, and an ERROR's code is still read. */
static void big_integers_are_numbers(void **state)
{
    (void)state;
    struct osw_watch_event ev;
    const char *l = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"},"
                    "\"spec\":{\"x\":18446744073709552000}}}";
    assert_int_equal(osw_watchline_decode(l, strlen(l), &ev, NULL), OSW_OK);
    assert_int_equal(ev.type, OSW_WATCH_ADDED);
    assert_string_equal(ev.resource_version, "7");
    osw_watchline_event_free(&ev);
    const char *e = "{\"type\":\"ERROR\",\"object\":{\"code\":410,\"message\":\"gone\"}}";
    assert_int_equal(osw_watchline_decode(e, strlen(e), &ev, NULL), OSW_OK);
    assert_int_equal(ev.type, OSW_WATCH_ERROR);
    assert_int_equal(ev.code, 410);
    osw_watchline_event_free(&ev);
}

static void error_without_code(void **state)
{
    (void)state;
    struct osw_watch_event ev;
    const char *l = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\"}}";
    assert_int_equal(osw_watchline_decode(l, strlen(l), &ev, NULL), OSW_OK);
    assert_int_equal(ev.type, OSW_WATCH_ERROR);
    assert_int_equal(ev.code, 0);
    assert_null(ev.message);
    assert_null(ev.resource_version);
    osw_watchline_event_free(&ev);
    osw_watchline_event_free(NULL);
    assert_string_equal(osw_watchline_type_name((enum osw_watch_type)99), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_at_every_byte),
        cmocka_unit_test(byte_by_byte),
        cmocka_unit_test(unfinished_line_is_pending),
        cmocka_unit_test(oversized_line_is_an_error_then_recovers),
        cmocka_unit_test(handler_can_stop),
        cmocka_unit_test(lines_that_are_not_events),
        cmocka_unit_test(error_without_code),
        cmocka_unit_test(big_integers_are_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

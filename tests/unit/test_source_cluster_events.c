/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential tests of the MachineConfig watch's event decoder
 * (osw_cluster_cache_decode_mc_event: the envelope scanned, the object
 * built as a reduced tree) against osw_watchline_decode, which the watch
 * used before (tests/support/watchevent_diff.h): plain events, `object`
 * before `type`, duplicate and escaped keys, an escaped type, every type
 * the reflector treats specially (BOOKMARK, ERROR with good and bad codes),
 * events that are no events, lines that are not JSON (raw NULs included),
 * values that are or are not JSON in each member, and nesting at jansson's
 * depth limit. Also that the plain case really is read as a reduced tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../support/watchevent_diff.h"
#include "osw/buf.h"

static void check(const char *name, const char *line, size_t len)
{
    const char *w = watchevent_diff(line, len);
    if (w)
        fail_msg("%s: %s differs", name, w);
}

#define G "machineconfiguration.openshift.io"
#define MCOBJ                                                                                      \
    "{\"apiVersion\":\"" G "/v1\",\"kind\":\"MachineConfig\",\"metadata\":{\"name\":\"99-r\","     \
    "\"resourceVersion\":\"41\",\"labels\":{\"" G "/role\":\"worker\"}},\"spec\":{\"osImageURL\":" \
    "\"quay.io/y:2\",\"config\":{\"ignition\":{\"version\":\"3.2.0\"},\"storage\":{\"files\":["    \
    "{\"path\":\"/etc/a\",\"contents\":{\"source\":\"data:,aaaa\"}},{\"path\":\"/etc/crio/"        \
    "crio.conf.d/99-runc\",\"contents\":{\"source\":\"data:,%5Bcrio.runtime%5D%0Adefault_runtime"  \
    "%3D%22runc%22\"}}]}}}}"

static const char *const lines[] = {
    "{\"type\":\"ADDED\",\"object\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\",\"object\":" MCOBJ "}",
    "{\"type\":\"DELETED\",\"object\":" MCOBJ "}",
    "{\"object\":" MCOBJ ",\"type\":\"MODIFIED\"}",
    "  {\"type\" : \"MODIFIED\" , \"object\" : " MCOBJ " }  ",
    "{\"type\":\"MODIFIED\",\"object\":" MCOBJ ",\"extra\":[1,{\"a\":null}]}",
    /* duplicates: the last one wins */
    "{\"type\":\"BOOKMARK\",\"object\":" MCOBJ ",\"type\":\"MODIFIED\"}",
    "{\"type\":\"MODIFIED\",\"object\":" MCOBJ ",\"type\":\"BOOKMARK\"}",
    "{\"type\":\"MODIFIED\",\"object\":" MCOBJ ",\"type\":7}",
    "{\"type\":7,\"object\":" MCOBJ ",\"type\":\"ADDED\"}",
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}},\"object\":" MCOBJ "}",
    "{\"type\":\"ADDED\",\"object\":" MCOBJ ",\"object\":{\"metadata\":{\"name\":\"x\"}}}",
    "{\"type\":\"ADDED\",\"object\":" MCOBJ ",\"object\":[]}",
    "{\"type\":\"ADDED\",\"object\":[],\"object\":" MCOBJ "}",
    "{\"type\":\"ADDED\",\"object\":{]},\"object\":" MCOBJ "}",
    /* escaped keys and type */
    "{\"\\u0074ype\":\"MODIFIED\",\"obj\\u0065ct\":" MCOBJ "}",
    "{\"type\":\"MODIFI\\u0045D\",\"object\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\",\"object\\u0000\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\",\"ob\\u006aect\":" MCOBJ ",\"object\":{}}",
    /* special and refused events */
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"77\"}}}",
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"MachineConfig\"}}",
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"message\":\"too old\"}}",
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":4.5}}",
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\"}}",
    "{\"type\":\"ERROR\",\"object\":" MCOBJ "}",
    "{\"type\":\"SYNC\",\"object\":" MCOBJ "}",
    "{\"type\":\"modified\",\"object\":" MCOBJ "}",
    "{\"type\":\"\",\"object\":" MCOBJ "}",
    "{\"type\":null,\"object\":" MCOBJ "}",
    "{\"object\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\"}",
    "{\"type\":\"MODIFIED\",\"object\":null}",
    "{\"type\":\"MODIFIED\",\"object\":\"x\"}",
    "{\"type\":\"MODIFIED\",\"object\":{}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":5}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"5\"}}}",
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"resourceVersion\":\"5\",\"name\":3}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"5\",\"name\":\"a\","
    "\"labels\":{\"x\":1}}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"5\",\"name\":\"a\"},"
    "\"spec\":[]}}",
    "{}",
    "[]",
    "\"MODIFIED\"",
    "7",
    "null",
    /* not JSON */
    "{",
    "{\"type\":\"MODIFIED\",\"object\":" MCOBJ,
    "{\"type\":\"MODIFIED\",\"object\":" MCOBJ ",}",
    "{\"type\":\"MODIFIED\",\"object\":" MCOBJ "} x",
    "{\"type\":\"MODIFIED\",\"object\":" MCOBJ "}}",
    "{\"type\":\"MODIFIED\" \"object\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\",,\"object\":" MCOBJ "}",
    "{,\"type\":\"MODIFIED\",\"object\":" MCOBJ "}",
    "{'type':\"MODIFIED\",\"object\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"5\"},\"x\":01}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"5\"},\"x\":\"\xff\"}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"5\"},\"x\":1e400}}",
    "{\"type\":\"MODI\tFIED\",\"object\":" MCOBJ "}",
    "\xEF\xBB\xBF{\"type\":\"MODIFIED\",\"object\":" MCOBJ "}",
};

static void test_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "line %zu", i);
        check(name, lines[i], strlen(lines[i]));
    }
}

/* Raw NUL bytes (which strlen cannot carry): jansson lets one through
 * right after a number or literal, the reduced reader never does, so the
 * decoder must hand such a line to jansson. */
static void test_raw_nuls(void **state)
{
    (void)state;
    static const char a[] = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\","
                            "\"resourceVersion\":\"5\"},\"x\":1\0}}";
    static const char b[] = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\","
                            "\"resourceVersion\":\"5\"},\"x\":true\0}}";
    static const char c[] = "{\"type\":\"MODIFIED\",\"x\":1\0,\"object\":{\"metadata\":{"
                            "\"resourceVersion\":\"5\"}}}";
    static const char d[] = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{"
                            "\"resourceVersion\":\"5\"}}}\0";
    static const char e[] = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{"
                            "\"resourceVersion\":\"5\\u0000\"}}}";
    struct {
        const char *d;
        size_t n;
    } cases[] = {{a, sizeof(a) - 1},
                 {b, sizeof(b) - 1},
                 {c, sizeof(c) - 1},
                 {d, sizeof(d) - 1},
                 {e, sizeof(e) - 1}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check("raw NUL", cases[i].d, cases[i].n);
    struct osw_watch_event ev;
    assert_int_equal(osw_cluster_cache_decode_mc_event(a, sizeof(a) - 1, &ev, NULL), OSW_OK);
    assert_int_equal(ev.type, OSW_WATCH_MODIFIED);
    osw_watchline_event_free(&ev);
}

/* Values that are or are not JSON, in each member of a MODIFIED event. */
static const char *const values[] = {
    "",           "1",      "-0",    "01",          "1e400",       "true",
    "nul",        "null",   "\"s\"", "\"\\u0000\"", "\"\\uD800\"", "\"\xC0\x80\"",
    "[]",         "[1,]",   "{}",    "{\"a\"}",     "{\"a\":1,}",  "{\"\\u0000\":1}",
    "{\"a\":1}}", "\"open", "1 2",
};

static const char *const placements[] = {
    "{\"type\":@,\"object\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\",\"object\":@}",
    "{\"type\":\"MODIFIED\",\"x\":@,\"object\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":@,\"name\":\"a\"}}}",
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\",\"name\":@}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":@}}",
    "{\"type\":\"ERROR\",\"object\":{\"code\":@}}",
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":@}}}",
};

static char *place(const char *tmpl, const char *v, size_t vlen, size_t *len)
{
    char *d = osw_objtree_place(tmpl, v, vlen, len);
    assert_non_null(d);
    return d;
}

static void test_values(void **state)
{
    (void)state;
    for (size_t p = 0; p < sizeof(placements) / sizeof(placements[0]); p++) {
        for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
            size_t len;
            char *d = place(placements[p], values[v], strlen(values[v]), &len);
            char name[256];
            snprintf(name, sizeof(name), "'%s' in '%.60s'", values[v], placements[p]);
            check(name, d, len);
            free(d);
        }
    }
}

/* The object is a member of the line: jansson counts its nesting from the
 * line, so the limit (2048) falls one level earlier than for a list
 * element read alone. */
static void test_depth_limit(void **state)
{
    (void)state;
    static const char tmpl[] =
        "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"},\"x\":@}}";
    for (size_t n = 2043; n <= 2048; n++) {
        char *v = malloc(2 * n + 1);
        assert_non_null(v);
        memset(v, '[', n);
        v[n] = '1';
        memset(v + n + 1, ']', n);
        size_t len;
        char *d = place(tmpl, v, 2 * n + 1, &len);
        struct osw_watch_event ev;
        enum osw_err want = n <= 2045 ? OSW_OK : OSW_EBADJSON;
        enum osw_err got = osw_cluster_cache_decode_mc_event(d, len, &ev, NULL);
        if (got != want)
            fail_msg("%zu arrays: %d, want %d", n, (int)got, (int)want);
        if (got == OSW_OK)
            osw_watchline_event_free(&ev);
        check("depth", d, len);
        free(d);
        free(v);
    }
}

/* The plain case is read as the reduced tree: the object keeps metadata and
 * the spec members the extract reads, not `kind` or the Ignition version;
 * the extract is the whole object's. */
static void test_reduced(void **state)
{
    (void)state;
    static const char line[] = "{\"type\":\"MODIFIED\",\"object\":" MCOBJ "}";
    struct osw_watch_event ev;
    assert_int_equal(osw_cluster_cache_decode_mc_event(line, sizeof(line) - 1, &ev, NULL), OSW_OK);
    assert_int_equal(ev.type, OSW_WATCH_MODIFIED);
    assert_string_equal(ev.resource_version, "41");
    assert_null(json_object_get(ev.object, "kind"));
    assert_null(
        json_object_get(json_object_get(json_object_get(ev.object, "spec"), "config"), "ignition"));
    struct osw_mc *mc = NULL;
    assert_int_equal(osw_mc_extract(ev.object, &mc, NULL), OSW_OK);
    assert_true(osw_str_eq_cstr(mc->name, "99-r"));
    assert_non_null(mc->crio);
    assert_int_equal(mc->crio->count, 1);
    osw_mc_unref(mc);
    osw_watchline_event_free(&ev);
    /* A bookmark keeps its resourceVersion; an ERROR its code and message. */
    static const char bm[] =
        "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"77\"}}}";
    assert_int_equal(osw_cluster_cache_decode_mc_event(bm, sizeof(bm) - 1, &ev, NULL), OSW_OK);
    assert_int_equal(ev.type, OSW_WATCH_BOOKMARK);
    assert_string_equal(ev.resource_version, "77");
    osw_watchline_event_free(&ev);
    static const char er[] =
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"message\":\"old\"}}";
    assert_int_equal(osw_cluster_cache_decode_mc_event(er, sizeof(er) - 1, &ev, NULL), OSW_OK);
    assert_int_equal(ev.type, OSW_WATCH_ERROR);
    assert_int_equal(ev.code, 410);
    assert_string_equal(ev.message, "old");
    osw_watchline_event_free(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),   cmocka_unit_test(test_raw_nuls),
        cmocka_unit_test(test_values),  cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_reduced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

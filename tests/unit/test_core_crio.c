/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-MachineConfig extract of CRI-O drop-ins (which entries are
 * drop-ins, what makes a MachineConfig undecodable as a whole, the same
 * path twice, the bounds) and runc(P) over extracts in merge order: whole
 * entries, path order, unknown wins. The fixtures in tests/data/runc/ are
 * MachineConfigs with real Ignition file entries, shared with the
 * integration tests of the runc guard.
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

#include "osw/buf.h"
#include "osw/crio.h"

#define DIR "/etc/crio/crio.conf.d/"

static struct osw_crio_extract *build(const json_t *mc)
{
    struct osw_crio_extract *x = NULL;
    assert_int_equal(osw_crio_extract_build(mc, &x), OSW_OK);
    assert_non_null(x);
    /* Sorted by path, unique. */
    for (size_t i = 1; i < x->count; i++) {
        const struct osw_crio_dropin *a = &x->dropins[i - 1], *b = &x->dropins[i];
        size_t n = a->path_len < b->path_len ? a->path_len : b->path_len;
        int c = memcmp(a->path, b->path, n);
        assert_true(c < 0 || (c == 0 && a->path_len < b->path_len));
    }
    return x;
}

static struct osw_crio_extract *fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/runc/%s.json", OSW_TEST_DATA, name);
    json_error_t jerr;
    json_t *mc = json_load_file(path, 0, &jerr);
    if (!mc)
        fail_msg("%s: %s", path, jerr.text);
    struct osw_crio_extract *x = build(mc);
    json_decref(mc);
    assert_true(x->bytes < 1024); /* issue 11: under 1 KiB per MachineConfig */
    return x;
}

/* An MC whose spec.config.storage.files is the JSON text `files`. */
static struct osw_crio_extract *with_files(const char *files)
{
    char *text = NULL;
    size_t n = strlen(files) + 64;
    text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "{\"spec\":{\"config\":{\"storage\":{\"files\":%s}}}}", files);
    json_error_t jerr;
    json_t *mc = json_loads(text, JSON_ALLOW_NUL, &jerr);
    if (!mc)
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    free(text);
    struct osw_crio_extract *x = build(mc);
    json_decref(mc);
    return x;
}

static void expect_one(const struct osw_crio_extract *x, const char *path, enum osw_crio_state st,
                       const char *value)
{
    assert_false(x->undecodable);
    assert_int_equal(x->count, 1);
    const struct osw_crio_dropin *d = &x->dropins[0];
    assert_int_equal(d->path_len, strlen(path));
    assert_memory_equal(d->path, path, d->path_len);
    if (d->state != st)
        fail_msg("%s: state %d, want %d", path, d->state, st);
    if (st == OSW_CRIO_VALUE) {
        assert_int_equal(d->value_len, strlen(value));
        assert_memory_equal(d->value, value, d->value_len);
    } else {
        assert_null(d->value);
    }
}

static void test_fixtures(void **state)
{
    (void)state;
    struct osw_crio_extract *x = fixture("01-worker-container-runtime");
    expect_one(x, DIR "00-default", OSW_CRIO_VALUE, "crun");
    osw_crio_extract_free(x);
    x = fixture("99-worker-generated-containerruntime");
    expect_one(x, DIR "01-ctrcfg-defaultRuntime", OSW_CRIO_VALUE, "runc");
    osw_crio_extract_free(x);
    x = fixture("99-worker-runc");
    expect_one(x, DIR "99-runc.conf", OSW_CRIO_VALUE, "runc");
    osw_crio_extract_free(x);
    x = fixture("99-worker-runc-gzip");
    expect_one(x, DIR "99-runc-gz.conf", OSW_CRIO_VALUE, "runc");
    osw_crio_extract_free(x);
    x = fixture("99-worker-zz-crun");
    expect_one(x, DIR "99-zz-crun.conf", OSW_CRIO_VALUE, "crun");
    osw_crio_extract_free(x);
    x = fixture("99-worker-remote-dropin");
    expect_one(x, DIR "50-remote.conf", OSW_CRIO_UNDECODABLE, NULL);
    osw_crio_extract_free(x);
    x = fixture("99-worker-ign2");
    expect_one(x, DIR "10-ign2.conf", OSW_CRIO_VALUE, "crun");
    osw_crio_extract_free(x);
    x = fixture("99-worker-empty-dropin");
    expect_one(x, DIR "99-runc.conf", OSW_CRIO_NOTHING, NULL);
    osw_crio_extract_free(x);
    x = fixture("99-worker-no-dropins");
    assert_false(x->undecodable);
    assert_int_equal(x->count, 0);
    osw_crio_extract_free(x);
    x = fixture("99-worker-bad-files");
    assert_true(x->undecodable);
    assert_int_equal(x->count, 0);
    osw_crio_extract_free(x);
}

/* MachineConfigs undecodable as a whole, and shapes that are not. */
static void test_whole(void **state)
{
    (void)state;
    static const char *const whole[] = {
        "[]",
        "{\"spec\":\"x\"}",
        "{\"spec\":{\"config\":[]}}",
        "{\"spec\":{\"config\":{\"storage\":\"x\"}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":{}}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[1]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[null]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":1}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"/x\"},{\"path\":null}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"" DIR
        "a\",\"contents\":\"x\"}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"" DIR
        "a\",\"contents\":[]}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"" DIR
        "a\",\"contents\":{\"source\":1}}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"" DIR
        "a\",\"contents\":{\"source\":\"data:,\",\"compression\":1}}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"" DIR
        "a\",\"contents\":{\"source\":null,\"compression\":true}}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"" DIR
        "a\",\"append\":true,\"contents\":{\"source\":[]}}]}}}}",
    };
    static const char *const fine[] = {
        "{}",
        "{\"spec\":null}",
        "{\"spec\":{}}",
        "{\"spec\":{\"config\":null}}",
        "{\"spec\":{\"config\":{}}}",
        "{\"spec\":{\"config\":{\"storage\":null}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":null}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[]}}}}",
        /* Only drop-in paths have their contents checked. */
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"/etc/x\",\"contents\":5}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"" DIR
        "a\",\"contents\":null}]}}}}",
        "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"" DIR
        "a\",\"contents\":{\"source\":null,\"compression\":null}}]}}}}",
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0] + sizeof fine / sizeof fine[0]; i++) {
        bool bad = i < sizeof whole / sizeof whole[0];
        const char *text = bad ? whole[i] : fine[i - sizeof whole / sizeof whole[0]];
        json_error_t jerr;
        json_t *mc = json_loads(text, 0, &jerr);
        assert_non_null(mc);
        struct osw_crio_extract *x = build(mc);
        if (x->undecodable != bad)
            fail_msg("%s: undecodable %d, want %d", text, x->undecodable, bad);
        assert_int_equal(x->count, 0);
        osw_crio_extract_free(x);
        json_decref(mc);
    }
}

struct ecase {
    const char *files;
    enum osw_crio_state state;
    const char *value;
};

#define F(src) "[{\"path\":\"" DIR "d\",\"contents\":{\"source\":\"" src "\"}}]"
#define FC(src, c)                                                                                 \
    "[{\"path\":\"" DIR "d\",\"contents\":{\"source\":\"" src "\",\"compression\":" c "}}]"
#define RUNC_PCT "data:,%5Bcrio.runtime%5D%0Adefault_runtime%3D%22runc%22"
#define RUNC_B64 "data:;base64,W2NyaW8ucnVudGltZV0KZGVmYXVsdF9ydW50aW1lPSJydW5jIg=="
/* gzip of "[crio.runtime]\ndefault_runtime=\"runc\"" (mtime 0) */
#define RUNC_GZ "data:;base64,H4sIAAAAAAACA4tOLsrM1ysqzSvJzE2N5UpJTUsszSmJhwrYKgEZyUoABQ+A8SUAAAA="

static const struct ecase entries[] = {
    {F(RUNC_PCT), OSW_CRIO_VALUE, "runc"},
    {F(RUNC_B64), OSW_CRIO_VALUE, "runc"},
    {FC(RUNC_B64, "null"), OSW_CRIO_VALUE, "runc"},
    {FC(RUNC_B64, "\"\""), OSW_CRIO_VALUE, "runc"},
    {FC(RUNC_GZ, "\"gzip\""), OSW_CRIO_VALUE, "runc"},
    {FC(RUNC_GZ, "\"GZIP\""), OSW_CRIO_UNDECODABLE, NULL},
    {FC(RUNC_B64, "\"gzip\""), OSW_CRIO_UNDECODABLE, NULL},
    {FC(RUNC_B64, "\"zstd\""), OSW_CRIO_UNDECODABLE, NULL},
    {FC("data:,", "\"gzip\""), OSW_CRIO_UNDECODABLE, NULL},
    {F("data:,"), OSW_CRIO_NOTHING, NULL},
    {F("data:;base64,"), OSW_CRIO_NOTHING, NULL},
    {F("data:,%23%20nothing"), OSW_CRIO_NOTHING, NULL},
    {F("data:,%5Bcrio.runtime%5D%0Adefault_runtime%3D%22%22"), OSW_CRIO_NOTHING, NULL},
    {F("data:,crio.runtime.default_runtime%3D'crun'"), OSW_CRIO_VALUE, "crun"},
    {F("data:,crio.runtime.default_runtime%3D1"), OSW_CRIO_UNDECODABLE, NULL},
    {F("data:,not%20toml"), OSW_CRIO_UNDECODABLE, NULL},
    {F("data:,%FF"), OSW_CRIO_UNDECODABLE, NULL},
    {F(""), OSW_CRIO_UNDECODABLE, NULL},
    {F("https://example.com/x"), OSW_CRIO_UNDECODABLE, NULL},
    {F("s3://bucket/x"), OSW_CRIO_UNDECODABLE, NULL},
    {F("data:text/plain;charset=\\\"utf-8\\\","), OSW_CRIO_UNDECODABLE, NULL},
    /* The same path twice: undecodable, whatever the entries say. */
    {"[{\"path\":\"" DIR "d\",\"contents\":{\"source\":\"data:,\"}},"
     "{\"path\":\"" DIR "d\",\"contents\":{\"source\":\"data:,\"}}]",
     OSW_CRIO_UNDECODABLE, NULL},
    /* ... but an entry without a source is no drop-in, so no duplicate. */
    {"[{\"path\":\"" DIR "d\",\"contents\":{\"source\":\"" RUNC_PCT "\"}},"
     "{\"path\":\"" DIR "d\",\"contents\":{\"source\":null,\"compression\":\"gzip\"}},"
     "{\"path\":\"" DIR "d\"}]",
     OSW_CRIO_VALUE, "runc"},
    /* Ignition 2.x append: not a drop-in; append false or odd: a drop-in. */
    {"[{\"path\":\"" DIR "d\",\"append\":true,\"contents\":{\"source\":\"data:,\"}},"
     "{\"path\":\"" DIR "d\",\"append\":false,\"contents\":{\"source\":\"" RUNC_PCT "\"}}]",
     OSW_CRIO_VALUE, "runc"},
    {"[{\"path\":\"" DIR "d\",\"append\":[],\"contents\":{\"source\":\"" RUNC_PCT "\"}}]",
     OSW_CRIO_VALUE, "runc"},
};

static void test_entries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        struct osw_crio_extract *x = with_files(entries[i].files);
        if (x->count != 1 || x->dropins[0].state != entries[i].state)
            fail_msg("entry %zu %s: count %zu state %d, want %d", i, entries[i].files, x->count,
                     x->count ? (int)x->dropins[0].state : -1, entries[i].state);
        expect_one(x, DIR "d", entries[i].state, entries[i].value);
        osw_crio_extract_free(x);
    }
}

/* Paths are bytes: a prefix match, nothing normalised. */
static void test_paths(void **state)
{
    (void)state;
    struct osw_crio_extract *x =
        with_files("[{\"path\":\"/etc/crio/crio.conf.d\",\"contents\":{\"source\":\"data:,\"}},"
                   "{\"path\":\"/etc/crio/crio.conf.dx/a\",\"contents\":{\"source\":\"data:,\"}},"
                   "{\"path\":\"/etc/crio//crio.conf.d/a\",\"contents\":{\"source\":\"data:,\"}},"
                   "{\"path\":\"" DIR "\",\"contents\":{\"source\":\"data:,\"}},"
                   "{\"path\":\"" DIR "../a\",\"contents\":{\"source\":\"data:,\"}},"
                   "{\"path\":\"" DIR "b\\u0000c\",\"contents\":{\"source\":\"data:,\"}},"
                   "{\"path\":\"" DIR "b\",\"contents\":{\"source\":\"data:,\"}}]");
    assert_false(x->undecodable);
    assert_int_equal(x->count, 4);
    assert_int_equal(x->dropins[0].path_len, strlen(DIR));
    assert_memory_equal(x->dropins[1].path, DIR "../a", strlen(DIR "../a"));
    assert_int_equal(x->dropins[2].path_len, strlen(DIR "b"));
    assert_int_equal(x->dropins[3].path_len, strlen(DIR "b") + 2);
    osw_crio_extract_free(x);
}

/* The 256 drop-ins and 1 MiB bounds, and a value kept cut. */
static void test_bounds(void **state)
{
    (void)state;
    for (size_t n = 256; n <= 257; n++) {
        struct osw_buf b = OSW_BUF_INIT;
        assert_int_equal(osw_buf_append_cstr(&b, "["), OSW_OK);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(osw_buf_printf(&b,
                                            "%s{\"path\":\"" DIR
                                            "%03zu\",\"contents\":{\"source\":\"data:,\"}}",
                                            i ? "," : "", i),
                             OSW_OK);
        assert_int_equal(osw_buf_append_cstr(&b, ",{\"path\":\"/etc/other\"}]"), OSW_OK);
        struct osw_crio_extract *x = with_files(b.data);
        assert_int_equal(x->undecodable, n > 256);
        assert_int_equal(x->count, n > 256 ? 0 : 256);
        osw_crio_extract_free(x);
        osw_buf_free(&b);
    }
    /* 1 MiB of TOML comment after the data URL step is fine; one more byte
     * is not. */
    for (size_t n = OSW_CRIO_MAX_BYTES; n <= OSW_CRIO_MAX_BYTES + 1; n++) {
        struct osw_buf b = OSW_BUF_INIT;
        assert_int_equal(osw_buf_append_cstr(&b, "[{\"path\":\"" DIR "d\",\"contents\":{\"source\":"
                                                 "\"data:,%23"),
                         OSW_OK);
        for (size_t i = 1; i < n; i++)
            assert_int_equal(osw_buf_append(&b, "c", 1), OSW_OK);
        assert_int_equal(osw_buf_append_cstr(&b, "\"}}]"), OSW_OK);
        struct osw_crio_extract *x = with_files(b.data);
        expect_one(x, DIR "d", n > OSW_CRIO_MAX_BYTES ? OSW_CRIO_UNDECODABLE : OSW_CRIO_NOTHING,
                   NULL);
        osw_crio_extract_free(x);
        osw_buf_free(&b);
    }
    /* A long default_runtime is kept cut, and flagged. */
    struct osw_crio_extract *x =
        with_files(F("data:,crio.runtime.default_runtime%3D'runc"
                     "0123456789012345678901234567890123456789012345678901234567890123456789'"));
    assert_int_equal(x->count, 1);
    assert_int_equal(x->dropins[0].state, OSW_CRIO_VALUE);
    assert_true(x->dropins[0].value_cut);
    assert_int_equal(x->dropins[0].value_len, OSW_CRIO_VALUE_MAX);
    enum osw_tri r = OSW_TRI_UNKNOWN;
    const struct osw_crio_extract *one[] = {x};
    assert_int_equal(osw_crio_runc(one, 1, &r), OSW_OK);
    assert_int_equal(r, OSW_TRI_FALSE);
    osw_crio_extract_free(x);
}

enum { TPL, CTRCFG, RUNC, RUNC_GZ_, ZZ_CRUN, REMOTE, IGN2, EMPTY, NONE, BAD, NFIX };
static const char *const names[NFIX] = {
    "01-worker-container-runtime",
    "99-worker-generated-containerruntime",
    "99-worker-runc",
    "99-worker-runc-gzip",
    "99-worker-zz-crun",
    "99-worker-remote-dropin",
    "99-worker-ign2",
    "99-worker-empty-dropin",
    "99-worker-no-dropins",
    "99-worker-bad-files",
};

struct rcase {
    int mcs[6]; /* indexes into the fixtures, merge order, -1 ends; 99: NULL */
    enum osw_tri want;
};

static const struct rcase runc_cases[] = {
    {{-1}, OSW_TRI_FALSE},
    {{TPL, -1}, OSW_TRI_FALSE},
    /* The template's crun, then the ContainerRuntimeConfig's runc. */
    {{TPL, CTRCFG, -1}, OSW_TRI_TRUE},
    {{CTRCFG, TPL, -1}, OSW_TRI_TRUE}, /* path order, not merge order */
    {{TPL, RUNC, -1}, OSW_TRI_TRUE},
    {{TPL, RUNC_GZ_, -1}, OSW_TRI_TRUE},
    /* crun later in path order wins. */
    {{TPL, RUNC, ZZ_CRUN, -1}, OSW_TRI_FALSE},
    {{ZZ_CRUN, TPL, RUNC, -1}, OSW_TRI_FALSE},
    {{TPL, CTRCFG, ZZ_CRUN, -1}, OSW_TRI_FALSE},
    /* Same path: the later MachineConfig's entry wins whole. */
    {{TPL, RUNC, EMPTY, -1}, OSW_TRI_FALSE},
    {{TPL, EMPTY, RUNC, -1}, OSW_TRI_TRUE},
    /* Unknown wins over runc and over a later crun. */
    {{TPL, RUNC, REMOTE, -1}, OSW_TRI_UNKNOWN},
    {{TPL, ZZ_CRUN, REMOTE, -1}, OSW_TRI_UNKNOWN},
    {{REMOTE, -1}, OSW_TRI_UNKNOWN},
    {{TPL, BAD, -1}, OSW_TRI_UNKNOWN},
    {{BAD, ZZ_CRUN, -1}, OSW_TRI_UNKNOWN},
    {{NONE, 99, -1}, OSW_TRI_FALSE},
    {{CTRCFG, NONE, 99, -1}, OSW_TRI_TRUE},
    {{IGN2, -1}, OSW_TRI_FALSE},
    {{CTRCFG, IGN2, -1}, OSW_TRI_FALSE},
    {{EMPTY, -1}, OSW_TRI_FALSE},
};

static void test_runc(void **state)
{
    (void)state;
    struct osw_crio_extract *fx[NFIX];
    for (size_t i = 0; i < NFIX; i++)
        fx[i] = fixture(names[i]);
    for (size_t c = 0; c < sizeof runc_cases / sizeof runc_cases[0]; c++) {
        const struct osw_crio_extract *mcs[6];
        size_t n = 0;
        for (; runc_cases[c].mcs[n] >= 0; n++)
            mcs[n] = runc_cases[c].mcs[n] == 99 ? NULL : fx[runc_cases[c].mcs[n]];
        enum osw_tri got = (enum osw_tri)77;
        assert_int_equal(osw_crio_runc(mcs, n, &got), OSW_OK);
        if (got != runc_cases[c].want)
            fail_msg("runc case %zu: got %d, want %d", c, got, runc_cases[c].want);
    }
    for (size_t i = 0; i < NFIX; i++)
        osw_crio_extract_free(fx[i]);
}

/* An undecodable entry overridden by a later MachineConfig is not P's;
 * many drop-ins (past the small-array path) merge the same way. */
static void test_runc_override_and_many(void **state)
{
    (void)state;
    struct osw_crio_extract *remote = fixture("99-worker-remote-dropin");
    struct osw_crio_extract *fixed = with_files(
        "[{\"path\":\"" DIR "50-remote.conf\",\"contents\":{\"source\":\"" RUNC_PCT "\"}}]");
    const struct osw_crio_extract *two[] = {remote, fixed};
    enum osw_tri r;
    assert_int_equal(osw_crio_runc(two, 2, &r), OSW_OK);
    assert_int_equal(r, OSW_TRI_TRUE);
    const struct osw_crio_extract *rev[] = {fixed, remote};
    assert_int_equal(osw_crio_runc(rev, 2, &r), OSW_OK);
    assert_int_equal(r, OSW_TRI_UNKNOWN);
    osw_crio_extract_free(remote);
    osw_crio_extract_free(fixed);

    /* Three MachineConfigs of 40 drop-ins each: MC k sets runc at paths
     * DIR/k-*, so the largest path (the last MC's) decides. */
    struct osw_crio_extract *many[3];
    for (size_t k = 0; k < 3; k++) {
        struct osw_buf b = OSW_BUF_INIT;
        assert_int_equal(osw_buf_append_cstr(&b, "["), OSW_OK);
        for (size_t i = 0; i < 40; i++)
            assert_int_equal(
                osw_buf_printf(
                    &b, "%s{\"path\":\"" DIR "%zu-%02zu\",\"contents\":{\"source\":\"%s\"}}",
                    i ? "," : "", k, i,
                    k == 2 && i == 39 ? "data:,crio.runtime.default_runtime%3D'crun'" : RUNC_PCT),
                OSW_OK);
        assert_int_equal(osw_buf_append_cstr(&b, "]"), OSW_OK);
        many[k] = with_files(b.data);
        assert_int_equal(many[k]->count, 40);
        osw_buf_free(&b);
    }
    const struct osw_crio_extract *m3[] = {many[0], many[1], many[2]};
    assert_int_equal(osw_crio_runc(m3, 3, &r), OSW_OK);
    assert_int_equal(r, OSW_TRI_FALSE);
    assert_int_equal(osw_crio_runc(m3, 2, &r), OSW_OK);
    assert_int_equal(r, OSW_TRI_TRUE);
    for (size_t k = 0; k < 3; k++)
        osw_crio_extract_free(many[k]);
    osw_crio_extract_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_whole),
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_runc),
        cmocka_unit_test(test_runc_override_and_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential tests of osw_objtree_decode (objtree.h), the reader the
 * cluster cache lists MachineConfigs with, against what the list did before
 * it: json_loadb of the whole element, then osw_mc_extract. Every case must
 * give the same verdict and the same extract field by field
 * (tests/support/objtree_diff.h). The cases: every MachineConfig in the
 * repository's fixtures (tests/data, tests/golden), compact, indented and
 * with every letter of every string escaped; generated ones (drop-ins in
 * each data-URL form, gzip, undecodable ones, duplicate and escaped keys,
 * members of the wrong type at each level, a huge Ignition); values that
 * are not JSON or not objects, at the top and deep inside; nesting at
 * jansson's depth limit; and the error paths of the entry point itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <jansson.h>

#include "../support/objtree_diff.h"
#include "osw/buf.h"
#include "osw/objtree.h"

static void check(const char *name, const char *data, size_t len)
{
    const char *w = objtree_diff(data, len);
    if (w)
        fail_msg("%s: %s differs", name, w);
}

/* What the whole-object extract says, in a few words, so that a case is
 * known to reach what it is meant to: "badobj", "none" (no drop-in),
 * "undecodable", or per drop-in its value, '-' (sets nothing) or '?'
 * (undecodable), comma-separated. */
static void summary(const char *data, size_t len, char *out, size_t cap)
{
    json_t *full = json_loadb(data, len, OBJTREE_JFLAGS, NULL);
    struct osw_mc *mc = NULL;
    assert_non_null(full);
    out[0] = '\0';
    if (osw_mc_extract(full, &mc, NULL) != OSW_OK) {
        snprintf(out, cap, "badobj");
    } else if (!mc->crio) {
        snprintf(out, cap, "none");
    } else if (mc->crio->undecodable) {
        snprintf(out, cap, "undecodable");
    } else {
        for (size_t i = 0; i < mc->crio->count; i++) {
            const struct osw_crio_dropin *d = &mc->crio->dropins[i];
            size_t n = strlen(out);
            if (d->state == OSW_CRIO_VALUE)
                snprintf(out + n, cap - n, "%s%.*s", i ? "," : "", (int)d->value_len, d->value);
            else
                snprintf(out + n, cap - n, "%s%c", i ? "," : "",
                         d->state == OSW_CRIO_NOTHING ? '-' : '?');
        }
    }
    osw_mc_unref(mc);
    json_decref(full);
}

/* ---- fixtures ---------------------------------------------------------------- */

/* The text with every ASCII letter inside a string written as \u00XX: keys
 * ("spec", "config", "path"...) and values (paths, data URLs) alike. */
static char *escape_letters(const char *s, size_t *len)
{
    struct osw_buf b = OSW_BUF_INIT;
    bool in_str = false, esc = false;
    for (; *s; s++) {
        char c = *s;
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (in_str && !esc && letter)
            assert_int_equal(osw_buf_printf(&b, "\\u%04x", (unsigned)c), OSW_OK);
        else
            assert_int_equal(osw_buf_append(&b, s, 1), OSW_OK);
        if (esc)
            esc = false;
        else if (in_str && c == '\\')
            esc = true;
        else if (c == '"')
            in_str = !in_str;
    }
    *len = b.len;
    return b.data;
}

static size_t fixtures_seen, fixture_dropins;

/* One MachineConfig of a fixture, written three ways. */
static void check_fixture_mc(const char *file, const json_t *mc)
{
    char name[512];
    char *compact = json_dumps(mc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *indented = json_dumps(mc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    assert_non_null(compact);
    assert_non_null(indented);
    size_t elen;
    char *escaped = escape_letters(compact, &elen);
    snprintf(name, sizeof(name), "%s (compact)", file);
    check(name, compact, strlen(compact));
    snprintf(name, sizeof(name), "%s (indented)", file);
    check(name, indented, strlen(indented));
    snprintf(name, sizeof(name), "%s (escaped)", file);
    check(name, escaped, elen);
    char sum[256];
    summary(compact, strlen(compact), sum, sizeof(sum));
    if (strcmp(sum, "none") != 0 && strcmp(sum, "badobj") != 0)
        fixture_dropins++;
    fixtures_seen++;
    free(compact);
    free(indented);
    free(escaped);
}

/* Every object anywhere in `v` whose kind is MachineConfig. */
static void walk_json(const char *file, const json_t *v)
{
    const char *key;
    const json_t *m;
    size_t i;
    if (json_is_object(v)) {
        const char *kind = json_string_value(json_object_get(v, "kind"));
        if (kind && strcmp(kind, "MachineConfig") == 0)
            check_fixture_mc(file, v);
        json_object_foreach((json_t *)v, key, m) walk_json(file, m);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m) walk_json(file, m);
    }
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".json") != 0)
        return 0;
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr);
    if (!root)
        return 0; /* some fixtures are deliberately not JSON */
    walk_json(path, root);
    /* A file that is one MachineConfig also goes in as written. */
    const char *kind = json_string_value(json_object_get(root, "kind"));
    if (kind && strcmp(kind, "MachineConfig") == 0) {
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char *buf = malloc(1 << 20);
        assert_non_null(buf);
        size_t len = fread(buf, 1, 1 << 20, f);
        fclose(f);
        check(path, buf, len);
        free(buf);
    }
    json_decref(root);
    return 0;
}

static void test_fixtures(void **state)
{
    (void)state;
    fixtures_seen = fixture_dropins = 0;
    assert_int_equal(nftw(OSW_TEST_DATA, visit, 16, FTW_PHYS), 0);
    assert_int_equal(nftw(OSW_TEST_DATA "/../golden", visit, 16, FTW_PHYS), 0);
    print_message("fixtures: %zu MachineConfigs, %zu with drop-ins\n", fixtures_seen,
                  fixture_dropins);
    assert_true(fixtures_seen >= 50);
    assert_true(fixture_dropins >= 10);
}

/* ---- generated MachineConfigs ------------------------------------------------ */

#define DIR "/etc/crio/crio.conf.d/"
#define META                                                                                       \
    "\"metadata\":{\"name\":\"99-worker-x\",\"labels\":{\"machineconfiguration.openshift.io/"      \
    "role\":\"worker\",\"b\":\"c\"},\"annotations\":{\"machineconfiguration.openshift.io/"         \
    "generated-by-controller-version\":\"4.19\"}}"
#define MC(spec)                                                                                   \
    "{\"apiVersion\":\"machineconfiguration.openshift.io/v1\"," META ",\"spec\":" spec "}"
#define CONFIG(cfg) MC("{\"osImageURL\":\"quay.io/os@sha256:1\",\"config\":" cfg "}")
#define STORAGE(st) CONFIG("{\"ignition\":{\"version\":\"3.2.0\"},\"storage\":" st "}")
#define FILES(f)    STORAGE("{\"files\":[" f "]}")
#define DROPIN(name, src)                                                                          \
    "{\"path\":\"" DIR name "\",\"mode\":420,\"contents\":{\"source\":\"" src "\"}}"
#define DROPIN_Z(name, src, z)                                                                     \
    "{\"path\":\"" DIR name "\",\"contents\":{\"source\":\"" src "\",\"compression\":" z "}}"
#define OTHER(name) "{\"path\":\"/etc/" name "\",\"contents\":{\"source\":\"data:,x\"}}"
/* [crio.runtime] default_runtime = "crun", three ways; runc gzipped. */
#define CRUN_PCT "data:,%5Bcrio.runtime%5D%0Adefault_runtime%20%3D%20%22crun%22%0A"
#define CRUN_B64 "data:;base64,W2NyaW8ucnVudGltZV0KZGVmYXVsdF9ydW50aW1lID0gImNydW4iCg=="
#define CRUN_MIME                                                                                  \
    "data:text/"                                                                                   \
    "plain;charset=utf-8;base64,W2NyaW8ucnVudGltZV0KZGVmYXVsdF9ydW50aW1lID0gImNydW4iCg=="
#define RUNC_GZ "data:;base64,H4sIAAAAAAACA4tOLsrM1ysqzSvJzE2N5UpJTUsszSmJhwrYKgEZyUoABQ+A8SUAAAA="

struct gen {
    const char *name;
    const char *json;
    const char *want; /* summary() of the whole object */
};

static const struct gen gens[] = {
    /* Data-URL forms and compression. */
    {"percent-encoded", FILES(DROPIN("a.conf", CRUN_PCT)), "crun"},
    {"base64", FILES(DROPIN("a.conf", CRUN_B64)), "crun"},
    {"mime and charset", FILES(DROPIN("a.conf", CRUN_MIME)), "crun"},
    {"gzip", FILES(DROPIN_Z("a.conf", RUNC_GZ, "\"gzip\"")), "runc"},
    {"empty compression", FILES(DROPIN_Z("a.conf", CRUN_B64, "\"\"")), "crun"},
    {"null compression", FILES(DROPIN_Z("a.conf", CRUN_B64, "null")), "crun"},
    {"unknown compression", FILES(DROPIN_Z("a.conf", CRUN_B64, "\"xz\"")), "?"},
    {"compression not a string", FILES(DROPIN_Z("a.conf", CRUN_B64, "1")), "undecodable"},
    {"gzip that is not gzip", FILES(DROPIN_Z("a.conf", CRUN_B64, "\"gzip\"")), "?"},
    {"bad base64", FILES(DROPIN("a.conf", "data:;base64,!!!")), "?"},
    {"remote source", FILES(DROPIN("a.conf", "https://example.com/x")), "?"},
    {"empty drop-in", FILES(DROPIN("a.conf", "data:,")), "-"},
    {"not TOML", FILES(DROPIN("a.conf", "data:,%5Bcrio")), "?"},
    {"two drop-ins and others",
     FILES(OTHER("a") "," DROPIN("b.conf", CRUN_PCT) "," OTHER("c") "," DROPIN_Z(
         "a.conf", RUNC_GZ, "\"gzip\"") "," OTHER("d")),
     "runc,crun"},
    {"same path twice", FILES(DROPIN("a.conf", CRUN_PCT) "," DROPIN("a.conf", CRUN_B64)), "?"},
    {"append",
     FILES("{\"path\":\"" DIR "a\",\"append\":true,\"contents\":{\"source\":\"" CRUN_PCT "\"}}"),
     "none"},
    {"contents not an object", FILES("{\"path\":\"" DIR "a\",\"contents\":[]}"), "undecodable"},
    {"source not a string", FILES("{\"path\":\"" DIR "a\",\"contents\":{\"source\":7}}"),
     "undecodable"},
    {"no drop-in", FILES(OTHER("a") "," OTHER("b")), "none"},
    {"path with escapes",
     FILES("{\"path\":\"\\/etc\\/crio\\/crio.conf.d\\/a\",\"contents\":{"
           "\"source\":\"" CRUN_PCT "\"}}"),
     "crun"},
    {"path with an escaped NUL",
     FILES("{\"path\":\"" DIR "a\\u0000b\",\"contents\":{"
           "\"source\":\"" CRUN_PCT "\"}}"),
     "crun"},
    {"path one byte short of the directory", FILES("{\"path\":\"/etc/crio/crio.conf.d\"}"), "none"},
    {"path escaped before the prefix ends",
     FILES("{\"path\":\"/etc/cri\\u006f/crio.conf.d/z\",\"contents\":{\"source\":\"" CRUN_PCT
           "\"}}"),
     "crun"},
    {"long escaped path outside", FILES("{\"path\":\"\\/usr\\/" DIR DIR "\"}"), "none"},

    /* Entries and members of the wrong type, at every level. */
    {"entry not an object", FILES("1," DROPIN("a.conf", CRUN_PCT)), "undecodable"},
    {"entry null", FILES("null"), "undecodable"},
    {"entry array", FILES("[]"), "undecodable"},
    {"path not a string", FILES("{\"path\":1}"), "undecodable"},
    {"no path", FILES("{\"contents\":{}}"), "undecodable"},
    {"files an object", STORAGE("{\"files\":{}}"), "undecodable"},
    {"files a string", STORAGE("{\"files\":\"x\"}"), "undecodable"},
    {"files null", STORAGE("{\"files\":null}"), "none"},
    {"files empty", STORAGE("{\"files\":[]}"), "none"},
    {"storage an array", CONFIG("{\"storage\":[1]}"), "undecodable"},
    {"storage null", CONFIG("{\"storage\":null}"), "none"},
    {"storage empty", CONFIG("{\"storage\":{}}"), "none"},
    {"config a string", CONFIG("\"x\""), "undecodable"},
    {"config a number", CONFIG("1.5e3"), "undecodable"},
    {"config null", CONFIG("null"), "none"},
    {"config empty", CONFIG("{}"), "none"},
    {"spec a string", MC("\"x\""), "badobj"},
    {"spec an array", MC("[]"), "badobj"},
    {"spec null", MC("null"), "none"},
    {"spec empty", MC("{}"), "none"},
    {"osImageURL a number", MC("{\"osImageURL\":1}"), "badobj"},
    {"osImageURL null", MC("{\"osImageURL\":null}"), "none"},
    {"name a number", "{\"metadata\":{\"name\":1}}", "badobj"},
    {"metadata an array", "{\"metadata\":[]}", "badobj"},
    {"labels not strings", "{\"metadata\":{\"labels\":{\"a\":1}}}", "badobj"},
    {"annotations not strings", "{\"metadata\":{\"annotations\":{\"a\":[]}}}", "badobj"},
    {"empty object", "{}", "none"},

    /* Duplicate keys: the last one wins, at every level. */
    {"duplicate metadata",
     "{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"y\"}},\"metadata\":{\"name\":\"b\"}}",
     "none"},
    {"duplicate spec, config in the first",
     "{\"spec\":{\"config\":{\"storage\":{\"files\":[" DROPIN("a", CRUN_PCT) "]}}},\"spec\":{}}",
     "none"},
    {"duplicate spec, config in the last",
     "{\"spec\":{\"osImageURL\":\"a\"},\"spec\":{\"config\":{\"storage\":{\"files\":[" DROPIN(
         "a", CRUN_PCT) "]}}}}",
     "crun"},
    {"duplicate spec, last not an object", "{\"spec\":{\"osImageURL\":\"a\"},\"spec\":1}",
     "badobj"},
    {"duplicate config",
     CONFIG("{\"storage\":{\"files\":[" DROPIN(
         "a", CRUN_PCT) "]}},\"config\":{\"storage\":{\"files\":[1]}}"),
     "undecodable"},
    {"duplicate config, last not an object",
     CONFIG("{\"storage\":{\"files\":[" DROPIN("a", CRUN_PCT) "]}},\"config\":true"),
     "undecodable"},
    {"duplicate storage",
     CONFIG("{\"storage\":{\"files\":[1]},\"storage\":{\"files\":[" DROPIN("a", CRUN_PCT) "]}}"),
     "crun"},
    {"duplicate storage, last not an object",
     CONFIG("{\"storage\":{\"files\":[" DROPIN("a", CRUN_PCT) "]},\"storage\":\"s\"}"),
     "undecodable"},
    {"duplicate files",
     STORAGE("{\"files\":[" DROPIN("a", CRUN_PCT) "],\"files\":[" DROPIN("b", RUNC_GZ) "]}"), "?"},
    {"duplicate files, last not an array",
     STORAGE("{\"files\":[" DROPIN("a", CRUN_PCT) "],\"files\":7}"), "undecodable"},
    {"duplicate path, last outside",
     FILES("{\"path\":\"" DIR "a\",\"path\":\"/etc/a\",\"contents\":{\"source\":\"" CRUN_PCT
           "\"}}"),
     "none"},
    {"duplicate path, last inside",
     FILES("{\"path\":\"/etc/a\",\"path\":\"" DIR "a\",\"contents\":{\"source\":\"" CRUN_PCT
           "\"}}"),
     "crun"},
    {"duplicate path, last not a string",
     FILES("{\"path\":\"/etc/a\",\"path\":null,\"contents\":{}}"), "undecodable"},
    {"duplicate path, first not a string",
     FILES("{\"path\":1,\"path\":\"/etc/a\",\"contents\":{}}"), "none"},
    {"duplicate contents",
     FILES("{\"path\":\"" DIR "a\",\"contents\":{\"source\":\"" CRUN_PCT
           "\"},\"contents\":{\"source\":\"" RUNC_GZ "\"}}"),
     "?"},
    {"duplicate osImageURL", MC("{\"osImageURL\":\"a\",\"osImageURL\":\"b\"}"), "none"},
    {"duplicate label", "{\"metadata\":{\"labels\":{\"a\":\"1\",\"a\":\"2\"}}}", "none"},

    /* Keys written with escapes name the same members. */
    {"escaped spec",
     "{\"\\u0073pec\":{\"config\":{\"storage\":{\"files\":[" DROPIN("a", CRUN_PCT) "]}}}}", "crun"},
    {"escaped keys down to path",
     "{\"\\u006detadata\":{\"n\\u0061me\":\"m\"},\"spe\\u0063\":{\"osImage\\u0055RL\":\"u\","
     "\"\\u0063onfig\":{\"stor\\u0061ge\":{\"f\\u0069les\":[{\"p\\u0061th\":\"" DIR
     "a\",\"contents\":{\"source\":\"" CRUN_PCT "\"}}]}}}}",
     "crun"},
    {"escaped spec after the plain one",
     "{\"spec\":{\"config\":{\"storage\":{\"files\":[1]}}},\"\\u0073pec\":{}}", "none"},
    {"key longer than any looked for",
     "{\"spec\":{\"configconfigconfigconfigconfigconfigconfigconfigconfigconfigconfigconfigconfig"
     "configconfigconfig\":1,\"config\":{\"storage\":{\"files\":[" DROPIN("a", CRUN_PCT) "]}}}}",
     "crun"},
    {"escaped key that decodes to spec plus", "{\"spec\\u0000\":1}", NULL},
    {"non-ASCII keys",
     "{\"sp\\u00e9c\":1,\"sp\xc3\xa9"
     "c\":2,\"spec\":{}}",
     "none"},

    /* Whitespace everywhere. */
    {"whitespace",
     " \t\r\n{ \"spec\" : { \"config\" : { \"storage\" : { \"files\" : [ { \"path\" "
     ": \"" DIR "a\" , \"contents\" : { \"source\" : \"" CRUN_PCT "\" } } ] } } } } "
     "\n",
     "crun"},
};

static void test_generated(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
        const struct gen *g = &gens[i];
        size_t len = strlen(g->json);
        if (g->want) {
            char sum[256];
            summary(g->json, len, sum, sizeof(sum));
            if (strcmp(sum, g->want) != 0)
                fail_msg("%s: the whole object gives %s, not %s", g->name, sum, g->want);
        }
        check(g->name, g->json, len);
        size_t elen;
        char *escaped = escape_letters(g->json, &elen);
        check(g->name, escaped, elen);
        free(escaped);
    }
}

/* A rendered MachineConfig of several MiB: 600 files outside the drop-in
 * directory (6 KiB data URLs each), nested Ignition members, then a drop-in
 * last. The reduced tree keeps the drop-in only. */
static void test_huge_ignition(void **state)
{
    (void)state;
    struct osw_buf b = OSW_BUF_INIT;
    char *pad = malloc(6144 + 1);
    assert_non_null(pad);
    memset(pad, 'A', 6144);
    pad[6144] = '\0';
    assert_int_equal(osw_buf_append_cstr(&b, "{\"apiVersion\":\"machineconfiguration.openshift"
                                             ".io/v1\"," META ",\"spec\":{\"config\":{\"ignition\":"
                                             "{\"version\":\"3.2.0\"},\"systemd\":{\"units\":["
                                             "{\"name\":\"a.service\",\"contents\":\"[Unit]\"}]},"
                                             "\"storage\":{\"files\":["),
                     OSW_OK);
    for (int i = 0; i < 600; i++)
        assert_int_equal(osw_buf_printf(&b,
                                        "{\"path\":\"/etc/f%d\",\"mode\":420,\"overwrite\":true,"
                                        "\"contents\":{\"source\":\"data:;base64,%s\"}},",
                                        i, pad),
                         OSW_OK);
    assert_int_equal(osw_buf_append_cstr(&b,
                                         DROPIN_Z("z.conf", RUNC_GZ, "\"gzip\"") "]}},"
                                                                                 "\"osImageURL\":"
                                                                                 "\"quay.io/"
                                                                                 "x\"}}"),
                     OSW_OK);
    assert_true(b.len > (size_t)3 << 20);
    char sum[64];
    summary(b.data, b.len, sum, sizeof(sum));
    assert_string_equal(sum, "runc");
    check("huge Ignition", b.data, b.len);
    /* What the tree holds of it: one file. */
    json_t *tree = NULL;
    assert_int_equal(osw_objtree_decode(b.data, b.len, &tree, NULL), OSW_OK);
    const json_t *files = json_object_get(
        json_object_get(json_object_get(json_object_get(tree, "spec"), "config"), "storage"),
        "files");
    assert_int_equal(json_array_size(files), 1);
    assert_null(
        json_object_get(json_object_get(json_object_get(tree, "spec"), "config"), "systemd"));
    json_decref(tree);
    free(pad);
    osw_buf_free(&b);
}

/* ---- verdicts ---------------------------------------------------------------- */

/* Values that are or are not JSON, each put at the top, as a label value, as
 * spec, as a drop-in's path and as an entry of files: every placement must
 * get jansson's verdict. */
static const char *const values[] = {
    "",
    " ",
    "1",
    "-0",
    "01",
    "1.",
    "1e400",
    "1e-400",
    "true",
    "truex",
    "nul",
    "null",
    "\"s\"",
    "\"\\u0000\"",
    "\"\\uD800\"",
    "\"\\uD83D\\uDE00\"",
    "\"\xC0\x80\"",
    "\"\xFF\"",
    "\"a\tb\"",
    "\"\\a\"",
    "[]",
    "[1,]",
    "[,1]",
    "{}",
    "{,}",
    "{\"a\"}",
    "{\"a\":}",
    "{\"a\":1,}",
    "{\"\\u0000\":1}",
    "{'a':1}",
    "{\"a\":1}}",
    "[1]]",
    "{\"a\":1",
    "\"open",
    "1 2",
    "\xEF\xBB\xBF{}",
    "{}\f",
    "\v{}",
    "/*c*/{}",
    "NaN",
};

static const char *const placements[] = {
    "@",
    "{\"metadata\":{\"labels\":{\"k\":@}}}",
    "{\"spec\":@}",
    "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":@}]}}}}",
    "{\"spec\":{\"config\":{\"storage\":{\"files\":[@]}}}}",
    "{\"spec\":{\"config\":{\"ignition\":@}}}",
    "{\"kind\":\"MachineConfig\",\"x\":@,\"spec\":{}}",
    " @ ",
};

static char *place(const char *tmpl, const char *v, size_t vlen, size_t *len)
{
    char *d = osw_objtree_place(tmpl, v, vlen, len);
    assert_non_null(d);
    return d;
}

static void test_verdicts(void **state)
{
    (void)state;
    for (size_t p = 0; p < sizeof(placements) / sizeof(placements[0]); p++) {
        for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
            size_t len;
            char *d = place(placements[p], values[v], strlen(values[v]), &len);
            char name[128];
            snprintf(name, sizeof(name), "'%s' in '%s'", values[v], placements[p]);
            check(name, d, len);
            free(d);
        }
    }
    /* A raw NUL, which strlen cannot carry, is refused wherever it is,
     * also right after a number or literal where json_loadb skips one
     * (objtree.h; the List page then hands the element to jansson). */
    static const struct {
        char data[16];
        size_t len;
        bool jansson;
    } nuls[] = {
        {"{}\0", 3, false},           {"1\0", 2, true},          {"{\"a\":1\0}", 8, true},
        {"{\"a\":true\0}", 11, true}, {"[1\0]", 4, true},        {"\"a\0\"", 4, false},
        {"{\"a\":1\0\0}", 9, false},  {"{\"a\0\":1}", 8, false},
    };
    for (size_t i = 0; i < sizeof(nuls) / sizeof(nuls[0]); i++) {
        json_t *t = (json_t *)1, *j = json_loadb(nuls[i].data, nuls[i].len, OBJTREE_JFLAGS, NULL);
        assert_int_equal(j != NULL, nuls[i].jansson);
        json_decref(j);
        assert_int_equal(osw_objtree_decode(nuls[i].data, nuls[i].len, &t, NULL), OSW_EBADJSON);
        assert_null(t);
        check("raw NUL", nuls[i].data, nuls[i].len);
    }
}

/* Some verdicts spelled out, so both sides cannot agree on a wrong one. */
static void test_known_verdicts(void **state)
{
    (void)state;
    json_t *t = (json_t *)1;
    assert_int_equal(osw_objtree_decode("7", 1, &t, NULL), OSW_OK);
    assert_null(t); /* JSON, but not an object */
    assert_int_equal(osw_objtree_decode("[{}]", 4, &t, NULL), OSW_OK);
    assert_null(t);
    assert_int_equal(osw_objtree_decode("{}", 2, &t, NULL), OSW_OK);
    assert_non_null(t);
    assert_int_equal(json_object_size(t), 0);
    json_decref(t);
    struct osw_errbuf eb;
    t = (json_t *)1;
    assert_int_equal(osw_objtree_decode("{\"spec\":{]}", 11, &t, &eb), OSW_EBADJSON);
    assert_null(t);
    assert_string_equal(eb.msg, "not valid JSON (at byte 9)");
    assert_int_equal(osw_objtree_decode("", 0, &t, &eb), OSW_EBADJSON);
    assert_int_equal(osw_objtree_decode("{} x", 4, &t, NULL), OSW_EBADJSON);
    assert_null(t);
}

/* `n` nested arrays around "1", put where `tmpl` has '@'. */
static char *nested(const char *tmpl, size_t n, size_t *len)
{
    char *v = malloc(2 * n + 1);
    assert_non_null(v);
    memset(v, '[', n);
    v[n] = '1';
    memset(v + n + 1, ']', n);
    char *d = place(tmpl, v, 2 * n + 1, len);
    free(v);
    return d;
}

/* jansson allows depth 2048, the top-level value being depth 1 and scalars
 * counting: the object read alone has two levels more room than
 * request.object has inside a review. */
static void test_depth_limit(void **state)
{
    (void)state;
    static const struct {
        const char *tmpl;
        size_t ok; /* the most arrays that still parse */
    } cases[] = {
        {"@", 2047},
        {"{\"a\":@}", 2046},
        {"{\"spec\":{\"x\":@}}", 2045},
        {"{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":\"/x\",\"m\":@}]}}}}", 2041},
        {"{\"spec\":{\"config\":{\"storage\":{\"files\":[@]}}}}", 2042},
        {"{\"metadata\":{\"labels\":@}}", 2045},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t n = cases[i].ok; n <= cases[i].ok + 1; n++) {
            size_t len;
            char *d = nested(cases[i].tmpl, n, &len);
            json_t *t = NULL;
            enum osw_err want = n == cases[i].ok ? OSW_OK : OSW_EBADJSON;
            enum osw_err got = osw_objtree_decode(d, len, &t, NULL);
            if (got != want)
                fail_msg("%zu arrays in %s: %d, want %d", n, cases[i].tmpl, (int)got, (int)want);
            json_decref(t);
            check(cases[i].tmpl, d, len);
            free(d);
        }
    }
}

/* ---- the entry point's own error paths ---------------------------------------- */

static void test_null_data(void **state)
{
    (void)state;
    json_t *t = (json_t *)1;
    struct osw_errbuf eb;
    assert_int_equal(osw_objtree_decode(NULL, 0, &t, &eb), OSW_EBADJSON);
    assert_null(t);
    assert_string_equal(eb.msg, "not valid JSON: no data");
    assert_int_equal(osw_objtree_decode(NULL, 0, &t, NULL), OSW_EBADJSON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),       cmocka_unit_test(test_generated),
        cmocka_unit_test(test_huge_ignition),  cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_known_verdicts), cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_null_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

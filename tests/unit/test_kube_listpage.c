/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the streaming List page reader: a page cut in two at every byte,
 * and fed one byte at a time, gives the same items and metadata as the page
 * fed whole; metadata before and after items; escaped keys, braces inside
 * strings and non-object elements; an element over the bound; a truncated
 * page; garbage before, inside and after the List; items that is not an
 * array; a page without a resourceVersion. With an element decoder (the
 * cluster cache's osw_objtree_decode, one that refuses everything, one
 * that runs out of memory): the same pages, items and failures, jansson's
 * words when an element is not JSON, and jansson's verdict where the
 * decoder is stricter than it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube/listpage.h"
#include "osw/objtree.h"

/* The names of the items seen, space-separated. */
struct seen {
    char names[1024];
};

static void on_item(void *ctx, const json_t *item)
{
    struct seen *s = ctx;
    const char *name =
        json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
    size_t n = strlen(s->names);
    snprintf(s->names + n, sizeof(s->names) - n, "%s ", name ? name : "?");
}

/* The decoder run() installs (NULL: none), how often it was called, and the
 * reason of run()'s last failure. */
static osw_listpage_decode_fn decoder;
static size_t decoded;
static char why[512];

/* Feeds `page` in pieces of `piece` bytes (0: whole); returns finish's code. */
static enum osw_err run(const char *page, size_t piece, size_t max, struct seen *s, char *rv,
                        char *cont)
{
    struct osw_listpage lp;
    struct osw_errbuf eb;
    size_t len = strlen(page);
    memset(s, 0, sizeof(*s));
    osw_listpage_init(&lp, max, on_item, s);
    if (decoder)
        osw_listpage_set_decoder(&lp, decoder);
    eb.msg[0] = '\0';
    if (piece == 0)
        piece = len ? len : 1;
    enum osw_err err = OSW_OK;
    for (size_t off = 0; off < len && err == OSW_OK; off += piece)
        err = osw_listpage_feed(&lp, page + off, len - off < piece ? len - off : piece, &eb);
    enum osw_err fin = osw_listpage_finish(&lp, &eb);
    assert_true(err == OSW_OK || fin == err);
    snprintf(why, sizeof(why), "%s", fin == OSW_OK ? "" : eb.msg);
    if (fin == OSW_OK) {
        snprintf(rv, 64, "%s", osw_listpage_resource_version(&lp));
        snprintf(cont, 64, "%s", osw_listpage_continue(&lp) ? osw_listpage_continue(&lp) : "-");
    }
    osw_listpage_free(&lp);
    return fin;
}

#define ITEM(n) "{\"metadata\":{\"name\":\"" n "\"},\"data\":\"x}]\\\"[{\\\\\"}"

static const char *const pages[] = {
    /* metadata first, as the API server sends it */
    "{\"kind\":\"MachineConfigList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
    "\"42\",\"continue\":\"tok\"},\"items\":[" ITEM("a") "," ITEM("b") "]}",
    /* metadata after items, whitespace everywhere, a non-object element */
    " {\n \"items\" : [ " ITEM("a") " , 7 , null , " ITEM(
        "b") " ] ,\r\n\t\"metadata\" : "
             "{ \"resourceVersion\" : \"42\" , \"continue\" : \"tok\" } } \n",
    /* escaped keys name the same members; unknown members are skipped */
    "{\"\\u0069tems\":[" ITEM("a") "," ITEM(
        "b") "],\"x\":{\"items\":[1]},\"met\\u0061data\":"
             "{\"resourceVersion\":\"42\",\"continue\":\"tok\"},\"n\":-1.5e3,\"t\":true}",
};

static void every_split_gives_the_same_items(void **state)
{
    (void)state;
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
        const char *page = pages[p];
        size_t len = strlen(page);
        struct seen s;
        char rv[64], cont[64];
        assert_int_equal(run(page, 0, 0, &s, rv, cont), OSW_OK);
        assert_string_equal(s.names, "a b ");
        assert_string_equal(rv, "42");
        assert_string_equal(cont, "tok");
        /* Byte by byte, and cut in two at every byte. */
        for (size_t piece = 1; piece <= 3; piece++) {
            assert_int_equal(run(page, piece, 0, &s, rv, cont), OSW_OK);
            assert_string_equal(s.names, "a b ");
        }
        for (size_t cut = 1; cut < len; cut++) {
            struct osw_listpage lp;
            memset(&s, 0, sizeof(s));
            osw_listpage_init(&lp, 0, on_item, &s);
            assert_int_equal(osw_listpage_feed(&lp, page, cut, NULL), OSW_OK);
            assert_int_equal(osw_listpage_feed(&lp, page + cut, len - cut, NULL), OSW_OK);
            assert_int_equal(osw_listpage_finish(&lp, NULL), OSW_OK);
            assert_string_equal(s.names, "a b ");
            assert_string_equal(osw_listpage_resource_version(&lp), "42");
            assert_string_equal(osw_listpage_continue(&lp), "tok");
            osw_listpage_free(&lp);
        }
    }
}

static void items_come_as_they_complete(void **state)
{
    (void)state;
    struct osw_listpage lp;
    struct seen s = {{0}};
    const char *head = "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[" ITEM("a") ",";
    osw_listpage_init(&lp, 0, on_item, &s);
    assert_int_equal(osw_listpage_feed(&lp, head, strlen(head), NULL), OSW_OK);
    assert_string_equal(s.names, "a "); /* before the page is over */
    assert_int_equal(osw_listpage_feed(&lp, ITEM("b") "]}", strlen(ITEM("b") "]}"), NULL), OSW_OK);
    assert_int_equal(osw_listpage_finish(&lp, NULL), OSW_OK);
    assert_null(osw_listpage_continue(&lp));
    assert_string_equal(s.names, "a b ");
    osw_listpage_free(&lp);
}

static void empty_and_null_items(void **state)
{
    (void)state;
    struct seen s;
    char rv[64], cont[64];
    assert_int_equal(
        run("{\"metadata\":{\"resourceVersion\":\"3\",\"continue\":\"\"},\"items\":[]}", 1, 0, &s,
            rv, cont),
        OSW_OK);
    assert_string_equal(cont, "-");
    assert_int_equal(
        run("{\"items\":null,\"metadata\":{\"resourceVersion\":\"3\"}}", 1, 0, &s, rv, cont),
        OSW_OK);
    assert_int_equal(run("{\"metadata\":{\"resourceVersion\":\"3\"}}", 0, 0, &s, rv, cont), OSW_OK);
    assert_string_equal(s.names, "");
}

static void oversized_element_fails(void **state)
{
    (void)state;
    char page[2048];
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(page, sizeof(page),
             "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[" ITEM("a") ",{\"b\":\"%s\"},"
                                                                               "" ITEM("c") "]}",
             big);
    struct seen s;
    char rv[64], cont[64];
    for (size_t piece = 0; piece < 300; piece += 37) {
        assert_int_equal(run(page, piece, 512, &s, rv, cont), OSW_ETOOBIG);
        assert_string_equal(s.names, "a "); /* the first item came; the last never */
    }
    /* The bound is per element, not per page. */
    assert_int_equal(run(page, 64, 700, &s, rv, cont), OSW_OK);
    assert_string_equal(s.names, "a ? c ");
    /* metadata is bounded too. */
    snprintf(page, sizeof(page), "{\"metadata\":{\"resourceVersion\":\"1\",\"x\":\"%s\"}}", big);
    assert_int_equal(run(page, 10, 512, &s, rv, cont), OSW_ETOOBIG);
}

/* Pages that are not Lists, and why. */
static const struct {
    const char *page;
    enum osw_err err;
} broken[] = {
    {"", OSW_EBADJSON},
    {"   ", OSW_EBADJSON},
    {"not json", OSW_EBADJSON},
    {"[]", OSW_EBADJSON},
    {"\"items\"", OSW_EBADJSON},
    /* truncated: mid-item, mid-string, between items, before the last '}' */
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{\"metadata\":{", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{\"a\":\"}]}", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{},", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"ite", OSW_EBADJSON},
    /* garbage inside and after */
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{\"a\":tru}]}", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{}}]}", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{},,{}]}", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{}] x}", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{},]}", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"}\"items\":[]}", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}}", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}{}", OSW_EBADJSON},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"kind\":}", OSW_EBADJSON},
    {"{\"metadata\" {\"resourceVersion\":\"1\"}}", OSW_EBADJSON},
    {"{,}", OSW_EBADJSON},
    /* JSON, but no list */
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":{}}", OSW_EBADOBJ},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":\"x\"}", OSW_EBADOBJ},
    {"{\"metadata\":{\"resourceVersion\":1},\"items\":[]}", OSW_EBADOBJ},
    {"{\"items\":[]}", OSW_EBADOBJ},
    {"{}", OSW_EBADOBJ},
};

static void broken_pages_fail(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        for (size_t piece = 0; piece < 4; piece++) {
            struct seen s;
            char rv[64], cont[64];
            enum osw_err err = run(broken[i].page, piece, 0, &s, rv, cont);
            if (err != broken[i].err)
                fail_msg("case %zu (%s), pieces of %zu: got %d", i, broken[i].page, piece, err);
        }
    }
}

static void a_failure_sticks(void **state)
{
    (void)state;
    struct osw_listpage lp;
    struct seen s = {{0}};
    struct osw_errbuf eb;
    osw_listpage_init(&lp, 0, on_item, &s);
    assert_int_equal(osw_listpage_feed(&lp, "x", 1, &eb), OSW_EBADJSON);
    assert_non_null(strstr(eb.msg, "not a JSON object"));
    assert_int_equal(osw_listpage_feed(&lp, "{}", 2, NULL), OSW_EBADJSON);
    assert_int_equal(osw_listpage_finish(&lp, &eb), OSW_EBADJSON);
    osw_listpage_free(&lp);
    osw_listpage_free(NULL);
}

/* ---- element decoders ---------------------------------------------------------- */

static enum osw_err dec_objtree(void *ctx, const char *data, size_t len, json_t **out,
                                struct osw_errbuf *eb)
{
    (void)ctx;
    decoded++;
    return osw_objtree_decode(data, len, out, eb);
}

static enum osw_err dec_refuse(void *ctx, const char *data, size_t len, json_t **out,
                               struct osw_errbuf *eb)
{
    (void)ctx;
    (void)data;
    (void)len;
    decoded++;
    *out = NULL;
    return osw_errbuf_set(eb, OSW_EBADJSON, "refused");
}

static enum osw_err dec_nomem(void *ctx, const char *data, size_t len, json_t **out,
                              struct osw_errbuf *eb)
{
    (void)ctx;
    (void)data;
    (void)len;
    decoded++;
    *out = NULL;
    return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
}

/* Accepts everything as "not an object". */
static enum osw_err dec_scalar(void *ctx, const char *data, size_t len, json_t **out,
                               struct osw_errbuf *eb)
{
    (void)ctx;
    (void)data;
    (void)len;
    (void)eb;
    decoded++;
    *out = NULL;
    return OSW_OK;
}

/* Every page, split every way, gives with a decoder what it gives without:
 * the decoder sees only the elements of `items`, and a page that fails
 * fails with the same code and the same words. */
static void decoders_change_no_verdict(void **state)
{
    static const osw_listpage_decode_fn decs[] = {dec_objtree, dec_refuse};
    for (size_t d = 0; d < sizeof(decs) / sizeof(decs[0]); d++) {
        decoder = decs[d];
        every_split_gives_the_same_items(state);
        oversized_element_fails(state);
        broken_pages_fail(state);
        /* Only the two items of page 0 (metadata first) reach it. */
        struct seen s;
        char rv[64], cont[64];
        decoded = 0;
        assert_int_equal(run(pages[0], 0, 0, &s, rv, cont), OSW_OK);
        assert_int_equal(decoded, 2);
        /* Page 1's non-object elements too: 7 and null are skipped. */
        decoded = 0;
        assert_int_equal(run(pages[1], 1, 0, &s, rv, cont), OSW_OK);
        assert_int_equal(decoded, 4);
        assert_string_equal(s.names, "a b ");
    }
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        struct seen s;
        char rv[64], cont[64], plain[512];
        decoder = NULL;
        enum osw_err want = run(broken[i].page, 0, 0, &s, rv, cont);
        snprintf(plain, sizeof(plain), "%s", why);
        for (size_t d = 0; d < sizeof(decs) / sizeof(decs[0]); d++) {
            decoder = decs[d];
            assert_int_equal(run(broken[i].page, 0, 0, &s, rv, cont), want);
            assert_string_equal(why, plain);
        }
    }
    decoder = NULL;
}

/* What the decoder builds is what on_item gets; it is released after. */
static void decoder_builds_the_items(void **state)
{
    (void)state;
    struct seen s;
    char rv[64], cont[64];
    decoder = dec_scalar;
    decoded = 0;
    assert_int_equal(run(pages[0], 0, 0, &s, rv, cont), OSW_OK);
    assert_int_equal(decoded, 2);
    assert_string_equal(s.names, ""); /* nothing an object: nothing handed over */
    assert_string_equal(rv, "42");
    decoder = NULL;
}

static void decoder_out_of_memory_fails_the_page(void **state)
{
    (void)state;
    struct seen s;
    char rv[64], cont[64];
    decoder = dec_nomem;
    for (size_t piece = 0; piece < 3; piece++) {
        assert_int_equal(run(pages[0], piece, 0, &s, rv, cont), OSW_ENOMEM);
        assert_string_equal(why, "out of memory decoding a list element");
        assert_string_equal(s.names, "");
    }
    decoder = NULL;
}

/* json_loadb lets a raw NUL through after a number; osw_objtree_decode
 * refuses it. jansson's verdict stands: the element comes, parsed whole. */
static void on_item_n(void *ctx, const json_t *item)
{
    *(double *)ctx = json_number_value(json_object_get(item, "n"));
}

static void stricter_decoder_keeps_jansson_verdict(void **state)
{
    (void)state;
    static const char page[] = "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":["
                               "{\"metadata\":{\"name\":\"a\"},\"n\":5\0}]}";
    struct osw_listpage lp;
    double n = 0;
    decoded = 0;
    osw_listpage_init(&lp, 0, on_item_n, &n);
    osw_listpage_set_decoder(&lp, dec_objtree);
    assert_int_equal(osw_listpage_feed(&lp, page, sizeof(page) - 1, NULL), OSW_OK);
    assert_int_equal(osw_listpage_finish(&lp, NULL), OSW_OK);
    assert_int_equal(decoded, 1);
    assert_true(n == 5.0); /* the whole object, from jansson */
    osw_listpage_free(&lp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_split_gives_the_same_items),
        cmocka_unit_test(items_come_as_they_complete),
        cmocka_unit_test(empty_and_null_items),
        cmocka_unit_test(oversized_element_fails),
        cmocka_unit_test(broken_pages_fail),
        cmocka_unit_test(a_failure_sticks),
        cmocka_unit_test(decoders_change_no_verdict),
        cmocka_unit_test(decoder_builds_the_items),
        cmocka_unit_test(decoder_out_of_memory_fails_the_page),
        cmocka_unit_test(stricter_decoder_keeps_jansson_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz driver for the streaming List page reader: the input (after its first
 * byte) is fed in pieces whose size comes from that first byte, with a small
 * element bound so oversized elements are reached, and fed whole. Besides
 * memory errors it checks that how the page is cut never changes the result,
 * and, against jansson parsing the whole page, that a page jansson reads as a
 * List (an object, items an array or absent, a string
 * metadata.resourceVersion, no duplicate keys) is read alike: accepted, with
 * the same number of object items and the same resourceVersion.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/listpage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
    enum osw_err err;
    size_t items;
    char rv[64];
};

static void on_item(void *ctx, const json_t *item)
{
    size_t *n = ctx;
    if (!json_is_object(item))
        abort(); /* only objects are handed over */
    (*n)++;
}

static void feed(const char *d, size_t n, size_t piece, size_t max, struct result *res)
{
    struct osw_listpage lp;
    size_t count = 0;
    enum osw_err err = OSW_OK;
    osw_listpage_init(&lp, max, on_item, &count);
    for (size_t off = 0; off < n && err == OSW_OK; off += piece)
        err = osw_listpage_feed(&lp, d + off, n - off < piece ? n - off : piece, NULL);
    res->err = osw_listpage_finish(&lp, NULL);
    if (err != OSW_OK && res->err != err)
        abort(); /* a failure sticks */
    res->items = count;
    res->rv[0] = '\0';
    if (res->err == OSW_OK) {
        const char *rv = osw_listpage_resource_version(&lp);
        if (!rv)
            abort();
        strncat(res->rv, rv, sizeof(res->rv) - 1);
    }
    osw_listpage_free(&lp);
}

/* What jansson says of the whole page: true when it is a List. */
static bool oracle(const char *d, size_t n, size_t *items, char *rv, size_t rvcap)
{
    json_t *root =
        json_loadb(d, n, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, NULL);
    const json_t *its = json_object_get(root, "items");
    const char *v =
        json_string_value(json_object_get(json_object_get(root, "metadata"), "resourceVersion"));
    bool list = json_is_object(root) && v && (!its || json_is_null(its) || json_is_array(its));
    *items = 0;
    rv[0] = '\0';
    if (list) {
        size_t i;
        const json_t *it;
        json_array_foreach(its, i, it) *items += json_is_object(it) ? 1 : 0;
        strncat(rv, v, rvcap - 1);
    }
    json_decref(root);
    return list;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *d = (const char *)data + 1;
    size_t n = size - 1, piece = (size_t)data[0] % 23 + 1;
    struct result cut, whole, unbounded;
    feed(d, n, piece, 256, &cut);
    feed(d, n, n ? n : 1, 256, &whole);
    if (cut.err != whole.err || cut.items != whole.items || strcmp(cut.rv, whole.rv) != 0)
        abort();
    feed(d, n, piece, n + 1, &unbounded);
    size_t items;
    char rv[64];
    if (oracle(d, n, &items, rv, sizeof(rv)) &&
        (unbounded.err != OSW_OK || unbounded.items != items || strcmp(unbounded.rv, rv) != 0))
        abort();
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One page of a Kubernetes List, read as it streams in (issue 10 item 8). A
 * page of 100 rendered MachineConfigs is 200 MB of JSON: instead of gathering
 * and parsing it whole, a small structure scanner (strings, escapes, nesting)
 * follows the List object's top level, cuts out each element of its `items`
 * array as soon as it is complete, has jansson parse just that element and
 * hands it over, then forgets it (or has the owner's decoder read it
 * instead, see osw_listpage_set_decoder). Only the element in progress is buffered,
 * at most `max_item` bytes; the List's metadata.resourceVersion and
 * metadata.continue are read whether they come before or after `items`.
 */
#ifndef OSW_KUBE_LISTPAGE_H
#define OSW_KUBE_LISTPAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "osw/error.h"

#define OSW_LISTPAGE_ITEM_MAX (16u << 20) /* 16 MiB, as a watch line */

/*
 * An element decoder: reads the `len` bytes of one element of `items` at
 * `data` (borrowed for the call) in place of json_loadb(data, len,
 * JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY). It must
 * accept only bytes that call accepts; what it builds of them is its own
 * affair (a reduced tree, say). OSW_OK with *out a new reference to an
 * object, handed to on_item and then released, or NULL for an element that
 * is not an object (skipped); OSW_ENOMEM fails the page; any other code
 * (OSW_EBADJSON) has jansson read the element as without a decoder, whose
 * verdict stands: a decoder may refuse more than jansson (a raw NUL byte)
 * without changing which pages are lists. `eb` (never NULL) says why.
 */
typedef enum osw_err (*osw_listpage_decode_fn)(void *ctx, const char *data, size_t len,
                                               json_t **out, struct osw_errbuf *eb);

struct osw_listpage {
    /* Configuration. */
    size_t max_item;
    void (*on_item)(void *ctx, const json_t *item);
    osw_listpage_decode_fn decode; /* NULL: jansson */
    void *ctx;
    /* Scanner state (listpage.c). */
    int state, target;
    size_t depth;             /* nesting inside the value being cut out */
    bool in_str, esc, scalar; /* inside a string; after a backslash; a bare value */
    char key[64];             /* the top-level key just read, raw; key_len > sizeof: too long */
    size_t key_len;
    char *buf; /* owned: the value in progress when it spans pieces */
    size_t len, cap;
    /* Results (owned). */
    char *resource_version;
    char *cont;
    size_t items; /* elements handed over */
    enum osw_err err;
    char why[160];
};

/* An empty page reader: `on_item(ctx, item)` gets every object element of
 * `items` (borrowed for the call; elements that are not objects are skipped);
 * `max_item` bounds one element (0: OSW_LISTPAGE_ITEM_MAX). */
void osw_listpage_init(struct osw_listpage *lp, size_t max_item,
                       void (*on_item)(void *ctx, const json_t *item), void *ctx);
/* Has `decode(ctx, ...)` read the elements of `items` instead of jansson
 * (ctx: the one given to osw_listpage_init). Call before the first feed.
 * Everything else of the page is still read by jansson. */
void osw_listpage_set_decoder(struct osw_listpage *lp, osw_listpage_decode_fn decode);
/* Frees the buffer and results. NULL is fine. */
void osw_listpage_free(struct osw_listpage *lp);

/*
 * Feeds the next `len` bytes of the page. OSW_OK: go on. On failure the page
 * is done for (every later feed and finish return the same error; `eb`, which
 * may be NULL, says why): OSW_EBADJSON the bytes are not JSON or the page is
 * not a JSON object; OSW_EBADOBJ JSON but no List (`items` neither an array
 * nor null); OSW_ETOOBIG an element longer than the bound; OSW_ENOMEM.
 */
enum osw_err osw_listpage_feed(struct osw_listpage *lp, const char *data, size_t len,
                               struct osw_errbuf *eb);

/* The page ended: OSW_OK when it was one whole List object with a string
 * metadata.resourceVersion; OSW_EBADJSON when it stopped mid-way; else as
 * osw_listpage_feed. */
enum osw_err osw_listpage_finish(struct osw_listpage *lp, struct osw_errbuf *eb);

/* After a successful finish: metadata.resourceVersion, and metadata.continue
 * or NULL when absent or empty (borrowed until osw_listpage_free). */
const char *osw_listpage_resource_version(const struct osw_listpage *lp);
const char *osw_listpage_continue(const struct osw_listpage *lp);

#endif /* OSW_KUBE_LISTPAGE_H */

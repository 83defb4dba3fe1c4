/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The streaming List page reader (see listpage.h). The scanner knows only the
 * List's own punctuation: `{ "key" : value , ... }` at the top and
 * `[ value , ... ]` for `items`. Every value it meets there is cut out whole
 * (tracking strings, escapes and nesting to find its end) and parsed by
 * jansson, so the page is still checked to be JSON throughout; the scanner
 * never builds a value itself. A value that lies inside one piece of input
 * is parsed in place; only one split across pieces is gathered in the buffer.
 */
#include "kube/listpage.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JFLAGS (JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY)

enum state {
    S_START,      /* before the List's '{' */
    S_KEY_OR_END, /* after '{' */
    S_KEY,        /* after ',' between members */
    S_IN_KEY,     /* inside a member's key */
    S_COLON,      /* after the key */
    S_VALUE,      /* after ':' */
    S_OBJ_NEXT,   /* after a member's value */
    S_ARR_FIRST,  /* after `items`' '[' */
    S_ARR_ELEM,   /* after ',' between elements */
    S_ARR_NEXT,   /* after an element */
    S_CAPTURE,    /* inside a value being cut out */
    S_DONE,       /* after the List's '}' */
    S_FAILED,
};

/* What the value being cut out is. */
enum target { T_OTHER, T_ITEM, T_META, T_ITEMS };

void osw_listpage_init(struct osw_listpage *lp, size_t max_item,
                       void (*on_item)(void *ctx, const json_t *item), void *ctx)
{
    memset(lp, 0, sizeof(*lp));
    lp->max_item = max_item ? max_item : OSW_LISTPAGE_ITEM_MAX;
    lp->on_item = on_item;
    lp->ctx = ctx;
    lp->state = S_START;
    lp->err = OSW_OK;
}

void osw_listpage_free(struct osw_listpage *lp)
{
    if (!lp)
        return;
    free(lp->buf);
    free(lp->resource_version);
    free(lp->cont);
    lp->buf = lp->resource_version = lp->cont = NULL;
    lp->len = lp->cap = 0;
}

void osw_listpage_set_decoder(struct osw_listpage *lp, osw_listpage_decode_fn decode)
{
    lp->decode = decode;
}

const char *osw_listpage_resource_version(const struct osw_listpage *lp)
{
    return lp->resource_version;
}

const char *osw_listpage_continue(const struct osw_listpage *lp)
{
    return lp->cont && *lp->cont ? lp->cont : NULL;
}

static enum osw_err fail(struct osw_listpage *lp, enum osw_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum osw_err fail(struct osw_listpage *lp, enum osw_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lp->why, sizeof(lp->why), fmt, ap);
    va_end(ap);
    lp->err = err;
    lp->state = S_FAILED;
    lp->len = 0;
    return err;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends to the value in progress, growing the buffer within the bound. */
static enum osw_err append(struct osw_listpage *lp, const char *data, size_t n)
{
    if (n > lp->max_item - lp->len)
        return fail(lp, OSW_ETOOBIG, "list element longer than %zu bytes", lp->max_item);
    if (lp->len + n > lp->cap) {
        size_t ncap = lp->cap ? lp->cap : 4096;
        while (ncap < lp->len + n)
            ncap = ncap > lp->max_item / 2 ? lp->max_item : ncap * 2;
        char *nb = realloc(lp->buf, ncap);
        if (!nb)
            return fail(lp, OSW_ENOMEM, "out of memory for a %zu-byte list element", lp->len + n);
        lp->buf = nb;
        lp->cap = ncap;
    }
    memcpy(lp->buf + lp->len, data, n);
    lp->len += n;
    return OSW_OK;
}

/* Which member the key just read names: `items`, `metadata` or another.
 * A key with escapes is decoded by jansson ("\u0069tems" is `items`). */
static enum target key_target(const struct osw_listpage *lp)
{
    char tmp[sizeof(lp->key) + 2];
    const char *k = lp->key;
    size_t n = lp->key_len;
    json_t *j = NULL;
    if (n > sizeof(lp->key))
        return T_OTHER;
    if (memchr(k, '\\', n)) {
        tmp[0] = '"';
        memcpy(tmp + 1, k, n);
        tmp[n + 1] = '"';
        j = json_loadb(tmp, n + 2, JFLAGS, NULL);
        k = json_string_value(j);
        n = json_string_length(j);
    }
    enum target t = T_OTHER;
    if (k && n == 5 && memcmp(k, "items", 5) == 0)
        t = T_ITEMS;
    else if (k && n == 8 && memcmp(k, "metadata", 8) == 0)
        t = T_META;
    json_decref(j);
    return t;
}

static enum osw_err take_string(struct osw_listpage *lp, const json_t *meta, const char *key,
                                char **out)
{
    const json_t *v = json_object_get(meta, key);
    free(*out);
    *out = NULL;
    if (!json_is_string(v))
        return OSW_OK;
    *out = strdup(json_string_value(v));
    return *out ? OSW_OK : fail(lp, OSW_ENOMEM, "out of memory");
}

/* An element of `items` read by the owner's decoder: OSW_OK (handed over)
 * or OSW_ENOMEM (the page failed), or OSW_EBADJSON when the decoder refused
 * it. Then jansson reads it as without a decoder, and its verdict stands:
 * the page fails with jansson's words, or, where the decoder is stricter
 * than jansson (a raw NUL byte after a number, which json_loadb lets
 * through), the element is handed over as jansson parsed it. */
static enum osw_err decoded_item(struct osw_listpage *lp, const char *v, size_t n)
{
    struct osw_errbuf deb;
    json_t *j = NULL;
    deb.msg[0] = '\0';
    enum osw_err err = lp->decode(lp->ctx, v, n, &j, &deb);
    if (err == OSW_ENOMEM)
        return fail(lp, OSW_ENOMEM, "out of memory decoding a list element");
    if (err != OSW_OK) {
        json_decref(j);
        return OSW_EBADJSON;
    }
    lp->len = 0;
    if (json_is_object(j)) {
        lp->items++;
        lp->on_item(lp->ctx, j);
    }
    json_decref(j);
    lp->state = S_ARR_NEXT;
    return OSW_OK;
}

/* One value was cut out: parse it and act on it by what it is. */
static enum osw_err complete(struct osw_listpage *lp, const char *v, size_t n)
{
    if (lp->decode && lp->target == T_ITEM) {
        enum osw_err derr = decoded_item(lp, v, n);
        if (derr != OSW_EBADJSON)
            return derr;
    }
    json_error_t jerr;
    json_t *j = json_loadb(v, n, JFLAGS, &jerr);
    enum osw_err err = OSW_OK;
    lp->len = 0;
    if (!j) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return fail(lp, OSW_ENOMEM, "out of memory decoding a list element");
        return fail(lp, OSW_EBADJSON, "list page is not JSON: %s", jerr.text);
    }
    switch ((enum target)lp->target) {
    case T_ITEM:
        if (json_is_object(j)) {
            lp->items++;
            lp->on_item(lp->ctx, j);
        }
        lp->state = S_ARR_NEXT;
        break;
    case T_META:
        lp->state = S_OBJ_NEXT;
        err = take_string(lp, j, "resourceVersion", &lp->resource_version);
        if (err == OSW_OK)
            err = take_string(lp, j, "continue", &lp->cont);
        break;
    case T_ITEMS: /* `items` that is not an array */
        lp->state = S_OBJ_NEXT;
        if (!json_is_null(j))
            err = fail(lp, OSW_EBADOBJ, "list page whose items is not an array");
        break;
    case T_OTHER:
        lp->state = S_OBJ_NEXT;
        break;
    }
    json_decref(j);
    return err;
}

/* Starts cutting out the value whose first byte is `c`. */
static enum osw_err start_value(struct osw_listpage *lp, char c, enum target t)
{
    if (c == ',' || c == ':' || c == ']' || c == '}')
        return fail(lp, OSW_EBADJSON, "list page is not JSON: '%c' where a value belongs", c);
    lp->state = S_CAPTURE;
    lp->target = (int)t;
    lp->depth = 0;
    lp->in_str = lp->esc = false;
    lp->scalar = !(c == '{' || c == '[' || c == '"');
    lp->len = 0;
    return OSW_OK;
}

/* Inside a string, not after a backslash: the index of the next '"' or
 * '\\' at or after `i`, or `len`. Ignition file contents are megabytes of
 * string without either, which memchr crosses many bytes at a time. */
static size_t string_stop(const char *data, size_t len, size_t i)
{
    const char *q = memchr(data + i, '"', len - i);
    size_t stop = q ? (size_t)(q - data) : len;
    const char *b = memchr(data + i, '\\', stop - i);
    return b ? (size_t)(b - data) : stop;
}

/* Scans a value being cut out from data[*i]; *done when it ended, at *end
 * (exclusive; a bare value ends before the byte that follows it). */
static void scan_value(struct osw_listpage *lp, const char *data, size_t len, size_t *i, bool *done,
                       size_t *end)
{
    *done = false;
    for (; *i < len; (*i)++) {
        if (lp->in_str && !lp->esc) {
            *i = string_stop(data, len, *i);
            if (*i == len)
                return;
        }
        char c = data[*i];
        if (lp->scalar) {
            if (is_ws(c) || c == ',' || c == ']' || c == '}') {
                *done = true;
                *end = *i;
                return;
            }
        } else if (lp->in_str) {
            if (lp->esc)
                lp->esc = false;
            else if (c == '\\')
                lp->esc = true;
            else if (c == '"')
                lp->in_str = false;
        } else if (c == '"') {
            lp->in_str = true;
        } else if (c == '{' || c == '[') {
            lp->depth++;
        } else if ((c == '}' || c == ']') && lp->depth > 0) {
            lp->depth--;
        }
        if (!lp->scalar && !lp->in_str && lp->depth == 0) {
            (*i)++;
            *done = true;
            *end = *i;
            return;
        }
    }
}

/* One byte of the List's own structure (outside any value being cut out). */
static enum osw_err structure(struct osw_listpage *lp, char c)
{
    if (lp->state == S_IN_KEY) {
        if (!lp->esc && c == '"') {
            lp->target = (int)key_target(lp);
            lp->state = S_COLON;
            return OSW_OK;
        }
        lp->esc = !lp->esc && c == '\\';
        if (lp->key_len < sizeof(lp->key))
            lp->key[lp->key_len] = c;
        if (lp->key_len <= sizeof(lp->key))
            lp->key_len++; /* sizeof + 1: too long to be a key we look for */
        return OSW_OK;
    }
    if (is_ws(c))
        return OSW_OK;
    switch ((enum state)lp->state) {
    case S_START:
        if (c == '{') {
            lp->state = S_KEY_OR_END;
            return OSW_OK;
        }
        return fail(lp, OSW_EBADJSON, "list page is not a JSON object");
    case S_KEY_OR_END:
    case S_KEY:
        if (c == '"') {
            lp->state = S_IN_KEY;
            lp->key_len = 0;
            lp->esc = false;
            return OSW_OK;
        }
        if (c == '}' && lp->state == S_KEY_OR_END) {
            lp->state = S_DONE;
            return OSW_OK;
        }
        break;
    case S_COLON:
        if (c == ':') {
            lp->state = S_VALUE;
            return OSW_OK;
        }
        break;
    case S_OBJ_NEXT:
        if (c == ',' || c == '}') {
            lp->state = c == ',' ? S_KEY : S_DONE;
            return OSW_OK;
        }
        break;
    case S_ARR_NEXT:
        if (c == ',' || c == ']') {
            lp->state = c == ',' ? S_ARR_ELEM : S_OBJ_NEXT;
            return OSW_OK;
        }
        break;
    case S_DONE:
        return fail(lp, OSW_EBADJSON, "list page is not JSON: data after the List");
    default:
        break;
    }
    return fail(lp, OSW_EBADJSON, "list page is not JSON: unexpected '%c'", c);
}

enum osw_err osw_listpage_feed(struct osw_listpage *lp, const char *data, size_t len,
                               struct osw_errbuf *eb)
{
    size_t i = 0, from = 0; /* from: where the value in progress starts in data */
    enum osw_err err = lp->err;

    while (err == OSW_OK && i < len) {
        char c = data[i];
        if (lp->state == S_VALUE && lp->target == T_ITEMS && c == '[') {
            lp->state = S_ARR_FIRST;
            i++;
            continue;
        }
        if (lp->state == S_ARR_FIRST && c == ']') {
            lp->state = S_OBJ_NEXT;
            i++;
            continue;
        }
        if ((lp->state == S_VALUE || lp->state == S_ARR_FIRST || lp->state == S_ARR_ELEM) &&
            !is_ws(c)) {
            err = start_value(lp, c, lp->state == S_VALUE ? (enum target)lp->target : T_ITEM);
            from = i;
            continue;
        }
        if (lp->state != S_CAPTURE) {
            err = structure(lp, c);
            i++;
            continue;
        }
        bool done;
        size_t end = 0;
        scan_value(lp, data, len, &i, &done, &end);
        if (lp->len + (done ? end : i) - from > lp->max_item)
            err = fail(lp, OSW_ETOOBIG, "list element longer than %zu bytes", lp->max_item);
        else if (!done)
            err = append(lp, data + from, i - from);
        else if (lp->len == 0)
            err = complete(lp, data + from, end - from);
        else if ((err = append(lp, data + from, end - from)) == OSW_OK)
            err = complete(lp, lp->buf, lp->len);
    }
    if (err != OSW_OK && eb)
        osw_errbuf_set(eb, err, "%s", lp->why);
    return err;
}

enum osw_err osw_listpage_finish(struct osw_listpage *lp, struct osw_errbuf *eb)
{
    if (lp->err == OSW_OK && lp->state != S_DONE)
        fail(lp, OSW_EBADJSON,
             lp->state == S_START ? "list page is empty" : "list page ends mid-JSON");
    if (lp->err == OSW_OK && !lp->resource_version)
        fail(lp, OSW_EBADOBJ, "list page without a string metadata.resourceVersion");
    if (lp->err != OSW_OK && eb)
        osw_errbuf_set(eb, lp->err, "%s", lp->why);
    return lp->err;
}

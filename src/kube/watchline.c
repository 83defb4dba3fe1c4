/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The watch-stream line splitter and event decoder (see watchline.h). A line
 * that lies whole inside one piece of input is handed over in place, without
 * a copy; only a line split across pieces is gathered in the buffer, which
 * grows geometrically up to the maximum and is never larger than one line.
 */
#include "kube/watchline.h"

#include <stdlib.h>
#include <string.h>

void osw_watchline_init(struct osw_watchline *w, size_t max)
{
    memset(w, 0, sizeof(*w));
    w->max = max ? max : OSW_WATCHLINE_MAX;
}

void osw_watchline_free(struct osw_watchline *w)
{
    if (!w)
        return;
    free(w->buf);
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
}

void osw_watchline_reset(struct osw_watchline *w)
{
    w->len = 0;
}

size_t osw_watchline_pending(const struct osw_watchline *w)
{
    return w->len;
}

/* Appends to the unfinished line, growing the buffer within the maximum. */
static enum osw_err append(struct osw_watchline *w, const char *data, size_t n,
                           struct osw_errbuf *eb)
{
    if (n > w->max - w->len) {
        size_t had = w->len;
        w->len = 0;
        return osw_errbuf_set(eb, OSW_ETOOBIG, "watch line longer than %zu bytes (%zu so far)",
                              w->max, had + n);
    }
    if (w->len + n > w->cap) {
        size_t ncap = w->cap ? w->cap : 4096;
        while (ncap < w->len + n)
            ncap = ncap > w->max / 2 ? w->max : ncap * 2;
        char *nb = realloc(w->buf, ncap);
        if (!nb) {
            w->len = 0;
            return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory for a %zu-byte watch line",
                                  w->len + n);
        }
        w->buf = nb;
        w->cap = ncap;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
    return OSW_OK;
}

/* Hands over one complete line unless it is blank; false when told to stop. */
static bool emit(const char *line, size_t n,
                 bool (*on_line)(void *ctx, const char *line, size_t line_len), void *ctx)
{
    if (n > 0 && line[n - 1] == '\r')
        n--;
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == n)
        return true;
    return on_line(ctx, line, n);
}

enum osw_err osw_watchline_feed(struct osw_watchline *w, const char *data, size_t len,
                                bool (*on_line)(void *ctx, const char *line, size_t line_len),
                                void *ctx, struct osw_errbuf *eb)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        if (!nl)
            return append(w, data, len, eb);
        size_t n = (size_t)(nl - data);
        bool go;
        if (w->len == 0) {
            if (n > w->max)
                return osw_errbuf_set(eb, OSW_ETOOBIG, "watch line longer than %zu bytes", w->max);
            go = emit(data, n, on_line, ctx);
        } else {
            enum osw_err err = append(w, data, n, eb);
            if (err != OSW_OK)
                return err;
            size_t total = w->len;
            w->len = 0; /* the line leaves the buffer before the callback sees it */
            go = emit(w->buf, total, on_line, ctx);
        }
        if (!go) {
            w->len = 0;
            return osw_errbuf_set(eb, OSW_EINVAL, "stopped by the line handler");
        }
        data = nl + 1;
        len -= n + 1;
    }
    return OSW_OK;
}

const char *osw_watchline_type_name(enum osw_watch_type t)
{
    switch (t) {
    case OSW_WATCH_ADDED:
        return "ADDED";
    case OSW_WATCH_MODIFIED:
        return "MODIFIED";
    case OSW_WATCH_DELETED:
        return "DELETED";
    case OSW_WATCH_BOOKMARK:
        return "BOOKMARK";
    case OSW_WATCH_ERROR:
        return "ERROR";
    }
    return "?";
}

static bool type_from(const char *s, enum osw_watch_type *out)
{
    static const enum osw_watch_type all[] = {OSW_WATCH_ADDED, OSW_WATCH_MODIFIED,
                                              OSW_WATCH_DELETED, OSW_WATCH_BOOKMARK,
                                              OSW_WATCH_ERROR};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(s, osw_watchline_type_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

void osw_watchline_event_free(struct osw_watch_event *ev)
{
    if (!ev)
        return;
    json_decref(ev->root);
    memset(ev, 0, sizeof(*ev));
}

enum osw_err osw_watchline_decode(const char *line, size_t len, struct osw_watch_event *ev,
                                  struct osw_errbuf *eb)
{
    json_error_t jerr;
    enum osw_err err = OSW_OK;

    memset(ev, 0, sizeof(*ev));
    json_t *root = json_loadb(line, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
    if (!root) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory decoding a watch line");
        return osw_errbuf_set(eb, OSW_EBADJSON, "watch line is not JSON: %s (column %d)", jerr.text,
                              jerr.column);
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    const json_t *object = json_object_get(root, "object");
    if (!json_is_object(root) || !type) {
        err = osw_errbuf_set(eb, OSW_EBADOBJ, "watch line is not an event: no string \"type\"");
        goto out;
    }
    if (!type_from(type, &ev->type)) {
        err = osw_errbuf_set(eb, OSW_EBADOBJ, "watch event of unknown type \"%.64s\"", type);
        goto out;
    }
    if (!json_is_object(object)) {
        err = osw_errbuf_set(eb, OSW_EBADOBJ, "%s watch event without an object", type);
        goto out;
    }
    if (ev->type == OSW_WATCH_ERROR) {
        /* Numbers are decoded as doubles (JSON_DECODE_INT_AS_REAL, so that an
         * object holding an integer past 64 bits is still an event): the code
         * must be a whole number of a sane size. */
        const json_t *code = json_object_get(object, "code");
        double cv = json_is_number(code) ? json_number_value(code) : 0.5;
        if (code && !(cv >= -1e9 && cv <= 1e9 && cv == (double)(long long)cv)) {
            err = osw_errbuf_set(eb, OSW_EBADOBJ,
                                 "ERROR watch event whose Status code is not "
                                 "an integer");
            goto out;
        }
        ev->code = code ? (long long)cv : 0;
        ev->message = json_string_value(json_object_get(object, "message"));
    } else {
        const char *rv = json_string_value(
            json_object_get(json_object_get(object, "metadata"), "resourceVersion"));
        if (!rv) {
            err = osw_errbuf_set(eb, OSW_EBADOBJ,
                                 "%s watch event without object.metadata.resourceVersion", type);
            goto out;
        }
        ev->resource_version = rv;
    }
    ev->object = object;
    ev->root = root;
    root = NULL;
out:
    if (err != OSW_OK)
        memset(ev, 0, sizeof(*ev));
    json_decref(root);
    return err;
}

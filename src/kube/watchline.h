/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The watch stream, one line at a time. The API server sends a watch as a
 * chunked body of JSON lines ({"type":..,"object":..}); libcurl hands the
 * bytes over in arbitrary pieces, so an event may end mid-piece or span
 * many. The splitter buffers at most OSW_WATCHLINE_MAX bytes of an unfinished
 * line (a longer one is an error the reflector answers with a new list, never
 * a crash); the decoder turns one line into an event or says why it is none.
 */
#ifndef OSW_KUBE_WATCHLINE_H
#define OSW_KUBE_WATCHLINE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "osw/error.h"

#define OSW_WATCHLINE_MAX (16u << 20) /* 16 MiB: larger than any object etcd stores */

struct osw_watchline {
    char *buf;  /* owned: the unfinished line so far */
    size_t len; /* bytes in buf */
    size_t cap; /* allocated size of buf */
    size_t max; /* the longest line accepted (without its '\n') */
};

/* An empty splitter accepting lines of at most `max` bytes (0: the default). */
void osw_watchline_init(struct osw_watchline *w, size_t max);
/* Frees the buffer; `w` may then be initialised again. NULL is fine. */
void osw_watchline_free(struct osw_watchline *w);
/* Forgets any unfinished line (a new stream starts). */
void osw_watchline_reset(struct osw_watchline *w);

/*
 * Feeds `len` bytes. For every complete, non-blank line (without its '\n'
 * and a '\r' before it) calls `on_line(ctx, line, line_len)`; the line is
 * borrowed for the call only. `on_line` returning false stops the feed at
 * once: OSW_EINVAL, the rest of `data` is dropped and the splitter reset.
 * OSW_ETOOBIG: a line grew past the maximum (the splitter is reset);
 * OSW_ENOMEM: the buffer could not grow (reset too). `eb` may be NULL.
 */
enum osw_err osw_watchline_feed(struct osw_watchline *w, const char *data, size_t len,
                                bool (*on_line)(void *ctx, const char *line, size_t line_len),
                                void *ctx, struct osw_errbuf *eb);

/* Bytes of an unfinished line held (the stream ended mid-line when > 0). */
size_t osw_watchline_pending(const struct osw_watchline *w);

enum osw_watch_type {
    OSW_WATCH_ADDED,
    OSW_WATCH_MODIFIED,
    OSW_WATCH_DELETED,
    OSW_WATCH_BOOKMARK,
    OSW_WATCH_ERROR,
};

/* "ADDED", ..., "ERROR". */
const char *osw_watchline_type_name(enum osw_watch_type t);

struct osw_watch_event {
    enum osw_watch_type type;
    json_t *root;                 /* owned: the whole decoded line */
    const json_t *object;         /* borrowed from root: the event's object */
    const char *resource_version; /* borrowed from root: object.metadata.resourceVersion
                                     (NULL for ERROR) */
    long long code;               /* ERROR: the Status's code (0 when absent) */
    const char *message;          /* ERROR: the Status's message, or NULL (borrowed) */
};

/*
 * Decodes one line. OSW_OK: `ev` is filled (free it with
 * osw_watchline_event_free). An ADDED, MODIFIED, DELETED or BOOKMARK event
 * needs an object with a string metadata.resourceVersion; an ERROR event an
 * object (a Status) whose `code`, when present, is an integer.
 * OSW_EBADJSON: the line is not JSON; OSW_EBADOBJ: JSON but not an event
 * (eb says why); OSW_ENOMEM. On failure `ev` holds nothing to free.
 */
enum osw_err osw_watchline_decode(const char *line, size_t len, struct osw_watch_event *ev,
                                  struct osw_errbuf *eb);
void osw_watchline_event_free(struct osw_watch_event *ev);

#endif /* OSW_KUBE_WATCHLINE_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer for building responses, patches and log lines.
 * The buffer owns `data`; `osw_buf_free` releases it and resets the struct so
 * it can be reused. `osw_buf_reset` keeps the allocation (hot-path reuse).
 * Every append checks its size arithmetic before growing.
 */
#ifndef OSW_BUF_H
#define OSW_BUF_H

#include <stddef.h>

#include "osw/error.h"
#include "osw/str.h"

struct osw_buf {
    char *data; /* owned; NUL-terminated after any successful append */
    size_t len;
    size_t cap;
};

#define OSW_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void osw_buf_init(struct osw_buf *b);
void osw_buf_free(struct osw_buf *b);
void osw_buf_reset(struct osw_buf *b);
enum osw_err osw_buf_reserve(struct osw_buf *b, size_t extra);

/* Room for element `n` in a growable array: `items` points to the array's
 * pointer (any element type), `*cap` is its capacity in elements of `elem`
 * bytes. Doubles it (the first time to `first`) when n >= *cap. False, with
 * the array untouched, on overflow or allocation failure. */
bool osw_grow(void *items, size_t *cap, size_t n, size_t elem, size_t first);
enum osw_err osw_buf_append(struct osw_buf *b, const void *data, size_t len);
enum osw_err osw_buf_append_cstr(struct osw_buf *b, const char *s);
enum osw_err osw_buf_append_str(struct osw_buf *b, struct osw_str s);
enum osw_err osw_buf_printf(struct osw_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends `s` as a JSON string literal, quotes included, escaping `"`, `\`
 * and every control character (U+0000..U+001F as \uXXXX or the short forms). */
enum osw_err osw_buf_append_json_string(struct osw_buf *b, struct osw_str s);

/* Appends the standard base64 (RFC 4648, padded) encoding of `data`. */
enum osw_err osw_buf_append_base64(struct osw_buf *b, const void *data, size_t len);

/* Takes the bytes out of the buffer: returns `data` (caller owns it, free()),
 * leaves `b` empty. */
char *osw_buf_steal(struct osw_buf *b, size_t *len);

#endif /* OSW_BUF_H */

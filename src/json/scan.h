/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The validating JSON lexer behind the fast request reader: whitespace,
 * strings, numbers, literals and a skipper that validates a whole value
 * without building it. It accepts and rejects exactly what jansson 2.14's
 * json_loadb(JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL) does, quirks included
 * (see scan.c), so the reader built on it can replace the jansson reader byte
 * for byte.
 * Internal to src/json/.
 */
#ifndef OSW_JSON_SCAN_H
#define OSW_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osw/review.h"

/* jansson's JSON_PARSER_MAX_DEPTH: every value (scalars included) has a
 * depth, the top-level one 1, and a depth above this is an error. */
#define OSW_JSCAN_MAX_DEPTH 2048

/* The cursor over a borrowed body. */
struct osw_jscan {
    const unsigned char *p;   /* next byte to read */
    const unsigned char *end; /* one past the last byte */
};

/* A string token, validated. `start`/`len` are the raw bytes between the
 * quotes (borrowed from the body); when `escaped` is false they are the
 * value itself. */
struct osw_jstr {
    const unsigned char *start;
    size_t len;
    bool escaped; /* holds at least one backslash escape */
    bool has_nul; /* an escape decodes to U+0000 (jansson refuses it in keys) */
};

/* The out-of-line part of jscan_ws(), for runs of whitespace. */
const unsigned char *osw_jscan_ws_run(const unsigned char *p, const unsigned char *end);

/* Skips JSON whitespace (space, tab, LF, CR). Compact JSON has none, so the
 * first byte is tested inline and only runs (indentation) go out of line. */
static inline void jscan_ws(struct osw_jscan *s)
{
    if (s->p < s->end && *s->p <= ' ')
        s->p = osw_jscan_ws_run(s->p, s->end);
}

/* s->p is at an opening quote. Validates the string (UTF-8, escapes,
 * surrogate pairs, no control characters) and moves past the closing quote.
 * Returns false when it is not a valid JSON string. */
bool osw_jscan_string(struct osw_jscan *s, struct osw_jstr *out);

/* Decodes a validated string into `dst`, writing at most `cap` bytes.
 * Returns the decoded length, which is at most `in->len`; a result above
 * `cap` means `dst` holds only the first `cap` bytes. */
size_t osw_jscan_unescape(const struct osw_jstr *in, char *dst, size_t cap);

/* s->p is at the first byte of a value at nesting depth `depth` (the
 * top-level value has depth 1). Validates the whole value and moves past
 * it; stores its type in `type`. Returns false when it is not valid JSON
 * (including a depth above OSW_JSCAN_MAX_DEPTH anywhere inside it). */
bool osw_jscan_skip(struct osw_jscan *s, unsigned depth, enum osw_jtype *type);

/* s->p is at a key's opening quote: validates the key and the ':' after it
 * (with the whitespace around it) and leaves s->p at the value. A key that
 * decodes to a string holding U+0000 is refused, as jansson refuses it. */
bool osw_jscan_key(struct osw_jscan *s, struct osw_jstr *key);

#endif /* OSW_JSON_SCAN_H */

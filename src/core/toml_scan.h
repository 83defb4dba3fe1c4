/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the TOML reader: the cursor over a document and the lexical
 * functions toml.c builds its parser on (toml_scan.c). A cursor borrows the
 * document; it owns `scratch`, where the last string read is decoded.
 */
#ifndef OSW_CORE_TOML_SCAN_H
#define OSW_CORE_TOML_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/buf.h"
#include "osw/error.h"

struct osw_tomlscan {
    const unsigned char *s; /* the document (borrowed) */
    size_t len, pos;
    struct osw_buf scratch; /* the last string read, decoded (owned) */
};

static inline bool osw_tomlscan_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static inline bool osw_tomlscan_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* A bare key character: A-Z a-z 0-9 _ - */
static inline bool osw_tomlscan_is_bare(unsigned char c)
{
    return osw_tomlscan_is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           c == '_' || c == '-';
}

/* The length of the newline (LF or CRLF) at i, 0 when there is none. */
static inline size_t osw_tomlscan_newline(const struct osw_tomlscan *p, size_t i)
{
    if (i < p->len && p->s[i] == '\n')
        return 1;
    if (i + 1 < p->len && p->s[i] == '\r' && p->s[i + 1] == '\n')
        return 2;
    return 0;
}

static inline bool osw_tomlscan_at(const struct osw_tomlscan *p, unsigned char c)
{
    return p->pos < p->len && p->s[p->pos] == c;
}

static inline void osw_tomlscan_skip_ws(struct osw_tomlscan *p)
{
    while (p->pos < p->len && osw_tomlscan_is_ws(p->s[p->pos]))
        p->pos++;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
bool osw_tomlscan_utf8_valid(const unsigned char *s, size_t len);

/* Each returns OSW_OK, OSW_EINVAL (not TOML v1.0.0) or OSW_ENOMEM. */

/* A comment from `#` to the end of the line (the newline is left). */
enum osw_err osw_tomlscan_comment(struct osw_tomlscan *p);
/* After a key/value pair or a header: blanks, a comment, a newline or EOF. */
enum osw_err osw_tomlscan_eol(struct osw_tomlscan *p);
/* Blanks, comments and newlines, as allowed between array elements. */
enum osw_err osw_tomlscan_array_space(struct osw_tomlscan *p);
/* A string of any of the four forms at pos, decoded into p->scratch. */
enum osw_err osw_tomlscan_string(struct osw_tomlscan *p);
/* A boolean, number, date or time at pos (syntax and range only). */
enum osw_err osw_tomlscan_scalar(struct osw_tomlscan *p);

#endif /* OSW_CORE_TOML_SCAN_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Growable byte buffer used to build responses, patches and log lines.
 * Growth is geometric and every size computation is checked before it can
 * overflow. JSON string escaping lives here so that every writer of JSON in
 * the project escapes the same way.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "osw/buf.h"

void osw_buf_init(struct osw_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void osw_buf_free(struct osw_buf *b)
{
    if (!b)
        return;
    free(b->data);
    osw_buf_init(b);
}

void osw_buf_reset(struct osw_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

enum osw_err osw_buf_reserve(struct osw_buf *b, size_t extra)
{
    /* room for `extra` bytes plus the terminating NUL */
    if (extra > SIZE_MAX - b->len - 1)
        return OSW_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return OSW_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) {
            ncap = need;
            break;
        }
        ncap *= 2;
    }
    char *nd = realloc(b->data, ncap);
    if (!nd)
        return OSW_ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return OSW_OK;
}

enum osw_err osw_buf_append(struct osw_buf *b, const void *data, size_t len)
{
    enum osw_err err = osw_buf_reserve(b, len);
    if (err != OSW_OK)
        return err;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return OSW_OK;
}

enum osw_err osw_buf_append_cstr(struct osw_buf *b, const char *s)
{
    return osw_buf_append(b, s, strlen(s));
}

enum osw_err osw_buf_append_str(struct osw_buf *b, struct osw_str s)
{
    return osw_buf_append(b, s.ptr, s.len);
}

enum osw_err osw_buf_printf(struct osw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return OSW_EINVAL;
    enum osw_err err = osw_buf_reserve(b, (size_t)n);
    if (err != OSW_OK)
        return err;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return OSW_OK;
}

enum osw_err osw_buf_append_json_string(struct osw_buf *b, struct osw_str s)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX (6 bytes), plus two quotes. */
    if (s.len > (SIZE_MAX - 2) / 6)
        return OSW_ENOMEM;
    enum osw_err err = osw_buf_reserve(b, s.len * 6 + 2);
    if (err != OSW_OK)
        return err;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        switch (c) {
        case '"':
            *o++ = '\\';
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            break;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        case '\b':
            *o++ = '\\';
            *o++ = 'b';
            break;
        case '\f':
            *o++ = '\\';
            *o++ = 'f';
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                *o++ = '\\';
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 0xf];
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return OSW_OK;
}

enum osw_err osw_buf_append_base64(struct osw_buf *b, const void *data, size_t len)
{
    /* EVP_EncodeBlock takes an int length: bound it (patches are small). */
    if (len > (size_t)INT32_MAX / 4 * 3 - 3)
        return OSW_ENOMEM;
    size_t out = (len + 2) / 3 * 4;
    enum osw_err err = osw_buf_reserve(b, out);
    if (err != OSW_OK)
        return err;
    int n = EVP_EncodeBlock((unsigned char *)b->data + b->len, data, (int)len);
    if (n < 0)
        return OSW_EINVAL;
    b->len += (size_t)n;
    b->data[b->len] = '\0';
    return OSW_OK;
}

char *osw_buf_steal(struct osw_buf *b, size_t *len)
{
    char *d = b->data;
    if (len)
        *len = b->len;
    osw_buf_init(b);
    return d;
}

bool osw_grow(void *items, size_t *cap, size_t n, size_t elem, size_t first)
{
    if (n < *cap)
        return true;
    if (*cap > SIZE_MAX / 2)
        return false;
    size_t ncap = *cap ? *cap * 2 : first;
    if (ncap <= n)
        ncap = n + 1;
    if (elem == 0 || ncap > SIZE_MAX / elem)
        return false;
    void *old;
    memcpy(&old, items, sizeof(old));
    void *p = realloc(old, ncap * elem);
    if (!p)
        return false;
    memcpy(items, &p, sizeof(p)); /* the caller's array pointer now owns it */
    *cap = ncap;
    // cppcheck-suppress memleak
    return true;
}

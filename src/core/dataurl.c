/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data URL decoder of the runc guard. It reproduces the lexer of
 * vincent-petithory/dataurl (what the MCO calls for every Ignition file)
 * byte for byte where the contract says so, including its quirks: any
 * subtype may be empty, a media-type parameter value must be non-empty and
 * its %-escapes valid, `;base64` must come last, and base64 is Go's padded
 * StdEncoding with line feeds ignored. A quoted parameter value is refused.
 */
#include <stdbool.h>
#include <string.h>

#include "osw/dataurl.h"

/* RFC 2045 token characters: printable ASCII without space or tspecials. */
static bool is_token(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false;
    return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* The characters the lexer lets through in percent-encoded data (RFC 2396
 * uric, with `%` checked later by the unescaper). */
static bool is_url_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false;
    return strchr("<>#\"{}|\\^[]`", c) == NULL;
}

/* Every `%` in s[from, to) is followed by two hex digits (the parser
 * unescapes parameter values and fails on a broken escape). */
static bool escapes_valid(const unsigned char *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (s[i] != '%')
            continue;
        if (to - i < 3 || osw_hex_digit(s[i + 1]) < 0 || osw_hex_digit(s[i + 2]) < 0)
            return false;
        i += 2;
    }
    return true;
}

static bool has_prefix(const unsigned char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && memcmp(s, p, n) == 0;
}

/* The media type `type/subtype` starting at *pos; leaves *pos on the byte
 * after the subtype, which the caller checks. */
static bool parse_media_type(const unsigned char *s, size_t len, size_t *pos)
{
    size_t i = *pos;
    if ((s[i] == 'x' || s[i] == 'X') && i + 1 < len && s[i + 1] == '-') {
        i += 2;
        while (i < len && is_token(s[i]))
            i++;
        if (i >= len || s[i] != '/')
            return false;
    } else {
        size_t start = i;
        while (i < len && is_token(s[i]))
            i++;
        if (i == start || i >= len || s[i] != '/')
            return false;
        static const char *const types[] = {"text",        "image",   "audio",    "video",
                                            "application", "message", "multipart"};
        bool known = false;
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
            known = known || has_prefix(s + start, i - start, types[t]);
        if (!known)
            return false;
    }
    i++; /* the slash; the subtype may be empty */
    while (i < len && is_token(s[i]))
        i++;
    *pos = i;
    return true;
}

/* Parses the header after `data:`; on success *data is the offset after the
 * comma and *base64 tells the encoding. */
static bool parse_header(const unsigned char *s, size_t len, size_t *data, bool *base64)
{
    size_t i = 5;
    *base64 = false;
    if (i >= len)
        return false;
    if (s[i] != ';' && s[i] != ',' && !parse_media_type(s, len, &i))
        return false;
    while (i < len && s[i] == ';') {
        size_t attr = ++i;
        while (i < len && is_token(s[i]))
            i++;
        if (i == attr || i >= len)
            return false;
        if (s[i] == ',') {
            /* An attribute without a value is only `base64`, and only last. */
            if (i - attr != 6 || memcmp(s + attr, "base64", 6) != 0)
                return false;
            *base64 = true;
            break;
        }
        if (s[i] != '=')
            return false;
        size_t val = ++i;
        /* A quoted value (accepted by the MCO) is refused: Decision 9. */
        while (i < len && is_token(s[i]))
            i++;
        if (i == val || i >= len || (s[i] != ';' && s[i] != ','))
            return false;
        if (!escapes_valid(s, val, i))
            return false;
    }
    if (i >= len || s[i] != ',')
        return false;
    *data = i + 1;
    return true;
}

static enum osw_err put(struct osw_buf *out, size_t max, const unsigned char *b, size_t n)
{
    if (n > max || out->len > max - n)
        return OSW_ETOOBIG;
    return osw_buf_append(out, b, n);
}

static enum osw_err decode_percent(const unsigned char *s, size_t len, size_t max,
                                   struct osw_buf *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (!is_url_char(c))
            return OSW_EINVAL;
        if (c == '%') {
            if (len - i < 3 || osw_hex_digit(s[i + 1]) < 0 || osw_hex_digit(s[i + 2]) < 0)
                return OSW_EINVAL;
            c = (unsigned char)(osw_hex_digit(s[i + 1]) * 16 + osw_hex_digit(s[i + 2]));
            i += 2;
        }
        enum osw_err err = put(out, max, &c, 1);
        if (err != OSW_OK)
            return err;
    }
    return OSW_OK;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Go's base64.StdEncoding.DecodeString after the lexer allowed only the
 * alphabet, `=` and line feeds: quanta of four, padding only as `xx==` or
 * `xxx=` at the very end, line feeds anywhere ignored, non-zero trailing
 * bits accepted (StdEncoding is not Strict). */
static enum osw_err decode_base64(const unsigned char *s, size_t len, size_t max,
                                  struct osw_buf *out)
{
    unsigned q[4];
    size_t qn = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '\n')
            continue;
        if (c == '=') {
            /* `=` needs two data characters before it; a second one only
             * after exactly two. */
            if (qn + pad < 2 || qn + pad > 3 || (pad == 1 && qn != 2))
                return OSW_EINVAL;
            pad++;
            continue;
        }
        int v = b64val(c);
        if (v < 0 || pad > 0)
            return OSW_EINVAL;
        q[qn++] = (unsigned)v;
        if (qn == 4) {
            unsigned char b[3] = {(unsigned char)(q[0] << 2 | q[1] >> 4),
                                  (unsigned char)(q[1] << 4 | q[2] >> 2),
                                  (unsigned char)(q[2] << 6 | q[3])};
            enum osw_err err = put(out, max, b, 3);
            if (err != OSW_OK)
                return err;
            qn = 0;
        }
    }
    if (pad == 0)
        return qn == 0 ? OSW_OK : OSW_EINVAL;
    if (qn + pad != 4)
        return OSW_EINVAL;
    unsigned char b[2] = {(unsigned char)(q[0] << 2 | q[1] >> 4),
                          (unsigned char)(q[1] << 4 | (qn == 3 ? q[2] >> 2 : 0))};
    return put(out, max, b, qn - 1);
}

enum osw_err osw_dataurl_decode(const char *src, size_t len, size_t max, struct osw_buf *out)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t data = 0;
    bool base64 = false;
    if (!s || len < 5 || memcmp(s, "data:", 5) != 0)
        return OSW_EINVAL;
    if (!parse_header(s, len, &data, &base64))
        return OSW_EINVAL;
    /* Decoded data is never longer than its encoding: reserve once. */
    size_t want = len - data < max ? len - data : max;
    enum osw_err err = osw_buf_reserve(out, want);
    if (err != OSW_OK)
        return err;
    if (base64)
        return decode_base64(s + data, len - data, max, out);
    return decode_percent(s + data, len - data, max, out);
}

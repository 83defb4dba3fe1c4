/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lexical half of the TOML v1.0.0 reader (toml.c): blanks, comments and
 * newlines, the four string forms decoded with every escape TOML 1.0 has,
 * and the syntax of integers, floats, booleans, dates and times. Values
 * other than strings are only checked, never converted; integers and
 * floats out of the range Go's strconv accepts are refused, as the MCO's
 * decoder refuses them.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/toml_scan.h"
#include "core_internal.h"

/* ---- characters ---------------------------------------------------------- */

/* TOML's control characters: all but tab below 0x20, and DEL. */
static bool is_ctrl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
bool osw_tomlscan_utf8_valid(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* A comment from `#` to the end of the line (the newline is left). */
enum osw_err osw_tomlscan_comment(struct osw_tomlscan *p)
{
    for (p->pos++; p->pos < p->len; p->pos++) {
        unsigned char c = p->s[p->pos];
        if (c == '\n' || c == '\r')
            break;
        if (is_ctrl(c))
            return OSW_EINVAL;
    }
    return OSW_OK;
}

/* After a key/value pair or a header: blanks, a comment, a newline or EOF. */
enum osw_err osw_tomlscan_eol(struct osw_tomlscan *p)
{
    osw_tomlscan_skip_ws(p);
    if (osw_tomlscan_at(p, '#'))
        OSW_TRY(osw_tomlscan_comment(p));
    if (p->pos >= p->len)
        return OSW_OK;
    size_t nl = osw_tomlscan_newline(p, p->pos);
    if (!nl)
        return OSW_EINVAL;
    p->pos += nl;
    return OSW_OK;
}

/* Blanks, comments and newlines, as allowed between array elements. */
enum osw_err osw_tomlscan_array_space(struct osw_tomlscan *p)
{
    for (;;) {
        osw_tomlscan_skip_ws(p);
        if (osw_tomlscan_at(p, '#'))
            OSW_TRY(osw_tomlscan_comment(p));
        size_t nl = osw_tomlscan_newline(p, p->pos);
        if (!nl)
            return OSW_OK;
        p->pos += nl;
    }
}

/* ---- strings --------------------------------------------------------------- */

static enum osw_err flush(struct osw_tomlscan *p, size_t from, size_t to)
{
    return to > from ? osw_buf_append(&p->scratch, p->s + from, to - from) : OSW_OK;
}

static enum osw_err put_utf8(struct osw_tomlscan *p, uint32_t cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return osw_buf_append(&p->scratch, b, n);
}

/* The escape at pos (a backslash) of a basic string: TOML 1.0 has exactly
 * \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX (no \e, no \x: those are 1.1). */
static enum osw_err escape(struct osw_tomlscan *p)
{
    if (p->len - p->pos < 2)
        return OSW_EINVAL;
    unsigned char c = p->s[p->pos + 1];
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) {
        p->pos += 2;
        return osw_buf_append(&p->scratch, &to[hit - from], 1);
    }
    size_t n = c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (n == 0 || p->len - p->pos - 2 < n)
        return OSW_EINVAL;
    uint32_t cp = 0;
    for (size_t i = 0; i < n; i++) {
        int v = osw_hex_digit(p->s[p->pos + 2 + i]);
        if (v < 0)
            return OSW_EINVAL;
        cp = cp << 4 | (uint32_t)v;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return OSW_EINVAL;
    p->pos += 2 + n;
    return put_utf8(p, cp);
}

/* The quotes closing a multi-line string: a run of 3 to 5 `q` ends it (the
 * first 0-2 belong to the content); a run of 1-2 is content. Returns true
 * when the string ended. */
static bool ml_quotes(struct osw_tomlscan *p, unsigned char q, size_t *content_end, bool *bad)
{
    size_t n = 0;
    while (p->pos + n < p->len && p->s[p->pos + n] == q && n < 6)
        n++;
    if (n < 3) {
        p->pos += n;
        return false;
    }
    *bad = n > 5;
    *content_end = p->pos + n - 3;
    p->pos += n;
    return true;
}

/* `"..."`, `'...'`, `"""..."""` or `'''...'''` at pos, decoded into scratch. */
enum osw_err osw_tomlscan_string(struct osw_tomlscan *p)
{
    unsigned char q = p->s[p->pos];
    bool ml = p->len - p->pos >= 3 && p->s[p->pos + 1] == q && p->s[p->pos + 2] == q;
    osw_buf_reset(&p->scratch);
    p->pos += ml ? 3 : 1;
    if (ml)
        p->pos += osw_tomlscan_newline(p, p->pos); /* a newline right after the quotes is trimmed */
    size_t run = p->pos;
    for (;;) {
        if (p->pos >= p->len)
            return OSW_EINVAL;
        unsigned char c = p->s[p->pos];
        if (c == q && !ml) {
            OSW_TRY(flush(p, run, p->pos));
            p->pos++;
            return OSW_OK;
        }
        if (c == q) {
            size_t end = 0;
            bool bad = false;
            if (ml_quotes(p, q, &end, &bad)) {
                if (bad)
                    return OSW_EINVAL;
                return flush(p, run, end);
            }
            continue;
        }
        if (c == '\\' && q == '"') {
            OSW_TRY(flush(p, run, p->pos));
            size_t j = p->pos + 1;
            while (j < p->len && osw_tomlscan_is_ws(p->s[j]))
                j++;
            if (ml && osw_tomlscan_newline(p, j)) {
                /* Line-ending backslash: drop blanks and newlines after it. */
                p->pos = j;
                while (p->pos < p->len &&
                       (osw_tomlscan_is_ws(p->s[p->pos]) || osw_tomlscan_newline(p, p->pos)))
                    p->pos += osw_tomlscan_newline(p, p->pos) ? osw_tomlscan_newline(p, p->pos) : 1;
            } else {
                OSW_TRY(escape(p));
            }
            run = p->pos;
            continue;
        }
        if (ml && osw_tomlscan_newline(p, p->pos)) {
            p->pos += osw_tomlscan_newline(p, p->pos);
            continue;
        }
        if (is_ctrl(c))
            return OSW_EINVAL;
        p->pos++;
    }
}

/* ---- numbers, booleans, dates and times --------------------------------- */

/* digit *( digit / "_" digit ) for `base`; advances *i. */
static bool digit_run(const unsigned char *t, size_t n, size_t *i, int base)
{
    bool need = true;
    size_t k = *i;
    for (; k < n; k++) {
        int v = t[k] == '_' ? -2 : osw_hex_digit(t[k]);
        if (v == -2 && !need) {
            need = true;
            continue;
        }
        if (v < 0 || v >= base)
            break;
        need = false;
    }
    if (need)
        return false;
    *i = k;
    return true;
}

/* The largest decimal a binary64 holds after rounding is below
 * 2^1024 - 2^970; these are its 309 digits (ties round to even: up). */
static const char DBL_LIMIT[] =
    "1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490"
    "1797758720709633028641669288791094655554785194040263065748867150582068190890200070838367"
    "6273854845817711531764475730270069855571366959622842914819860834936475292719074168444365"
    "510704342711559699508093042880177904174497792";

/* Go's ParseFloat (what BurntSushi/toml calls) fails beyond the range of
 * a double: so does this. t[0, n) is an unsigned decimal float. */
static bool float_in_range(const unsigned char *t, size_t n)
{
    long long e10 = 0, exp = 0;
    size_t i = 0, nd = 0;
    bool seen = false, frac = false;
    char d[sizeof DBL_LIMIT];
    for (; i < n && t[i] != 'e' && t[i] != 'E'; i++) {
        if (t[i] == '.') {
            frac = true;
        } else if (osw_tomlscan_is_digit(t[i])) {
            seen = seen || t[i] != '0';
            if (seen && nd < sizeof d - 1)
                d[nd++] = (char)t[i];
            e10 += (seen && !frac) - (!seen && frac);
        }
    }
    bool neg = i + 1 < n && t[i + 1] == '-';
    for (; i < n; i++) {
        if (osw_tomlscan_is_digit(t[i]) && exp < 100000000)
            exp = exp * 10 + (t[i] - '0');
    }
    e10 += neg ? -exp : exp;
    if (!seen || e10 < 309)
        return true;
    if (e10 > 309)
        return false;
    d[nd] = '\0';
    return strcmp(d, DBL_LIMIT) < 0;
}

static bool int_in_range(const unsigned char *t, size_t n, bool neg)
{
    char d[24];
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '_')
            continue;
        if (nd == sizeof d - 1)
            return false;
        d[nd++] = (char)t[i];
    }
    d[nd] = '\0';
    const char *lim = neg ? "9223372036854775808" : "9223372036854775807";
    return nd < 19 || (nd == 19 && strcmp(d, lim) <= 0);
}

static bool prefixed_in_range(const unsigned char *t, size_t n, unsigned shift)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '_')
            continue;
        if (v > (UINT64_MAX >> shift))
            return false;
        v = v << shift | (uint64_t)osw_hex_digit(t[i]);
    }
    return v <= (uint64_t)INT64_MAX;
}

static bool valid_number(const unsigned char *t, size_t n)
{
    size_t i = 0;
    bool sign = t[0] == '+' || t[0] == '-', neg = t[0] == '-';
    i += sign;
    if (n - i == 3 && (memcmp(t + i, "inf", 3) == 0 || memcmp(t + i, "nan", 3) == 0))
        return true;
    if (!sign && n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b')) {
        int base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
        unsigned shift = t[1] == 'x' ? 4 : t[1] == 'o' ? 3 : 1;
        i = 2;
        return digit_run(t, n, &i, base) && i == n && prefixed_in_range(t + 2, n - 2, shift);
    }
    size_t int_start = i;
    if (i < n && t[i] == '0')
        i++;
    else if (!digit_run(t, n, &i, 10))
        return false;
    size_t int_end = i;
    bool is_float = false;
    if (i < n && t[i] == '.') {
        i++;
        if (!digit_run(t, n, &i, 10))
            return false;
        is_float = true;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        i += i < n && (t[i] == '+' || t[i] == '-');
        if (!digit_run(t, n, &i, 10))
            return false;
        is_float = true;
    }
    if (i != n)
        return false;
    if (is_float)
        return float_in_range(t + int_start, n - int_start);
    return int_in_range(t + int_start, int_end - int_start, neg);
}

static bool digits(const unsigned char *t, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!osw_tomlscan_is_digit(t[i]))
            return false;
        *v = *v * 10 + (t[i] - '0');
    }
    return true;
}

/* HH:MM:SS[.fraction] at *i (TOML 1.0 requires the seconds). */
static bool valid_time(const unsigned char *t, size_t n, size_t *i)
{
    int h, m, s;
    const unsigned char *x = t + *i;
    if (n - *i < 8 || x[2] != ':' || x[5] != ':' || !digits(x, 2, &h) || !digits(x + 3, 2, &m) ||
        !digits(x + 6, 2, &s) || h > 23 || m > 59 || s > 59)
        return false;
    *i += 8;
    if (*i < n && t[*i] == '.') {
        size_t start = ++*i;
        while (*i < n && osw_tomlscan_is_digit(t[*i]))
            ++*i;
        return *i > start;
    }
    return true;
}

static bool is_date(const unsigned char *t, size_t n)
{
    int v;
    return n >= 10 && digits(t, 4, &v) && t[4] == '-' && digits(t + 5, 2, &v) && t[7] == '-' &&
           digits(t + 8, 2, &v);
}

static bool valid_datetime(const unsigned char *t, size_t n)
{
    int y, mo, d;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    digits(t, 4, &y);
    digits(t + 5, 2, &mo);
    digits(t + 8, 2, &d);
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    if (n == 10)
        return true;
    size_t i = 11;
    if ((t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !valid_time(t, n, &i))
        return false;
    if (i < n && (t[i] == 'Z' || t[i] == 'z')) {
        i++;
    } else if (i < n && (t[i] == '+' || t[i] == '-')) {
        int oh, om;
        if (n - i != 6 || t[i + 3] != ':' || !digits(t + i + 1, 2, &oh) ||
            !digits(t + i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        i += 6;
    }
    return i == n;
}

static bool is_scalar_char(unsigned char c)
{
    return osw_tomlscan_is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* A boolean, number, date or time at pos. */
enum osw_err osw_tomlscan_scalar(struct osw_tomlscan *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && is_scalar_char(p->s[p->pos]))
        p->pos++;
    const unsigned char *t = p->s + start;
    /* `1979-05-27 07:32:00`: a space may separate date and time. */
    if (p->pos - start == 10 && is_date(t, 10) && p->len - p->pos > 3 && p->s[p->pos] == ' ' &&
        osw_tomlscan_is_digit(p->s[p->pos + 1]) && osw_tomlscan_is_digit(p->s[p->pos + 2]) &&
        p->s[p->pos + 3] == ':') {
        p->pos++;
        while (p->pos < p->len && is_scalar_char(p->s[p->pos]))
            p->pos++;
    }
    size_t n = p->pos - start;
    if (n == 0)
        return OSW_EINVAL;
    if ((n == 4 && memcmp(t, "true", 4) == 0) || (n == 5 && memcmp(t, "false", 5) == 0))
        return OSW_OK;
    if (is_date(t, n))
        return valid_datetime(t, n) ? OSW_OK : OSW_EINVAL;
    if (n >= 3 && t[2] == ':') {
        size_t i = 0;
        return valid_time(t, n, &i) && i == n ? OSW_OK : OSW_EINVAL;
    }
    return valid_number(t, n) ? OSW_OK : OSW_EINVAL;
}

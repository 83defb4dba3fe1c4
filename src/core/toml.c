/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict TOML v1.0.0 reader for CRI-O drop-ins. Debian 12 packages no C
 * TOML library, only C++ ones (toml++, cpptoml); a C++ shim would bring a
 * second language, runtime and exception model into the pure core for one
 * lookup, and toml++ accepts some TOML 1.1 syntax by default. So this file
 * reads the whole v1.0.0 grammar itself, builds a small tree of keys (values
 * other than strings are only syntax-checked) to enforce the definition
 * rules (no key or table twice, inline tables closed, dotted-key tables not
 * reopened), and answers one case-insensitive path lookup from that tree.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osw/toml.h"

enum kind { K_VALUE, K_STRING, K_TABLE, K_AOT };

#define F_EXPLICIT 0x1u /* defined by a [table] header */
#define F_DOTTED   0x2u /* defined (or extended) by a dotted key in `section` */
#define F_FROZEN   0x4u /* an inline table: closed once its braces are */

/* One key of the document. Tables list their keys in `first`..`last`;
 * an array of tables lists its element tables there (without keys). */
struct node {
    const struct node *parent;
    struct node *first, *last, *next;
    const char *key; /* borrowed from the document or the arena */
    size_t klen;
    const char *str; /* a string value the lookup may want (arena), else NULL */
    size_t slen;
    unsigned section;
    unsigned char kind, flags;
};

struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[];
};

struct seg {
    const char *ptr;
    size_t len;
};

struct parser {
    const unsigned char *s;
    size_t len, pos;
    struct block *arena;
    struct node root;
    struct node *cur; /* the table key/value pairs go into */
    struct node **slots;
    size_t nslots, nused;
    struct osw_buf scratch; /* the last string value or quoted key, decoded */
    struct seg *segs;
    size_t nsegs, capsegs;
    unsigned section, depth;
    const char *want; /* last key of the lookup: string values kept */
};

#define TRY(x)                                                                                     \
    do {                                                                                           \
        enum osw_err err_ = (x);                                                                   \
        if (err_ != OSW_OK)                                                                        \
            return err_;                                                                           \
    } while (0)

/* ---- memory: one arena per document, one hash of (parent, key) -------- */

static void *arena_alloc(struct parser *p, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct block *b = p->arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->next = p->arena;
        b->used = 0;
        b->cap = cap;
        p->arena = b;
    }
    void *r = (unsigned char *)b->data + b->used;
    b->used += n;
    return r;
}

static size_t hash_key(const struct node *parent, const char *k, size_t n)
{
    uint64_t h = 14695981039346656037ull ^ ((uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 32;
    return (size_t)h;
}

static struct node *lookup(const struct parser *p, const struct node *parent, struct seg k)
{
    if (p->nslots == 0)
        return NULL;
    for (size_t i = hash_key(parent, k.ptr, k.len) & (p->nslots - 1);;
         i = (i + 1) & (p->nslots - 1)) {
        struct node *n = p->slots[i];
        if (!n)
            return NULL;
        if (n->parent == parent && n->klen == k.len && memcmp(n->key, k.ptr, k.len) == 0)
            return n;
    }
}

static void slot_put(struct node **slots, size_t nslots, struct node *n)
{
    size_t i = hash_key(n->parent, n->key, n->klen) & (nslots - 1);
    while (slots[i])
        i = (i + 1) & (nslots - 1);
    slots[i] = n;
}

static enum osw_err hash_insert(struct parser *p, struct node *n)
{
    if ((p->nused + 1) * 2 > p->nslots) {
        size_t ns = p->nslots ? p->nslots * 2 : 64;
        struct node **slots = calloc(ns, sizeof(struct node *));
        if (!slots)
            return OSW_ENOMEM;
        for (size_t i = 0; i < p->nslots; i++) {
            if (p->slots[i])
                slot_put(slots, ns, p->slots[i]);
        }
        free(p->slots);
        p->slots = slots;
        p->nslots = ns;
    }
    slot_put(p->slots, p->nslots, n);
    p->nused++;
    return OSW_OK;
}

/* A new key `k` of `parent` (k.ptr NULL: an element of an array of tables,
 * reached through its parent only). */
static enum osw_err new_child(struct parser *p, struct node *parent, struct seg k,
                              unsigned char kind, struct node **out)
{
    struct node *n = arena_alloc(p, sizeof(*n));
    if (!n)
        return OSW_ENOMEM;
    memset(n, 0, sizeof(*n));
    n->parent = parent;
    n->key = k.ptr;
    n->klen = k.len;
    n->kind = kind;
    if (parent) {
        if (parent->last)
            parent->last->next = n;
        else
            parent->first = n;
        parent->last = n;
    }
    if (k.ptr && parent)
        TRY(hash_insert(p, n));
    *out = n;
    return OSW_OK;
}

/* ---- characters ---------------------------------------------------------- */

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* TOML's control characters: all but tab below 0x20, and DEL. */
static bool is_ctrl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_bare(unsigned char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-';
}

static size_t newline_at(const struct parser *p, size_t i)
{
    if (i < p->len && p->s[i] == '\n')
        return 1;
    if (i + 1 < p->len && p->s[i] == '\r' && p->s[i + 1] == '\n')
        return 2;
    return 0;
}

static bool at(const struct parser *p, unsigned char c)
{
    return p->pos < p->len && p->s[p->pos] == c;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && is_ws(p->s[p->pos]))
        p->pos++;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
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
static enum osw_err comment(struct parser *p)
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
static enum osw_err eol(struct parser *p)
{
    skip_ws(p);
    if (at(p, '#'))
        TRY(comment(p));
    if (p->pos >= p->len)
        return OSW_OK;
    size_t nl = newline_at(p, p->pos);
    if (!nl)
        return OSW_EINVAL;
    p->pos += nl;
    return OSW_OK;
}

/* Blanks, comments and newlines, as allowed between array elements. */
static enum osw_err skip_array_space(struct parser *p)
{
    for (;;) {
        skip_ws(p);
        if (at(p, '#'))
            TRY(comment(p));
        size_t nl = newline_at(p, p->pos);
        if (!nl)
            return OSW_OK;
        p->pos += nl;
    }
}

/* ---- strings --------------------------------------------------------------- */

static enum osw_err flush(struct parser *p, size_t from, size_t to)
{
    return to > from ? osw_buf_append(&p->scratch, p->s + from, to - from) : OSW_OK;
}

static int hexval(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static enum osw_err put_utf8(struct parser *p, uint32_t cp)
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
static enum osw_err escape(struct parser *p)
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
        int v = hexval(p->s[p->pos + 2 + i]);
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
static bool ml_quotes(struct parser *p, unsigned char q, size_t *content_end, bool *bad)
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
static enum osw_err parse_string(struct parser *p)
{
    unsigned char q = p->s[p->pos];
    bool ml = p->len - p->pos >= 3 && p->s[p->pos + 1] == q && p->s[p->pos + 2] == q;
    osw_buf_reset(&p->scratch);
    p->pos += ml ? 3 : 1;
    if (ml)
        p->pos += newline_at(p, p->pos); /* a newline right after the quotes is trimmed */
    size_t run = p->pos;
    for (;;) {
        if (p->pos >= p->len)
            return OSW_EINVAL;
        unsigned char c = p->s[p->pos];
        if (c == q && !ml) {
            TRY(flush(p, run, p->pos));
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
            TRY(flush(p, run, p->pos));
            size_t j = p->pos + 1;
            while (j < p->len && is_ws(p->s[j]))
                j++;
            if (ml && newline_at(p, j)) {
                /* Line-ending backslash: drop blanks and newlines after it. */
                p->pos = j;
                while (p->pos < p->len && (is_ws(p->s[p->pos]) || newline_at(p, p->pos)))
                    p->pos += newline_at(p, p->pos) ? newline_at(p, p->pos) : 1;
            } else {
                TRY(escape(p));
            }
            run = p->pos;
            continue;
        }
        if (ml && newline_at(p, p->pos)) {
            p->pos += newline_at(p, p->pos);
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
        int v = t[k] == '_' ? -2 : hexval(t[k]);
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
        } else if (is_digit(t[i])) {
            seen = seen || t[i] != '0';
            if (seen && nd < sizeof d - 1)
                d[nd++] = (char)t[i];
            e10 += (seen && !frac) - (!seen && frac);
        }
    }
    bool neg = i + 1 < n && t[i + 1] == '-';
    for (; i < n; i++) {
        if (is_digit(t[i]) && exp < 100000000)
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
        v = v << shift | (uint64_t)hexval(t[i]);
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
        if (!is_digit(t[i]))
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
        while (*i < n && is_digit(t[*i]))
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
    return is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* A boolean, number, date or time at pos. */
static enum osw_err parse_scalar(struct parser *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && is_scalar_char(p->s[p->pos]))
        p->pos++;
    const unsigned char *t = p->s + start;
    /* `1979-05-27 07:32:00`: a space may separate date and time. */
    if (p->pos - start == 10 && is_date(t, 10) && p->len - p->pos > 3 && p->s[p->pos] == ' ' &&
        is_digit(p->s[p->pos + 1]) && is_digit(p->s[p->pos + 2]) && p->s[p->pos + 3] == ':') {
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

/* ---- keys, values and tables --------------------------------------------- */

static bool ci_eq(const char *k, size_t n, const char *c)
{
    size_t i = 0;
    for (; i < n && c[i]; i++) {
        unsigned char a = (unsigned char)k[i], b = (unsigned char)c[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return false;
    }
    return i == n && c[i] == '\0';
}

static enum osw_err push_seg(struct parser *p, const char *ptr, size_t len)
{
    if (p->nsegs == p->capsegs) {
        size_t nc = p->capsegs ? p->capsegs * 2 : 8;
        struct seg *ns = realloc(p->segs, nc * sizeof(*ns));
        if (!ns)
            return OSW_ENOMEM;
        p->segs = ns;
        p->capsegs = nc;
    }
    p->segs[p->nsegs++] = (struct seg){ptr, len};
    return OSW_OK;
}

/* A dotted key into p->segs, then the blanks after it. */
static enum osw_err parse_key(struct parser *p)
{
    p->nsegs = 0;
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len)
            return OSW_EINVAL;
        unsigned char c = p->s[p->pos];
        if (is_bare(c)) {
            size_t start = p->pos;
            while (p->pos < p->len && is_bare(p->s[p->pos]))
                p->pos++;
            TRY(push_seg(p, (const char *)p->s + start, p->pos - start));
        } else if (c == '"' || c == '\'') {
            size_t start = p->pos;
            TRY(parse_string(p));
            /* A key is a one-line string: `"""` would read as "" then ". */
            if (p->s[start + 1] == c && p->pos - start > 2)
                return OSW_EINVAL;
            char *k = arena_alloc(p, p->scratch.len + 1);
            if (!k)
                return OSW_ENOMEM;
            if (p->scratch.len)
                memcpy(k, p->scratch.data, p->scratch.len);
            TRY(push_seg(p, k, p->scratch.len));
        } else {
            return OSW_EINVAL;
        }
        skip_ws(p);
        if (!at(p, '.'))
            return OSW_OK;
        p->pos++;
    }
}

static enum osw_err parse_value(struct parser *p, struct node *node);

static enum osw_err parse_array(struct parser *p)
{
    p->pos++;
    for (;;) {
        TRY(skip_array_space(p));
        if (at(p, ']'))
            break;
        TRY(parse_value(p, NULL));
        TRY(skip_array_space(p));
        if (at(p, ','))
            p->pos++;
        else if (at(p, ']'))
            break;
        else
            return OSW_EINVAL;
    }
    p->pos++;
    return OSW_OK;
}

/* `k.e.y = value` inside an inline table `t`: self-contained, so dotted keys
 * only meet tables made within the same braces. */
static enum osw_err inline_keyval(struct parser *p, struct node *t)
{
    TRY(parse_key(p));
    if (!at(p, '='))
        return OSW_EINVAL;
    p->pos++;
    skip_ws(p);
    struct node *cur = t, *n = NULL;
    for (size_t i = 0; i + 1 < p->nsegs; i++, cur = n) {
        n = lookup(p, cur, p->segs[i]);
        if (!n)
            TRY(new_child(p, cur, p->segs[i], K_TABLE, &n));
        else if (n->kind != K_TABLE || (n->flags & F_FROZEN))
            return OSW_EINVAL;
    }
    if (lookup(p, cur, p->segs[p->nsegs - 1]))
        return OSW_EINVAL;
    TRY(new_child(p, cur, p->segs[p->nsegs - 1], K_VALUE, &n));
    return parse_value(p, n);
}

static enum osw_err parse_inline(struct parser *p, struct node *t)
{
    p->pos++;
    skip_ws(p);
    if (at(p, '}')) {
        p->pos++;
        return OSW_OK;
    }
    for (;;) {
        TRY(inline_keyval(p, t));
        skip_ws(p);
        if (at(p, '}'))
            break;
        if (!at(p, ','))
            return OSW_EINVAL; /* no newline, no trailing comma */
        p->pos++;
    }
    p->pos++;
    return OSW_OK;
}

/* A value at pos; `node` is the key it is assigned to (NULL in arrays). */
static enum osw_err parse_value(struct parser *p, struct node *node)
{
    if (p->pos >= p->len)
        return OSW_EINVAL;
    unsigned char c = p->s[p->pos];
    if (c == '"' || c == '\'') {
        TRY(parse_string(p));
        if (node) {
            node->kind = K_STRING;
            if (p->want && ci_eq(node->key, node->klen, p->want)) {
                char *v = arena_alloc(p, p->scratch.len + 1);
                if (!v)
                    return OSW_ENOMEM;
                if (p->scratch.len)
                    memcpy(v, p->scratch.data, p->scratch.len);
                node->str = v;
                node->slen = p->scratch.len;
            }
        }
        return OSW_OK;
    }
    if (c != '[' && c != '{')
        return parse_scalar(p);
    if (++p->depth > OSW_TOML_MAX_DEPTH)
        return OSW_EINVAL;
    enum osw_err err;
    if (c == '[') {
        err = parse_array(p);
    } else {
        /* An inline table in an array has no key: an orphan node holds its
         * keys so that duplicates are still found. */
        if (!node)
            TRY(new_child(p, NULL, (struct seg){NULL, 0}, K_TABLE, &node));
        node->kind = K_TABLE;
        err = parse_inline(p, node);
        node->flags |= F_FROZEN;
    }
    p->depth--;
    return err;
}

/* `k.e.y = value` in the current table. Dotted keys create or extend tables
 * of this section only: a table defined by a header, or by dotted keys
 * under an earlier header, is closed to them. */
static enum osw_err keyval(struct parser *p)
{
    TRY(parse_key(p));
    if (!at(p, '='))
        return OSW_EINVAL;
    p->pos++;
    skip_ws(p);
    struct node *cur = p->cur, *n = NULL;
    for (size_t i = 0; i + 1 < p->nsegs; i++, cur = n) {
        n = lookup(p, cur, p->segs[i]);
        if (!n) {
            TRY(new_child(p, cur, p->segs[i], K_TABLE, &n));
        } else if (n->kind != K_TABLE || (n->flags & (F_FROZEN | F_EXPLICIT)) ||
                   ((n->flags & F_DOTTED) && n->section != p->section)) {
            return OSW_EINVAL;
        }
        n->flags |= F_DOTTED;
        n->section = p->section;
    }
    if (lookup(p, cur, p->segs[p->nsegs - 1]))
        return OSW_EINVAL;
    TRY(new_child(p, cur, p->segs[p->nsegs - 1], K_VALUE, &n));
    TRY(parse_value(p, n));
    return eol(p);
}

/* `[table]` or `[[array.of.tables]]`. */
static enum osw_err header(struct parser *p)
{
    bool aot = p->len - p->pos > 1 && p->s[p->pos + 1] == '[';
    p->pos += aot ? 2 : 1;
    TRY(parse_key(p));
    if (!at(p, ']') || (aot && (p->len - p->pos < 2 || p->s[p->pos + 1] != ']')))
        return OSW_EINVAL;
    p->pos += aot ? 2 : 1;
    p->section++;
    struct node *cur = &p->root, *n = NULL;
    for (size_t i = 0; i + 1 < p->nsegs; i++, cur = n) {
        n = lookup(p, cur, p->segs[i]);
        if (!n)
            TRY(new_child(p, cur, p->segs[i], K_TABLE, &n));
        else if (n->kind == K_AOT)
            n = n->last; /* a sub-table of the latest element */
        else if (n->kind != K_TABLE || (n->flags & F_FROZEN))
            return OSW_EINVAL;
    }
    n = lookup(p, cur, p->segs[p->nsegs - 1]);
    if (!aot) {
        if (!n)
            TRY(new_child(p, cur, p->segs[p->nsegs - 1], K_TABLE, &n));
        else if (n->kind != K_TABLE || (n->flags & (F_EXPLICIT | F_FROZEN | F_DOTTED)))
            return OSW_EINVAL;
        n->flags |= F_EXPLICIT;
        p->cur = n;
    } else {
        if (!n)
            TRY(new_child(p, cur, p->segs[p->nsegs - 1], K_AOT, &n));
        else if (n->kind != K_AOT)
            return OSW_EINVAL;
        TRY(new_child(p, n, (struct seg){NULL, 0}, K_TABLE, &p->cur));
    }
    return eol(p);
}

static enum osw_err parse_document(struct parser *p)
{
    if (p->len >= 3 && memcmp(p->s, "\xef\xbb\xbf", 3) == 0)
        p->pos = 3;
    if (!utf8_valid(p->s + p->pos, p->len - p->pos))
        return OSW_EINVAL;
    p->root.kind = K_TABLE;
    p->cur = &p->root;
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len)
            return OSW_OK;
        unsigned char c = p->s[p->pos];
        if (c == '#' || c == '\n' || c == '\r')
            TRY(eol(p));
        else if (c == '[')
            TRY(header(p));
        else
            TRY(keyval(p));
    }
}

/* ---- the lookup ------------------------------------------------------------ */

static enum osw_err collect(const struct node *t, const char *const *path, size_t npath,
                            enum osw_toml_found *found, struct osw_buf *value)
{
    for (const struct node *n = t->first; n && *found != OSW_TOML_UNDECODABLE; n = n->next) {
        if (!ci_eq(n->key, n->klen, path[0]))
            continue;
        if (npath > 1) {
            if (n->kind != K_TABLE)
                *found = OSW_TOML_UNDECODABLE;
            else
                TRY(collect(n, path + 1, npath - 1, found, value));
        } else if (n->kind != K_STRING) {
            *found = OSW_TOML_UNDECODABLE;
        } else if (*found == OSW_TOML_STRING) {
            if (n->slen != value->len || (n->slen && memcmp(n->str, value->data, n->slen) != 0))
                *found = OSW_TOML_UNDECODABLE;
        } else {
            *found = OSW_TOML_STRING;
            TRY(osw_buf_append(value, n->str ? n->str : "", n->slen));
        }
    }
    return OSW_OK;
}

enum osw_err osw_toml_lookup(const char *doc, size_t len, const char *const *path, size_t npath,
                             enum osw_toml_found *found, struct osw_buf *value)
{
    struct parser p = {0};
    enum osw_err err = OSW_OK;
    *found = OSW_TOML_UNDECODABLE;
    if (!doc || npath == 0)
        return OSW_OK;
    p.s = (const unsigned char *)doc;
    p.len = len;
    p.want = path[npath - 1];
    osw_buf_init(&p.scratch);
    err = parse_document(&p);
    if (err == OSW_EINVAL) {
        err = OSW_OK; /* not TOML v1.0.0: undecodable */
        goto out;
    }
    if (err != OSW_OK)
        goto out;
    size_t mark = value->len;
    *found = OSW_TOML_MISSING;
    err = collect(&p.root, path, npath, found, value);
    if (*found != OSW_TOML_STRING && value->len > mark) {
        value->len = mark;
        value->data[mark] = '\0';
    }
out:
    while (p.arena) {
        struct block *next = p.arena->next;
        free(p.arena);
        p.arena = next;
    }
    free(p.slots);
    free(p.segs);
    osw_buf_free(&p.scratch);
    return err;
}

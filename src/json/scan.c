/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The validating JSON lexer of the fast reader. It walks the body once and
 * builds nothing; strings are scanned 16 bytes at a time where SSE2 exists.
 * Its verdicts are jansson 2.14's json_loadb(JSON_ALLOW_NUL |
 * JSON_DECODE_INT_AS_REAL) verdicts, proven by tests/fuzz/fuzz_reader_diff.c:
 * RFC 8259 plus jansson's own limits (a number, integer or not, must not
 * overflow a double; depth 2048, no U+0000 in keys). A raw NUL byte is refused everywhere, as RFC
 * 8259 says (json_loadb skips one right after a number or literal; the
 * reference reader refuses any raw NUL before calling it).
 */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "json/scan.h"

/* Bytes a string holds as they are: not '"', not '\\', not a control
 * character and ASCII (non-ASCII goes through the UTF-8 check). */
static bool plain_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Returns the first byte at or after `p` that is not plain_byte(), or `end`. */
static const unsigned char *scan_plain(const unsigned char *p, const unsigned char *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so "< 0x20" also
         * catches every non-ASCII byte. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < end && plain_byte(*p))
        p++;
    return p;
}

/* Space, LF, CR or tab: one compare and one bit test. */
static bool ws_byte(unsigned char c)
{
    return c <= ' ' &&
           ((((uint64_t)1 << ' ') | (1u << '\n') | (1u << '\r') | (1u << '\t')) >> c) & 1;
}

const unsigned char *osw_jscan_ws_run(const unsigned char *p, const unsigned char *end)
{
    /* Pretty-printed bodies put a newline and an indentation before most
     * tokens: look at 16 bytes at a time once past the first two. */
    if (p < end && ws_byte(*p))
        p++;
    if (p < end && ws_byte(*p))
        p++;
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(' '), nl = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r'), tab = _mm_set1_epi8('\t');
    while (end - p >= 16 && ws_byte(*p)) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, nl)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, tab)));
        unsigned mask = ~(unsigned)_mm_movemask_epi8(m) & 0xFFFFu;
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < end && ws_byte(*p))
        p++;
    return p;
}

/* Length of the well-formed UTF-8 sequence at `p` (2 to 4), or 0. Exactly
 * jansson's utf8_check_first + utf8_check_full: no overlong forms, no
 * UTF-16 surrogates (ED A0..BF), nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    unsigned lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    }
    return n;
}

/* The value of four hex digits at `p` (the caller checked they exist), or -1. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v += (long)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v += (long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v += (long)(c - 'A' + 10);
        else
            return -1;
    }
    return v;
}

/* Validates the escape at `p` (a backslash); returns its length or 0.
 * A high surrogate must be followed at once by a \u low surrogate and the
 * pair counts as one escape; a lone low surrogate is refused. */
static size_t escape_len(const unsigned char *p, const unsigned char *end, bool *nul)
{
    size_t avail = (size_t)(end - p);
    if (avail < 2)
        return 0;
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return 2;
    case 'u':
        break;
    default:
        return 0;
    }
    if (avail < 6)
        return 0;
    long cp = hex4(p + 2);
    if (cp < 0)
        return 0;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (avail < 12 || p[6] != '\\' || p[7] != 'u')
            return 0;
        long lo = hex4(p + 8);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        return 12;
    }
    if (cp == 0)
        *nul = true;
    return 6;
}

/* The rare part of a string: an escape, a non-ASCII byte or a control
 * character at `p`, then the rest of the string. Returns the closing quote
 * or NULL. */
static const unsigned char *string_slow(const unsigned char *p, const unsigned char *end,
                                        struct osw_jstr *out)
{
    for (;;) {
        unsigned c = *p;
        if (c == '"')
            return p;
        size_t n;
        if (c == '\\') {
            out->escaped = true;
            n = escape_len(p, end, &out->has_nul);
        } else if (c < 0x20) {
            return NULL;
        } else {
            n = utf8_seq(p, end);
        }
        if (n == 0)
            return NULL;
        p += n;
        /* Escapes and non-ASCII text come in runs: look at the next byte
         * before paying for a vector scan. */
        if (p < end && plain_byte(*p))
            p = scan_plain(p, end);
        if (p == end)
            return NULL;
    }
}

/* s->p at an opening quote: see osw_jscan_string. Inlined into the hot
 * loops; plain ASCII strings never leave it. */
static inline bool string_at(struct osw_jscan *s, struct osw_jstr *out)
{
    const unsigned char *p = s->p + 1, *end = s->end;
    out->start = p;
    out->escaped = false;
    out->has_nul = false;
    p = scan_plain(p, end);
    if (p == end)
        return false;
    if (*p != '"') {
        p = string_slow(p, end, out);
        if (!p)
            return false;
    }
    out->len = (size_t)(p - out->start);
    s->p = p + 1;
    return true;
}

bool osw_jscan_string(struct osw_jscan *s, struct osw_jstr *out)
{
    return string_at(s, out);
}

/* UTF-8 encoding of a code point <= U+10FFFF into `b`; returns its length. */
static size_t utf8_put(unsigned long cp, unsigned char b[4])
{
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (unsigned char)(0xF0 | (cp >> 18));
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the escape at `*pp` (just after the backslash, already validated
 * by the scanner) into `tmp`; advances `*pp` and returns the byte count. */
static size_t unescape_one(const unsigned char **pp, unsigned char tmp[4])
{
    const unsigned char *p = *pp;
    unsigned char e = *p++;
    size_t k = 1;
    switch (e) {
    case 'b':
        tmp[0] = '\b';
        break;
    case 'f':
        tmp[0] = '\f';
        break;
    case 'n':
        tmp[0] = '\n';
        break;
    case 'r':
        tmp[0] = '\r';
        break;
    case 't':
        tmp[0] = '\t';
        break;
    case 'u': {
        unsigned long cp = (unsigned long)hex4(p);
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) { /* a validated pair: \uD8xx\uDCxx */
            unsigned long lo = (unsigned long)hex4(p + 2);
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        k = utf8_put(cp, tmp);
        break;
    }
    default: /* '"', '\\', '/' */
        tmp[0] = e;
        break;
    }
    *pp = p;
    return k;
}

size_t osw_jscan_unescape(const struct osw_jstr *in, char *dst, size_t cap)
{
    const unsigned char *p = in->start, *end = in->start + in->len;
    size_t n = 0;
    while (p < end) {
        unsigned char tmp[4];
        size_t k = 1;
        if (*p != '\\') {
            tmp[0] = *p++;
        } else {
            p++;
            k = unescape_one(&p, tmp);
        }
        for (size_t i = 0; i < k; i++, n++) {
            if (n < cap)
                dst[n] = (char)tmp[i];
        }
    }
    return n;
}

static bool is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

/* 2^1024 - 2^970, the midpoint between DBL_MAX and 2^1024: strtod (correctly
 * rounded, ties to even, and DBL_MAX is odd) returns infinity from exactly
 * this value up. All 309 digits: its magnitude is in [1e308, 1e309). */
static const char dbl_overflow_digits[] =
    "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017"
    "977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273"
    "854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704"
    "342711559699508093042880177904174497792";

/* Whether a real whose magnitude is in [1e308, 1e309) overflows a double:
 * its significant digits `d1` then `d2` (the first one non-zero), read as
 * 0.d1d2 x 10^309, compared with dbl_overflow_digits. Exact, and free of
 * allocation, strtod and the locale. */
static bool real_overflows(const unsigned char *d1, size_t n1, const unsigned char *d2, size_t n2)
{
    const size_t nc = sizeof(dbl_overflow_digits) - 1;
    for (size_t i = 0; i < nc; i++) {
        if (i >= n1 + n2)
            return false; /* a proper prefix of the limit, whose last digit is not 0 */
        unsigned char c = i < n1 ? d1[i] : d2[i - n1];
        if (c != (unsigned char)dbl_overflow_digits[i])
            return c > (unsigned char)dbl_overflow_digits[i];
    }
    return true; /* equal on every digit of the limit: at or above it */
}

/* s->p at '-' or a digit. Grammar, then jansson's range rule with
 * JSON_DECODE_INT_AS_REAL: every number, with or without '.', 'e' or 'E',
 * must not overflow a double (strtod to +-HUGE_VAL with ERANGE; underflow is
 * accepted). So integers past 64 bits that Go writes for float64 values
 * (18446744073709552000, 1e20 as 100000000000000000000) are valid, as RFC
 * 8259 says. Returns whether the number is valid. */
static inline bool scan_number(struct osw_jscan *s)
{
    const unsigned char *p = s->p, *end = s->end;
    if (*p == '-')
        p++; /* the sign never matters: the range is symmetric */
    const unsigned char *ip = p;
    if (p < end && *p == '0') {
        p++;
        if (p < end && is_digit(*p))
            return false;
    } else if (p < end && is_digit(*p)) {
        while (p < end && is_digit(*p))
            p++;
    } else {
        return false;
    }
    size_t ilen = (size_t)(p - ip);
    const unsigned char *fp = p;
    size_t flen = 0;
    if (p < end && *p == '.') {
        p++;
        fp = p;
        if (p >= end || !is_digit(*p))
            return false;
        while (p < end && is_digit(*p))
            p++;
        flen = (size_t)(p - fp);
    }
    long long exp10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || !is_digit(*p))
            return false;
        /* Saturate: any exponent beyond 1e12 decides the verdict alone. */
        while (p < end && is_digit(*p)) {
            if (exp10 < 1000000000000LL)
                exp10 = exp10 * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            exp10 = -exp10;
    }
    /* The value is 0.D x 10^m with D's first digit non-zero; it is below
     * 1e308 when m <= 308 and at least 1e309 when m >= 310. */
    long long m;
    size_t i = 0;
    while (i < ilen && ip[i] == '0')
        i++;
    const unsigned char *d1 = ip + i, *d2 = fp;
    size_t n1 = ilen - i, n2 = flen;
    if (n1 > 0) {
        m = (long long)n1 + exp10;
    } else {
        size_t j = 0;
        while (j < flen && fp[j] == '0')
            j++;
        if (j == flen)
            goto ok; /* zero */
        m = exp10 - (long long)j;
        d2 = fp + j;
        n2 = flen - j;
    }
    if (m >= 310 || (m == 309 && real_overflows(d1, n1, d2, n2)))
        return false;
ok:
    s->p = p;
    return true;
}

/* s->p at 't', 'f' or 'n'. jansson reads a whole run of letters and
 * compares it, so "truex" is one invalid token. */
static inline bool scan_literal(struct osw_jscan *s, enum osw_jtype *type)
{
    const unsigned char *p = s->p, *end = s->end;
    size_t n;
    if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
        n = 4;
        *type = OSW_JT_BOOL;
    } else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
        n = 5;
        *type = OSW_JT_BOOL;
    } else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
        n = 4;
        *type = OSW_JT_NULL;
    } else {
        return false;
    }
    /* jansson reads the whole run of letters ("truex" is one bad token);
     * a letter after the literal fails the grammar here just the same. */
    p += n;
    s->p = p;
    return true;
}

/* A key and its ':' (see osw_jscan_key). */
static inline bool key_at(struct osw_jscan *s, struct osw_jstr *key)
{
    if (s->p >= s->end || *s->p != '"' || !string_at(s, key) || key->has_nul)
        return false;
    jscan_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return false;
    s->p++;
    /* One space after the colon is the common pretty-printed form. */
    if (s->p < s->end && *s->p == ' ')
        s->p++;
    jscan_ws(s);
    return true;
}

bool osw_jscan_key(struct osw_jscan *s, struct osw_jstr *key)
{
    return key_at(s, key);
}

/* A scalar at s->p (not a container). */
static inline bool scalar_at(struct osw_jscan *s, enum osw_jtype *type)
{
    if (s->p >= s->end)
        return false;
    unsigned c = *s->p;
    if (c == '"') {
        struct osw_jstr str;
        *type = OSW_JT_STRING;
        return string_at(s, &str);
    }
    if (c == '-' || is_digit(c)) {
        *type = OSW_JT_NUMBER;
        return scan_number(s);
    }
    return scan_literal(s, type);
}

/*
 * Containers are walked with an explicit stack of one bit per level (1 for
 * an object), so a 2048-deep body costs 256 bytes of stack, not 2048 frames.
 * The walk is a small state machine whose states are the labels: `member`
 * (a key and value are due), `next` (after a value: ',' or a closing
 * bracket) and `close`. The cursor is a local copy so that it can live in
 * registers.
 */
bool osw_jscan_skip(struct osw_jscan *s, unsigned depth, enum osw_jtype *type)
{
    if (depth > OSW_JSCAN_MAX_DEPTH || s->p >= s->end)
        return false;
    unsigned c = *s->p;
    if (c != '{' && c != '[')
        return scalar_at(s, type);
    *type = c == '{' ? OSW_JT_OBJECT : OSW_JT_ARRAY;

    struct osw_jscan cur = *s;
    uint64_t stack[OSW_JSCAN_MAX_DEPTH / 64 + 1];
    unsigned top = 0;   /* index of the innermost open container */
    unsigned d = depth; /* its depth; its members are at d + 1 */
    bool obj = c == '{';
    bool ok = false;
    struct osw_jstr key;
    enum osw_jtype t;
    stack[0] = obj;
    cur.p++;
    jscan_ws(&cur);
    if (cur.p < cur.end && *cur.p == (obj ? '}' : ']'))
        goto close;
member:
    if (obj && !key_at(&cur, &key))
        goto out;
    if (d >= OSW_JSCAN_MAX_DEPTH || cur.p >= cur.end)
        goto out;
    c = *cur.p;
    if (c == '{' || c == '[') {
        top++;
        d++;
        obj = c == '{';
        if (top % 64 == 0)
            stack[top / 64] = 0;
        if (obj)
            stack[top / 64] |= (uint64_t)1 << (top % 64);
        else
            stack[top / 64] &= ~((uint64_t)1 << (top % 64));
        cur.p++;
        jscan_ws(&cur);
        if (cur.p < cur.end && *cur.p == (obj ? '}' : ']'))
            goto close;
        goto member;
    }
    if (!scalar_at(&cur, &t))
        goto out;
next:
    jscan_ws(&cur);
    if (cur.p >= cur.end)
        goto out;
    c = *cur.p;
    if (c == ',') {
        cur.p++;
        jscan_ws(&cur);
        goto member;
    }
    if (c != (obj ? '}' : ']'))
        goto out;
close:
    cur.p++;
    if (top == 0) {
        ok = true;
        goto out;
    }
    top--;
    d--;
    obj = (stack[top / 64] >> (top % 64)) & 1;
    goto next;
out:
    s->p = cur.p;
    return ok;
}

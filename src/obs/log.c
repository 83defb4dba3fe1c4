/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The structured logger: each event becomes one line, JSON or human-readable
 * text, built in memory and handed to the kernel with a single write(2) so
 * that lines from concurrent threads never interleave. Values are escaped so
 * that a line never contains a raw newline, and long values are truncated so
 * that one log line stays bounded whatever a request carried.
 */
#include "obs/log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "osw/buf.h"

/* A string value (or message) longer than this is cut, at a UTF-8 character
 * boundary, and marked with "...": a request can carry a megabyte-long name,
 * and a log line must stay small. */
#define LOG_MAX_VALUE 1024
/* osw_log_printf formats into a stack buffer of this size. */
#define LOG_MAX_PRINTF 1024
/* Bounded retries of a write(2) interrupted or cut short. */
#define LOG_MAX_WRITE_TRIES 64

static const char *const level_json[] = {"debug", "info", "warn", "error"};
static const char *const level_text[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void osw_log_init(struct osw_log *log, enum osw_log_level level, enum osw_log_format format, int fd)
{
    log->level = level;
    log->format = format;
    log->fd = fd;
}

static bool level_valid(enum osw_log_level level)
{
    return (int)level >= (int)OSW_LOG_DEBUG && (int)level <= (int)OSW_LOG_ERROR;
}

bool osw_log_enabled(const struct osw_log *log, enum osw_log_level level)
{
    return log != NULL && level_valid(level) && level >= log->level;
}

bool osw_log_level_parse(const char *s, enum osw_log_level *out)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < sizeof(level_json) / sizeof(level_json[0]); i++) {
        if (strcmp(s, level_json[i]) == 0) {
            *out = (enum osw_log_level)i;
            return true;
        }
    }
    return false;
}

bool osw_log_format_parse(const char *s, enum osw_log_format *out)
{
    if (s == NULL)
        return false;
    if (strcmp(s, "json") == 0) {
        *out = OSW_LOG_JSON;
        return true;
    }
    if (strcmp(s, "text") == 0) {
        *out = OSW_LOG_TEXT;
        return true;
    }
    return false;
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 when the bytes there
 * are not one (overlong forms, surrogates and code points past U+10FFFF are
 * invalid too, as RFC 3629 says). */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    if (cp >= 0xd800 && cp <= 0xdfff)
        return 0;
    return len;
}

/* Largest prefix length <= max of s that does not end inside a UTF-8
 * sequence (continuation bytes are never the start of a character). */
static size_t utf8_cut(struct osw_str s, size_t max)
{
    if (s.len <= max)
        return s.len;
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s.ptr[cut] & 0xc0) == 0x80)
        cut--;
    return cut;
}

/* Appends `s` as a JSON string. Invalid UTF-8 becomes U+FFFD so the line
 * stays valid JSON; over-long values are cut and end with "...". */
static enum osw_err json_value(struct osw_buf *b, struct osw_str s)
{
    size_t len = utf8_cut(s, LOG_MAX_VALUE);
    bool cut = len < s.len;
    bool clean = true;
    struct osw_buf tmp = OSW_BUF_INIT;
    enum osw_err err;

    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq_len((const unsigned char *)s.ptr + i, len - i);
        if (k == 0) {
            clean = false;
            break;
        }
        i += k;
    }
    if (clean && !cut)
        return osw_buf_append_json_string(b, (struct osw_str){s.ptr, len});

    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq_len((const unsigned char *)s.ptr + i, len - i);
        if (k == 0) {
            err = osw_buf_append(&tmp, "\xef\xbf\xbd", 3);
            k = 1;
        } else {
            err = osw_buf_append(&tmp, s.ptr + i, k);
        }
        if (err != OSW_OK)
            goto out;
        i += k;
    }
    if (cut && (err = osw_buf_append(&tmp, "...", 3)) != OSW_OK)
        goto out;
    err = osw_buf_append_json_string(b, (struct osw_str){tmp.data, tmp.len});
out:
    osw_buf_free(&tmp);
    return err;
}

/* Whether a text-format value must be quoted: empty, or holding a space, a
 * quote, `=`, a backslash, a control character or invalid UTF-8. */
static bool text_needs_quotes(struct osw_str s)
{
    if (s.len == 0)
        return true;
    for (size_t i = 0; i < s.len;) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c <= 0x20 || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            return true;
        size_t k = utf8_seq_len((const unsigned char *)s.ptr + i, s.len - i);
        if (k == 0)
            return true;
        i += k;
    }
    return false;
}

/* Appends `s` for the text format, escaping every control character, `"`
 * and `\` (and, as \xHH, bytes that are not UTF-8), so the line stays one
 * line. Valid non-ASCII text is kept as it is: the line is for people. */
static enum osw_err text_escaped(struct osw_buf *b, struct osw_str s)
{
    enum osw_err err = OSW_OK;

    for (size_t i = 0; i < s.len && err == OSW_OK;) {
        unsigned char c = (unsigned char)s.ptr[i];
        size_t k = utf8_seq_len((const unsigned char *)s.ptr + i, s.len - i);

        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            err = osw_buf_append(b, esc, 2);
        } else if (c == '\n') {
            err = osw_buf_append(b, "\\n", 2);
        } else if (c == '\r') {
            err = osw_buf_append(b, "\\r", 2);
        } else if (c == '\t') {
            err = osw_buf_append(b, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f || k == 0) {
            err = osw_buf_printf(b, "\\x%02x", (unsigned)c);
        } else {
            err = osw_buf_append(b, s.ptr + i, k);
            i += k;
            continue;
        }
        i++;
    }
    return err;
}

static enum osw_err text_value(struct osw_buf *b, struct osw_str s)
{
    size_t len = utf8_cut(s, LOG_MAX_VALUE);
    struct osw_str v = {s.ptr, len};
    bool quote = text_needs_quotes(v);
    enum osw_err err = OSW_OK;

    if (quote)
        err = osw_buf_append(b, "\"", 1);
    if (err == OSW_OK)
        err = text_escaped(b, v);
    if (err == OSW_OK && len < s.len)
        err = osw_buf_append(b, "...", 3);
    if (err == OSW_OK && quote)
        err = osw_buf_append(b, "\"", 1);
    return err;
}

/* Appends a double: non-finite values are JSON null (text: NaN, +Inf, -Inf);
 * ordinary magnitudes get three decimals (durations in milliseconds), very
 * small or very large ones the shortest %g form, which JSON also accepts. */
static enum osw_err double_value(struct osw_buf *b, double d, bool json)
{
    if (isnan(d))
        return osw_buf_append_cstr(b, json ? "null" : "NaN");
    if (isinf(d))
        return osw_buf_append_cstr(b, json ? "null" : (d > 0 ? "+Inf" : "-Inf"));
    double a = fabs(d);
    if (a != 0.0 && (a < 0.001 || a >= 1e15))
        return osw_buf_printf(b, "%.6g", d);
    return osw_buf_printf(b, "%.3f", d);
}

/* RFC 3339 UTC with milliseconds: 2026-11-26T12:00:00.123Z. */
static void format_ts(char out[32])
{
    struct timespec ts;
    struct tm tm;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL) {
        memcpy(out, "1970-01-01T00:00:00.000Z", sizeof("1970-01-01T00:00:00.000Z"));
        return;
    }
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

/* How one format writes a field: `sep` before the key, the key encoder, `kv`
 * between key and value, and the string encoder. Numbers are shared. */
struct field_style {
    const char *sep, *kv;
    bool json;
    enum osw_err (*key)(struct osw_buf *b, struct osw_str s);
    enum osw_err (*str)(struct osw_buf *b, struct osw_str s);
};

static enum osw_err json_key(struct osw_buf *b, struct osw_str s)
{
    return osw_buf_append_json_string(b, s);
}

static const struct field_style json_style = {",", ":", true, json_key, json_value};
static const struct field_style text_style = {" ", "=", false, text_escaped, text_value};

static enum osw_err append_fields(struct osw_buf *b, const struct field_style *st,
                                  const struct osw_log_field *fields, size_t n)
{
    enum osw_err err = OSW_OK;
    for (size_t i = 0; i < n && err == OSW_OK; i++) {
        const struct osw_log_field *f = &fields[i];
        if (f->key == NULL)
            continue;
        if ((err = osw_buf_append_cstr(b, st->sep)) != OSW_OK ||
            (err = st->key(b, osw_str_from_cstr(f->key))) != OSW_OK ||
            (err = osw_buf_append_cstr(b, st->kv)) != OSW_OK)
            return err;
        switch (f->type) {
        case OSW_LF_INT:
            err = osw_buf_printf(b, "%lld", f->i);
            break;
        case OSW_LF_DOUBLE:
            err = double_value(b, f->d, st->json);
            break;
        case OSW_LF_STR:
        default:
            err = st->str(b, f->s);
            break;
        }
    }
    return err;
}

static enum osw_err build_json(struct osw_buf *b, const char *ts, enum osw_log_level level,
                               const char *msg, const struct osw_log_field *fields, size_t n)
{
    enum osw_err err;

    if ((err = osw_buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts,
                              level_json[level])) != OSW_OK)
        return err;
    if ((err = json_value(b, osw_str_from_cstr(msg))) != OSW_OK)
        return err;
    if ((err = append_fields(b, &json_style, fields, n)) != OSW_OK)
        return err;
    return osw_buf_append(b, "}\n", 2);
}

static enum osw_err build_text(struct osw_buf *b, const char *ts, enum osw_log_level level,
                               const char *msg, const struct osw_log_field *fields, size_t n)
{
    enum osw_err err;
    struct osw_str m = osw_str_from_cstr(msg);
    size_t mlen = utf8_cut(m, LOG_MAX_VALUE);

    /* The message is free text: not quoted, but escaped so it stays on the
     * line. The timestamp in front keeps the line from ever being JSON. */
    if ((err = osw_buf_printf(b, "%s %s ", ts, level_text[level])) != OSW_OK)
        return err;
    if ((err = text_escaped(b, (struct osw_str){m.ptr, mlen})) != OSW_OK)
        return err;
    if (mlen < m.len && (err = osw_buf_append(b, "...", 3)) != OSW_OK)
        return err;
    if ((err = append_fields(b, &text_style, fields, n)) != OSW_OK)
        return err;
    return osw_buf_append(b, "\n", 1);
}

/* One write(2) for the whole line; an interrupted or short write is resumed
 * (a bounded number of times) so that the line is never lost half-way. A
 * descriptor that would block or is broken drops the line: logging must not
 * stall or kill a request. */
static void write_line(int fd, const char *p, size_t len)
{
    for (int tries = 0; len > 0 && tries < LOG_MAX_WRITE_TRIES; tries++) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        len -= (size_t)w;
    }
}

void osw_log_write(const struct osw_log *log, enum osw_log_level level, const char *msg,
                   const struct osw_log_field *fields, size_t n)
{
    struct osw_buf b = OSW_BUF_INIT;
    char ts[32];
    enum osw_err err;

    if (!osw_log_enabled(log, level))
        return;
    if (fields == NULL)
        n = 0;
    format_ts(ts);
    if (log->format == OSW_LOG_TEXT)
        err = build_text(&b, ts, level, msg, fields, n);
    else
        err = build_json(&b, ts, level, msg, fields, n);
    if (err == OSW_OK)
        write_line(log->fd, b.data, b.len);
    osw_buf_free(&b);
}

void osw_log_printf(const struct osw_log *log, enum osw_log_level level, const char *fmt, ...)
{
    char msg[LOG_MAX_PRINTF];
    va_list ap;
    int n;

    if (!osw_log_enabled(log, level))
        return;
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg[0] = '\0';
    } else if ((size_t)n >= sizeof(msg)) {
        /* Truncated: drop a character cut in half, mark the cut. */
        struct osw_str s = {msg, sizeof(msg) - 1};
        size_t len = utf8_cut(s, sizeof(msg) - 4);
        memcpy(msg + len, "...", 4);
    }
    osw_log_write(log, level, msg, NULL, 0);
}

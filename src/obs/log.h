/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structured logging: one line per event on a file descriptor (stderr), as
 * JSON ({"ts":..,"level":..,"msg":..,<fields>}) or as one human-readable text
 * line. Each line is written with a single write(2) so lines from different
 * threads never interleave. The logger is configured once at start-up and is
 * read-only afterwards; it is passed by pointer, never global.
 * Tokens, keys and request bodies must never be passed to it.
 */
#ifndef OSW_OBS_LOG_H
#define OSW_OBS_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/str.h"

enum osw_log_level { OSW_LOG_DEBUG = 0, OSW_LOG_INFO, OSW_LOG_WARN, OSW_LOG_ERROR };
enum osw_log_format { OSW_LOG_JSON = 0, OSW_LOG_TEXT };

struct osw_log {
    enum osw_log_level level;
    enum osw_log_format format;
    int fd;
};

enum osw_log_ftype { OSW_LF_STR, OSW_LF_INT, OSW_LF_DOUBLE };

struct osw_log_field {
    const char *key; /* static ASCII key */
    enum osw_log_ftype type;
    struct osw_str s; /* OSW_LF_STR; escaped on output */
    long long i;      /* OSW_LF_INT */
    double d;         /* OSW_LF_DOUBLE */
};

#define OSW_LOGF_STR(k, v)  ((struct osw_log_field){(k), OSW_LF_STR, (v), 0, 0.0})
#define OSW_LOGF_CSTR(k, v) ((struct osw_log_field){(k), OSW_LF_STR, osw_str_from_cstr(v), 0, 0.0})
#define OSW_LOGF_INT(k, v)                                                                         \
    ((struct osw_log_field){(k), OSW_LF_INT, OSW_STR_NULL, (long long)(v), 0.0})
#define OSW_LOGF_DBL(k, v)                                                                         \
    ((struct osw_log_field){(k), OSW_LF_DOUBLE, OSW_STR_NULL, 0, (double)(v)})

void osw_log_init(struct osw_log *log, enum osw_log_level level, enum osw_log_format format,
                  int fd);
bool osw_log_enabled(const struct osw_log *log, enum osw_log_level level);
/* Parses "debug"/"info"/"warn"/"error" and "json"/"text"; false when unknown. */
bool osw_log_level_parse(const char *s, enum osw_log_level *out);
bool osw_log_format_parse(const char *s, enum osw_log_format *out);

/* Writes one event with `n` fields (may be 0). `log` NULL: nothing. */
void osw_log_write(const struct osw_log *log, enum osw_log_level level, const char *msg,
                   const struct osw_log_field *fields, size_t n);
/* Writes one event whose message is formatted; no extra fields. */
void osw_log_printf(const struct osw_log *log, enum osw_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* OSW_OBS_LOG_H */

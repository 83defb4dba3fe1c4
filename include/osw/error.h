/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes shared by every module. The codes and their strings come from
 * one X-macro table so the two can never drift apart. Functions that can
 * fail return `enum osw_err`; a human-readable, one-line reason (when there
 * is more to say than the code) goes into a caller-provided `struct osw_errbuf`.
 */
#ifndef OSW_ERROR_H
#define OSW_ERROR_H

#include <stddef.h>

#define OSW_ERRNO_MAP(X)                                                                           \
    X(OK, "success")                                                                               \
    X(NOMEM, "out of memory")                                                                      \
    X(INVAL, "invalid argument")                                                                   \
    X(BADJSON, "body is not valid JSON")                                                           \
    X(BADREQ, "bad request")                                                                       \
    X(BADOBJ, "invalid object")                                                                    \
    X(TOOBIG, "too large")                                                                         \
    X(IO, "input/output error")                                                                    \
    X(NOTFOUND, "not found")                                                                       \
    X(EXISTS, "already exists")                                                                    \
    X(TLS, "TLS error")

enum osw_err {
#define OSW_ERR_ENUM(name, text) OSW_E##name,
    OSW_ERRNO_MAP(OSW_ERR_ENUM)
#undef OSW_ERR_ENUM
};

#define OSW_OK OSW_EOK

/* The static, never-NULL description of `err`. */
const char *osw_err_str(enum osw_err err);

/* A one-line reason filled by a failing function (always NUL-terminated). */
struct osw_errbuf {
    char msg[512];
};

/* printf-style fill of `eb` (may be NULL); returns `err` so callers can write
 * `return osw_errbuf_set(eb, OSW_EINVAL, "...")`. */
enum osw_err osw_errbuf_set(struct osw_errbuf *eb, enum osw_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* OSW_ERROR_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error strings, generated from the same X-macro table as the enum, and the
 * one-line reason buffer that failing functions fill for their callers.
 */
#include <stdarg.h>
#include <stdio.h>

#include "osw/error.h"

const char *osw_err_str(enum osw_err err)
{
    switch (err) {
#define OSW_ERR_CASE(name, text)                                                                   \
    case OSW_E##name:                                                                              \
        return text;
        OSW_ERRNO_MAP(OSW_ERR_CASE)
#undef OSW_ERR_CASE
    }
    return "unknown error";
}

enum osw_err osw_errbuf_set(struct osw_errbuf *eb, enum osw_err err, const char *fmt, ...)
{
    if (!eb)
        return err;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        eb->msg[0] = '\0';
    /* A reason is one line: fold any newline a caller's text carried in. */
    for (char *p = eb->msg; *p; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    return err;
}

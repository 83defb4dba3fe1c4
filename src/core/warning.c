/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parity warnings of CONTRACT.md, each with its exact text. Names longer
 * than 24 bytes are shown as their first 21 bytes and "...", anything but
 * printable ASCII becomes '?', so every warning stays under 120 bytes and
 * valid for the API server; a warning already given is dropped and at most
 * eight are kept. The caller adds them in the contract's order.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

#define NAME_MAX_SHOWN 24
#define NAME_CLIPPED   21

static enum osw_err name(struct osw_buf *b, struct osw_str s)
{
    size_t n = s.len <= NAME_MAX_SHOWN ? s.len : NAME_CLIPPED;
    enum osw_err err = OSW_OK;
    for (size_t i = 0; i < n && err == OSW_OK; i++) {
        char c = s.ptr[i];
        char out = (c >= 0x20 && c < 0x7f) ? c : '?';
        err = osw_buf_append(b, &out, 1);
    }
    if (err == OSW_OK && n < s.len)
        err = osw_buf_append(b, "...", 3);
    return err;
}

/* Takes the text out of `b` into the decision unless it is a duplicate or
 * the decision is full; `kept` (may be NULL) says whether it was added. */
static enum osw_err push(struct osw_decision *d, struct osw_buf *b, enum osw_err err, bool *kept)
{
    if (kept)
        *kept = false;
    if (err != OSW_OK) {
        osw_buf_free(b);
        return err;
    }
    for (size_t i = 0; i < d->nwarnings; i++) {
        if (strcmp(d->warnings[i], b->data) == 0) {
            osw_buf_free(b);
            return OSW_OK;
        }
    }
    if (d->nwarnings >= OSW_DECISION_MAX_WARNINGS) {
        osw_buf_free(b);
        return OSW_OK;
    }
    d->warnings[d->nwarnings++] = osw_buf_steal(b, NULL);
    if (kept)
        *kept = true;
    return OSW_OK;
}

/* Builds one warning from `fmt` and pushes it: "%N" takes a struct osw_str
 * shown as a clipped name, "%Z" a size_t in decimal; other text is copied. */
static enum osw_err warn(struct osw_decision *d, bool *kept, const char *fmt, ...)
{
    struct osw_buf b = OSW_BUF_INIT;
    enum osw_err err;
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt;; p += 2) {
        const char *pct = strchr(p, '%');
        /* Appended even when empty, so `b` holds a string for push(). */
        err = osw_buf_append(&b, p, pct ? (size_t)(pct - p) : strlen(p));
        if (err != OSW_OK || !pct || pct[1] == '\0')
            break;
        p = pct;
        if (p[1] == 'N')
            err = name(&b, va_arg(ap, struct osw_str));
        else if (p[1] == 'Z')
            err = osw_buf_printf(&b, "%zu", va_arg(ap, size_t));
        if (err != OSW_OK)
            break;
    }
    va_end(ap);
    return push(d, &b, err, kept);
}

enum osw_err osw_warn_inherited_gone(struct osw_decision *d, struct osw_str stream)
{
    return warn(d, NULL,
                "inherited stream %N (from pool worker) is not available; the MCO cannot render "
                "this pool",
                stream);
}

enum osw_err osw_warn_conflict(struct osw_decision *d, struct osw_str mc, struct osw_str pool)
{
    bool kept;
    enum osw_err err =
        warn(d, &kept, "MachineConfig %N overrides osImageURL of pool %N, which names a stream", mc,
             pool);
    if (kept)
        d->rules |= OSW_RULE_CONFLICT_WARNED;
    return err;
}

enum osw_err osw_warn_runc(struct osw_decision *d, struct osw_str pool)
{
    bool kept;
    enum osw_err err = warn(
        d, &kept,
        "pool %N targets RHEL 10 with runc as default runtime; the MCO will not render it", pool);
    if (kept)
        d->rules |= OSW_RULE_RUNC_WARNED;
    return err;
}

enum osw_err osw_warn_url_equal(struct osw_decision *d, struct osw_str mc, struct osw_str pool)
{
    return warn(d, NULL, "MachineConfig %N pins osImageURL to the stream image of pool %N", mc,
                pool);
}

enum osw_err osw_warn_tag(struct osw_decision *d, struct osw_str mc)
{
    return warn(d, NULL, "MachineConfig %N sets osImageURL by tag; pin it by digest (@sha256:)",
                mc);
}

enum osw_err osw_warn_downgrade(struct osw_decision *d, struct osw_str from, struct osw_str to)
{
    return warn(d, NULL, "stream %N -> %N is a downgrade; only forward migration is supported",
                from, to);
}

enum osw_err osw_warn_paused(struct osw_decision *d, struct osw_str pool)
{
    return warn(d, NULL, "pool %N is paused; its nodes change stream only after it is unpaused",
                pool);
}

enum osw_err osw_warn_inherit(struct osw_decision *d, size_t n)
{
    return warn(d, NULL,
                "%Z custom pool(s) without spec.osImageStream follow the worker pool and will "
                "also change stream",
                n);
}

enum osw_err osw_warn_default(struct osw_decision *d, struct osw_str from, struct osw_str to,
                              size_t n)
{
    return warn(d, NULL, "default stream %N -> %N moves %Z pool(s) that do not name a stream", from,
                to, n);
}

enum osw_err osw_warn_skip(struct osw_decision *d)
{
    return warn(d, NULL, "cluster state cache not synced; osImageURL and runc checks were skipped");
}

void osw_warn_clear(struct osw_decision *d)
{
    for (size_t i = 0; i < d->nwarnings; i++)
        free(d->warnings[i]);
    d->nwarnings = 0;
    d->rules &= ~(unsigned)(OSW_RULE_CONFLICT_WARNED | OSW_RULE_RUNC_WARNED);
}

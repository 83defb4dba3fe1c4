/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sentences administrators read. They follow Kubernetes' own wording
 * (apierrors.NewInvalid and field.Error) so that `kubectl` output looks like
 * any other validation failure, and warnings are kept short, printable and
 * valid UTF-8 because the API server drops any warning that is not.
 */
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"
#include "core/rune.h"

#define DNS1123_SUBDOMAIN_MSG                                                                      \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define WARNING_MAX 119 /* bytes; the contract says "under 120 characters" */

/* One escape as strconv.Quote writes it for a rune that is not printable:
 * the C escapes Go knows, \xHH below U+0080 (and for DEL), else \uHHHH or
 * \UHHHHHHHH. */
static enum osw_err quote_escape(struct osw_buf *b, uint32_t r)
{
    static const char hex[] = "0123456789abcdef";
    static const char named[] = {'a', 'b', 't', 'n', 'v', 'f', 'r'}; /* 0x07..0x0d */
    char esc[10] = {'\\'};
    size_t n = 0, digits;

    if (r >= 0x07 && r <= 0x0d) {
        esc[1] = named[r - 0x07];
        return osw_buf_append(b, esc, 2);
    }
    if (r < 0x20 || r == 0x7f) {
        esc[1] = 'x';
        digits = 2;
    } else if (r < 0x10000) {
        esc[1] = 'u';
        digits = 4;
    } else {
        esc[1] = 'U';
        digits = 8;
    }
    for (n = 0; n < digits; n++)
        esc[2 + n] = hex[(r >> (4 * (digits - 1 - n))) & 0xf];
    return osw_buf_append(b, esc, 2 + digits);
}

enum osw_err osw_message_quote(struct osw_buf *b, struct osw_str s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s.ptr;
    enum osw_err err = osw_buf_append(b, "\"", 1);
    size_t i = 0;

    while (i < s.len && err == OSW_OK) {
        uint32_t r;
        size_t w = osw_rune_decode(p + i, s.len - i, &r);
        if (w == 1 && r == OSW_RUNE_ERROR) {
            /* Invalid UTF-8: the byte itself, as \xHH. */
            char esc[4] = {'\\', 'x', hex[p[i] >> 4], hex[p[i] & 0xf]};
            err = osw_buf_append(b, esc, 4);
        } else if (r == '"' || r == '\\') {
            char esc[2] = {'\\', (char)r};
            err = osw_buf_append(b, esc, 2);
        } else if (osw_rune_printable(r)) {
            err = osw_buf_append(b, p + i, w);
        } else {
            err = quote_escape(b, r);
        }
        i += w;
    }
    if (err == OSW_OK)
        err = osw_buf_append(b, "\"", 1);
    return err;
}

static char *finish(struct osw_buf *b, enum osw_err err)
{
    if (err != OSW_OK) {
        osw_buf_free(b);
        return NULL;
    }
    return osw_buf_steal(b, NULL);
}

char *osw_message_required(void)
{
    struct osw_buf b = OSW_BUF_INIT;
    return finish(&b, osw_buf_append_cstr(&b, "Required value"));
}

char *osw_message_wrong_type(enum osw_jtype got, const char *field, const char *want)
{
    /* The API server's own schema error for a type mismatch reads
     * `Invalid value: "integer": spec.x in body must be of type string: "integer"`. */
    struct osw_buf b = OSW_BUF_INIT;
    const char *t = osw_jtype_name(got);
    return finish(&b,
                  osw_buf_printf(&b, "Invalid value: \"%s\": %s in body must be of type %s: \"%s\"",
                                 t, field, want, t));
}

char *osw_message_bad_name(struct osw_str name)
{
    struct osw_buf b = OSW_BUF_INIT;
    enum osw_err err = osw_buf_append_cstr(&b, "Invalid value: ");
    if (err == OSW_OK)
        err = osw_message_quote(&b, name);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, ": ");
    if (err == OSW_OK && name.len > 253) {
        err = osw_buf_append_cstr(&b, "must be no more than 253 characters");
        /* Kubernetes lists every failed rule, joined by "; ". */
        struct osw_str head = {name.ptr, 253};
        if (err == OSW_OK && !osw_str_is_dns1123_subdomain(head))
            err = osw_buf_append_cstr(&b, "; " DNS1123_SUBDOMAIN_MSG);
    } else if (err == OSW_OK) {
        err = osw_buf_append_cstr(&b, DNS1123_SUBDOMAIN_MSG);
    }
    return finish(&b, err);
}

char *osw_message_unsupported(struct osw_str name, const struct osw_osis *snap)
{
    struct osw_buf b = OSW_BUF_INIT;
    enum osw_err err = osw_buf_append_cstr(&b, "Unsupported value: ");
    if (err == OSW_OK)
        err = osw_message_quote(&b, name);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, ": supported values: ");
    size_t n = osw_osis_count(snap);
    for (size_t i = 0; i < n && err == OSW_OK; i++) {
        if (i > 0)
            err = osw_buf_append_cstr(&b, ", ");
        if (err == OSW_OK)
            err = osw_message_quote(&b, osw_osis_at(snap, i)->name);
    }
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, ". " OSW_SENTENCE_UNSUPPORTED);
    return finish(&b, err);
}

/* `MachineConfigPool.machineconfiguration.openshift.io "<pool>" is invalid: <field>: <cause>` */
enum osw_err osw_message_invalid(struct osw_decision *d, struct osw_str pool, const char *reason,
                                 const char *field, char *cause_msg)
{
    if (!cause_msg)
        return OSW_ENOMEM;
    d->verdict = OSW_VERDICT_DENIED;
    d->code = 422;
    d->reason = "Invalid";
    d->has_details = true;
    d->details_name = pool;
    d->details_kind = OSW_MCP_KIND;
    enum osw_err cerr = osw_decision_add_cause(d, reason, field, cause_msg);
    if (cerr != OSW_OK)
        return cerr;
    struct osw_buf b = OSW_BUF_INIT;
    enum osw_err err = osw_buf_append_cstr(&b, OSW_MCP_KIND "." OSW_MCP_GROUP " ");
    if (err == OSW_OK)
        err = osw_message_quote(&b, pool);
    if (err == OSW_OK)
        err = osw_buf_printf(&b, " is invalid: %s: %s", field, cause_msg);
    d->message = finish(&b, err);
    return d->message ? OSW_OK : OSW_ENOMEM;
}

enum osw_err osw_message_unavailable(struct osw_decision *d, struct osw_str pool,
                                     struct osw_str stream, struct osw_str osis_name)
{
    d->verdict = OSW_VERDICT_DENIED;
    d->code = 503;
    d->reason = "ServiceUnavailable";
    struct osw_buf b = OSW_BUF_INIT;
    enum osw_err err = osw_buf_append_cstr(&b, "OSImageStream ");
    if (err == OSW_OK)
        err = osw_message_quote(&b, osis_name);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, " is not available yet, so " OSW_FIELD_NAME " ");
    if (err == OSW_OK)
        err = osw_message_quote(&b, stream);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, " of " OSW_MCP_KIND " ");
    if (err == OSW_OK)
        err = osw_message_quote(&b, pool);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, " cannot be checked; try again shortly");
    d->message = finish(&b, err);
    return d->message ? OSW_OK : OSW_ENOMEM;
}

/* Appends at most `max` bytes of `s`, replacing anything but printable ASCII
 * with '?' and marking a cut with "...": warnings must stay short and clean. */
static enum osw_err append_clipped(struct osw_buf *b, struct osw_str s, size_t max)
{
    size_t n = s.len <= max ? s.len : max - 3;
    enum osw_err err = OSW_OK;
    for (size_t i = 0; i < n && err == OSW_OK; i++) {
        char c = s.ptr[i];
        char out = (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
        err = osw_buf_append(b, &out, 1);
    }
    if (err == OSW_OK && n < s.len)
        err = osw_buf_append(b, "...", 3);
    return err;
}

enum osw_err osw_message_kept_warning(struct osw_decision *d, struct osw_str stream,
                                      struct osw_str osis_name, bool have_snapshot)
{
    if (d->nwarnings >= OSW_DECISION_MAX_WARNINGS)
        return OSW_OK;
    /* Fixed text is at most 72 bytes; 20 bytes per name keeps the whole
     * warning at most 112 bytes, under WARNING_MAX whatever the names are. */
    struct osw_buf b = OSW_BUF_INIT;
    enum osw_err err = osw_buf_append_cstr(&b, "osImageStream \"");
    if (err == OSW_OK)
        err = append_clipped(&b, stream, 20);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, have_snapshot ? "\" is gone from OSImageStream \""
                                                    : "\" could not be checked: OSImageStream \"");
    if (err == OSW_OK)
        err = append_clipped(&b, osis_name, 20);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, have_snapshot ? "\"; kept because unchanged"
                                                    : "\" not available yet");
    char *w = finish(&b, err);
    if (!w)
        return OSW_ENOMEM;
    if (strlen(w) > WARNING_MAX)
        w[WARNING_MAX] = '\0'; /* cannot happen with the sizes above; belt and braces */
    d->warnings[d->nwarnings++] = w;
    return OSW_OK;
}

enum osw_err osw_message_invalid_causes(struct osw_decision *d, const char *kind,
                                        struct osw_str name)
{
    d->verdict = OSW_VERDICT_DENIED;
    d->code = 422;
    d->reason = "Invalid";
    d->has_details = true;
    d->details_name = name;
    d->details_kind = kind;
    struct osw_buf b = OSW_BUF_INIT;
    enum osw_err err = osw_buf_printf(&b, "%s." OSW_MCP_GROUP " ", kind);
    if (err == OSW_OK)
        err = osw_message_quote(&b, name);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, d->ncauses > 1 ? " is invalid: [" : " is invalid: ");
    for (size_t i = 0; i < d->ncauses && err == OSW_OK; i++)
        err = osw_buf_printf(&b, "%s%s: %s", i > 0 ? ", " : "", d->causes[i].field,
                             d->causes[i].message);
    if (err == OSW_OK && d->ncauses > 1)
        err = osw_buf_append_cstr(&b, "]");
    d->message = finish(&b, err);
    return d->message ? OSW_OK : OSW_ENOMEM;
}

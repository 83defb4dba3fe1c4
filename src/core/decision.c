/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admission decision for MachineConfigPool CREATE and UPDATE, row by row
 * as CONTRACT.md's validation table and mutation section say. The first part
 * checks that every field the decision reads has a usable JSON type (else
 * the request is answered 400); the second classifies the named stream into
 * one of the table's rows; the last turns that row into a validating or a
 * mutating answer. Pure: no I/O, no clock, no globals.
 */
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

const char *osw_endpoint_name(enum osw_endpoint ep)
{
    return ep == OSW_EP_MUTATE ? "mutate" : "validate";
}

const char *osw_verdict_name(enum osw_verdict v)
{
    switch (v) {
    case OSW_VERDICT_ALLOWED:
        return "allowed";
    case OSW_VERDICT_DENIED:
        return "denied";
    case OSW_VERDICT_PATCHED:
        return "patched";
    case OSW_VERDICT_ERROR:
        return "error";
    }
    return "error";
}

void osw_decision_init(struct osw_decision *d)
{
    memset(d, 0, sizeof(*d));
    osw_buf_init(&d->patch);
}

struct osw_policy osw_policy_default(void)
{
    struct osw_policy p = {OSW_STR_LIT("cluster"), false, true,
                           OSW_STR_LIT("openshift-machine-config-operator")};
    return p;
}

enum osw_err osw_decision_add_cause(struct osw_decision *d, const char *reason, const char *field,
                                    char *message)
{
    if (!message)
        return OSW_ENOMEM;
    struct osw_cause *grown = realloc(d->causes, (d->ncauses + 1) * sizeof(*grown));
    if (!grown) {
        free(message);
        return OSW_ENOMEM;
    }
    d->causes = grown;
    d->causes[d->ncauses++] = (struct osw_cause){reason, field, message};
    return OSW_OK;
}

void osw_decision_free(struct osw_decision *d)
{
    if (!d)
        return;
    free(d->message);
    for (size_t i = 0; i < d->ncauses; i++)
        free(d->causes[i].message);
    free(d->causes);
    for (size_t i = 0; i < d->nwarnings; i++)
        free(d->warnings[i]);
    osw_buf_free(&d->patch);
    osw_decision_init(d);
}

/* A field that may be absent or null but otherwise must have type `want`. */
static bool optional_is(enum osw_jtype t, enum osw_jtype want)
{
    return t == OSW_JT_ABSENT || t == OSW_JT_NULL || t == want;
}

static enum osw_err check_request_types(const struct osw_review *r, struct osw_errbuf *eb)
{
    static const struct {
        size_t off;
        const char *path;
    } strings[] = {
        {offsetof(struct osw_review, operation), "request.operation"},
        {offsetof(struct osw_review, sub_resource), "request.subResource"},
        {offsetof(struct osw_review, resource_group), "request.resource.group"},
        {offsetof(struct osw_review, resource_resource), "request.resource.resource"},
    };
    if (!optional_is(r->resource_type, OSW_JT_OBJECT))
        return osw_errbuf_set(eb, OSW_EBADREQ, "request.resource must be an object, not %s",
                              osw_jtype_name(r->resource_type));
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        const struct osw_jfield *f =
            (const struct osw_jfield *)(const void *)((const char *)r + strings[i].off);
        if (!optional_is(f->type, OSW_JT_STRING))
            return osw_errbuf_set(eb, OSW_EBADREQ, "%s must be a string, not %s", strings[i].path,
                                  osw_jtype_name(f->type));
    }
    return OSW_OK;
}

/* The requests the webhook judges (group machineconfiguration.openshift.io,
 * any version, no subresource); everything else is allowed unchanged. */
enum kind { KIND_OTHER = 0, KIND_POOL, KIND_MC, KIND_OSIS_UPDATE, KIND_OSIS_DELETE };

static enum kind kind_of(const struct osw_review *r)
{
    if (!osw_str_eq_cstr(r->resource_group.str, OSW_MCP_GROUP))
        return KIND_OTHER;
    if (r->sub_resource.type == OSW_JT_STRING && r->sub_resource.str.len > 0)
        return KIND_OTHER;
    struct osw_str res = r->resource_resource.str, op = r->operation.str;
    bool write = osw_str_eq_cstr(op, "CREATE") || osw_str_eq_cstr(op, "UPDATE");
    if (osw_str_eq_cstr(res, OSW_MCP_RESOURCE))
        return write ? KIND_POOL : KIND_OTHER;
    if (osw_str_eq_cstr(res, OSW_MC_RESOURCE))
        return write ? KIND_MC : KIND_OTHER;
    if (osw_str_eq_cstr(res, OSW_OSIS_RESOURCE)) {
        if (osw_str_eq_cstr(op, "UPDATE"))
            return KIND_OSIS_UPDATE;
        if (osw_str_eq_cstr(op, "DELETE"))
            return KIND_OSIS_DELETE;
    }
    return KIND_OTHER;
}

/* Types of the fields read from request.object (`path`) or, for an UPDATE,
 * request.oldObject. `required`: the object itself must be present. */
static enum osw_err check_object_types(const struct osw_object_view *o, const char *path,
                                       bool required, struct osw_errbuf *eb)
{
    if (!required && (o->type == OSW_JT_ABSENT || o->type == OSW_JT_NULL))
        return OSW_OK;
    if (o->type != OSW_JT_OBJECT)
        return osw_errbuf_set(eb, OSW_EBADREQ, "%s must be an object, not %s", path,
                              osw_jtype_name(o->type));
    if (!optional_is(o->metadata_type, OSW_JT_OBJECT))
        return osw_errbuf_set(eb, OSW_EBADREQ, "%s.metadata must be an object, not %s", path,
                              osw_jtype_name(o->metadata_type));
    if (!optional_is(o->name.type, OSW_JT_STRING))
        return osw_errbuf_set(eb, OSW_EBADREQ, "%s.metadata.name must be a string, not %s", path,
                              osw_jtype_name(o->name.type));
    if (!optional_is(o->annotations_type, OSW_JT_OBJECT) || !o->annotations_string_map)
        return osw_errbuf_set(eb, OSW_EBADREQ, "%s.metadata.annotations must be a map of strings",
                              path);
    if (!optional_is(o->spec_type, OSW_JT_OBJECT))
        return osw_errbuf_set(eb, OSW_EBADREQ, "%s.spec must be an object, not %s", path,
                              osw_jtype_name(o->spec_type));
    if (!optional_is(o->selector_type, OSW_JT_OBJECT))
        return osw_errbuf_set(eb, OSW_EBADREQ,
                              "%s.spec.machineConfigSelector must be an object, not %s", path,
                              osw_jtype_name(o->selector_type));
    if (!optional_is(o->paused_type, OSW_JT_BOOL))
        return osw_errbuf_set(eb, OSW_EBADREQ, "%s.spec.paused must be a boolean, not %s", path,
                              osw_jtype_name(o->paused_type));
    return OSW_OK;
}

/* The rows of the validation table, in the order they are tried. */
enum row {
    ROW_NO_STREAM = 1,  /* absent or null: allowed */
    ROW_REQUIRED = 2,   /* {} or name null/"" */
    ROW_INVALID = 3,    /* not an object, name not a string or not DNS-1123 */
    ROW_FOUND = 4,      /* in the cache */
    ROW_KEPT = 5,       /* UPDATE keeping the same, now unverifiable, stream */
    ROW_NO_CACHE = 6,   /* nothing cached */
    ROW_UNSUPPORTED = 7 /* not in the cache */
};

static bool old_names_same(const struct osw_review *r, struct osw_str name)
{
    const struct osw_object_view *old = &r->old_object;
    if (!osw_str_eq_cstr(r->operation.str, "UPDATE") || old->type != OSW_JT_OBJECT)
        return false;
    return old->stream_type == OSW_JT_OBJECT && old->stream_name.type == OSW_JT_STRING &&
           osw_str_eq(old->stream_name.str, name);
}

static enum row classify(const struct osw_review *r, const struct osw_osis *snap,
                         const struct osw_stream **found)
{
    const struct osw_object_view *o = &r->object;
    *found = NULL;
    if (o->stream_type == OSW_JT_ABSENT || o->stream_type == OSW_JT_NULL)
        return ROW_NO_STREAM;
    if (o->stream_type != OSW_JT_OBJECT)
        return ROW_INVALID;
    const struct osw_jfield *n = &o->stream_name;
    if (n->type == OSW_JT_ABSENT || n->type == OSW_JT_NULL ||
        (n->type == OSW_JT_STRING && n->str.len == 0))
        return ROW_REQUIRED;
    if (n->type != OSW_JT_STRING || !osw_str_is_dns1123_subdomain(n->str))
        return ROW_INVALID;
    if (snap && (*found = osw_osis_find(snap, n->str)) != NULL)
        return ROW_FOUND;
    if (old_names_same(r, n->str))
        return ROW_KEPT;
    return snap ? ROW_UNSUPPORTED : ROW_NO_CACHE;
}

static struct osw_str pool_name(const struct osw_review *r)
{
    if (r->object.name.type == OSW_JT_STRING)
        return r->object.name.str;
    if (r->name.type == OSW_JT_STRING)
        return r->name.str;
    return OSW_STR_NULL;
}

static enum osw_err deny_invalid(const struct osw_review *r, struct osw_decision *d)
{
    const struct osw_object_view *o = &r->object;
    struct osw_str pool = pool_name(r);
    if (o->stream_type != OSW_JT_OBJECT)
        return osw_message_invalid(
            d, pool, "FieldValueInvalid", OSW_FIELD_STREAM,
            osw_message_wrong_type(o->stream_type, OSW_FIELD_STREAM, "object"));
    if (o->stream_name.type != OSW_JT_STRING)
        return osw_message_invalid(
            d, pool, "FieldValueInvalid", OSW_FIELD_NAME,
            osw_message_wrong_type(o->stream_name.type, OSW_FIELD_NAME, "string"));
    return osw_message_invalid(d, pool, "FieldValueInvalid", OSW_FIELD_NAME,
                               osw_message_bad_name(o->stream_name.str));
}

static enum osw_err validate(const struct osw_review *r, const struct osw_osis *snap, enum row row,
                             struct osw_str osis_name, struct osw_decision *d)
{
    struct osw_str pool = pool_name(r);
    struct osw_str name = r->object.stream_name.str;
    d->verdict = OSW_VERDICT_ALLOWED;
    switch (row) {
    case ROW_NO_STREAM:
    case ROW_FOUND:
        return OSW_OK;
    case ROW_KEPT:
        return osw_message_kept_warning(d, name, osis_name, snap != NULL);
    case ROW_REQUIRED:
        return osw_message_invalid(d, pool, "FieldValueRequired", OSW_FIELD_NAME,
                                   osw_message_required());
    case ROW_INVALID:
        return deny_invalid(r, d);
    case ROW_NO_CACHE:
        return osw_message_unavailable(d, pool, name, osis_name);
    case ROW_UNSUPPORTED:
        return osw_message_invalid(d, pool, "FieldValueNotSupported", OSW_FIELD_NAME,
                                   osw_message_unsupported(name, snap));
    }
    return OSW_EINVAL;
}

static enum osw_err mutate(const struct osw_review *r, const struct osw_inputs *in, enum row row,
                           const struct osw_stream *found, struct osw_decision *d)
{
    enum osw_err err = OSW_OK;
    d->verdict = OSW_VERDICT_ALLOWED;
    /* Only a resolvable stream, or no stream at all, changes the object;
     * every other case is left for validation to decide. stream-source is
     * written only with --annotate-implicit-streams, else removed. */
    struct osw_annot_want want;
    bool implicit = in->policy->annotate_implicit_streams;
    bool patch = row == ROW_FOUND || row == ROW_NO_STREAM;
    osw_annot_want_stream(&want, row == ROW_FOUND ? found : NULL);
    if (row == ROW_FOUND && implicit) {
        want.set[OSW_ANNOT_STREAM_SOURCE] = true;
        want.value[OSW_ANNOT_STREAM_SOURCE] = OSW_STR_LIT("spec");
    } else if (row == ROW_NO_STREAM && implicit) {
        patch = osw_parity_pool_implicit(r, in, &want);
    }
    if (patch)
        err = osw_patch_build(&r->object, &want, &d->patch);
    if (err == OSW_OK && d->patch.len > 0)
        d->verdict = OSW_VERDICT_PATCHED;
    return err;
}

/* The deletion guard: every mode, no cache, any version and name. */
static enum osw_err guard_delete(const struct osw_review *r, const struct osw_inputs *in,
                                 struct osw_decision *d)
{
    if (!in->policy->deny_osimagestream_delete)
        return OSW_OK;
    d->verdict = OSW_VERDICT_DENIED;
    d->code = 422;
    d->reason = "Invalid";
    d->has_details = true;
    d->details_name = pool_name(r);
    d->details_kind = OSW_OSIS_KIND;
    d->rules |= OSW_RULE_DELETE_GUARD_DENIED;
    d->message = strdup("Deletion of OSImageStream resources is not allowed");
    return d->message ? OSW_OK : OSW_ENOMEM;
}

static enum osw_err decide_pool(const struct osw_review *r, const struct osw_inputs *in,
                                enum osw_endpoint ep, struct osw_decision *out,
                                struct osw_errbuf *eb)
{
    enum osw_err err = check_object_types(&r->object, "request.object", true, eb);
    /* An UPDATE's old object is read too (row 5): held to the same types. */
    if (err == OSW_OK && osw_str_eq_cstr(r->operation.str, "UPDATE"))
        err = check_object_types(&r->old_object, "request.oldObject", false, eb);
    if (err != OSW_OK)
        return err;
    if (r->object.stream_name.type == OSW_JT_STRING)
        out->stream = r->object.stream_name.str;
    const struct osw_stream *found = NULL;
    enum row row = classify(r, in->osis, &found);
    if (ep == OSW_EP_MUTATE)
        return mutate(r, in, row, found, out);
    err = validate(r, in->osis, row, in->policy->osimagestream_name, out);
    if (err == OSW_OK && out->verdict == OSW_VERDICT_ALLOWED)
        err = osw_parity_pool_validate(r, in, out);
    return err;
}

enum osw_err osw_decide(const struct osw_review *r, const struct osw_inputs *in,
                        enum osw_endpoint ep, struct osw_decision *out, struct osw_errbuf *eb)
{
    /* Set first: a 400 for a field of the wrong type still names them. */
    if (r->operation.type == OSW_JT_STRING)
        out->operation = r->operation.str;
    out->name = pool_name(r);
    enum osw_err err = check_request_types(r, eb);
    if (err != OSW_OK)
        return err;
    out->verdict = OSW_VERDICT_ALLOWED;
    enum kind kind = kind_of(r);
    /* Only pools are mutated; MachineConfigs and the OSImageStream are
     * judged by /validate alone. */
    if (kind == KIND_OTHER || (kind != KIND_POOL && ep == OSW_EP_MUTATE))
        return OSW_OK; /* every other request is allowed unchanged */
    out->handled = true;
    if (kind == KIND_POOL)
        err = decide_pool(r, in, ep, out, eb);
    else if (kind == KIND_MC)
        err = osw_parity_mc_validate(r, in, out, eb);
    else if (kind == KIND_OSIS_UPDATE)
        err = osw_parity_osis_validate(r, in, out, eb);
    else
        err = guard_delete(r, in, out);
    if (err != OSW_OK) {
        /* Nothing half-built survives; operation and name stay for logs. */
        struct osw_str op = out->operation, name = out->name;
        osw_decision_free(out);
        out->operation = op;
        out->name = name;
        if (err != OSW_EBADREQ)
            osw_errbuf_set(eb, err, "%s", osw_err_str(err));
    }
    return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parity with the Machine Config Operator (CONTRACT.md): what needs more than
 * the object under review. E(P), the stream a pool really gets; rule C, a
 * pool naming a stream while a MachineConfig it selects overrides osImageURL,
 * for pool requests and mirrored for MachineConfig requests, denied only when
 * a request newly brings a pool into conflict; rule R (runc.c) after it; and
 * the warnings, added in the contract's order. Pure: reads the review, the
 * snapshots and the policy.
 */
#include <stdlib.h>
#include <string.h>

#include "osw/cluster.h"
#include "osw/jalloc.h"

#include "core_internal.h"

#define CONFLICT_TEXT_1 ": cannot override MachineConfig osImageURL and set MachineConfigPool "
#define CONFLICT_TEXT_2 "spec.osImageStream.name simultaneously (MachineConfig "

static bool synced(const struct osw_inputs *in)
{
    return in->cluster_mode == OSW_CLUSTER_SYNCED && in->cluster != NULL;
}

/* The stream an object view names: a well-formed name, else none (empty). */
static struct osw_str view_stream(const struct osw_object_view *o)
{
    if (o->type != OSW_JT_OBJECT || o->stream_type != OSW_JT_OBJECT ||
        o->stream_name.type != OSW_JT_STRING || !osw_str_is_dns1123_subdomain(o->stream_name.str))
        return OSW_STR_NULL;
    return o->stream_name.str;
}

static struct osw_str view_name(const struct osw_review *r, const struct osw_object_view *o)
{
    if (o->name.type == OSW_JT_STRING)
        return o->name.str;
    return r->name.type == OSW_JT_STRING ? r->name.str : OSW_STR_NULL;
}

static bool is_update(const struct osw_review *r)
{
    return osw_str_eq_cstr(r->operation.str, "UPDATE");
}

enum source { SRC_SPEC, SRC_WORKER, SRC_DEFAULT };

/* E(P) of a pool called `pool` naming `stream` (empty: none); false when it
 * cannot be resolved (a custom pool without the synced cluster state, or no
 * OSImageStream for the default). */
static bool effective(const struct osw_inputs *in, struct osw_str pool, struct osw_str stream,
                      struct osw_str *out, enum source *src)
{
    enum source dummy = SRC_SPEC;
    src = src ? src : &dummy;
    if (stream.len > 0) {
        *out = stream;
        *src = SRC_SPEC;
        return true;
    }
    if (osw_pool_name_is_custom(pool)) {
        if (!synced(in))
            return false;
        const struct osw_pool *w = osw_cluster_pool_find(in->cluster, OSW_STR_LIT("worker"));
        if (w && w->stream.len > 0) {
            *out = w->stream;
            *src = SRC_WORKER;
            return true;
        }
    }
    if (!in->osis)
        return false;
    *out = osw_osis_default(in->osis);
    *src = SRC_DEFAULT;
    return out->len > 0;
}

/* `rhel-N` or `centos-N`: the major as a digit string without leading zeros. */
static bool major_of(struct osw_str s, struct osw_str *major)
{
    size_t p = 0;
    if (s.len > 5 && memcmp(s.ptr, "rhel-", 5) == 0)
        p = 5;
    else if (s.len > 7 && memcmp(s.ptr, "centos-", 7) == 0)
        p = 7;
    else
        return false;
    for (size_t i = p; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    }
    while (p + 1 < s.len && s.ptr[p] == '0')
        p++;
    *major = (struct osw_str){s.ptr + p, s.len - p};
    return true;
}

static bool is_downgrade(struct osw_str from, struct osw_str to)
{
    struct osw_str a, b;
    if (!major_of(from, &a) || !major_of(to, &b))
        return false;
    if (a.len != b.len)
        return b.len < a.len;
    return memcmp(b.ptr, a.ptr, a.len) < 0;
}

static bool exempt(const struct osw_review *r, const struct osw_policy *p)
{
    static const char prefix[] = "system:serviceaccount:";
    const size_t plen = sizeof(prefix) - 1;
    struct osw_str u = r->username.str, ns = p->exempt_namespace;
    if (ns.len == 0 || r->username.type != OSW_JT_STRING || u.len < plen + ns.len + 1)
        return false;
    return memcmp(u.ptr, prefix, plen) == 0 && memcmp(u.ptr + plen, ns.ptr, ns.len) == 0 &&
           u.ptr[plen + ns.len] == ':';
}

/* The cause text for pool `pool` and the MachineConfig `mc` winning its merge. */
static char *conflict_text(struct osw_str pool, struct osw_str mc)
{
    struct osw_buf b = OSW_BUF_INIT;
    enum osw_err err = osw_buf_append_cstr(&b, "Forbidden: MachineConfigPool ");
    if (err == OSW_OK)
        err = osw_buf_append_str(&b, pool);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, CONFLICT_TEXT_1 CONFLICT_TEXT_2);
    if (err == OSW_OK)
        err = osw_buf_append_str(&b, mc);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, " sets osImageURL)");
    if (err != OSW_OK) {
        osw_buf_free(&b);
        return NULL;
    }
    return osw_buf_steal(&b, NULL);
}

/* conflict(P): P names the available stream `stream`, and the MachineConfig
 * winning its merge (`winner`) sets another image. */
static bool in_conflict(const struct osw_inputs *in, struct osw_str stream,
                        const struct osw_mc *winner)
{
    const struct osw_stream *st = stream.len && in->osis ? osw_osis_find(in->osis, stream) : NULL;
    return st && winner && !osw_str_eq(winner->url, st->os_image);
}

/* The selector of an object view, parsed (NULL: selects nothing). */
static enum osw_err view_selector(const struct osw_object_view *o, struct osw_selector **out)
{
    *out = NULL;
    if (o->type != OSW_JT_OBJECT || o->selector_type != OSW_JT_OBJECT || !o->selector_json.len)
        return OSW_OK;
    osw_jalloc_begin();
    json_t *j = json_loadb(o->selector_json.ptr, o->selector_json.len,
                           JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
    enum osw_err err = (!j || osw_jalloc_failed()) ? OSW_ENOMEM : osw_selector_parse(j, out);
    json_decref(j);
    return err;
}

/* What rule C sees of the pool under review, before or after. */
struct pool_side {
    struct osw_str stream;
    struct osw_selection sel;
    const struct osw_mc *winner;
    bool conflict;
};

static enum osw_err pool_side(const struct osw_review *r, const struct osw_inputs *in,
                              const struct osw_object_view *o, struct pool_side *s)
{
    struct osw_selector *sel = NULL;
    memset(s, 0, sizeof(*s));
    s->stream = view_stream(o);
    /* Usually the pool's selector is the cached one's, text for text (an
     * UPDATE that changes the stream): borrow its selection unparsed. */
    bool same =
        o->type == OSW_JT_OBJECT && o->selector_type == OSW_JT_OBJECT &&
        osw_cluster_select_same_text(in->cluster, view_name(r, o), o->selector_json, &s->sel);
    enum osw_err err = same ? OSW_OK : view_selector(o, &sel);
    if (err == OSW_OK && !same)
        err = osw_cluster_select(in->cluster, view_name(r, o), sel, &s->sel);
    osw_selector_free(sel);
    if (err != OSW_OK)
        return err;
    s->winner = osw_cluster_url_winner(in->cluster, &s->sel, OSW_STR_NULL, NULL);
    s->conflict = in_conflict(in, s->stream, s->winner);
    return OSW_OK;
}

/* W-URL-EQUAL for the pool under review: every selected non-generated
 * MachineConfig pinning the named stream's image, in merge order. */
static enum osw_err url_equal_pool(const struct osw_inputs *in, struct osw_str pool,
                                   const struct pool_side *s, struct osw_decision *d)
{
    const struct osw_stream *st = s->stream.len ? osw_osis_find(in->osis, s->stream) : NULL;
    enum osw_err err = OSW_OK;
    for (size_t i = 0; st && i < s->sel.n && err == OSW_OK; i++) {
        const struct osw_mc *mc = osw_cluster_mc_at(in->cluster, s->sel.idx[i]);
        if (!mc->generated && mc->url.len && osw_str_eq(mc->url, st->os_image))
            err = osw_warn_url_equal(d, mc->name, pool);
    }
    return err;
}

/* viol_runc of the pool under review called `pool`, on one side (`s`; NULL
 * when that side does not exist, as before a CREATE). */
static enum osw_err pool_viol(const struct osw_inputs *in, struct osw_str pool,
                              const struct pool_side *s, enum osw_tri *out)
{
    struct osw_str e;
    *out = OSW_TRI_FALSE;
    if (!s || !effective(in, pool, s->stream, &e, NULL))
        return OSW_OK;
    /* runc(P) only when the stream and the image allow a violation. */
    if (osw_runc_viol(in->osis, e, s->winner, OSW_TRI_TRUE) == OSW_TRI_FALSE)
        return OSW_OK;
    return osw_cluster_runc(in->cluster, &s->sel, OSW_STR_NULL, NULL, out);
}

/* Rule R's judged pools of a pool request: P, then, when P is the worker,
 * the cached custom pools that follow it. */
static enum osw_err pool_judge_runc(const struct osw_review *r, const struct osw_inputs *in,
                                    const struct pool_side *before, const struct pool_side *after,
                                    struct osw_runc_judged *j)
{
    struct osw_str pool = view_name(r, &r->object);
    enum osw_tri vb, va;
    enum osw_err err = pool_viol(in, pool, before, &vb);
    if (err == OSW_OK)
        err = pool_viol(in, pool, after, &va);
    if (err == OSW_OK)
        err = osw_runc_judged_add(j, pool, vb, va);
    if (err == OSW_OK && osw_str_eq_cstr(pool, "worker"))
        err =
            osw_runc_judge_followers(j, in, before ? before->stream : OSW_STR_NULL, after->stream);
    return err;
}

/* Rules C and R of a pool request (synced state only), the first denial
 * winning. Returns with the decision denied, or with W-INHERITED-GONE,
 * W-CONFLICT, W-RUNC and W-URL-EQUAL. */
static enum osw_err pool_rules(const struct osw_review *r, const struct osw_inputs *in,
                               struct osw_decision *d)
{
    struct pool_side after, before;
    struct osw_runc_judged runc = {0};
    struct osw_str pool = view_name(r, &r->object);
    bool has_before = is_update(r) && r->old_object.type == OSW_JT_OBJECT;
    memset(&before, 0, sizeof(before));
    enum osw_err err = pool_side(r, in, &r->object, &after);
    if (err == OSW_OK && has_before)
        err = pool_side(r, in, &r->old_object, &before);
    if (err != OSW_OK)
        goto out;
    bool newly = after.conflict && !before.conflict, ex = exempt(r, in->policy);
    if (newly && !ex) {
        osw_warn_clear(d);
        err = osw_decision_add_cause(d, "FieldValueForbidden", OSW_FIELD_NAME,
                                     conflict_text(pool, after.winner->name));
        if (err == OSW_OK)
            err = osw_message_invalid_causes(d, OSW_MCP_KIND, pool);
        d->rules |= OSW_RULE_CONFLICT_DENIED;
        goto out;
    }
    err = pool_judge_runc(r, in, has_before ? &before : NULL, &after, &runc);
    if (err == OSW_OK && !ex)
        err = osw_runc_deny(&runc, d, OSW_FIELD_NAME, OSW_MCP_KIND, pool);
    if (err != OSW_OK || d->verdict == OSW_VERDICT_DENIED)
        goto out;
    const struct osw_pool *w = osw_cluster_pool_find(in->cluster, OSW_STR_LIT("worker"));
    if (!after.stream.len && osw_pool_name_is_custom(pool) && w && w->stream.len && in->osis &&
        !osw_osis_find(in->osis, w->stream))
        err = osw_warn_inherited_gone(d, w->stream);
    if (err == OSW_OK && after.conflict)
        err = osw_warn_conflict(d, after.winner->name, pool);
    if (err == OSW_OK)
        err = osw_runc_warn(&runc, d, false);
    if (err == OSW_OK)
        err = url_equal_pool(in, pool, &after, d);
out:
    osw_runc_judged_free(&runc);
    osw_selection_free(&after.sel);
    osw_selection_free(&before.sel);
    return err;
}

/* W-DOWNGRADE, W-PAUSED and W-INHERIT of a pool UPDATE. */
static enum osw_err pool_moves(const struct osw_review *r, const struct osw_inputs *in,
                               struct osw_decision *d)
{
    struct osw_str pool = view_name(r, &r->object), e_old, e_new;
    if (!is_update(r) || r->old_object.type != OSW_JT_OBJECT)
        return OSW_OK;
    /* Decision 7: a custom pool's E needs the synced state, even when it
     * names a stream itself. */
    if (osw_pool_name_is_custom(pool) && !synced(in))
        return OSW_OK;
    if (!effective(in, pool, view_stream(&r->old_object), &e_old, NULL) ||
        !effective(in, pool, view_stream(&r->object), &e_new, NULL) || osw_str_eq(e_old, e_new))
        return OSW_OK;
    enum osw_err err = OSW_OK;
    if (is_downgrade(e_old, e_new))
        err = osw_warn_downgrade(d, e_old, e_new);
    if (err == OSW_OK && r->object.paused_type == OSW_JT_BOOL && r->object.paused)
        err = osw_warn_paused(d, pool);
    size_t n =
        synced(in) && osw_str_eq_cstr(pool, "worker") ? osw_cluster_unnamed_custom(in->cluster) : 0;
    if (err == OSW_OK && n > 0)
        err = osw_warn_inherit(d, n);
    return err;
}

enum osw_err osw_parity_pool_validate(const struct osw_review *r, const struct osw_inputs *in,
                                      struct osw_decision *d)
{
    enum osw_err err = OSW_OK;
    if (synced(in)) {
        err = pool_rules(r, in, d);
        if (err != OSW_OK || d->verdict == OSW_VERDICT_DENIED)
            return err;
    }
    err = pool_moves(r, in, d);
    if (err == OSW_OK && in->cluster_mode == OSW_CLUSTER_NOT_SYNCED)
        err = osw_warn_skip(d);
    return err;
}

bool osw_parity_pool_implicit(const struct osw_review *r, const struct osw_inputs *in,
                              struct osw_annot_want *want)
{
    struct osw_str pool = view_name(r, &r->object), e;
    enum source src;
    osw_annot_want_stream(want, NULL); /* all four absent */
    if (!in->osis)
        return false;
    if (osw_pool_name_is_custom(pool)) {
        if (in->cluster_mode == OSW_CLUSTER_OFF || in->cluster_mode == OSW_CLUSTER_NOT_SERVED)
            return true;
        if (!synced(in))
            return false;
    }
    if (!effective(in, pool, OSW_STR_NULL, &e, &src))
        return false;
    const struct osw_stream *st = osw_osis_find(in->osis, e);
    if (!st)
        return src == SRC_WORKER; /* the worker's stream is gone: all four removed */
    osw_annot_want_stream(want, st);
    want->set[OSW_ANNOT_STREAM_SOURCE] = true;
    want->value[OSW_ANNOT_STREAM_SOURCE] =
        src == SRC_WORKER ? OSW_STR_LIT("worker") : OSW_STR_LIT("default");
    return true;
}

/* The MachineConfig of request.object or request.oldObject (`tree`; NULL
 * gives none), as the cache would extract it. */
static enum osw_err mc_of(const json_t *tree, const char *path, struct osw_mc **out,
                          struct osw_errbuf *eb)
{
    struct osw_errbuf why;
    *out = NULL;
    if (!tree)
        return OSW_OK;
    enum osw_err err = osw_mc_extract(tree, out, &why);
    if (err == OSW_EBADOBJ)
        return osw_errbuf_set(eb, OSW_EBADREQ, "%s: %s", path, why.msg);
    return err == OSW_OK ? OSW_OK : osw_errbuf_set(eb, err, "%s", osw_err_str(err));
}

/* Rule C mirrored for the MachineConfig `mc` (replacing `old`, or new): one
 * cause per cached pool it newly brings into conflict; otherwise `warn[i]`
 * is the MachineConfig winning the merge of cached pool i when that pool is
 * in conflict after the request and W-CONFLICT applies: kept (in conflict
 * before too) or newly through an exempt request (CONTRACT.md Decision 3).
 * A request that clears osImageURL is never denied, and a conflict it newly
 * exposes is neither kept nor exempt: no warning. */
static enum osw_err mc_rule_c(const struct osw_review *r, const struct osw_inputs *in,
                              const struct osw_mc *mc, const struct osw_mc *old,
                              struct osw_decision *d, const struct osw_mc **warn)
{
    const struct osw_cluster *c = in->cluster;
    bool ex = exempt(r, in->policy);
    enum osw_err err = OSW_OK;
    size_t npools = osw_cluster_pool_count(c);
    for (size_t i = 0; i < npools && err == OSW_OK; i++) {
        const struct osw_pool *p = osw_cluster_pool_at(c, i);
        if (!p->stream.len || !osw_osis_find(in->osis, p->stream))
            continue;
        struct osw_selection s = osw_cluster_pool_selection(c, i);
        bool sel_new = osw_selector_matches(p->selector, &mc->labels);
        bool sel_old = old && osw_selector_matches(p->selector, &old->labels);
        const struct osw_mc *before = osw_cluster_url_winner(c, &s, mc->name, sel_old ? old : NULL);
        const struct osw_mc *after = osw_cluster_url_winner(c, &s, mc->name, sel_new ? mc : NULL);
        bool was = in_conflict(in, p->stream, before), is = in_conflict(in, p->stream, after);
        if (is && !was && !ex && mc->url.len > 0) {
            err = osw_decision_add_cause(d, "FieldValueForbidden", OSW_FIELD_URL,
                                         conflict_text(p->name, after->name));
            d->rules |= OSW_RULE_CONFLICT_DENIED;
        } else if (is && (was || ex)) {
            warn[i] = after;
        }
    }
    if (err == OSW_OK && d->ncauses > 0) {
        osw_warn_clear(d);
        err = osw_message_invalid_causes(d, OSW_MC_KIND, view_name(r, &r->object));
    }
    return err;
}

/* W-URL-EQUAL of a MachineConfig request: every cached pool naming a stream
 * whose image `mc` pins, among those selecting it. */
static enum osw_err url_equal_mc(const struct osw_inputs *in, const struct osw_mc *mc,
                                 struct osw_decision *d)
{
    const struct osw_cluster *c = in->cluster;
    enum osw_err err = OSW_OK;
    for (size_t i = 0; i < osw_cluster_pool_count(c) && err == OSW_OK && mc->url.len; i++) {
        const struct osw_pool *p = osw_cluster_pool_at(c, i);
        const struct osw_stream *st = p->stream.len ? osw_osis_find(in->osis, p->stream) : NULL;
        if (st && osw_str_eq(mc->url, st->os_image) &&
            osw_selector_matches(p->selector, &mc->labels))
            err = osw_warn_url_equal(d, mc->name, p->name);
    }
    return err;
}

/* Rules C and R for a MachineConfig request (synced state, OSImageStream
 * cached). A generated MachineConfig is never denied and warns W-RUNC only
 * (Decision 5); another gets the first denial, or W-CONFLICT, W-RUNC and
 * W-URL-EQUAL in that order. */
static enum osw_err mc_rules(const struct osw_review *r, const struct osw_inputs *in,
                             const struct osw_mc *mc, const struct osw_mc *old,
                             struct osw_decision *d)
{
    struct osw_runc_judged runc = {0};
    size_t npools = osw_cluster_pool_count(in->cluster);
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    const struct osw_mc **warn = calloc(npools ? npools : 1, sizeof(*warn));
    if (!warn)
        return OSW_ENOMEM;
    enum osw_err err = mc->generated ? OSW_OK : mc_rule_c(r, in, mc, old, d, warn);
    if (err != OSW_OK || d->verdict == OSW_VERDICT_DENIED)
        goto out;
    err = osw_runc_judge_mc(&runc, in, mc, old);
    if (err == OSW_OK && !mc->generated && !exempt(r, in->policy))
        err = osw_runc_deny(&runc, d, OSW_FIELD_CONFIG, OSW_MC_KIND, view_name(r, &r->object));
    if (err != OSW_OK || d->verdict == OSW_VERDICT_DENIED)
        goto out;
    for (size_t i = 0; i < npools && err == OSW_OK; i++) {
        if (warn[i])
            err = osw_warn_conflict(d, warn[i]->name, osw_cluster_pool_at(in->cluster, i)->name);
    }
    if (err == OSW_OK)
        err = osw_runc_warn(&runc, d, false);
    if (err == OSW_OK && !mc->generated)
        err = url_equal_mc(in, mc, d);
out:
    osw_runc_judged_free(&runc);
    free(warn);
    return err;
}

enum osw_err osw_parity_mc_validate(const struct osw_review *r, const struct osw_inputs *in,
                                    struct osw_decision *d, struct osw_errbuf *eb)
{
    struct osw_mc *mc = NULL, *old = NULL;
    if (!r->object_tree)
        return osw_errbuf_set(eb, OSW_EBADREQ, "request.object must be an object, not %s",
                              osw_jtype_name(r->object.type));
    enum osw_err err = mc_of(r->object_tree, "request.object", &mc, eb);
    if (err == OSW_OK && is_update(r))
        err = mc_of(r->old_object_tree, "request.oldObject", &old, eb);
    if (err != OSW_OK)
        goto out;
    d->verdict = OSW_VERDICT_ALLOWED;
    if (synced(in) && in->osis) {
        err = mc_rules(r, in, mc, old, d);
        if (err != OSW_OK || d->verdict == OSW_VERDICT_DENIED)
            goto out;
    }
    /* Generated MachineConfigs are the MCO's own: nothing else is said of
     * them (their osImageURL is ignored, and W-SKIP is not given). */
    if (mc->generated)
        goto out;
    if (mc->url.len && !memmem(mc->url.ptr, mc->url.len, "@sha256:", 8))
        err = osw_warn_tag(d, mc->name);
    if (err == OSW_OK && in->cluster_mode == OSW_CLUSTER_NOT_SYNCED)
        err = osw_warn_skip(d);
out:
    if (err != OSW_OK && err != OSW_EBADREQ)
        osw_errbuf_set(eb, err, "%s", osw_err_str(err));
    osw_mc_unref(mc);
    osw_mc_unref(old);
    return err;
}

/* spec.defaultStream of an OSImageStream tree: OSW_EBADREQ when a field on
 * the way has the wrong type; empty when absent or null. */
static enum osw_err default_stream(const json_t *tree, const char *path, struct osw_str *out,
                                   struct osw_errbuf *eb)
{
    *out = OSW_STR_NULL;
    const json_t *spec = json_object_get(tree, "spec");
    const json_t *def = json_object_get(spec, "defaultStream");
    if (spec && !json_is_null(spec) && !json_is_object(spec))
        return osw_errbuf_set(eb, OSW_EBADREQ, "%s.spec must be an object", path);
    if (def && !json_is_null(def) && !json_is_string(def))
        return osw_errbuf_set(eb, OSW_EBADREQ, "%s.spec.defaultStream must be a string", path);
    *out = (struct osw_str){json_string_value(def), json_string_length(def)};
    return OSW_OK;
}

enum osw_err osw_parity_osis_validate(const struct osw_review *r, const struct osw_inputs *in,
                                      struct osw_decision *d, struct osw_errbuf *eb)
{
    struct osw_str from, to;
    if (!r->object_tree)
        return osw_errbuf_set(eb, OSW_EBADREQ, "request.object must be an object, not %s",
                              osw_jtype_name(r->object.type));
    enum osw_err err = default_stream(r->object_tree, "request.object", &to, eb);
    if (err == OSW_OK)
        err = default_stream(r->old_object_tree, "request.oldObject", &from, eb);
    if (err != OSW_OK)
        return err;
    d->verdict = OSW_VERDICT_ALLOWED;
    /* Decision 10: either side without a default gives no warning. */
    if (!from.len || !to.len || osw_str_eq(from, to))
        return OSW_OK;
    /* Decision 12: pools that follow the default and would newly violate
     * rule R with the new one are warned, never denied. */
    if (synced(in)) {
        struct osw_runc_judged runc = {0};
        err = osw_runc_judge_default(&runc, in, from, to);
        if (err == OSW_OK)
            err = osw_runc_warn(&runc, d, true);
        osw_runc_judged_free(&runc);
    }
    if (err == OSW_OK && is_downgrade(from, to))
        err = osw_warn_downgrade(d, from, to);
    size_t n = synced(in) ? osw_cluster_default_followers(in->cluster) : 0;
    if (err == OSW_OK && n > 0)
        err = osw_warn_default(d, from, to, n);
    if (err != OSW_OK)
        osw_errbuf_set(eb, err, "%s", osw_err_str(err));
    return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule R, the runc guard (CONTRACT.md "runc on RHEL 10"): a pool whose
 * stream is a RHEL 10 one while its MachineConfigs make runc the CRI-O
 * default runtime cannot be rendered by the MCO. Each request kind lists its
 * judged pools with viol_runc before and after the request; the denial and
 * W-RUNC are then derived from that list, in the order it was filled. Pure:
 * reads the snapshots and the extracts, never the Ignition again.
 */
#include <stdlib.h>
#include <string.h>

#include "osw/cluster.h"
#include "osw/buf.h"

#include "core_internal.h"

#define RUNC_TEXT                                                                                  \
    " targets a RHEL 10 OS image where runc is not available. To unblock, migrate to crun by "     \
    "removing any ContainerRuntimeConfig that sets defaultRuntime to runc, and removing any "      \
    "MachineConfig that sets default_runtime = \"runc\" in CRI-O configuration under "             \
    "/etc/crio/crio.conf.d/"

void osw_runc_judged_free(struct osw_runc_judged *j)
{
    if (!j)
        return;
    free(j->v);
    memset(j, 0, sizeof(*j));
}

enum osw_err osw_runc_judged_add(struct osw_runc_judged *j, struct osw_str pool,
                                 enum osw_tri before, enum osw_tri after)
{
    /* A pool false on both sides can neither be denied nor warned. */
    if (before == OSW_TRI_FALSE && after == OSW_TRI_FALSE)
        return OSW_OK;
    if (!osw_grow(&j->v, &j->cap, j->n, sizeof(*j->v), 8))
        return OSW_ENOMEM;
    j->v[j->n++] = (struct osw_runc_pool){pool, before, after};
    return OSW_OK;
}

/* The MCO's IsRHEL10Stream: exactly rhel-10 or centos-10 (OKD). */
static bool rhel10(struct osw_str stream)
{
    return osw_str_eq_cstr(stream, "rhel-10") || osw_str_eq_cstr(stream, "centos-10");
}

/* The stream `e` names when it is a RHEL 10 stream available in `osis`. */
static const struct osw_stream *rhel10_stream(const struct osw_osis *osis, struct osw_str e)
{
    return osis && rhel10(e) ? osw_osis_find(osis, e) : NULL;
}

/* viol_runc with E's stream already looked up (NULL: not RHEL 10). */
static enum osw_tri viol_at(const struct osw_stream *st, const struct osw_mc *winner,
                            enum osw_tri runc)
{
    /* Decision 7: an image that overrides the stream's is not inspected. */
    if (!st || (winner && !osw_str_eq(winner->url, st->os_image)))
        return OSW_TRI_FALSE;
    return runc;
}

enum osw_tri osw_runc_viol(const struct osw_osis *osis, struct osw_str e,
                           const struct osw_mc *winner, enum osw_tri runc)
{
    return viol_at(rhel10_stream(osis, e), winner, runc);
}

/* The cached worker's stream (empty when it names none or is not cached). */
static struct osw_str worker_stream(const struct osw_cluster *c)
{
    const struct osw_pool *w = osw_cluster_pool_find(c, OSW_STR_LIT("worker"));
    return w ? w->stream : OSW_STR_NULL;
}

/* E(Q) of a cached pool, given the worker's stream (empty: none). */
static struct osw_str cached_e(const struct osw_inputs *in, const struct osw_pool *q,
                               struct osw_str worker)
{
    if (q->stream.len > 0)
        return q->stream;
    if (osw_pool_name_is_custom(q->name) && worker.len > 0)
        return worker;
    return in->osis ? osw_osis_default(in->osis) : OSW_STR_NULL;
}

/* Which cached pools a stream change moves: the worker's followers, or the
 * pools whose stream-source is "default". */
enum movers { MOVERS_FOLLOWERS, MOVERS_DEFAULT };

/* Adds each cached pool of `which` with its viol_runc on the streams
 * `before` and `after` (NULL: not RHEL 10). viol_at is false wherever
 * runc(P) is, so only the snapshot's runc pools are looked at. */
static enum osw_err judge_movers(struct osw_runc_judged *j, const struct osw_cluster *c,
                                 enum movers which, const struct osw_stream *before,
                                 const struct osw_stream *after)
{
    bool worker_names = which == MOVERS_DEFAULT && worker_stream(c).len > 0;
    const uint32_t *idx;
    size_t n = osw_cluster_runc_pools(c, &idx);
    enum osw_err err = OSW_OK;
    for (size_t k = 0; k < n && err == OSW_OK; k++) {
        const struct osw_pool *q = osw_cluster_pool_at(c, idx[k]);
        bool moves = q->stream.len == 0 &&
                     (which == MOVERS_FOLLOWERS ? q->custom : !(worker_names && q->custom));
        if (!moves)
            continue;
        struct osw_selection s = osw_cluster_pool_selection(c, idx[k]);
        err = osw_runc_judged_add(j, q->name, viol_at(before, s.winner, s.runc),
                                  viol_at(after, s.winner, s.runc));
    }
    return err;
}

enum osw_err osw_runc_judge_followers(struct osw_runc_judged *j, const struct osw_inputs *in,
                                      struct osw_str w_before, struct osw_str w_after)
{
    struct osw_str def = in->osis ? osw_osis_default(in->osis) : OSW_STR_NULL;
    /* Every follower has the same E on each side: look the streams up once,
     * and skip the pools when neither side is a RHEL 10 stream. */
    const struct osw_stream *before = rhel10_stream(in->osis, w_before.len ? w_before : def);
    const struct osw_stream *after = rhel10_stream(in->osis, w_after.len ? w_after : def);
    if ((!before && !after) || osw_cluster_unnamed_custom(in->cluster) == 0)
        return OSW_OK;
    return judge_movers(j, in->cluster, MOVERS_FOLLOWERS, before, after);
}

/* viol_runc of the cached pool with selection `s` and E `e`, with `skip`
 * left out and `extra` (NULL: none) put in. */
static enum osw_err viol_with(const struct osw_inputs *in, const struct osw_selection *s,
                              struct osw_str e, struct osw_str skip, const struct osw_mc *extra,
                              enum osw_tri *out)
{
    const struct osw_mc *winner = osw_cluster_url_winner(in->cluster, s, skip, extra);
    /* runc(P) is only worth computing when the stream and the image allow a
     * violation: probe with "true" first. */
    *out = osw_runc_viol(in->osis, e, winner, OSW_TRI_TRUE);
    if (*out == OSW_TRI_FALSE)
        return OSW_OK;
    enum osw_tri runc;
    enum osw_err err = osw_cluster_runc(in->cluster, s, skip, extra, &runc);
    if (err == OSW_OK)
        *out = runc;
    return err;
}

enum osw_err osw_runc_judge_mc(struct osw_runc_judged *j, const struct osw_inputs *in,
                               const struct osw_mc *mc, const struct osw_mc *old)
{
    const struct osw_cluster *c = in->cluster;
    const struct osw_mc *cached = mc->name.len ? osw_cluster_mc_find(c, mc->name) : NULL;
    struct osw_str w = worker_stream(c);
    enum osw_err err = OSW_OK;
    for (size_t i = 0; i < osw_cluster_pool_count(c) && err == OSW_OK; i++) {
        const struct osw_pool *q = osw_cluster_pool_at(c, i);
        struct osw_selection s = osw_cluster_pool_selection(c, i);
        struct osw_str e = cached_e(in, q, w);
        enum osw_tri now = osw_runc_viol(in->osis, e, s.winner, s.runc), before = now, after = now;
        if (osw_runc_viol(in->osis, e, NULL, OSW_TRI_TRUE) == OSW_TRI_FALSE)
            continue; /* not a RHEL 10 stream: no MachineConfig changes that */
        /* Only pools that select the cached, old or new MachineConfig see a
         * change; the others keep their precomputed value. */
        bool in_cache = cached && osw_selector_matches(q->selector, &cached->labels);
        bool sel_old = old && osw_selector_matches(q->selector, &old->labels);
        bool sel_new = osw_selector_matches(q->selector, &mc->labels);
        if (in_cache || sel_old)
            err = viol_with(in, &s, e, mc->name, sel_old ? old : NULL, &before);
        if (err == OSW_OK && (in_cache || sel_new))
            err = viol_with(in, &s, e, mc->name, sel_new ? mc : NULL, &after);
        if (err == OSW_OK)
            err = osw_runc_judged_add(j, q->name, before, after);
    }
    return err;
}

enum osw_err osw_runc_judge_default(struct osw_runc_judged *j, const struct osw_inputs *in,
                                    struct osw_str from, struct osw_str to)
{
    const struct osw_stream *before = rhel10_stream(in->osis, from);
    const struct osw_stream *after = rhel10_stream(in->osis, to);
    if (!before && !after)
        return OSW_OK;
    return judge_movers(j, in->cluster, MOVERS_DEFAULT, before, after);
}

static bool newly(const struct osw_runc_pool *q)
{
    return q->before == OSW_TRI_FALSE && q->after == OSW_TRI_TRUE;
}

/* `Forbidden: MachineConfigPool <pool> targets ...`, the MCO's text. */
static char *cause_text(struct osw_str pool)
{
    struct osw_buf b = OSW_BUF_INIT;
    enum osw_err err = osw_buf_append_cstr(&b, "Forbidden: MachineConfigPool ");
    if (err == OSW_OK)
        err = osw_buf_append_str(&b, pool);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&b, RUNC_TEXT);
    if (err != OSW_OK) {
        osw_buf_free(&b);
        return NULL;
    }
    return osw_buf_steal(&b, NULL);
}

enum osw_err osw_runc_deny(const struct osw_runc_judged *j, struct osw_decision *d,
                           const char *field, const char *kind, struct osw_str name)
{
    size_t n = 0;
    for (size_t i = 0; i < j->n; i++)
        n += newly(&j->v[i]);
    if (n == 0)
        return OSW_OK;
    /* A denial by R carries no warning, not even a kept W-CONFLICT. */
    osw_warn_clear(d);
    d->rules |= OSW_RULE_RUNC_DENIED;
    enum osw_err err = OSW_OK;
    for (size_t i = 0; i < j->n && err == OSW_OK; i++) {
        if (newly(&j->v[i]))
            err = osw_decision_add_cause(d, "FieldValueForbidden", field, cause_text(j->v[i].name));
    }
    if (err == OSW_OK)
        err = osw_message_invalid_causes(d, kind, name);
    return err;
}

enum osw_err osw_runc_warn(const struct osw_runc_judged *j, struct osw_decision *d, bool newly_only)
{
    enum osw_err err = OSW_OK;
    for (size_t i = 0; i < j->n && err == OSW_OK; i++) {
        const struct osw_runc_pool *q = &j->v[i];
        if (q->after == OSW_TRI_TRUE && (!newly_only || newly(q)))
            err = osw_warn_runc(d, q->name);
    }
    return err;
}

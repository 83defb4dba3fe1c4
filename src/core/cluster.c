/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster-state snapshot and its builder. Building sorts MachineConfigs
 * into merge order once, keeps a by-name index, and precomputes for every
 * pool the MachineConfigs its selector matches, the one that wins its
 * osImageURL merge and runc(P); a request then only recomputes what it
 * changes. Immutable after osw_cluster_build(), so any thread may read it.
 */
#include <stdlib.h>
#include <string.h>

#include "osw/cluster.h"
#include "osw/buf.h"

struct pool_entry {
    struct osw_pool *pool;
    uint32_t *sel; /* owned; ascending merge-order indexes */
    size_t nsel;
    const struct osw_mc *winner; /* effURL's MachineConfig over `sel`, or NULL */
    enum osw_tri runc;           /* runc(P) over `sel` */
};

/* One label of one MachineConfig, for the index. */
struct label_ref {
    struct osw_str key, value;
    uint32_t idx; /* merge-order index */
};

struct osw_cluster {
    atomic_uint refs;
    struct osw_mc **mcs; /* merge order; one reference each */
    size_t nmcs;
    struct osw_mc **by_name; /* the same, by name */
    /* Every label of every MachineConfig, sorted by (key, value, index):
     * an In requirement's candidates are a few ranges of it. */
    struct label_ref *labels;
    size_t nlabels;
    struct pool_entry *pools; /* by name */
    size_t npools;
    size_t unnamed_custom, default_followers; /* counted once at build */
    /* The pools (indexes into `pools`, ascending) whose runc(P) is not
     * false: the only ones a change of stream alone can make violate rule R.
     * A worker move with 200 custom pools following it looks at these, not
     * at all 200 (bench/RESULTS.md). */
    uint32_t *runc_pools;
    size_t nrunc_pools;
};

struct osw_cluster_builder {
    struct osw_pool **pools;
    size_t npools, cappools;
    struct osw_mc **mcs;
    size_t nmcs, capmcs;
};

void osw_selection_free(struct osw_selection *s)
{
    if (!s)
        return;
    free(s->owned);
    memset(s, 0, sizeof(*s));
}

struct osw_cluster_builder *osw_cluster_builder_new(void)
{
    return calloc(1, sizeof(struct osw_cluster_builder));
}

void osw_cluster_builder_free(struct osw_cluster_builder *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->npools; i++)
        osw_pool_unref(b->pools[i]);
    for (size_t i = 0; i < b->nmcs; i++)
        osw_mc_unref(b->mcs[i]);
    free(b->pools);
    free(b->mcs);
    free(b);
}

enum osw_err osw_cluster_builder_add_pool(struct osw_cluster_builder *b, struct osw_pool *p)
{
    if (!p)
        return OSW_EINVAL;
    if (!osw_grow(&b->pools, &b->cappools, b->npools, sizeof(struct osw_pool *), 16))
        return OSW_ENOMEM;
    b->pools[b->npools++] = osw_pool_ref(p);
    return OSW_OK;
}

enum osw_err osw_cluster_builder_add_mc(struct osw_cluster_builder *b, struct osw_mc *mc)
{
    if (!mc)
        return OSW_EINVAL;
    if (!osw_grow(&b->mcs, &b->capmcs, b->nmcs, sizeof(struct osw_mc *), 16))
        return OSW_ENOMEM;
    b->mcs[b->nmcs++] = osw_mc_ref(mc);
    return OSW_OK;
}

struct mc_pos {
    struct osw_mc *mc;
    size_t pos;
};

static int mc_pos_cmp(const void *pa, const void *pb)
{
    const struct mc_pos *a = pa, *b = pb;
    int c = osw_str_cmp(a->mc->name, b->mc->name);
    if (c != 0)
        return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int mc_merge_cmp(const void *a, const void *b)
{
    return osw_mc_merge_cmp(*(struct osw_mc *const *)a, *(struct osw_mc *const *)b);
}

static int pool_name_cmp(const void *a, const void *b)
{
    return osw_str_cmp(((const struct pool_entry *)a)->pool->name,
                       ((const struct pool_entry *)b)->pool->name);
}

void osw_cluster_unref(struct osw_cluster *c)
{
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < c->nmcs; i++)
        osw_mc_unref(c->mcs[i]);
    for (size_t i = 0; i < c->npools; i++) {
        osw_pool_unref(c->pools[i].pool);
        free(c->pools[i].sel);
    }
    free(c->mcs);
    free(c->by_name);
    free(c->labels);
    free(c->pools);
    free(c->runc_pools);
    free(c);
}

struct osw_cluster *osw_cluster_ref(struct osw_cluster *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

static int label_cmp(const void *pa, const void *pb)
{
    const struct label_ref *a = pa, *b = pb;
    int c = osw_str_cmp(a->key, b->key);
    if (c == 0)
        c = osw_str_cmp(a->value, b->value);
    return c != 0 ? c : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

static int idx_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

/* The first label_ref with (key, value) not below the given pair. */
static size_t label_lower(const struct osw_cluster *c, struct osw_str key, struct osw_str value)
{
    size_t lo = 0, hi = c->nlabels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = osw_str_cmp(c->labels[mid].key, key);
        if (r == 0)
            r = osw_str_cmp(c->labels[mid].value, value);
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool push_idx(uint32_t **out, size_t *n, size_t *cap, uint32_t v)
{
    if (!osw_grow(out, cap, *n, sizeof(**out), 16))
        return false;
    (*out)[(*n)++] = v;
    return true;
}

/* Every MachineConfig `sel` matches, ascending in merge order. With an In
 * requirement only the MachineConfigs carrying one of its values are
 * matched (the label index); otherwise all of them. */
static enum osw_err select_all(const struct osw_cluster *c, const struct osw_selector *sel,
                               uint32_t **out, size_t *n)
{
    struct osw_str key;
    const struct osw_str *values;
    size_t nvalues, cap = 0;
    *out = NULL;
    *n = 0;
    if (!sel || c->nmcs == 0)
        return OSW_OK;
    if (!osw_selector_in_requirement(sel, &key, &values, &nvalues)) {
        for (size_t i = 0; i < c->nmcs; i++) {
            if (osw_selector_matches(sel, &c->mcs[i]->labels) &&
                !push_idx(out, n, &cap, (uint32_t)i))
                goto nomem;
        }
        return OSW_OK;
    }
    for (size_t v = 0; v < nvalues; v++) {
        for (size_t i = label_lower(c, key, values[v]);
             i < c->nlabels && osw_str_eq(c->labels[i].key, key) &&
             osw_str_eq(c->labels[i].value, values[v]);
             i++) {
            uint32_t idx = c->labels[i].idx;
            if (osw_selector_matches(sel, &c->mcs[idx]->labels) && !push_idx(out, n, &cap, idx))
                goto nomem;
        }
    }
    /* Each MachineConfig has one value per key, so no duplicates. */
    if (nvalues > 1 && *n > 1)
        qsort(*out, *n, sizeof(**out), idx_cmp);
    return OSW_OK;
nomem:
    free(*out);
    *out = NULL;
    *n = 0;
    return OSW_ENOMEM;
}

static enum osw_err build_index(struct osw_cluster *c)
{
    size_t total = 0;
    for (size_t i = 0; i < c->nmcs; i++)
        total += c->mcs[i]->labels.n;
    if (total == 0)
        return OSW_OK;
    c->labels = malloc(total * sizeof(*c->labels));
    if (!c->labels)
        return OSW_ENOMEM;
    for (size_t i = 0; i < c->nmcs; i++) {
        const struct osw_labels *l = &c->mcs[i]->labels;
        for (size_t j = 0; j < l->n; j++)
            c->labels[c->nlabels++] =
                (struct label_ref){l->items[j].key, l->items[j].value, (uint32_t)i};
    }
    qsort(c->labels, c->nlabels, sizeof(*c->labels), label_cmp);
    return OSW_OK;
}

/* Sorts and keeps the last of each name (a later add replaces an earlier
 * one): entries are stably ordered by name, then by insertion. */
static size_t dedupe_mcs(struct osw_mc **v, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && osw_str_eq(v[w - 1]->name, v[i]->name)) {
            osw_mc_unref(v[w - 1]);
            v[w - 1] = v[i];
        } else {
            v[w++] = v[i];
        }
    }
    return w;
}

static enum osw_err build_mcs(struct osw_cluster *c, const struct osw_cluster_builder *b)
{
    if (b->nmcs == 0)
        return OSW_OK;
    if (b->nmcs > UINT32_MAX)
        return OSW_ENOMEM;
    /* Arrays of pointers (the sizeof check cannot tell). */
    c->mcs = malloc(b->nmcs * sizeof(*c->mcs));         // NOLINT(bugprone-sizeof-expression)
    c->by_name = malloc(b->nmcs * sizeof(*c->by_name)); // NOLINT(bugprone-sizeof-expression)
    if (!c->mcs || !c->by_name)
        return OSW_ENOMEM;
    /* Insertion order decides among duplicates: sort (name, position). */
    struct mc_pos *tmp = malloc(b->nmcs * sizeof(*tmp));
    if (!tmp)
        return OSW_ENOMEM;
    for (size_t i = 0; i < b->nmcs; i++) {
        tmp[i].mc = b->mcs[i];
        tmp[i].pos = i;
    }
    qsort(tmp, b->nmcs, sizeof(*tmp), mc_pos_cmp);
    for (size_t i = 0; i < b->nmcs; i++)
        c->by_name[i] = osw_mc_ref(tmp[i].mc);
    free(tmp);
    c->nmcs = dedupe_mcs(c->by_name, b->nmcs);
    memcpy(c->mcs, c->by_name, c->nmcs * sizeof(*c->mcs)); // NOLINT(bugprone-sizeof-expression)
    qsort(c->mcs, c->nmcs, sizeof(*c->mcs), mc_merge_cmp); // NOLINT(bugprone-sizeof-expression)
    return OSW_OK;
}

static enum osw_err build_pools(struct osw_cluster *c, const struct osw_cluster_builder *b)
{
    if (b->npools == 0)
        return OSW_OK;
    c->pools = calloc(b->npools, sizeof(*c->pools));
    if (!c->pools)
        return OSW_ENOMEM;
    /* Later adds replace earlier ones: walk backwards, keep first seen. */
    for (size_t i = b->npools; i-- > 0;) {
        bool seen = false;
        for (size_t j = 0; j < c->npools && !seen; j++)
            seen = c->pools[j].pool && osw_str_eq(c->pools[j].pool->name, b->pools[i]->name);
        if (!seen)
            c->pools[c->npools++].pool = osw_pool_ref(b->pools[i]);
    }
    qsort(c->pools, c->npools, sizeof(*c->pools), pool_name_cmp);
    const struct osw_pool *w = NULL;
    for (size_t i = 0; i < c->npools && !w; i++)
        w = osw_str_eq_cstr(c->pools[i].pool->name, "worker") ? c->pools[i].pool : NULL;
    bool worker_names = w && w->stream.len > 0;
    for (size_t i = 0; i < c->npools; i++) {
        const struct osw_pool *p = c->pools[i].pool;
        c->unnamed_custom += p->custom && p->stream.len == 0;
        c->default_followers += p->stream.len == 0 && !(worker_names && p->custom);
    }
    for (size_t i = 0; i < c->npools; i++) {
        struct pool_entry *e = &c->pools[i];
        enum osw_err err = select_all(c, e->pool->selector, &e->sel, &e->nsel);
        if (err != OSW_OK)
            return err;
        struct osw_selection s = {e->sel, e->nsel, NULL, false, NULL, OSW_TRI_FALSE};
        e->winner = osw_cluster_url_winner(c, &s, OSW_STR_NULL, NULL);
        err = osw_cluster_runc(c, &s, OSW_STR_NULL, NULL, &e->runc);
        if (err != OSW_OK)
            return err;
        c->nrunc_pools += e->runc != OSW_TRI_FALSE;
    }
    if (c->nrunc_pools == 0)
        return OSW_OK;
    c->runc_pools = malloc(c->nrunc_pools * sizeof(*c->runc_pools));
    if (!c->runc_pools)
        return OSW_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < c->npools; i++) {
        if (c->pools[i].runc != OSW_TRI_FALSE)
            c->runc_pools[n++] = (uint32_t)i;
    }
    return OSW_OK;
}

enum osw_err osw_cluster_build(struct osw_cluster_builder *b, struct osw_cluster **out)
{
    *out = NULL;
    struct osw_cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return OSW_ENOMEM;
    atomic_init(&c->refs, 1);
    enum osw_err err = build_mcs(c, b);
    if (err == OSW_OK)
        err = build_index(c);
    if (err == OSW_OK)
        err = build_pools(c, b);
    if (err != OSW_OK) {
        osw_cluster_unref(c);
        return err;
    }
    *out = c;
    return OSW_OK;
}

size_t osw_cluster_pool_count(const struct osw_cluster *c)
{
    return c ? c->npools : 0;
}

const struct osw_pool *osw_cluster_pool_at(const struct osw_cluster *c, size_t i)
{
    return c->pools[i].pool;
}

static const struct pool_entry *pool_entry(const struct osw_cluster *c, struct osw_str name)
{
    size_t lo = 0, hi = c ? c->npools : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = osw_str_cmp(c->pools[mid].pool->name, name);
        if (r == 0)
            return &c->pools[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct osw_pool *osw_cluster_pool_find(const struct osw_cluster *c, struct osw_str name)
{
    const struct pool_entry *e = pool_entry(c, name);
    return e ? e->pool : NULL;
}

static struct osw_selection cached_selection(const struct pool_entry *e)
{
    struct osw_selection s = {e->sel, e->nsel, NULL, true, e->winner, e->runc};
    return s;
}

struct osw_selection osw_cluster_pool_selection(const struct osw_cluster *c, size_t i)
{
    return cached_selection(&c->pools[i]);
}

size_t osw_cluster_runc_pools(const struct osw_cluster *c, const uint32_t **idx)
{
    *idx = c ? c->runc_pools : NULL;
    return c ? c->nrunc_pools : 0;
}

size_t osw_cluster_unnamed_custom(const struct osw_cluster *c)
{
    return c ? c->unnamed_custom : 0;
}

size_t osw_cluster_default_followers(const struct osw_cluster *c)
{
    return c ? c->default_followers : 0;
}

size_t osw_cluster_mc_count(const struct osw_cluster *c)
{
    return c ? c->nmcs : 0;
}

const struct osw_mc *osw_cluster_mc_at(const struct osw_cluster *c, size_t i)
{
    return c->mcs[i];
}

const struct osw_mc *osw_cluster_mc_find(const struct osw_cluster *c, struct osw_str name)
{
    size_t lo = 0, hi = c ? c->nmcs : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = osw_str_cmp(c->by_name[mid]->name, name);
        if (r == 0)
            return c->by_name[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Whether the JSON text `a` equals `canon` (a compact dump: no whitespace
 * outside strings) once `a`'s whitespace outside strings is dropped. */
static bool same_json_text(struct osw_str a, struct osw_str canon)
{
    size_t j = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < a.len; i++) {
        char ch = a.ptr[i];
        if (!in_str && (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'))
            continue;
        if (j == canon.len || canon.ptr[j++] != ch)
            return false;
        if (esc)
            esc = false;
        else if (in_str && ch == '\\')
            esc = true;
        else if (ch == '"')
            in_str = !in_str;
    }
    return j == canon.len;
}

bool osw_cluster_select_same_text(const struct osw_cluster *c, struct osw_str name,
                                  struct osw_str text, struct osw_selection *out)
{
    memset(out, 0, sizeof(*out));
    const struct pool_entry *e = pool_entry(c, name);
    if (!e || e->pool->selector_text.len == 0 || text.len == 0 ||
        !same_json_text(text, e->pool->selector_text))
        return false;
    *out = cached_selection(e);
    return true;
}

enum osw_err osw_cluster_select(const struct osw_cluster *c, struct osw_str name,
                                const struct osw_selector *sel, struct osw_selection *out)
{
    memset(out, 0, sizeof(*out));
    const struct pool_entry *e = pool_entry(c, name);
    if (e && osw_selector_equal(e->pool->selector, sel)) {
        *out = cached_selection(e);
        return OSW_OK;
    }
    enum osw_err err = select_all(c, sel, &out->owned, &out->n);
    out->idx = out->owned;
    return err;
}

static bool sets_url(const struct osw_mc *mc)
{
    return !mc->generated && mc->url.len > 0;
}

const struct osw_mc *osw_cluster_url_winner(const struct osw_cluster *c,
                                            const struct osw_selection *s, struct osw_str skip,
                                            const struct osw_mc *extra)
{
    const struct osw_mc *best = NULL;
    if (s->cached && skip.len == 0 && !extra)
        return s->winner;
    for (size_t i = s->n; i-- > 0 && !best;) {
        const struct osw_mc *mc = c->mcs[s->idx[i]];
        if (sets_url(mc) && !(skip.len > 0 && osw_str_eq(mc->name, skip)))
            best = mc;
    }
    if (extra && sets_url(extra) && (!best || osw_mc_merge_cmp(extra, best) > 0))
        best = extra;
    return best;
}

enum osw_err osw_cluster_runc(const struct osw_cluster *c, const struct osw_selection *s,
                              struct osw_str skip, const struct osw_mc *extra, enum osw_tri *out)
{
    if (s->cached && skip.len == 0 && !extra) {
        *out = s->runc;
        return OSW_OK;
    }
    const struct osw_crio_extract *stack[64] = {0}, **v = stack;
    if (s->n + 1 > sizeof(stack) / sizeof(stack[0])) {
        // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
        v = malloc((s->n + 1) * sizeof(*v));
        if (!v)
            return OSW_ENOMEM;
    }
    size_t k = 0;
    bool placed = extra == NULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct osw_mc *mc = c->mcs[s->idx[i]];
        if (skip.len > 0 && osw_str_eq(mc->name, skip))
            continue;
        if (!placed && osw_mc_merge_cmp(extra, mc) < 0) {
            v[k++] = extra->crio;
            placed = true;
        }
        v[k++] = mc->crio;
    }
    if (!placed)
        v[k++] = extra->crio;
    enum osw_err err = osw_crio_runc(v, k, out);
    if (v != stack)
        free(v);
    return err;
}

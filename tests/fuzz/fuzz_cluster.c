/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz driver for the cluster-state extracts: bytes -> JSON or YAML
 * documents -> MachineConfigPool and MachineConfig extracts (every document
 * is tried as both) -> a snapshot. Besides memory errors it checks the
 * snapshot's invariants: MachineConfigs in merge order and found by name,
 * each pool's selection exactly the MachineConfigs its selector matches, a
 * selection reused only for an equal selector, the effURL winner
 * selected, non-generated and with a URL, the pool counts the warnings use,
 * and rule R's precomputed runc(P) and winner equal to what a walk over the
 * selection gives, also with a selected MachineConfig left out and put back
 * in.
 */
#include <stdint.h>
#include <stdlib.h>

#include "osw/cluster.h"
#include "yaml/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The precomputed runc(P) and winner of cached selection `s` against a
 * walk: an uncached copy of it, and each of its first MachineConfigs left
 * out and put back in (the same name replaced by itself). */
static void check_runc(const struct osw_cluster *c, const struct osw_selection *s)
{
    struct osw_selection walk = *s;
    enum osw_tri t;
    walk.cached = false;
    if (osw_cluster_url_winner(c, &walk, OSW_STR_NULL, NULL) != s->winner)
        abort();
    if (osw_cluster_runc(c, &walk, OSW_STR_NULL, NULL, &t) != OSW_OK)
        return;
    if (t != s->runc)
        abort();
    for (size_t i = 0; i < s->n && i < 8; i++) {
        const struct osw_mc *mc = osw_cluster_mc_at(c, s->idx[i]);
        if (mc->name.len == 0)
            continue;
        if (osw_cluster_runc(c, s, mc->name, mc, &t) != OSW_OK)
            return;
        if (t != s->runc)
            abort();
    }
}

static void check_pool(const struct osw_cluster *c, size_t p)
{
    const struct osw_pool *pool = osw_cluster_pool_at(c, p);
    struct osw_selection s = osw_cluster_pool_selection(c, p);
    size_t k = 0;
    for (size_t i = 0; i < osw_cluster_mc_count(c); i++) {
        bool sel = osw_selector_matches(pool->selector, &osw_cluster_mc_at(c, i)->labels);
        bool listed = k < s.n && s.idx[k] == i;
        if (sel != listed)
            abort();
        k += listed;
    }
    if (k != s.n || osw_cluster_pool_find(c, pool->name) != pool)
        abort();
    const struct osw_mc *w = osw_cluster_url_winner(c, &s, OSW_STR_NULL, NULL);
    if (w && (w->generated || w->url.len == 0 || !osw_selector_matches(pool->selector, &w->labels)))
        abort();
    struct osw_selection again;
    if (osw_cluster_select(c, pool->name, pool->selector, &again) != OSW_OK)
        return;
    if (again.n != s.n || again.owned || !again.cached || again.runc != s.runc ||
        again.winner != s.winner)
        abort();
    osw_selection_free(&again);
    check_runc(c, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct osw_errbuf eb;
    json_t *docs = NULL;
    if (osw_yaml_parse_any((const char *)data, size, &docs, &eb) != OSW_OK)
        return 0;
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    for (size_t i = 0; b && i < json_array_size(docs); i++) {
        const json_t *d = json_array_get(docs, i);
        struct osw_pool *p = NULL;
        struct osw_mc *m = NULL;
        if (osw_pool_extract(d, &p, &eb) == OSW_OK)
            osw_cluster_builder_add_pool(b, p);
        if (osw_mc_extract(d, &m, &eb) == OSW_OK)
            osw_cluster_builder_add_mc(b, m);
        osw_pool_unref(p);
        osw_mc_unref(m);
    }
    struct osw_cluster *c = NULL;
    if (b && osw_cluster_build(b, &c) == OSW_OK) {
        for (size_t i = 1; i < osw_cluster_mc_count(c); i++) {
            const struct osw_mc *a = osw_cluster_mc_at(c, i - 1), *z = osw_cluster_mc_at(c, i);
            if (osw_mc_merge_cmp(a, z) >= 0 || osw_cluster_mc_find(c, z->name) != z)
                abort();
        }
        const struct osw_pool *w = osw_cluster_pool_find(c, OSW_STR_LIT("worker"));
        size_t unnamed = 0, followers = 0;
        for (size_t i = 0; i < osw_cluster_pool_count(c); i++) {
            const struct osw_pool *p = osw_cluster_pool_at(c, i);
            bool custom = osw_pool_name_is_custom(p->name);
            unnamed += custom && !p->stream.len;
            followers += !p->stream.len && !(custom && w && w->stream.len);
            check_pool(c, i);
        }
        if (unnamed != osw_cluster_unnamed_custom(c) ||
            followers != osw_cluster_default_followers(c))
            abort();
        osw_cluster_unref(c);
    }
    osw_cluster_builder_free(b);
    json_decref(docs);
    return 0;
}

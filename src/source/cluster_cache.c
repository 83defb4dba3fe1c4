/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two reflector sinks feeding one cluster snapshot. Each side keeps its
 * objects as extracts sorted by name; a completed list replaces a side, an
 * event changes one entry, and every change rebuilds the snapshot from both
 * sides (extracts are shared, not copied) and publishes it with the mode the
 * rules need: not served when a kind answered 404, not synced until both
 * listed once, synced after. Watch events arrive in bursts (the MCO rewrites
 * a rendered MachineConfig per pool on any change), so an event only marks
 * the state dirty and the rebuild waits for the reflector's events_flushed,
 * right after the last event of the piece of stream that carried it: one
 * rebuild per piece, not per event, and never later than that. A mutex
 * serialises the two reflector threads.
 */
#include "source/cluster_cache.h"
#include "osw/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "osw/objtree.h"

#define GROUP_PATH "/apis/machineconfiguration.openshift.io/v1/"
#define PAGE_LIMIT 100

enum side_kind { SIDE_POOLS = 0, SIDE_MCS = 1 };

/* Extracts sorted by name (pools or MachineConfigs, by side). */
struct set {
    void **items;
    size_t n, cap;
};

struct side {
    struct osw_cluster_cache *cache;
    enum side_kind kind;
    struct osw_reflector *refl;
    struct set cur, pending;
    bool synced, not_served;
};

struct osw_cluster_cache {
    struct side side[2];
    pthread_mutex_t mu; /* both sides and publishing */
    bool dirty;         /* an event changed a side since the last publish */
    unsigned long publishes;
    struct osw_clustercell *cell;
    const struct osw_log *log;
    struct osw_metrics *metrics;
};

static struct osw_str name_of(enum side_kind k, const void *item)
{
    return k == SIDE_POOLS ? ((const struct osw_pool *)item)->name
                           : ((const struct osw_mc *)item)->name;
}

static void item_unref(enum side_kind k, void *item)
{
    if (k == SIDE_POOLS)
        osw_pool_unref(item);
    else
        osw_mc_unref(item);
}

static void set_clear(enum side_kind k, struct set *s)
{
    for (size_t i = 0; i < s->n; i++)
        item_unref(k, s->items[i]);
    s->n = 0;
}

static void set_free(enum side_kind k, struct set *s)
{
    set_clear(k, s);
    free(s->items);
    memset(s, 0, sizeof(*s));
}

/* Index of `name` in the sorted set, or where it would go (`*found`). */
static size_t set_find(enum side_kind k, const struct set *s, struct osw_str name, bool *found)
{
    size_t lo = 0, hi = s->n;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = osw_str_cmp(name_of(k, s->items[mid]), name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Inserts or replaces (takes over `item`); false on allocation failure. */
static bool set_put(enum side_kind k, struct set *s, void *item)
{
    bool found;
    size_t i = set_find(k, s, name_of(k, item), &found);
    if (found) {
        item_unref(k, s->items[i]);
        s->items[i] = item;
        return true;
    }
    if (!osw_grow(&s->items, &s->cap, s->n, sizeof(*s->items), 64)) {
        item_unref(k, item);
        return false;
    }
    memmove(&s->items[i + 1], &s->items[i], (s->n - i) * sizeof(*s->items));
    s->items[i] = item;
    s->n++;
    return true;
}

static void set_remove(enum side_kind k, struct set *s, struct osw_str name)
{
    bool found;
    size_t i = set_find(k, s, name, &found);
    if (!found)
        return;
    item_unref(k, s->items[i]);
    memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof(*s->items));
    s->n--;
}

static const char *resource_name(enum side_kind k)
{
    return k == SIDE_POOLS ? "machineconfigpools" : "machineconfigs";
}

/* The extract of an object; NULL (logged) when it cannot be made. */
static void *extract(struct side *sd, const json_t *obj)
{
    struct osw_errbuf eb;
    void *item = NULL;
    enum osw_err err = sd->kind == SIDE_POOLS
                           ? osw_pool_extract(obj, (struct osw_pool **)&item, &eb)
                           : osw_mc_extract(obj, (struct osw_mc **)&item, &eb);
    if (err == OSW_OK)
        return item;
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    struct osw_log_field f[] = {OSW_LOGF_CSTR("resource", resource_name(sd->kind)),
                                OSW_LOGF_CSTR("name", name ? name : ""),
                                OSW_LOGF_CSTR("error", eb.msg)};
    osw_log_write(sd->cache->log, OSW_LOG_WARN, "cluster-state object ignored", f, 3);
    return NULL;
}

/* Builds and publishes the snapshot for both sides' current state; called
 * with the mutex held. On allocation failure the last snapshot stays. */
static void publish(struct osw_cluster_cache *c)
{
    struct side *p = &c->side[SIDE_POOLS], *m = &c->side[SIDE_MCS];
    c->dirty = false;
    c->publishes++;
    osw_metrics_set_cache(c->metrics, OSW_CACHE_POOLS, p->synced, p->cur.n);
    osw_metrics_set_cache(c->metrics, OSW_CACHE_MACHINECONFIGS, m->synced, m->cur.n);
    if (p->not_served || m->not_served) {
        osw_clustercell_publish(c->cell, NULL, OSW_CLUSTER_NOT_SERVED);
        return;
    }
    if (!p->synced || !m->synced) {
        osw_clustercell_publish(c->cell, NULL, OSW_CLUSTER_NOT_SYNCED);
        return;
    }
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    struct osw_cluster *cl = NULL;
    enum osw_err err = b ? OSW_OK : OSW_ENOMEM;
    for (size_t i = 0; i < p->cur.n && err == OSW_OK; i++)
        err = osw_cluster_builder_add_pool(b, p->cur.items[i]);
    for (size_t i = 0; i < m->cur.n && err == OSW_OK; i++)
        err = osw_cluster_builder_add_mc(b, m->cur.items[i]);
    if (err == OSW_OK)
        err = osw_cluster_build(b, &cl);
    osw_cluster_builder_free(b);
    if (err != OSW_OK) {
        osw_log_write(c->log, OSW_LOG_ERROR, "cluster state not rebuilt: out of memory", NULL, 0);
        return;
    }
    osw_clustercell_publish(c->cell, cl, OSW_CLUSTER_SYNCED);
}

static void on_list_begin(void *ctx)
{
    struct side *sd = ctx;
    pthread_mutex_lock(&sd->cache->mu);
    set_clear(sd->kind, &sd->pending);
    pthread_mutex_unlock(&sd->cache->mu);
}

static void on_list_item(void *ctx, const json_t *obj)
{
    struct side *sd = ctx;
    void *item = extract(sd, obj);
    if (!item)
        return;
    pthread_mutex_lock(&sd->cache->mu);
    if (!set_put(sd->kind, &sd->pending, item))
        osw_log_write(sd->cache->log, OSW_LOG_ERROR, "cluster-state list: out of memory", NULL, 0);
    pthread_mutex_unlock(&sd->cache->mu);
}

static void on_list_commit(void *ctx, const char *resource_version)
{
    struct side *sd = ctx;
    struct osw_cluster_cache *c = sd->cache;
    (void)resource_version;
    pthread_mutex_lock(&c->mu);
    struct set old = sd->cur;
    sd->cur = sd->pending;
    memset(&sd->pending, 0, sizeof(sd->pending));
    set_free(sd->kind, &old);
    bool first = !sd->synced;
    sd->synced = true;
    sd->not_served = false;
    publish(c);
    size_t n = sd->cur.n;
    pthread_mutex_unlock(&c->mu);
    struct osw_log_field f[] = {OSW_LOGF_CSTR("resource", resource_name(sd->kind)),
                                OSW_LOGF_INT("objects", (long long)n)};
    osw_log_write(c->log, first ? OSW_LOG_INFO : OSW_LOG_DEBUG, "cluster-state cache listed", f, 2);
}

static void on_list_abort(void *ctx)
{
    on_list_begin(ctx);
}

static void on_event(void *ctx, enum osw_watch_type type, const json_t *obj)
{
    struct side *sd = ctx;
    struct osw_cluster_cache *c = sd->cache;
    void *item = NULL;
    if (type == OSW_WATCH_ADDED || type == OSW_WATCH_MODIFIED) {
        item = extract(sd, obj);
        if (!item)
            return;
    } else if (type != OSW_WATCH_DELETED) {
        return;
    }
    const json_t *name = json_object_get(json_object_get(obj, "metadata"), "name");
    pthread_mutex_lock(&c->mu);
    if (item)
        set_put(sd->kind, &sd->cur, item);
    else if (json_is_string(name))
        set_remove(sd->kind, &sd->cur,
                   (struct osw_str){json_string_value(name), json_string_length(name)});
    c->dirty = true; /* published by on_events_flushed */
    pthread_mutex_unlock(&c->mu);
}

/* The reflector delivered every event it holds: publish what they changed
 * (nothing when another publish since already did). */
static void on_events_flushed(void *ctx)
{
    struct side *sd = ctx;
    struct osw_cluster_cache *c = sd->cache;
    pthread_mutex_lock(&c->mu);
    if (c->dirty)
        publish(c);
    pthread_mutex_unlock(&c->mu);
}

static void on_not_served(void *ctx)
{
    struct side *sd = ctx;
    struct osw_cluster_cache *c = sd->cache;
    pthread_mutex_lock(&c->mu);
    bool first = !sd->not_served;
    sd->not_served = true;
    sd->synced = false;
    set_clear(sd->kind, &sd->cur);
    publish(c);
    pthread_mutex_unlock(&c->mu);
    struct osw_log_field f[] = {OSW_LOGF_CSTR("resource", resource_name(sd->kind))};
    osw_log_write(c->log, first ? OSW_LOG_INFO : OSW_LOG_DEBUG,
                  "cluster-state kind not served by the API: parity rules skipped", f, 1);
}

/* A MachineConfig list element as the reduced tree (objtree.h): the extract
 * reads only metadata, spec.osImageURL and the CRI-O drop-ins, so the rest
 * of the Ignition, megabytes in a rendered MachineConfig, is validated but
 * never built. */
static enum osw_err decode_mc(void *ctx, const char *data, size_t len, json_t **out,
                              struct osw_errbuf *eb)
{
    (void)ctx;
    return osw_objtree_decode(data, len, out, eb);
}

/* ADDED, MODIFIED or DELETED, by name; false for any other type. */
static bool object_event_type(struct osw_str name, enum osw_watch_type *out)
{
    static const enum osw_watch_type types[] = {OSW_WATCH_ADDED, OSW_WATCH_MODIFIED,
                                                OSW_WATCH_DELETED};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (osw_str_eq_cstr(name, osw_watchline_type_name(types[i]))) {
            *out = types[i];
            return true;
        }
    }
    return false;
}

/* A MachineConfig watch event with its object as the reduced tree, as list
 * elements are read (a rendered MachineConfig's MODIFIED event is megabytes
 * too). Only the plain case is read this way: an ADDED, MODIFIED or DELETED
 * event whose object has a string metadata.resourceVersion; every other
 * line (BOOKMARK, ERROR, malformed, a raw NUL) is parsed whole by
 * osw_watchline_decode, which gives today's verdict and message. */
enum osw_err osw_cluster_cache_decode_mc_event(const char *line, size_t len,
                                               struct osw_watch_event *ev, struct osw_errbuf *eb)
{
    struct osw_str type;
    json_t *obj = NULL;
    memset(ev, 0, sizeof(*ev));
    if (osw_objtree_decode_event(line, len, &type, &obj, NULL) == OSW_OK &&
        object_event_type(type, &ev->type)) {
        const char *rv =
            json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
        if (rv) {
            ev->root = obj;
            ev->object = obj;
            ev->resource_version = rv;
            return OSW_OK;
        }
    }
    json_decref(obj);
    return osw_watchline_decode(line, len, ev, eb);
}

static enum osw_err decode_mc_event(void *ctx, const char *line, size_t len,
                                    struct osw_watch_event *ev, struct osw_errbuf *eb)
{
    (void)ctx;
    return osw_cluster_cache_decode_mc_event(line, len, ev, eb);
}

/* Pools are small: their list elements and events are parsed whole. */
static const struct osw_reflector_sink_ops sink_ops[2] = {
    [SIDE_POOLS] = {on_list_begin, on_list_item, on_list_commit, on_list_abort, on_event,
                    on_not_served, NULL, on_events_flushed, NULL},
    [SIDE_MCS] = {on_list_begin, on_list_item, on_list_commit, on_list_abort, on_event,
                  on_not_served, decode_mc, on_events_flushed, decode_mc_event},
};

static void destroy_transport(struct osw_reflector_transport t)
{
    if (t.ops && t.ops->destroy)
        t.ops->destroy(t.impl);
}

enum osw_err osw_cluster_cache_new(struct osw_reflector_transport pools,
                                   struct osw_reflector_transport machineconfigs,
                                   struct osw_clustercell *cell, const struct osw_log *log,
                                   struct osw_metrics *metrics,
                                   const struct osw_cluster_cache_tuning *tuning,
                                   struct osw_cluster_cache **out, struct osw_errbuf *eb)
{
    static const char *const pool_path[] = {GROUP_PATH "machineconfigpools"};
    static const char *const mc_path[] = {GROUP_PATH "machineconfigs"};
    struct osw_reflector_transport t[2] = {pools, machineconfigs};
    *out = NULL;
    struct osw_cluster_cache *c = calloc(1, sizeof(*c));
    if (!c || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        destroy_transport(t[0]);
        destroy_transport(t[1]);
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    c->cell = cell;
    c->log = log;
    c->metrics = metrics;
    osw_clustercell_publish(cell, NULL, OSW_CLUSTER_NOT_SYNCED);
    enum osw_err err = OSW_OK;
    for (int i = 0; i < 2; i++) {
        struct side *sd = &c->side[i];
        sd->cache = c;
        sd->kind = (enum side_kind)i;
        struct osw_reflector_config cfg = {
            .resource = i == 0 ? "machineconfigpools.machineconfiguration.openshift.io"
                               : "machineconfigs.machineconfiguration.openshift.io",
            .paths = i == 0 ? pool_path : mc_path,
            .npaths = 1,
            .page_limit = PAGE_LIMIT,
        };
        if (tuning) {
            cfg.backoff_base_ms = tuning->backoff_base_ms;
            cfg.backoff_cap_ms = tuning->backoff_cap_ms;
            cfg.not_served_retry_ms = tuning->not_served_retry_ms;
            cfg.seed = tuning->seed;
        }
        if (err == OSW_OK)
            err = osw_reflector_new(&cfg, t[i], &sink_ops[i], sd, log, metrics, &sd->refl, eb);
        else
            destroy_transport(t[i]);
    }
    if (err != OSW_OK) {
        osw_cluster_cache_free(c);
        return err;
    }
    *out = c;
    return OSW_OK;
}

enum osw_err osw_cluster_cache_start(struct osw_cluster_cache *c, struct osw_errbuf *eb)
{
    enum osw_err err = osw_reflector_start(c->side[0].refl, eb);
    if (err == OSW_OK)
        err = osw_reflector_start(c->side[1].refl, eb);
    return err;
}

void osw_cluster_cache_stop(struct osw_cluster_cache *c)
{
    if (!c)
        return;
    osw_reflector_stop(c->side[0].refl);
    osw_reflector_stop(c->side[1].refl);
}

unsigned long osw_cluster_cache_publishes(struct osw_cluster_cache *c)
{
    pthread_mutex_lock(&c->mu);
    unsigned long n = c->publishes;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void osw_cluster_cache_free(struct osw_cluster_cache *c)
{
    if (!c)
        return;
    osw_cluster_cache_stop(c);
    for (int i = 0; i < 2; i++) {
        osw_reflector_free(c->side[i].refl);
        set_free((enum side_kind)i, &c->side[i].cur);
        set_free((enum side_kind)i, &c->side[i].pending);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

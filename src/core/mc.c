/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MachineConfig extract: name, labels, whether a controller generated it,
 * spec.osImageURL and the decoded CRI-O drop-ins (crio.c), but nothing of the
 * Ignition config itself, which can be megabytes (CONTRACT.md "Cluster
 * state"). The same extract serves the cache and the MachineConfig under
 * review, so both are judged alike.
 */
#include <stdlib.h>
#include <string.h>

#include "osw/cluster.h"

static struct osw_str jstr(const json_t *v)
{
    return (struct osw_str){json_string_value(v), json_string_length(v)};
}

/* Whether member `key` of `obj` is absent, null or of JSON type `want`. */
static bool optional(const json_t *obj, const char *key, json_type want)
{
    const json_t *v = json_object_get(obj, key);
    return !v || json_is_null(v) || json_typeof(v) == want;
}

static bool string_map(const json_t *m)
{
    const char *k;
    const json_t *v;
    if (!m || json_is_null(m))
        return true;
    if (!json_is_object(m))
        return false;
    json_object_foreach((json_t *)m, k, v)
    {
        if (!json_is_string(v))
            return false;
    }
    return true;
}

static enum osw_err check_types(const json_t *obj, struct osw_errbuf *eb)
{
    const json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(obj))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "MachineConfig is not an object");
    if (!optional(obj, "metadata", JSON_OBJECT))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "metadata must be an object");
    if (!optional(meta, "name", JSON_STRING))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "metadata.name must be a string");
    if (!string_map(json_object_get(meta, "labels")))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "metadata.labels must be a map of strings");
    if (!string_map(json_object_get(meta, "annotations")))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "metadata.annotations must be a map of strings");
    if (!optional(obj, "spec", JSON_OBJECT))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "spec must be an object");
    if (!optional(json_object_get(obj, "spec"), "osImageURL", JSON_STRING))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "spec.osImageURL must be a string");
    return OSW_OK;
}

enum osw_err osw_mc_extract(const json_t *obj, struct osw_mc **out, struct osw_errbuf *eb)
{
    *out = NULL;
    enum osw_err err = check_types(obj, eb);
    if (err != OSW_OK)
        return err;
    const json_t *meta = json_object_get(obj, "metadata");
    struct osw_str name = jstr(json_object_get(meta, "name"));
    struct osw_str url = jstr(json_object_get(json_object_get(obj, "spec"), "osImageURL"));
    const json_t *gen =
        json_object_get(json_object_get(meta, "annotations"), OSW_MC_GENERATED_ANNO);
    struct osw_mc *mc = calloc(1, sizeof(*mc));
    if (!mc)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    atomic_init(&mc->refs, 1);
    mc->bytes = malloc(name.len + url.len + 1);
    err =
        mc->bytes ? osw_labels_from_json(json_object_get(meta, "labels"), &mc->labels) : OSW_ENOMEM;
    if (err != OSW_OK) {
        osw_mc_unref(mc);
        return osw_errbuf_set(eb, err, "out of memory");
    }
    if (name.len)
        memcpy(mc->bytes, name.ptr, name.len);
    if (url.len)
        memcpy(mc->bytes + name.len, url.ptr, url.len);
    mc->name = (struct osw_str){mc->bytes, name.len};
    mc->url = (struct osw_str){mc->bytes + name.len, url.len};
    mc->generated = json_string_length(gen) > 0;
    const struct osw_str *role = osw_labels_get(&mc->labels, OSW_STR_LIT(OSW_MC_ROLE_LABEL));
    mc->role_worker = role && osw_str_eq_cstr(*role, "worker");
    err = osw_crio_extract_build(obj, &mc->crio);
    if (err != OSW_OK) {
        osw_mc_unref(mc);
        return osw_errbuf_set(eb, err, "out of memory");
    }
    /* Most MachineConfigs have no drop-in: keep nothing for them. */
    if (!mc->crio->undecodable && mc->crio->count == 0) {
        osw_crio_extract_free(mc->crio);
        mc->crio = NULL;
    }
    *out = mc;
    return OSW_OK;
}

struct osw_mc *osw_mc_ref(struct osw_mc *mc)
{
    if (mc)
        atomic_fetch_add_explicit(&mc->refs, 1, memory_order_relaxed);
    return mc;
}

void osw_mc_unref(struct osw_mc *mc)
{
    if (!mc || atomic_fetch_sub_explicit(&mc->refs, 1, memory_order_acq_rel) != 1)
        return;
    osw_crio_extract_free(mc->crio);
    osw_labels_free(&mc->labels);
    free(mc->bytes);
    free(mc);
}

int osw_mc_merge_cmp(const struct osw_mc *a, const struct osw_mc *b)
{
    if (a->role_worker != b->role_worker)
        return a->role_worker ? -1 : 1;
    size_t n = a->name.len < b->name.len ? a->name.len : b->name.len;
    int c = n ? memcmp(a->name.ptr, b->name.ptr, n) : 0;
    if (c != 0)
        return c;
    return a->name.len < b->name.len ? -1 : a->name.len > b->name.len;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MachineConfigPool as the parity rules read it: name, the stream it
 * names (a malformed spec.osImageStream names none, Decision 6), spec.paused
 * and the parsed machineConfigSelector. Made from a cached object or from
 * the parts of the object under review, so both are judged alike.
 */
#include <stdlib.h>
#include <string.h>

#include "osw/cluster.h"
#include "osw/jalloc.h"

bool osw_pool_name_is_custom(struct osw_str name)
{
    return !osw_str_eq_cstr(name, "master") && !osw_str_eq_cstr(name, "worker") &&
           !osw_str_eq_cstr(name, "arbiter");
}

enum osw_err osw_pool_make(struct osw_str name, struct osw_str stream, bool paused,
                           struct osw_selector *selector, struct osw_pool **out)
{
    *out = NULL;
    struct osw_pool *p = calloc(1, sizeof(*p));
    char *bytes = p ? malloc(name.len + stream.len + 1) : NULL;
    if (!bytes) {
        free(p);
        osw_selector_free(selector);
        return OSW_ENOMEM;
    }
    atomic_init(&p->refs, 1);
    if (name.len)
        memcpy(bytes, name.ptr, name.len);
    if (stream.len)
        memcpy(bytes + name.len, stream.ptr, stream.len);
    p->bytes = bytes;
    p->name = (struct osw_str){bytes, name.len};
    p->stream = (struct osw_str){bytes + name.len, stream.len};
    p->paused = paused;
    p->custom = osw_pool_name_is_custom(p->name);
    p->selector = selector;
    *out = p;
    return OSW_OK;
}

/* The selector's compact text, as the jansson request reader dumps it. */
static enum osw_err keep_selector_text(struct osw_pool *p, const json_t *sel)
{
    if (!json_is_object(sel))
        return OSW_OK;
    osw_jalloc_begin();
    p->sel_text = json_dumps(sel, JSON_COMPACT);
    if (!p->sel_text || osw_jalloc_failed()) {
        free(p->sel_text);
        p->sel_text = NULL;
        return OSW_ENOMEM;
    }
    p->selector_text = osw_str_from_cstr(p->sel_text);
    return OSW_OK;
}

enum osw_err osw_pool_extract(const json_t *obj, struct osw_pool **out, struct osw_errbuf *eb)
{
    *out = NULL;
    const json_t *meta = json_object_get(obj, "metadata");
    const json_t *name = json_object_get(meta, "name");
    const json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(obj) || (meta && !json_is_object(meta)))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "MachineConfigPool metadata must be an object");
    if (name && !json_is_string(name))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "metadata.name must be a string");
    const json_t *sn = json_object_get(json_object_get(spec, "osImageStream"), "name");
    struct osw_str stream = {json_string_value(sn), json_string_length(sn)};
    if (!json_is_string(sn) || !osw_str_is_dns1123_subdomain(stream))
        stream = OSW_STR_NULL;
    struct osw_selector *sel = NULL;
    if (osw_selector_parse(json_object_get(spec, "machineConfigSelector"), &sel) != OSW_OK)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    struct osw_str n = {json_string_value(name), json_string_length(name)};
    enum osw_err err =
        osw_pool_make(n, stream, json_is_true(json_object_get(spec, "paused")), sel, out);
    if (err == OSW_OK)
        err = keep_selector_text(*out, json_object_get(spec, "machineConfigSelector"));
    if (err == OSW_OK)
        return OSW_OK;
    osw_pool_unref(*out);
    *out = NULL;
    return osw_errbuf_set(eb, err, "out of memory");
}

struct osw_pool *osw_pool_ref(struct osw_pool *p)
{
    if (p)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void osw_pool_unref(struct osw_pool *p)
{
    if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    osw_selector_free(p->selector);
    free(p->sel_text);
    free(p->bytes);
    free(p);
}

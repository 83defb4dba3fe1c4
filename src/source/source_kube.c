/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes API source: the OSImageStream singleton through a reflector
 * (src/kube/reflector.h), as the sink that turns what the API server says
 * into snapshots. Lists replace the cache (with the object, without it, or
 * keeping the last good one when the listed object is invalid); ADDED and
 * MODIFIED events are validated like the file source's content; DELETED
 * empties the cache. Every sink call runs on the reflector's thread, so the
 * pending list state needs no lock; requests only ever read the cell.
 */
#include "source/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_PATH "/apis/machineconfiguration.openshift.io/"
#define RESOURCE   "osimagestreams.machineconfiguration.openshift.io"

struct kube_source {
    struct osw_source base; /* first member: ops receive &base */
    char *name;             /* owned: the singleton's name */
    struct osw_reflector *refl;
    /* Reflector thread only: the list in progress. */
    struct osw_osis *pending; /* a valid listed object, or NULL */
    bool pending_found;       /* the list had the object (valid or not) */
    char refused_rv[128];     /* resourceVersion last refused ("" if none) */
};

static const char *meta_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

static bool is_ours(const struct kube_source *ks, const json_t *obj)
{
    const char *n = meta_str(obj, "name");
    return n && strcmp(n, ks->name) == 0;
}

/* Publishes `snap` (taken over) unless the cell already has this very version. */
static void publish(struct kube_source *ks, struct osw_osis *snap, const char *msg)
{
    struct osw_source_env *env = &ks->base.env;
    struct osw_osis *cur = osw_snapcell_acquire(env->cell);
    bool same;
    if (snap) {
        struct osw_str rv = osw_osis_resource_version(snap);
        same = cur && rv.len > 0 && osw_str_eq(rv, osw_osis_resource_version(cur)) &&
               osw_str_eq(osw_osis_name(snap), osw_osis_name(cur));
    } else {
        same = cur == NULL;
    }
    osw_osis_unref(cur);
    if (same && osw_snapcell_synced(env->cell)) {
        osw_osis_unref(snap);
        return;
    }
    struct osw_log_field f[] = {OSW_LOGF_CSTR("source", "kubernetes")};
    osw_source_publish(env, snap, msg, f, 1);
}

/* Validates an object; NULL (refused, logged and counted) when invalid. The
 * same refused version seen again by a relist is not refused twice. */
static struct osw_osis *validate(struct kube_source *ks, const json_t *obj, const char *how)
{
    struct osw_osis *snap = NULL;
    struct osw_errbuf eb;
    const char *rv = meta_str(obj, "resourceVersion");
    eb.msg[0] = '\0';
    enum osw_err err = osw_osis_parse(obj, &snap, &eb);
    if (err == OSW_OK)
        return snap;
    if (rv && *rv && strcmp(rv, ks->refused_rv) == 0)
        return NULL;
    if (err != OSW_ENOMEM)
        snprintf(ks->refused_rv, sizeof(ks->refused_rv), "%s", rv ? rv : "");
    struct osw_log_field f[] = {
        OSW_LOGF_CSTR("source", "kubernetes"),
        OSW_LOGF_CSTR("name", ks->name),
        OSW_LOGF_CSTR("resourceVersion", rv ? rv : ""),
        OSW_LOGF_CSTR("event", how),
        OSW_LOGF_CSTR("error", err == OSW_ENOMEM ? "out of memory" : eb.msg),
    };
    osw_source_refuse(&ks->base.env,
                      "OSImageStream from the API refused; the last good snapshot stays in use", f,
                      sizeof(f) / sizeof(f[0]));
    return NULL;
}

static void on_list_begin(void *ctx)
{
    struct kube_source *ks = ctx;
    osw_osis_unref(ks->pending);
    ks->pending = NULL;
    ks->pending_found = false;
}

static void on_list_item(void *ctx, const json_t *obj)
{
    struct kube_source *ks = ctx;
    if (!is_ours(ks, obj) || ks->pending_found)
        return;
    ks->pending_found = true;
    ks->pending = validate(ks, obj, "list");
}

static void on_list_commit(void *ctx, const char *resource_version)
{
    struct kube_source *ks = ctx;
    struct osw_osis *snap = ks->pending;
    (void)resource_version;
    ks->pending = NULL;
    if (snap) {
        publish(ks, snap, "OSImageStream listed from the API: snapshot in use");
    } else if (!ks->pending_found) {
        publish(ks, NULL, "OSImageStream not found in the API: cache empty");
    } else if (!osw_snapcell_synced(ks->base.env.cell)) {
        /* Listed but invalid, with nothing good before it: synced, empty. */
        publish(ks, NULL, "OSImageStream from the API is invalid: cache empty");
    }
}

static void on_list_abort(void *ctx)
{
    on_list_begin(ctx);
}

static void on_event(void *ctx, enum osw_watch_type type, const json_t *obj)
{
    struct kube_source *ks = ctx;
    if (!is_ours(ks, obj))
        return; /* the field selector should make this impossible */
    if (type == OSW_WATCH_DELETED) {
        publish(ks, NULL, "OSImageStream deleted: cache empty");
        return;
    }
    struct osw_osis *snap = validate(ks, obj, osw_watchline_type_name(type));
    if (snap)
        publish(ks, snap, "OSImageStream changed: new snapshot in use");
}

static const struct osw_reflector_sink_ops sink_ops = {
    on_list_begin, on_list_item, on_list_commit, on_list_abort, on_event, NULL, NULL, NULL, NULL,
};

static enum osw_err kube_start(struct osw_source *src, struct osw_errbuf *eb)
{
    struct kube_source *ks = (struct kube_source *)src;
    return osw_reflector_start(ks->refl, eb);
}

static void kube_stop(struct osw_source *src)
{
    struct kube_source *ks = (struct kube_source *)src;
    osw_reflector_stop(ks->refl);
}

static void kube_destroy(struct osw_source *src)
{
    struct kube_source *ks = (struct kube_source *)src;
    if (!ks)
        return;
    osw_reflector_free(ks->refl);
    osw_osis_unref(ks->pending);
    free(ks->name);
    free(ks);
}

static const struct osw_source_ops kube_ops = {
    .name = "kubernetes",
    .start = kube_start,
    .stop = kube_stop,
    .destroy = kube_destroy,
};

enum osw_err osw_source_kube_new(const char *name, struct osw_reflector_transport transport,
                                 const struct osw_source_env *env, struct osw_source **out,
                                 struct osw_errbuf *eb)
{
    static const char *const paths[] = {GROUP_PATH "v1/osimagestreams",
                                        GROUP_PATH "v1alpha1/osimagestreams"};
    char selector[300];
    enum osw_err err;

    *out = NULL;
    if (!name || !*name || strlen(name) > 253 || !env || !env->cell) {
        if (transport.ops && transport.ops->destroy)
            transport.ops->destroy(transport.impl);
        return osw_errbuf_set(eb, OSW_EINVAL, "Kubernetes API source: no name or snapshot cell");
    }
    struct kube_source *ks = calloc(1, sizeof(*ks));
    if (!ks || !(ks->name = strdup(name))) {
        free(ks);
        if (transport.ops && transport.ops->destroy)
            transport.ops->destroy(transport.impl);
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    ks->base.ops = &kube_ops;
    ks->base.env = *env;
    snprintf(selector, sizeof(selector), "metadata.name=%s", name);
    struct osw_reflector_config cfg = {
        .resource = RESOURCE,
        .paths = paths,
        .npaths = sizeof(paths) / sizeof(paths[0]),
        .field_selector = selector,
    };
    err = osw_reflector_new(&cfg, transport, &sink_ops, ks, env->log, env->metrics, &ks->refl, eb);
    if (err != OSW_OK) {
        kube_destroy(&ks->base);
        return err;
    }
    *out = &ks->base;
    return OSW_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pools and MachineConfigs from manifests into a cluster snapshot, for the
 * offline commands. Lists are walked (a bounded depth); an item of a
 * `<Kind>List` without its own kind is of that kind, as the API returns
 * lists. Objects of other kinds and groups are ignored.
 */
#include <stdio.h>
#include <string.h>

#include "cli/input.h"
#include "cli/objects.h"
#include "yaml/yaml.h"

#define GROUP         "machineconfiguration.openshift.io"
#define MAX_NESTING   8
#define MAX_OBJECTS_B ((size_t)256 * 1024 * 1024)

enum kind { OTHER, POOL, MC };

static enum kind kind_of(const json_t *obj, const char *list_kind)
{
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    size_t glen = sizeof(GROUP) - 1;
    if (!kind && list_kind) {
        kind = list_kind;
    } else if (!av || strncmp(av, GROUP, glen) != 0 || av[glen] != '/') {
        return OTHER;
    }
    if (kind && strcmp(kind, "MachineConfigPool") == 0)
        return POOL;
    if (kind && strcmp(kind, "MachineConfig") == 0)
        return MC;
    return OTHER;
}

static enum osw_err add(struct osw_cluster_builder *b, const json_t *obj, const char *list_kind,
                        unsigned depth, bool skip_bad, struct osw_errbuf *eb)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const json_t *items = json_object_get(obj, "items");
    size_t n = kind ? strlen(kind) : 0;
    if (!json_is_object(obj))
        return OSW_OK;
    if (n >= 4 && strcmp(kind + n - 4, "List") == 0 && json_is_array(items)) {
        if (depth >= MAX_NESTING)
            return OSW_OK;
        /* "MachineConfigPoolList" items are MachineConfigPools. */
        char item_kind[128];
        snprintf(item_kind, sizeof(item_kind), "%.*s", (int)(n - 4), kind);
        enum osw_err err = OSW_OK;
        for (size_t i = 0; i < json_array_size(items) && err == OSW_OK; i++)
            err =
                add(b, json_array_get(items, i), n > 4 ? item_kind : NULL, depth + 1, skip_bad, eb);
        return err;
    }
    enum osw_err err = OSW_OK;
    switch (kind_of(obj, list_kind)) {
    case POOL: {
        struct osw_pool *p = NULL;
        err = osw_pool_extract(obj, &p, eb);
        if (err == OSW_OK)
            err = osw_cluster_builder_add_pool(b, p);
        osw_pool_unref(p);
        break;
    }
    case MC: {
        struct osw_mc *m = NULL;
        err = osw_mc_extract(obj, &m, eb);
        if (err == OSW_OK)
            err = osw_cluster_builder_add_mc(b, m);
        osw_mc_unref(m);
        break;
    }
    case OTHER:
        break;
    }
    return err == OSW_EBADOBJ && skip_bad ? OSW_OK : err;
}

enum osw_err osw_objects_add(struct osw_cluster_builder *b, const json_t *obj, bool skip_bad,
                             struct osw_errbuf *eb)
{
    return add(b, obj, NULL, 0, skip_bad, eb);
}

enum osw_err osw_objects_load(const char *path, struct osw_cluster **out, struct osw_errbuf *eb)
{
    struct osw_buf in = OSW_BUF_INIT;
    struct osw_cluster_builder *b = NULL;
    json_t *docs = NULL;
    struct osw_errbuf why;
    const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
    *out = NULL;
    enum osw_err err = osw_input_read(path, MAX_OBJECTS_B, &in, eb);
    if (err != OSW_OK)
        goto out;
    err = osw_yaml_parse_any(in.data ? in.data : "", in.len, &docs, &why);
    if (err != OSW_OK) {
        osw_errbuf_set(eb, err, "%s:%s", shown, why.msg);
        goto out;
    }
    b = osw_cluster_builder_new();
    err = b ? OSW_OK : OSW_ENOMEM;
    for (size_t i = 0; i < json_array_size(docs) && err == OSW_OK; i++)
        err = osw_objects_add(b, json_array_get(docs, i), false, &why);
    if (err == OSW_OK)
        err = osw_cluster_build(b, out);
    if (err != OSW_OK)
        osw_errbuf_set(eb, err, "%s: %s", shown, err == OSW_ENOMEM ? "out of memory" : why.msg);
out:
    osw_cluster_builder_free(b);
    json_decref(docs);
    osw_buf_free(&in);
    return err;
}

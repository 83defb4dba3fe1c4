/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Life cycle of the decoded AdmissionReview view and the names of its enums.
 * The readers that fill the view live in review_jansson.c and src/json/.
 */
#include <string.h>

#include "osw/review.h"

static const char *const annot_keys[OSW_ANNOT_COUNT] = {
    OSW_ANNOT_PREFIX "stream",
    OSW_ANNOT_PREFIX "os-image",
    OSW_ANNOT_PREFIX "os-extensions-image",
    OSW_ANNOT_PREFIX "stream-source",
};

const char *osw_annot_key(enum osw_annot a)
{
    return (unsigned)a < OSW_ANNOT_COUNT ? annot_keys[a] : "";
}

const char *osw_jtype_name(enum osw_jtype t)
{
    switch (t) {
    case OSW_JT_ABSENT:
        return "absent";
    case OSW_JT_NULL:
        return "null";
    case OSW_JT_STRING:
        return "string";
    case OSW_JT_OBJECT:
        return "object";
    case OSW_JT_ARRAY:
        return "array";
    case OSW_JT_NUMBER:
        return "number";
    case OSW_JT_BOOL:
        return "boolean";
    }
    return "unknown";
}

/* spec.osImageURL (MachineConfig), spec.defaultStream (OSImageStream) and
 * spec.config, the Ignition whose CRI-O drop-ins rule R decodes
 * (MachineConfig; reduced to what the extract reads, see review.h). */
const char *const osw_review_tree_spec_keys[OSW_REVIEW_TREE_SPEC_NKEYS + 1] = {
    "osImageURL", "defaultStream", "config", NULL};

bool osw_review_tree_keeps_path(const char *path, size_t len)
{
    return len >= OSW_REVIEW_TREE_PATH_PREFIX_LEN &&
           memcmp(path, OSW_REVIEW_TREE_PATH_PREFIX, OSW_REVIEW_TREE_PATH_PREFIX_LEN) == 0;
}

bool osw_review_wants_trees(const struct osw_review *r)
{
    return r->resource_group.type == OSW_JT_STRING &&
           osw_str_eq_cstr(r->resource_group.str, "machineconfiguration.openshift.io") &&
           r->resource_resource.type == OSW_JT_STRING &&
           (osw_str_eq_cstr(r->resource_resource.str, "machineconfigs") ||
            osw_str_eq_cstr(r->resource_resource.str, "osimagestreams"));
}

static void object_view_init(struct osw_object_view *o)
{
    memset(o, 0, sizeof(*o));
    o->annotations_string_map = true;
}

void osw_review_init(struct osw_review *r)
{
    memset(r, 0, sizeof(*r));
    object_view_init(&r->object);
    object_view_init(&r->old_object);
}

void osw_review_release(struct osw_review *r)
{
    if (!r)
        return;
    if (r->storage_free && r->storage)
        r->storage_free(r->storage);
    osw_review_init(r);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test support: compares two decoded views field by field (types, and the
 * bytes of every string) and names the first difference. The unit tests and
 * the differential fuzz target use it to hold the fast reader to the jansson
 * reader, and to hold the reduced trees to the objects they come from (the
 * drop-in extract must not change). Header-only so that nothing of it lands in the library.
 */
#ifndef OSW_JSON_REVIEW_DIFF_H
#define OSW_JSON_REVIEW_DIFF_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "osw/crio.h"
#include "osw/review.h"

static inline bool review_diff_field(const struct osw_jfield *a, const struct osw_jfield *b)
{
    if (a->type != b->type)
        return false;
    if (a->type != OSW_JT_STRING)
        return true;
    return a->str.len == b->str.len &&
           (a->str.len == 0 || memcmp(a->str.ptr, b->str.ptr, a->str.len) == 0);
}

/* Two JSON texts (or none) that parse to equal values. */
static inline bool review_diff_json(struct osw_str a, struct osw_str b)
{
    if (a.len == 0 || b.len == 0)
        return a.len == b.len;
    json_t *ja = json_loadb(a.ptr, a.len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
    json_t *jb = json_loadb(b.ptr, b.len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
    bool same = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return same;
}

static inline bool review_diff_tree(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

/* Whether two drop-in extracts are equal (both NULL counts as equal). */
static inline bool review_diff_extract_eq(const struct osw_crio_extract *a,
                                          const struct osw_crio_extract *b)
{
    if (!a || !b)
        return a == b;
    if (a->undecodable != b->undecodable || a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const struct osw_crio_dropin *x = &a->dropins[i], *y = &b->dropins[i];
        if (x->state != y->state || x->path_len != y->path_len || x->value_len != y->value_len ||
            x->value_cut != y->value_cut || memcmp(x->path, y->path, x->path_len) != 0 ||
            (x->value_len && memcmp(x->value, y->value, x->value_len) != 0))
            return false;
    }
    return true;
}

/*
 * The reduced trees keep of spec.config only what the drop-in extract reads
 * (review.h): NULL when the extract of `tree` (a reduced object tree) equals
 * the extract of `full` (the same object, unreduced), else what differs.
 * Out of memory on either side is not a difference.
 */
static inline const char *review_diff_reduction(const json_t *full, const json_t *tree)
{
    struct osw_crio_extract *a = NULL, *b = NULL;
    if (!full || !tree)
        return full == tree || !tree ? NULL : "tree without object";
    const char *w = NULL;
    if (osw_crio_extract_build(full, &a) == OSW_OK && osw_crio_extract_build(tree, &b) == OSW_OK &&
        !review_diff_extract_eq(a, b))
        w = "drop-in extract of the reduced tree";
    osw_crio_extract_free(a);
    osw_crio_extract_free(b);
    return w;
}

/* review_diff_reduction() for request.object and request.oldObject of the
 * JSON `body`, whose decoded view is `r`. */
static inline const char *review_diff_reduction_body(const char *body, size_t len,
                                                     const struct osw_review *r)
{
    if (!r->object_tree && !r->old_object_tree)
        return NULL;
    json_t *root = json_loadb(body, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
    const json_t *req = json_object_get(root, "request");
    const char *w = review_diff_reduction(json_object_get(req, "object"), r->object_tree);
    if (!w)
        w = review_diff_reduction(json_object_get(req, "oldObject"), r->old_object_tree);
    json_decref(root);
    return w;
}

static inline const char *review_diff_object(const struct osw_object_view *a,
                                             const struct osw_object_view *b)
{
    if (a->type != b->type)
        return "type";
    if (a->metadata_type != b->metadata_type)
        return "metadata_type";
    if (!review_diff_field(&a->name, &b->name))
        return "metadata.name";
    if (a->annotations_type != b->annotations_type)
        return "annotations_type";
    if (a->annotations_string_map != b->annotations_string_map)
        return "annotations_string_map";
    for (int i = 0; i < OSW_ANNOT_COUNT; i++) {
        if (!review_diff_field(&a->annotations[i], &b->annotations[i]))
            return "annotations[]";
    }
    if (a->spec_type != b->spec_type)
        return "spec_type";
    if (a->stream_type != b->stream_type)
        return "stream_type";
    if (!review_diff_field(&a->stream_name, &b->stream_name))
        return "stream_name";
    if (a->selector_type != b->selector_type)
        return "selector_type";
    if (!review_diff_json(a->selector_json, b->selector_json))
        return "selector_json";
    if (a->paused_type != b->paused_type || a->paused != b->paused)
        return "paused";
    return NULL;
}

/* NULL when `a` and `b` hold the same view; else the first differing field
 * (for an object view, "object."/"old_object." then the field, in `buf`). */
static inline const char *review_diff(const struct osw_review *a, const struct osw_review *b,
                                      char *buf, size_t cap)
{
    struct osw_jfield ua = {OSW_JT_STRING, a->uid}, ub = {OSW_JT_STRING, b->uid};
    if (a->api_version != b->api_version)
        return "api_version";
    if (!review_diff_field(&ua, &ub))
        return "uid";
    if (!review_diff_field(&a->operation, &b->operation))
        return "operation";
    if (!review_diff_field(&a->name, &b->name))
        return "name";
    if (!review_diff_field(&a->sub_resource, &b->sub_resource))
        return "sub_resource";
    if (!review_diff_field(&a->username, &b->username))
        return "username";
    if (a->kind_type != b->kind_type)
        return "kind_type";
    if (!review_diff_field(&a->kind_group, &b->kind_group) ||
        !review_diff_field(&a->kind_version, &b->kind_version) ||
        !review_diff_field(&a->kind_kind, &b->kind_kind))
        return "kind.*";
    if (a->resource_type != b->resource_type)
        return "resource_type";
    if (!review_diff_field(&a->resource_group, &b->resource_group) ||
        !review_diff_field(&a->resource_version, &b->resource_version) ||
        !review_diff_field(&a->resource_resource, &b->resource_resource))
        return "resource.*";
    const char *w = review_diff_object(&a->object, &b->object);
    if (w) {
        snprintf(buf, cap, "object.%s", w);
        return buf;
    }
    w = review_diff_object(&a->old_object, &b->old_object);
    if (w) {
        snprintf(buf, cap, "old_object.%s", w);
        return buf;
    }
    if (!review_diff_tree(a->object_tree, b->object_tree))
        return "object_tree";
    if (!review_diff_tree(a->old_object_tree, b->old_object_tree))
        return "old_object_tree";
    return NULL;
}

#endif /* OSW_JSON_REVIEW_DIFF_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mutation patch: the minimal RFC 6902 operations that make the pool's
 * osimagestream annotations match what the decision wants (each key set to a
 * value, or absent). Nothing else in the object is touched, so
 * the patch is idempotent: applying it and mutating again yields no patch.
 */
#include <string.h>

#include "core_internal.h"

/* Appends an RFC 6901 pointer token: '~' -> "~0", '/' -> "~1". */
static enum osw_err append_pointer_token(struct osw_buf *b, const char *tok)
{
    enum osw_err err = OSW_OK;
    for (const char *p = tok; *p && err == OSW_OK; p++) {
        if (*p == '~')
            err = osw_buf_append(b, "~0", 2);
        else if (*p == '/')
            err = osw_buf_append(b, "~1", 2);
        else
            err = osw_buf_append(b, p, 1);
    }
    return err;
}

static enum osw_err open_op(struct osw_buf *b, const char *op)
{
    enum osw_err err = osw_buf_append_cstr(b, b->len == 0 ? "[" : ",");
    if (err == OSW_OK)
        err = osw_buf_printf(b, "{\"op\":\"%s\",\"path\":\"", op);
    return err;
}

static enum osw_err key_op(struct osw_buf *b, const char *op, enum osw_annot a,
                           const struct osw_str *value)
{
    enum osw_err err = open_op(b, op);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(b, "/metadata/annotations/");
    if (err == OSW_OK)
        err = append_pointer_token(b, osw_annot_key(a));
    if (err == OSW_OK)
        err = osw_buf_append_cstr(b, value ? "\",\"value\":" : "\"}");
    if (err == OSW_OK && value) {
        err = osw_buf_append_json_string(b, *value);
        if (err == OSW_OK)
            err = osw_buf_append_cstr(b, "}");
    }
    return err;
}

/* One `add` that creates the whole annotations map (or metadata with it)
 * holding the keys `want` sets. */
static enum osw_err add_whole_map(const struct osw_object_view *obj,
                                  const struct osw_annot_want *want, struct osw_buf *b)
{
    bool no_metadata = obj->metadata_type != OSW_JT_OBJECT;
    enum osw_err err = open_op(b, "add");
    if (err == OSW_OK)
        err = osw_buf_append_cstr(b, no_metadata ? "/metadata\",\"value\":{\"annotations\":{"
                                                 : "/metadata/annotations\",\"value\":{");
    bool first = true;
    for (int a = 0; a < OSW_ANNOT_COUNT && err == OSW_OK; a++) {
        if (!want->set[a])
            continue;
        if (!first)
            err = osw_buf_append_cstr(b, ",");
        first = false;
        if (err == OSW_OK)
            err =
                osw_buf_append_json_string(b, osw_str_from_cstr(osw_annot_key((enum osw_annot)a)));
        if (err == OSW_OK)
            err = osw_buf_append_cstr(b, ":");
        if (err == OSW_OK)
            err = osw_buf_append_json_string(b, want->value[a]);
    }
    if (err == OSW_OK)
        err = osw_buf_append_cstr(b, no_metadata ? "}}}" : "}}");
    return err;
}

void osw_annot_want_stream(struct osw_annot_want *w, const struct osw_stream *st)
{
    memset(w, 0, sizeof(*w));
    if (!st)
        return;
    w->set[OSW_ANNOT_STREAM] = w->set[OSW_ANNOT_OS_IMAGE] = w->set[OSW_ANNOT_EXT_IMAGE] = true;
    w->value[OSW_ANNOT_STREAM] = st->name;
    w->value[OSW_ANNOT_OS_IMAGE] = st->os_image;
    w->value[OSW_ANNOT_EXT_IMAGE] = st->ext_image;
}

enum osw_err osw_patch_build(const struct osw_object_view *obj, const struct osw_annot_want *want,
                             struct osw_buf *patch)
{
    enum osw_err err = OSW_OK;
    bool have_map = obj->annotations_type == OSW_JT_OBJECT;
    bool any_set = false;
    for (int a = 0; a < OSW_ANNOT_COUNT; a++)
        any_set = any_set || want->set[a];
    osw_buf_reset(patch);
    if (!have_map) {
        if (any_set)
            err = add_whole_map(obj, want, patch);
    } else {
        for (int a = 0; a < OSW_ANNOT_COUNT && err == OSW_OK; a++) {
            const struct osw_jfield *cur = &obj->annotations[a];
            if (!want->set[a]) {
                if (cur->type != OSW_JT_ABSENT)
                    err = key_op(patch, "remove", (enum osw_annot)a, NULL);
            } else if (cur->type == OSW_JT_ABSENT) {
                err = key_op(patch, "add", (enum osw_annot)a, &want->value[a]);
            } else if (cur->type != OSW_JT_STRING || !osw_str_eq(cur->str, want->value[a])) {
                err = key_op(patch, "replace", (enum osw_annot)a, &want->value[a]);
            }
        }
    }
    if (err == OSW_OK && patch->len > 0)
        err = osw_buf_append_cstr(patch, "]");
    if (err != OSW_OK)
        osw_buf_reset(patch);
    return err;
}

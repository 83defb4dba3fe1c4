/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mutation patch: the minimal RFC 6902 operations that make the pool's
 * three osimagestream annotations match the resolved stream (or removes
 * them when no stream is named). Nothing else in the object is touched, so
 * the patch is idempotent: applying it and mutating again yields no patch.
 */
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

static void stream_values(const struct osw_stream *st, struct osw_str v[OSW_ANNOT_COUNT])
{
    v[OSW_ANNOT_STREAM] = st->name;
    v[OSW_ANNOT_OS_IMAGE] = st->os_image;
    v[OSW_ANNOT_EXT_IMAGE] = st->ext_image;
}

/* One `add` that creates the whole annotations map (or metadata with it). */
static enum osw_err add_whole_map(const struct osw_object_view *obj,
                                  const struct osw_str v[OSW_ANNOT_COUNT], struct osw_buf *b)
{
    bool no_metadata = obj->metadata_type != OSW_JT_OBJECT;
    enum osw_err err = open_op(b, "add");
    if (err == OSW_OK)
        err = osw_buf_append_cstr(b, no_metadata ? "/metadata\",\"value\":{\"annotations\":{"
                                                 : "/metadata/annotations\",\"value\":{");
    for (int a = 0; a < OSW_ANNOT_COUNT && err == OSW_OK; a++) {
        if (a > 0)
            err = osw_buf_append_cstr(b, ",");
        if (err == OSW_OK)
            err =
                osw_buf_append_json_string(b, osw_str_from_cstr(osw_annot_key((enum osw_annot)a)));
        if (err == OSW_OK)
            err = osw_buf_append_cstr(b, ":");
        if (err == OSW_OK)
            err = osw_buf_append_json_string(b, v[a]);
    }
    if (err == OSW_OK)
        err = osw_buf_append_cstr(b, no_metadata ? "}}}" : "}}");
    return err;
}

enum osw_err osw_patch_build(const struct osw_object_view *obj, const struct osw_stream *st,
                             struct osw_buf *patch)
{
    enum osw_err err = OSW_OK;
    bool have_map = obj->annotations_type == OSW_JT_OBJECT;
    osw_buf_reset(patch);
    if (st) {
        struct osw_str v[OSW_ANNOT_COUNT];
        stream_values(st, v);
        if (!have_map) {
            err = add_whole_map(obj, v, patch);
        } else {
            for (int a = 0; a < OSW_ANNOT_COUNT && err == OSW_OK; a++) {
                const struct osw_jfield *cur = &obj->annotations[a];
                if (cur->type == OSW_JT_ABSENT)
                    err = key_op(patch, "add", (enum osw_annot)a, &v[a]);
                else if (cur->type != OSW_JT_STRING || !osw_str_eq(cur->str, v[a]))
                    err = key_op(patch, "replace", (enum osw_annot)a, &v[a]);
            }
        }
    } else if (have_map) {
        for (int a = 0; a < OSW_ANNOT_COUNT && err == OSW_OK; a++) {
            if (obj->annotations[a].type != OSW_JT_ABSENT)
                err = key_op(patch, "remove", (enum osw_annot)a, NULL);
        }
    }
    if (err == OSW_OK && patch->len > 0)
        err = osw_buf_append_cstr(patch, "]");
    if (err != OSW_OK)
        osw_buf_reset(patch);
    return err;
}

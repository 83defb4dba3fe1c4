/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reference reader: parses the whole body with jansson and fills the
 * decoded view from the tree. It defines the semantics the fast reader
 * (src/json/) must reproduce exactly; the differential fuzz target compares
 * the two. The view's slices point into the jansson tree, which the view
 * keeps alive as its storage (with the selectors' JSON text, the only values
 * the tree does not hold as text).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "osw/review.h"

#include "osw/jalloc.h"

static enum osw_jtype jtype_of(const json_t *v)
{
    if (!v)
        return OSW_JT_ABSENT;
    switch (json_typeof(v)) {
    case JSON_NULL:
        return OSW_JT_NULL;
    case JSON_STRING:
        return OSW_JT_STRING;
    case JSON_OBJECT:
        return OSW_JT_OBJECT;
    case JSON_ARRAY:
        return OSW_JT_ARRAY;
    case JSON_INTEGER:
    case JSON_REAL:
        return OSW_JT_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE:
        return OSW_JT_BOOL;
    }
    return OSW_JT_ABSENT;
}

static struct osw_str str_of(const json_t *v)
{
    struct osw_str s = {json_string_value(v), json_string_length(v)};
    return s;
}

/* A member of `obj` when `obj` is an object; NULL otherwise. */
static const json_t *member(const json_t *obj, const char *key)
{
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

static struct osw_jfield field_of(const json_t *v)
{
    struct osw_jfield f = {jtype_of(v), OSW_STR_NULL};
    if (f.type == OSW_JT_STRING)
        f.str = str_of(v);
    return f;
}

static void fill_annotations(struct osw_object_view *o, const json_t *ann)
{
    o->annotations_type = jtype_of(ann);
    o->annotations_string_map = true;
    if (!json_is_object(ann))
        return;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)ann, key, val)
    {
        if (!json_is_string(val))
            o->annotations_string_map = false;
    }
    for (int a = 0; a < OSW_ANNOT_COUNT; a++)
        o->annotations[a] = field_of(json_object_get(ann, osw_annot_key((enum osw_annot)a)));
}

/* The storage: the tree, and the dumped selectors of object and oldObject. */
struct storage {
    json_t *root;
    char *selector[2];
    json_t *tree[2]; /* the reduced object and oldObject */
};

/* Whether files[] entry `f` stays in a reduced tree (review.h). */
static bool entry_kept(const json_t *f)
{
    const json_t *path = json_object_get(f, "path");
    if (!json_is_object(f) || !json_is_string(path))
        return true;
    return osw_review_tree_keeps_path(json_string_value(path), json_string_length(path));
}

/* spec.config reduced to what the drop-in extract reads (review.h): a new
 * reference, NULL when out of memory. Kept values are shared, not copied. */
static json_t *prune_config(json_t *config)
{
    if (!json_is_object(config))
        return json_incref(config);
    json_t *c = json_object(), *storage = json_object_get(config, "storage");
    if (!c || !storage)
        return c;
    if (!json_is_object(storage)) {
        if (json_object_set(c, "storage", storage) != 0)
            goto fail;
        return c;
    }
    json_t *s = json_object(), *files = json_object_get(storage, "files");
    if (!s || json_object_set_new(c, "storage", s) != 0)
        goto fail;
    if (!files)
        return c;
    if (!json_is_array(files)) {
        if (json_object_set(s, "files", files) != 0)
            goto fail;
        return c;
    }
    json_t *kept = json_array();
    if (!kept || json_object_set_new(s, "files", kept) != 0)
        goto fail;
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        if (entry_kept(f) && json_array_append(kept, f) != 0)
            goto fail;
    }
    return c;
fail:
    json_decref(c);
    return NULL;
}

/* The reduced tree of `obj` (see review.h); NULL when out of memory. */
static json_t *reduce(const json_t *obj)
{
    json_t *t = json_object();
    const json_t *meta = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec");
    bool ok = t != NULL;
    if (ok && meta)
        ok = json_object_set(t, "metadata", (json_t *)meta) == 0;
    if (ok && spec && !json_is_object(spec))
        ok = json_object_set(t, "spec", (json_t *)spec) == 0;
    if (ok && json_is_object(spec)) {
        json_t *s = json_object();
        ok = s && json_object_set_new(t, "spec", s) == 0;
        for (size_t i = 0; ok && osw_review_tree_spec_keys[i]; i++) {
            const char *key = osw_review_tree_spec_keys[i];
            json_t *v = json_object_get(spec, key);
            if (v && strcmp(key, "config") == 0)
                ok = json_object_set_new(s, key, prune_config(v)) == 0;
            else if (v)
                ok = json_object_set(s, key, v) == 0;
        }
    }
    if (!ok) {
        json_decref(t);
        return NULL;
    }
    return t;
}

static void fill_object(struct osw_object_view *o, const json_t *obj)
{
    o->type = jtype_of(obj);
    const json_t *meta = member(obj, "metadata");
    o->metadata_type = jtype_of(meta);
    o->name = field_of(member(meta, "name"));
    fill_annotations(o, member(meta, "annotations"));
    const json_t *spec = member(obj, "spec");
    o->spec_type = jtype_of(spec);
    const json_t *stream = member(spec, "osImageStream");
    o->stream_type = jtype_of(stream);
    o->stream_name = field_of(member(stream, "name"));
    const json_t *paused = member(spec, "paused");
    o->paused_type = jtype_of(paused);
    o->paused = json_is_true(paused);
    o->selector_type = jtype_of(member(spec, "machineConfigSelector"));
}

/* The selector's JSON text, kept in `*text` (owned by the storage). */
static bool dump_selector(struct osw_object_view *o, const json_t *obj, char **text)
{
    const json_t *sel = member(member(obj, "spec"), "machineConfigSelector");
    if (!json_is_object(sel))
        return true;
    osw_jalloc_begin();
    *text = json_dumps(sel, JSON_COMPACT);
    if (!*text || osw_jalloc_failed())
        return false;
    o->selector_json = osw_str_from_cstr(*text);
    return true;
}

static void fill_gvk(const json_t *obj, enum osw_jtype *type, struct osw_jfield *a, const char *ka,
                     struct osw_jfield *b, const char *kb, struct osw_jfield *c, const char *kc)
{
    *type = jtype_of(obj);
    *a = field_of(member(obj, ka));
    *b = field_of(member(obj, kb));
    *c = field_of(member(obj, kc));
}

static void storage_free(void *p)
{
    struct storage *st = p;
    json_decref(st->root);
    free(st->selector[0]);
    free(st->selector[1]);
    json_decref(st->tree[0]);
    json_decref(st->tree[1]);
    free(st);
}

/* Envelope checks, in the order the reason strings are documented. */
static enum osw_err check_envelope(const json_t *root, struct osw_review *out,
                                   struct osw_errbuf *eb)
{
    if (!json_is_object(root))
        return osw_errbuf_set(eb, OSW_EBADREQ, "body is not an AdmissionReview: not a JSON object");
    const json_t *api = json_object_get(root, "apiVersion");
    if (json_is_string(api) && osw_str_eq_cstr(str_of(api), "admission.k8s.io/v1"))
        out->api_version = OSW_API_V1;
    else if (json_is_string(api) && osw_str_eq_cstr(str_of(api), "admission.k8s.io/v1beta1"))
        out->api_version = OSW_API_V1BETA1;
    else
        return osw_errbuf_set(eb, OSW_EBADREQ,
                              "body is not an AdmissionReview: apiVersion must be "
                              "admission.k8s.io/v1 or admission.k8s.io/v1beta1");
    const json_t *kind = json_object_get(root, "kind");
    if (!json_is_string(kind) || !osw_str_eq_cstr(str_of(kind), "AdmissionReview"))
        return osw_errbuf_set(eb, OSW_EBADREQ,
                              "body is not an AdmissionReview: kind must be AdmissionReview");
    const json_t *req = json_object_get(root, "request");
    if (!json_is_object(req))
        return osw_errbuf_set(eb, OSW_EBADREQ, "AdmissionReview has no request object");
    const json_t *uid = json_object_get(req, "uid");
    if (!json_is_string(uid) || json_string_length(uid) == 0)
        return osw_errbuf_set(eb, OSW_EBADREQ, "AdmissionReview request has no uid");
    out->uid = str_of(uid);
    return OSW_OK;
}

static void fill_request(struct osw_review *out, const json_t *req)
{
    out->operation = field_of(json_object_get(req, "operation"));
    out->name = field_of(json_object_get(req, "name"));
    out->sub_resource = field_of(json_object_get(req, "subResource"));
    out->username = field_of(member(json_object_get(req, "userInfo"), "username"));
    fill_gvk(json_object_get(req, "kind"), &out->kind_type, &out->kind_group, "group",
             &out->kind_version, "version", &out->kind_kind, "kind");
    fill_gvk(json_object_get(req, "resource"), &out->resource_type, &out->resource_group, "group",
             &out->resource_version, "version", &out->resource_resource, "resource");
    fill_object(&out->object, json_object_get(req, "object"));
    fill_object(&out->old_object, json_object_get(req, "oldObject"));
}

/* The reduced trees of the rare kinds, kept in the storage. */
static bool fill_trees(struct osw_review *out, const json_t *req, struct storage *st)
{
    const char *keys[2] = {"object", "oldObject"};
    if (!osw_review_wants_trees(out))
        return true;
    for (int i = 0; i < 2; i++) {
        const json_t *o = json_object_get(req, keys[i]);
        if (!json_is_object(o))
            continue;
        osw_jalloc_begin();
        st->tree[i] = reduce(o);
        if (!st->tree[i] || osw_jalloc_failed())
            return false;
    }
    out->object_tree = st->tree[0];
    out->old_object_tree = st->tree[1];
    return true;
}

enum osw_err osw_review_decode_jansson(const char *body, size_t len, struct osw_review *out,
                                       struct osw_errbuf *eb)
{
    osw_review_init(out);
    /* A raw NUL byte is never JSON (RFC 8259), but json_loadb accepts one
     * right after a number or literal ("[1\0]", a look-ahead quirk). */
    const char *nul = len ? memchr(body, '\0', len) : NULL;
    if (nul)
        return osw_errbuf_set(eb, OSW_EBADJSON, "body is not valid JSON: NUL byte at offset %zu",
                              (size_t)(nul - body));
    json_error_t jerr;
    osw_jalloc_begin();
    json_t *root = json_loadb(body, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
    if (!root) {
        /* Out of memory is not a client error: never answer it with 400. */
        if (osw_jalloc_failed() || json_error_code(&jerr) == json_error_out_of_memory)
            return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        return osw_errbuf_set(eb, OSW_EBADJSON, "body is not valid JSON: %s at line %d column %d",
                              jerr.text, jerr.line, jerr.column);
    }
    if (osw_jalloc_failed()) {
        /* jansson can swallow an allocation failure and return a tree with a
         * member missing: such a tree must not be decided on. */
        json_decref(root);
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    enum osw_err err = check_envelope(root, out, eb);
    if (err != OSW_OK) {
        json_decref(root);
        osw_review_init(out);
        return err;
    }
    struct storage *st = calloc(1, sizeof(*st));
    if (!st) {
        json_decref(root);
        osw_review_init(out);
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    st->root = root;
    const json_t *req = json_object_get(root, "request");
    fill_request(out, req);
    if (!dump_selector(&out->object, json_object_get(req, "object"), &st->selector[0]) ||
        !dump_selector(&out->old_object, json_object_get(req, "oldObject"), &st->selector[1]) ||
        !fill_trees(out, req, st)) {
        storage_free(st);
        osw_review_init(out);
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    out->storage = st;
    out->storage_free = storage_free;
    return OSW_OK;
}

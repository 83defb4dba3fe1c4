/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fast request reader: one pass over the body that validates all of it
 * (scan.c) and stops only at the handful of paths the decision reads,
 * filling the decoded view on the way. Nothing else is built: no tree, no
 * copies of strings without escapes (the view's slices point into the
 * body). Its verdicts and values are those of osw_review_decode_jansson,
 * duplicate keys included (the last one wins: a later member resets what an
 * earlier one filled); tests/fuzz/fuzz_reader_diff.c compares the two.
 * The object part (read_object and below, then reduce) also serves
 * osw_objtree_decode (objtree.h), which reads one object on its own, as
 * the cluster cache's MachineConfig list elements come.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "osw/jalloc.h"
#include "osw/buf.h"
#include "osw/objtree.h"
#include "json/scan.h"
#include "osw/review.h"

/* Where a view's final metadata.annotations object lies, and whether some
 * member value was not a string (then duplicates decide, see annot_check). */
struct annot_range {
    const unsigned char *start, *end;
    bool nonstring;
};

/* Decoded strings (those with escapes) live in a list of these, which
 * becomes the view's storage. */
struct chunk {
    struct chunk *next;
    char data[];
};

/* A value's bytes in the body (start NULL: absent). */
struct slice {
    const unsigned char *start, *end;
};

struct tree_slices {
    struct slice meta, spec, key[OSW_REVIEW_TREE_SPEC_NKEYS];
};

/* The last spec.config of a view, reduced while it is scanned (review.h):
 * the value, its last `storage` and that one's last `files` (start NULL:
 * absent), with their types, and the files[] entries the reduced tree
 * keeps. `kept` survives resets (only `nkept` is cleared) and is freed with
 * the reader. Read only when the view's config key slice is set, which
 * happens after the config was scanned into this. */
struct config_slices {
    struct slice storage, files;
    enum osw_jtype type, storage_type, files_type;
    struct slice *kept;
    size_t nkept, cap;
};

struct reader {
    struct osw_jscan s;
    struct chunk *store; /* decoded strings, newest first */
    bool nomem;
    struct osw_review *out;
    enum osw_jtype req_type;
    struct osw_jfield api, kind, uid;
    struct annot_range ann[2]; /* object, oldObject */
    /* Per view (object, oldObject), the bytes of the last metadata, spec
     * and kept spec members: the reduced trees of the rare kinds are parsed
     * from these alone, never from the whole object. */
    struct tree_slices ts[2];
    struct config_slices cfg[2];
    int cur; /* the view being read */
    /* How many levels shallower the object being read lies than
     * request.object: 0 in an AdmissionReview, 2 for a top-level object
     * (osw_objtree_decode). The depths below are written for the review;
     * every scan subtracts this, so the depth limit falls where jansson
     * puts it either way. */
    unsigned lift;
};

/* A member key, decoded when it has escapes. Keys longer than `buf` cannot
 * be one the reader looks for, so only their length is kept. */
struct key {
    const char *ptr;
    size_t len;
    char buf[80];
};

#define KEY_IS(k, lit) ((k)->len == sizeof(lit) - 1 && memcmp((k)->ptr, lit, sizeof(lit) - 1) == 0)

static void key_get(const struct osw_jstr *js, struct key *k)
{
    if (!js->escaped) {
        k->ptr = (const char *)js->start;
        k->len = js->len;
        return;
    }
    k->ptr = k->buf;
    k->len = osw_jscan_unescape(js, k->buf, sizeof(k->buf));
}

static bool at_end(const struct reader *r)
{
    return r->s.p >= r->s.end;
}

static bool at(const struct reader *r, unsigned char c)
{
    return r->s.p < r->s.end && *r->s.p == c;
}

/*
 * Steps through a container whose opening byte is at s->p: call with *first
 * true there. Returns 1 with s->p at the next item, 0 after `close`, -1 when
 * the bytes are not JSON. Objects and arrays differ only in what an item is.
 */
static int next_item(struct reader *r, bool *first, unsigned char close)
{
    struct osw_jscan *s = &r->s;
    if (*first) {
        *first = false;
        s->p++;
        jscan_ws(s);
        if (at(r, close)) {
            s->p++;
            return 0;
        }
        return 1;
    }
    jscan_ws(s);
    if (at(r, close)) {
        s->p++;
        return 0;
    }
    if (!at(r, ','))
        return -1;
    s->p++;
    jscan_ws(s);
    return 1;
}

/* Iterates the members of the object at s->p (see next_item): 1 with the
 * key in `k` and s->p at its value, 0 after '}', -1. */
static int next_member(struct reader *r, bool *first, struct key *k)
{
    int rc = next_item(r, first, '}');
    if (rc <= 0)
        return rc;
    struct osw_jstr js;
    if (!osw_jscan_key(&r->s, &js))
        return -1;
    key_get(&js, k);
    return 1;
}

/* Iterates the elements of the array at s->p (see next_item): 1 with s->p at
 * an element, 0 after ']', -1. */
static int next_element(struct reader *r, bool *first)
{
    return next_item(r, first, ']');
}

/* Validates the value at s->p, at `depth` as the review counts it (see
 * `lift`), and moves past it, storing its type. */
static bool skip_type(struct reader *r, unsigned depth, enum osw_jtype *type)
{
    return osw_jscan_skip(&r->s, depth - r->lift, type);
}

static bool skip(struct reader *r, unsigned depth)
{
    enum osw_jtype t;
    return skip_type(r, depth, &t);
}

static void chunks_free(void *p)
{
    struct chunk *c = p;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
}

/* The value of a validated string: a slice of the body, or its decoded
 * bytes in a new chunk of the store. No string decodes to more bytes than
 * it has and each is decoded once, so the store never outgrows the body. */
static bool string_value(struct reader *r, const struct osw_jstr *js, struct osw_str *out)
{
    if (!js->escaped) {
        out->ptr = (const char *)js->start;
        out->len = js->len;
        return true;
    }
    struct chunk *c =
        js->len <= SIZE_MAX - sizeof(struct chunk) ? malloc(sizeof(struct chunk) + js->len) : NULL;
    if (!c) {
        r->nomem = true;
        return false;
    }
    c->next = r->store;
    r->store = c;
    out->ptr = c->data;
    out->len = osw_jscan_unescape(js, c->data, js->len);
    return true;
}

/* Any value at s->p, at `depth`: its type, and its value when a string. */
static bool read_field(struct reader *r, unsigned depth, struct osw_jfield *f)
{
    f->str = OSW_STR_NULL;
    if (!at(r, '"'))
        return skip_type(r, depth, &f->type);
    struct osw_jstr js;
    f->type = OSW_JT_STRING;
    return osw_jscan_string(&r->s, &js) && string_value(r, &js, &f->str);
}

/* A value that is read further only when it is an object (the caller has
 * reset what an earlier duplicate filled): records its type and tells
 * whether to descend (1), or that it was skipped (0) or invalid (-1). */
static int container(struct reader *r, unsigned depth, enum osw_jtype *type)
{
    if (at(r, '{')) {
        *type = OSW_JT_OBJECT;
        return 1;
    }
    return skip_type(r, depth, type) ? 0 : -1;
}

static const struct osw_jfield absent_field = {OSW_JT_ABSENT, {NULL, 0}};

static void reset_annotations(struct osw_object_view *o, struct annot_range *ar)
{
    o->annotations_type = OSW_JT_ABSENT;
    o->annotations_string_map = true;
    for (int a = 0; a < OSW_ANNOT_COUNT; a++)
        o->annotations[a] = absent_field;
    memset(ar, 0, sizeof(*ar));
}

static void reset_metadata(struct osw_object_view *o, struct annot_range *ar)
{
    o->metadata_type = OSW_JT_ABSENT;
    o->name = absent_field;
    reset_annotations(o, ar);
}

static void reset_stream(struct osw_object_view *o)
{
    o->stream_type = OSW_JT_ABSENT;
    o->stream_name = absent_field;
}

static void reset_spec(struct osw_object_view *o)
{
    o->spec_type = OSW_JT_ABSENT;
    o->selector_type = OSW_JT_ABSENT;
    o->selector_json = OSW_STR_NULL;
    o->paused_type = OSW_JT_ABSENT;
    o->paused = false;
    reset_stream(o);
}

static void reset_view(struct osw_object_view *o, struct annot_range *ar)
{
    o->type = OSW_JT_ABSENT;
    reset_metadata(o, ar);
    reset_spec(o);
}

/* metadata.annotations, an object whose members are at depth 6. Values are
 * validated; only the webhook's three keys are kept. */
static bool read_annotations(struct reader *r, struct osw_object_view *o, struct annot_range *ar)
{
    ar->start = r->s.p;
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        int a = 0;
        while (a < OSW_ANNOT_COUNT) {
            const char *want = osw_annot_key((enum osw_annot)a);
            if (k.len == strlen(want) && memcmp(k.ptr, want, k.len) == 0)
                break;
            a++;
        }
        bool ok;
        if (a < OSW_ANNOT_COUNT) {
            ok = read_field(r, 6, &o->annotations[a]);
            if (o->annotations[a].type != OSW_JT_STRING)
                ar->nonstring = true;
        } else if (at(r, '"')) {
            struct osw_jstr js;
            ok = osw_jscan_string(&r->s, &js);
        } else {
            ok = skip(r, 6);
            ar->nonstring = true;
        }
        if (!ok)
            return false;
    }
    ar->end = r->s.p;
    return rc == 0;
}

/* .metadata (members at depth 5). */
static bool read_metadata(struct reader *r, struct osw_object_view *o, struct annot_range *ar)
{
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok;
        if (KEY_IS(&k, "name")) {
            ok = read_field(r, 5, &o->name);
        } else if (KEY_IS(&k, "annotations")) {
            reset_annotations(o, ar);
            int c = container(r, 5, &o->annotations_type);
            ok = c == 0 || (c > 0 && read_annotations(r, o, ar));
        } else {
            ok = skip(r, 5);
        }
        if (!ok)
            return false;
    }
    return rc == 0;
}

/* .spec.osImageStream (members at depth 6). */
static bool read_stream(struct reader *r, struct osw_object_view *o)
{
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok = KEY_IS(&k, "name") ? read_field(r, 6, &o->stream_name) : skip(r, 6);
        if (!ok)
            return false;
    }
    return rc == 0;
}

/* A files[] entry that is an object (members at depth 9): whether the
 * reduced tree keeps it, decided by its last `path` member. */
static bool read_file_entry(struct reader *r, bool *keep)
{
    bool first = true, path_string = false, path_kept = false;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok;
        path_string = KEY_IS(&k, "path") ? at(r, '"') : path_string;
        if (KEY_IS(&k, "path") && path_string) {
            struct osw_jstr js;
            ok = osw_jscan_string(&r->s, &js);
            if (ok && !js.escaped) {
                path_kept = osw_review_tree_keeps_path((const char *)js.start, js.len);
            } else if (ok) {
                /* The prefix alone decides: decode no more of it. */
                char head[OSW_REVIEW_TREE_PATH_PREFIX_LEN];
                size_t n = osw_jscan_unescape(&js, head, sizeof(head));
                path_kept = osw_review_tree_keeps_path(head, n < sizeof(head) ? n : sizeof(head));
            }
        } else {
            ok = skip(r, 9);
        }
        if (!ok)
            return false;
    }
    *keep = !path_string || path_kept;
    return rc == 0;
}

static bool keep_entry(struct reader *r, struct config_slices *c, struct slice sl)
{
    if (!osw_grow(&c->kept, &c->cap, c->nkept, sizeof(*c->kept), 8)) {
        r->nomem = true;
        return false;
    }
    c->kept[c->nkept++] = sl;
    return true;
}

/* spec.config.storage.files (depth 7; elements at depth 8). */
static bool read_files(struct reader *r, struct config_slices *c)
{
    const unsigned char *start = r->s.p;
    c->nkept = 0;
    if (!at(r, '[')) {
        bool ok = skip_type(r, 7, &c->files_type);
        c->files = (struct slice){start, r->s.p};
        return ok;
    }
    c->files_type = OSW_JT_ARRAY;
    bool first = true;
    int rc;
    while ((rc = next_element(r, &first)) > 0) {
        const unsigned char *e = r->s.p;
        bool keep = true;
        bool ok = at(r, '{') ? read_file_entry(r, &keep) : skip(r, 8);
        if (ok && keep)
            ok = keep_entry(r, c, (struct slice){e, r->s.p});
        if (!ok)
            return false;
    }
    c->files = (struct slice){start, r->s.p};
    return rc == 0;
}

/* spec.config.storage (depth 6; members at depth 7). */
static bool read_storage(struct reader *r, struct config_slices *c)
{
    const unsigned char *start = r->s.p;
    if (!at(r, '{')) {
        bool ok = skip_type(r, 6, &c->storage_type);
        c->storage = (struct slice){start, r->s.p};
        return ok;
    }
    c->storage_type = OSW_JT_OBJECT;
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok;
        if (KEY_IS(&k, "files")) {
            c->files = (struct slice){NULL, NULL};
            ok = read_files(r, c);
        } else {
            ok = skip(r, 7);
        }
        if (!ok)
            return false;
    }
    c->storage = (struct slice){start, r->s.p};
    return rc == 0;
}

/* spec.config (depth 5; members at depth 6): scanned, with the slices its
 * reduced tree is parsed from recorded in `c`. */
static bool read_config(struct reader *r, struct config_slices *c)
{
    c->storage = c->files = (struct slice){NULL, NULL};
    c->nkept = 0;
    if (!at(r, '{'))
        return skip_type(r, 5, &c->type);
    c->type = OSW_JT_OBJECT;
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok;
        if (KEY_IS(&k, "storage")) {
            c->storage = c->files = (struct slice){NULL, NULL};
            c->nkept = 0;
            ok = read_storage(r, c);
        } else {
            ok = skip(r, 6);
        }
        if (!ok)
            return false;
    }
    return rc == 0;
}

/* .spec (members at depth 5). */
static bool read_spec(struct reader *r, struct osw_object_view *o)
{
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok;
        if (KEY_IS(&k, "osImageStream")) {
            reset_stream(o);
            int c = container(r, 5, &o->stream_type);
            ok = c == 0 || (c > 0 && read_stream(r, o));
        } else if (KEY_IS(&k, "machineConfigSelector")) {
            /* Kept as text: only the cluster-state rules parse it. */
            const unsigned char *start = r->s.p;
            ok = skip_type(r, 5, &o->selector_type);
            o->selector_json = OSW_STR_NULL;
            if (ok && o->selector_type == OSW_JT_OBJECT)
                o->selector_json = (struct osw_str){(const char *)start, (size_t)(r->s.p - start)};
        } else if (KEY_IS(&k, "paused")) {
            o->paused = at(r, 't');
            ok = skip_type(r, 5, &o->paused_type);
        } else {
            int t = 0;
            while (osw_review_tree_spec_keys[t] &&
                   !(k.len == strlen(osw_review_tree_spec_keys[t]) &&
                     memcmp(k.ptr, osw_review_tree_spec_keys[t], k.len) == 0))
                t++;
            const unsigned char *start = r->s.p;
            if (osw_review_tree_spec_keys[t] && KEY_IS(&k, "config"))
                ok = read_config(r, &r->cfg[r->cur]);
            else
                ok = skip(r, 5);
            if (osw_review_tree_spec_keys[t])
                r->ts[r->cur].key[t] = (struct slice){start, r->s.p};
        }
        if (!ok)
            return false;
    }
    return rc == 0;
}

/* request.object or request.oldObject (members at depth 4). */
static bool read_object(struct reader *r, struct osw_object_view *o, struct annot_range *ar)
{
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok;
        struct tree_slices *ts = &r->ts[r->cur];
        const unsigned char *start = r->s.p;
        if (KEY_IS(&k, "metadata")) {
            reset_metadata(o, ar);
            int c = container(r, 4, &o->metadata_type);
            ok = c == 0 || (c > 0 && read_metadata(r, o, ar));
            ts->meta = (struct slice){start, r->s.p};
        } else if (KEY_IS(&k, "spec")) {
            reset_spec(o);
            memset(ts->key, 0, sizeof(ts->key));
            int c = container(r, 4, &o->spec_type);
            ok = c == 0 || (c > 0 && read_spec(r, o));
            ts->spec = (struct slice){start, r->s.p};
        } else {
            ok = skip(r, 4);
        }
        if (!ok)
            return false;
    }
    return rc == 0;
}

/* request.kind or request.resource (members at depth 4): three strings. */
static bool read_gvk(struct reader *r, const char *const names[3], struct osw_jfield *f[3])
{
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        int i = 0;
        while (i < 3 && !(k.len == strlen(names[i]) && memcmp(k.ptr, names[i], k.len) == 0))
            i++;
        bool ok = i < 3 ? read_field(r, 4, f[i]) : skip(r, 4);
        if (!ok)
            return false;
    }
    return rc == 0;
}

static bool gvk_member(struct reader *r, enum osw_jtype *type, const char *const names[3],
                       struct osw_jfield *f[3])
{
    *type = OSW_JT_ABSENT;
    for (int i = 0; i < 3; i++)
        *f[i] = absent_field;
    int c = container(r, 3, type);
    return c == 0 || (c > 0 && read_gvk(r, names, f));
}

/* request.userInfo (members at depth 4): only `username` is read; `extra`
 * and the rest are skipped unseen. */
static bool read_user_info(struct reader *r, struct osw_jfield *username)
{
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok = KEY_IS(&k, "username") ? read_field(r, 4, username) : skip(r, 4);
        if (!ok)
            return false;
    }
    return rc == 0;
}

static void reset_request(struct reader *r)
{
    struct osw_review *out = r->out;
    r->req_type = OSW_JT_ABSENT;
    r->uid = absent_field;
    out->operation = absent_field;
    out->name = absent_field;
    out->sub_resource = absent_field;
    out->username = absent_field;
    out->kind_type = OSW_JT_ABSENT;
    out->kind_group = out->kind_version = out->kind_kind = absent_field;
    out->resource_type = OSW_JT_ABSENT;
    out->resource_group = out->resource_version = out->resource_resource = absent_field;
    reset_view(&out->object, &r->ann[0]);
    reset_view(&out->old_object, &r->ann[1]);
}

/* The request object (members at depth 3). */
static bool read_request(struct reader *r)
{
    static const char *const kind_names[3] = {"group", "version", "kind"};
    static const char *const res_names[3] = {"group", "version", "resource"};
    struct osw_review *out = r->out;
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok;
        if (KEY_IS(&k, "uid")) {
            ok = read_field(r, 3, &r->uid);
        } else if (KEY_IS(&k, "operation")) {
            ok = read_field(r, 3, &out->operation);
        } else if (KEY_IS(&k, "name")) {
            ok = read_field(r, 3, &out->name);
        } else if (KEY_IS(&k, "subResource")) {
            ok = read_field(r, 3, &out->sub_resource);
        } else if (KEY_IS(&k, "userInfo")) {
            enum osw_jtype t = OSW_JT_ABSENT;
            out->username = absent_field;
            int c = container(r, 3, &t);
            ok = c == 0 || (c > 0 && read_user_info(r, &out->username));
        } else if (KEY_IS(&k, "kind")) {
            struct osw_jfield *f[3] = {&out->kind_group, &out->kind_version, &out->kind_kind};
            ok = gvk_member(r, &out->kind_type, kind_names, f);
        } else if (KEY_IS(&k, "resource")) {
            struct osw_jfield *f[3] = {&out->resource_group, &out->resource_version,
                                       &out->resource_resource};
            ok = gvk_member(r, &out->resource_type, res_names, f);
        } else if (KEY_IS(&k, "object") || KEY_IS(&k, "oldObject")) {
            int i = k.len == 6 ? 0 : 1;
            struct osw_object_view *o = i == 0 ? &out->object : &out->old_object;
            reset_view(o, &r->ann[i]);
            memset(&r->ts[i], 0, sizeof(r->ts[i]));
            r->cur = i;
            int c = container(r, 3, &o->type);
            ok = c == 0 || (c > 0 && read_object(r, o, &r->ann[i]));
        } else {
            ok = skip(r, 3);
        }
        if (!ok)
            return false;
    }
    return rc == 0;
}

/* The top-level object (members at depth 2). */
static bool read_root(struct reader *r)
{
    bool first = true;
    struct key k;
    int rc;
    while ((rc = next_member(r, &first, &k)) > 0) {
        bool ok;
        if (KEY_IS(&k, "apiVersion")) {
            ok = read_field(r, 2, &r->api);
        } else if (KEY_IS(&k, "kind")) {
            ok = read_field(r, 2, &r->kind);
        } else if (KEY_IS(&k, "request")) {
            reset_request(r);
            int c = container(r, 2, &r->req_type);
            ok = c == 0 || (c > 0 && read_request(r));
        } else {
            ok = skip(r, 2);
        }
        if (!ok)
            return false;
    }
    return rc == 0;
}

/* Whether every member value of the annotations object is a string once
 * duplicate keys are resolved. Reached only when some value was not a
 * string (rare: the decision then answers 400), so jansson settles which
 * duplicates survive on just that object's bytes, already validated. */
static enum osw_err annot_check(const struct annot_range *ar, struct osw_object_view *o)
{
    if (!ar->nonstring || o->annotations_type != OSW_JT_OBJECT)
        return OSW_OK;
    osw_jalloc_begin();
    json_t *obj = json_loadb((const char *)ar->start, (size_t)(ar->end - ar->start),
                             JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
    /* The bytes are valid JSON: only memory can fail, and jansson may
     * swallow a failure and return an object with a member missing. */
    if (!obj || osw_jalloc_failed()) {
        json_decref(obj);
        return OSW_ENOMEM;
    }
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        if (!json_is_string(val))
            o->annotations_string_map = false;
    }
    json_decref(obj);
    return OSW_OK;
}

/* The storage when trees were parsed: the decoded strings and the trees. */
struct tree_storage {
    struct chunk *chunks;
    json_t *tree[2];
};

static void tree_storage_free(void *p)
{
    struct tree_storage *ts = p;
    chunks_free(ts->chunks);
    json_decref(ts->tree[0]);
    json_decref(ts->tree[1]);
    free(ts);
}

/* A validated value's bytes as a jansson value (any type). */
static json_t *load_slice(struct slice sl)
{
    return json_loadb((const char *)sl.start, (size_t)(sl.end - sl.start),
                      JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
}

/* Adds member `key` parsed from `sl` to `obj`; false when out of memory. */
static bool add_slice(json_t *obj, const char *key, struct slice sl)
{
    return json_object_set_new(obj, key, load_slice(sl)) == 0;
}

/* A reduced spec.config (review.h) from the slices its scan recorded;
 * `whole` is the value's. Only the kept files[] entries are parsed. */
static json_t *config_tree(const struct config_slices *c, struct slice whole)
{
    if (c->type != OSW_JT_OBJECT)
        return load_slice(whole);
    json_t *t = json_object();
    if (!t || !c->storage.start)
        return t;
    bool ok = true;
    if (c->storage_type != OSW_JT_OBJECT) {
        ok = add_slice(t, "storage", c->storage);
    } else {
        json_t *s = json_object();
        ok = s && json_object_set_new(t, "storage", s) == 0;
        if (ok && c->files.start && c->files_type != OSW_JT_ARRAY) {
            ok = add_slice(s, "files", c->files);
        } else if (ok && c->files.start) {
            json_t *a = json_array();
            ok = a && json_object_set_new(s, "files", a) == 0;
            for (size_t i = 0; ok && i < c->nkept; i++)
                ok = json_array_append_new(a, load_slice(c->kept[i])) == 0;
        }
    }
    if (!ok) {
        json_decref(t);
        return NULL;
    }
    return t;
}

/* The reduced tree of a view (review.h) from its slices. */
static json_t *reduce(const struct tree_slices *ts, const struct config_slices *cfg,
                      const struct osw_object_view *v)
{
    json_t *t = json_object();
    bool ok = t != NULL;
    if (ok && ts->meta.start)
        ok = add_slice(t, "metadata", ts->meta);
    if (ok && ts->spec.start && v->spec_type != OSW_JT_OBJECT)
        ok = add_slice(t, "spec", ts->spec);
    if (ok && ts->spec.start && v->spec_type == OSW_JT_OBJECT) {
        json_t *s = json_object();
        ok = s && json_object_set_new(t, "spec", s) == 0;
        for (int i = 0; ok && osw_review_tree_spec_keys[i]; i++) {
            const char *key = osw_review_tree_spec_keys[i];
            if (ts->key[i].start && strcmp(key, "config") == 0)
                ok = json_object_set_new(s, key, config_tree(cfg, ts->key[i])) == 0;
            else if (ts->key[i].start)
                ok = add_slice(s, key, ts->key[i]);
        }
    }
    if (!ok) {
        json_decref(t);
        return NULL;
    }
    return t;
}

/* request.object and request.oldObject as reduced trees, for the rare kinds
 * that are decided from more than the view (MachineConfigs, the
 * OSImageStream). The bytes were validated by the pass; only memory can
 * fail. */
static enum osw_err parse_trees(struct reader *r, struct tree_storage **out)
{
    struct osw_review *rv = r->out;
    *out = NULL;
    if (!osw_review_wants_trees(rv))
        return OSW_OK;
    struct tree_storage *ts = calloc(1, sizeof(*ts));
    if (!ts)
        return OSW_ENOMEM;
    const struct osw_object_view *views[2] = {&rv->object, &rv->old_object};
    for (int i = 0; i < 2; i++) {
        if (views[i]->type != OSW_JT_OBJECT)
            continue;
        osw_jalloc_begin();
        ts->tree[i] = reduce(&r->ts[i], &r->cfg[i], views[i]);
        if (!ts->tree[i] || osw_jalloc_failed()) {
            tree_storage_free(ts);
            return OSW_ENOMEM;
        }
    }
    rv->object_tree = ts->tree[0];
    rv->old_object_tree = ts->tree[1];
    *out = ts;
    return OSW_OK;
}

static enum osw_err check_envelope(struct reader *r, enum osw_jtype root, struct osw_errbuf *eb)
{
    struct osw_review *out = r->out;
    if (root != OSW_JT_OBJECT)
        return osw_errbuf_set(eb, OSW_EBADREQ, "body is not an AdmissionReview: not a JSON object");
    if (r->api.type == OSW_JT_STRING && osw_str_eq_cstr(r->api.str, "admission.k8s.io/v1"))
        out->api_version = OSW_API_V1;
    else if (r->api.type == OSW_JT_STRING &&
             osw_str_eq_cstr(r->api.str, "admission.k8s.io/v1beta1"))
        out->api_version = OSW_API_V1BETA1;
    else
        return osw_errbuf_set(eb, OSW_EBADREQ,
                              "body is not an AdmissionReview: apiVersion must be "
                              "admission.k8s.io/v1 or admission.k8s.io/v1beta1");
    if (r->kind.type != OSW_JT_STRING || !osw_str_eq_cstr(r->kind.str, "AdmissionReview"))
        return osw_errbuf_set(eb, OSW_EBADREQ,
                              "body is not an AdmissionReview: kind must be AdmissionReview");
    if (r->req_type != OSW_JT_OBJECT)
        return osw_errbuf_set(eb, OSW_EBADREQ, "AdmissionReview has no request object");
    if (r->uid.type != OSW_JT_STRING || r->uid.str.len == 0)
        return osw_errbuf_set(eb, OSW_EBADREQ, "AdmissionReview request has no uid");
    out->uid = r->uid.str;
    return OSW_OK;
}

enum osw_err osw_review_decode_fast(const char *body, size_t len, struct osw_review *out,
                                    struct osw_errbuf *eb)
{
    struct reader r;
    memset(&r, 0, sizeof(r));
    r.out = out;
    osw_review_init(out);
    enum osw_err err = OSW_OK;
    if (!body) {
        err = osw_errbuf_set(eb, OSW_EBADJSON, "body is not valid JSON: no body");
        goto out;
    }
    /* Only now: arithmetic on a NULL pointer is undefined. */
    r.s.p = (const unsigned char *)body;
    r.s.end = r.s.p + len;

    /* jansson without JSON_DECODE_ANY wants an object or an array on top. */
    enum osw_jtype root = OSW_JT_ABSENT;
    jscan_ws(&r.s);
    bool ok;
    if (at(&r, '{')) {
        root = OSW_JT_OBJECT;
        ok = read_root(&r);
    } else {
        ok = at(&r, '[') && osw_jscan_skip(&r.s, 1, &root);
    }
    if (ok) {
        jscan_ws(&r.s);
        ok = at_end(&r);
    }
    if (!ok) {
        if (r.nomem)
            err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory decoding the body");
        else
            err = osw_errbuf_set(eb, OSW_EBADJSON, "body is not valid JSON (at byte %zu)",
                                 (size_t)(r.s.p - (const unsigned char *)body));
        goto out;
    }
    err = check_envelope(&r, root, eb);
    if (err != OSW_OK)
        goto out;
    for (int i = 0; i < 2 && err == OSW_OK; i++)
        err = annot_check(&r.ann[i], i == 0 ? &out->object : &out->old_object);
    struct tree_storage *ts = NULL;
    if (err == OSW_OK)
        err = parse_trees(&r, &ts);
    if (err != OSW_OK) {
        osw_errbuf_set(eb, err, "out of memory decoding the body");
        goto out;
    }
    if (ts) {
        ts->chunks = r.store;
        out->storage = ts;
        out->storage_free = tree_storage_free;
        r.store = NULL;
    } else if (r.store) {
        out->storage = r.store;
        out->storage_free = chunks_free;
        r.store = NULL;
    }
out:
    if (err != OSW_OK)
        osw_review_init(out);
    chunks_free(r.store);
    free(r.cfg[0].kept);
    free(r.cfg[1].kept);
    return err;
}

/* osw_objtree_decode of a value at depth 3 - `lift` (jansson's count): 2
 * for a top-level value, 1 for a member of a top-level object. */
static enum osw_err decode_at(const char *data, size_t len, unsigned lift, json_t **out,
                              struct osw_errbuf *eb)
{
    struct reader r;
    struct osw_object_view v;
    memset(&r, 0, sizeof(r));
    memset(&v, 0, sizeof(v));
    r.lift = lift; /* the object's members lie at depth 4 - lift */
    reset_view(&v, &r.ann[0]);
    *out = NULL;
    enum osw_err err = OSW_OK;
    if (!data) {
        err = osw_errbuf_set(eb, OSW_EBADJSON, "not valid JSON: no data");
        goto out;
    }
    r.s.p = (const unsigned char *)data;
    r.s.end = r.s.p + len;
    jscan_ws(&r.s);
    bool ok;
    if (at(&r, '{')) {
        v.type = OSW_JT_OBJECT;
        ok = read_object(&r, &v, &r.ann[0]);
    } else {
        /* JSON_DECODE_ANY: a scalar on top is JSON too (not an object). */
        ok = !at_end(&r) && osw_jscan_skip(&r.s, 3 - lift, &v.type);
    }
    if (ok) {
        jscan_ws(&r.s);
        ok = at_end(&r);
    }
    if (!ok) {
        if (r.nomem)
            err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory reading an object");
        else
            err = osw_errbuf_set(eb, OSW_EBADJSON, "not valid JSON (at byte %zu)",
                                 (size_t)(r.s.p - (const unsigned char *)data));
        goto out;
    }
    if (v.type != OSW_JT_OBJECT)
        goto out;
    osw_jalloc_begin();
    json_t *tree = reduce(&r.ts[0], &r.cfg[0], &v);
    if (!tree || osw_jalloc_failed()) {
        json_decref(tree);
        err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory reading an object");
        goto out;
    }
    *out = tree;
out:
    chunks_free(r.store);
    free(r.cfg[0].kept);
    return err;
}

enum osw_err osw_objtree_decode(const char *data, size_t len, json_t **out, struct osw_errbuf *eb)
{
    return decode_at(data, len, 2, out, eb);
}

/* The members of a watch event the decoder reads (the last of each). */
struct envelope {
    struct osw_jstr type; /* .start NULL: absent or not a string */
    const unsigned char *obj, *obj_end;
    enum osw_jtype obj_type;
};

/* One member of the top-level object, s->p at its key; false when the
 * bytes are not JSON. */
static bool envelope_member(struct osw_jscan *s, struct envelope *e)
{
    struct osw_jstr js;
    struct key k;
    if (!(s->p < s->end && *s->p == '"') || !osw_jscan_key(s, &js))
        return false;
    key_get(&js, &k);
    const unsigned char *start = s->p;
    enum osw_jtype t;
    if (KEY_IS(&k, "type")) {
        memset(&e->type, 0, sizeof(e->type));
        if (s->p < s->end && *s->p == '"')
            return osw_jscan_string(s, &e->type);
        return osw_jscan_skip(s, 2, &t);
    }
    if (!osw_jscan_skip(s, 2, &t))
        return false;
    if (KEY_IS(&k, "object")) {
        e->obj = start;
        e->obj_end = s->p;
        e->obj_type = t;
    }
    return true;
}

/* Validates a line that starts with '{' as json_loadb would and finds its
 * last `type` and `object` members; false when the bytes are not JSON. */
static bool envelope_scan(struct osw_jscan s, struct envelope *e)
{
    memset(e, 0, sizeof(*e));
    s.p++;
    jscan_ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            if (!envelope_member(&s, e))
                return false;
            jscan_ws(&s);
            if (s.p < s.end && *s.p == '}') {
                s.p++;
                break;
            }
            if (!(s.p < s.end && *s.p == ','))
                return false;
            s.p++;
            jscan_ws(&s);
        }
    }
    jscan_ws(&s);
    return s.p == s.end;
}

enum osw_err osw_objtree_decode_event(const char *data, size_t len, struct osw_str *type,
                                      json_t **object, struct osw_errbuf *eb)
{
    struct envelope e;
    *object = NULL;
    *type = OSW_STR_NULL;
    if (!data)
        return osw_errbuf_set(eb, OSW_EBADOBJ, "no watch line");
    struct osw_jscan s = {(const unsigned char *)data, (const unsigned char *)data + len};
    jscan_ws(&s);
    if (!(s.p < s.end && *s.p == '{'))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "watch line is not an object");
    if (!envelope_scan(s, &e))
        return osw_errbuf_set(eb, OSW_EBADJSON, "watch line is not JSON");
    if (!e.type.start || e.type.escaped || !e.obj || e.obj_type != OSW_JT_OBJECT)
        return osw_errbuf_set(eb, OSW_EBADOBJ, "watch line is not a plain event");
    enum osw_err err = decode_at((const char *)e.obj, (size_t)(e.obj_end - e.obj), 1, object, eb);
    if (err != OSW_OK)
        return err;
    *type = (struct osw_str){(const char *)e.type.start, e.type.len};
    return OSW_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OSImageStream validation and the immutable snapshot built from it. Parsing
 * is all-or-nothing: every field CONTRACT.md constrains is checked first, and
 * only a fully valid object becomes a snapshot, so a snapshot is valid by
 * construction. The snapshot is one allocation (header, stream table and
 * every string) whose lifetime is governed by an atomic reference count.
 */
#include "osw/osis.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_GROUP "machineconfiguration.openshift.io"

/* Longest part of a bad value quoted in an error message. */
#define QUOTE_MAX 80

struct osw_osis {
    atomic_size_t refs;
    size_t count;
    struct osw_str name;             /* metadata.name */
    struct osw_str resource_version; /* metadata.resourceVersion */
    struct osw_str default_stream;   /* status.defaultStream */
    struct osw_stream streams[];     /* then the string bytes */
};

/* A string JSON value as a slice (the bytes belong to `v`). */
static struct osw_str jstr(const json_t *v)
{
    struct osw_str s = {json_string_value(v), json_string_length(v)};
    return s;
}

/*
 * Writes `s` as a double-quoted, single-line, bounded rendering into `out`:
 * printable ASCII as is, `"` and `\` escaped, anything else as \xNN, cut at
 * QUOTE_MAX bytes with "..." so a hostile value cannot flood a log line.
 */
static void quote(struct osw_str s, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    size_t n = s.len > QUOTE_MAX ? QUOTE_MAX : s.len;

    /* Room for the worst case: 4 bytes per input byte, quotes, "...", NUL. */
    if (cap < 4 * QUOTE_MAX + 6) {
        if (cap > 0)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o++] = '"';
    if (n < s.len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* The error for a value of the wrong type (or a missing one) at `path`. */
static enum osw_err bad_type(struct osw_errbuf *eb, const char *path, const json_t *v,
                             const char *want)
{
    if (!v)
        return osw_errbuf_set(eb, OSW_EBADOBJ, "%s: Required value (must be %s)", path, want);
    return osw_errbuf_set(eb, OSW_EBADOBJ, "%s: must be %s, not %s", path, want, type_name(v));
}

/* Checks one image field of availableStreams[i]; fills `*out`. */
static enum osw_err check_image(const json_t *stream, size_t i, const char *key,
                                struct osw_str *out, struct osw_errbuf *eb)
{
    char path[96];
    char q[4 * QUOTE_MAX + 8];
    const json_t *v = json_object_get(stream, key);

    snprintf(path, sizeof(path), "status.availableStreams[%zu].%s", i, key);
    if (!json_is_string(v))
        return bad_type(eb, path, v, "a string");
    *out = jstr(v);
    if (out->len > OSW_IMAGE_MAX_LEN) {
        quote(*out, q, sizeof(q));
        return osw_errbuf_set(eb, OSW_EBADOBJ, "%s: %s is longer than %d characters (%zu)", path, q,
                              OSW_IMAGE_MAX_LEN, out->len);
    }
    if (!osw_str_is_digest_image(*out)) {
        quote(*out, q, sizeof(q));
        return osw_errbuf_set(eb, OSW_EBADOBJ,
                              "%s: %s is not a digest pull spec "
                              "(host[:port][/path]/name@sha256:<64 lowercase hex>)",
                              path, q);
    }
    return OSW_OK;
}

/* Checks availableStreams[i] and fills `st` with slices into the JSON. */
static enum osw_err check_stream(const json_t *arr, size_t i, struct osw_stream *st,
                                 struct osw_errbuf *eb)
{
    char path[96];
    char q[4 * QUOTE_MAX + 8];
    const json_t *elem = json_array_get(arr, i);
    enum osw_err err;

    snprintf(path, sizeof(path), "status.availableStreams[%zu]", i);
    if (!json_is_object(elem))
        return bad_type(eb, path, elem, "an object");
    snprintf(path, sizeof(path), "status.availableStreams[%zu].name", i);
    const json_t *name = json_object_get(elem, "name");
    if (!json_is_string(name))
        return bad_type(eb, path, name, "a string");
    st->name = jstr(name);
    if (st->name.len == 0)
        return osw_errbuf_set(eb, OSW_EBADOBJ, "%s: Required value (empty)", path);
    if (!osw_str_is_dns1123_subdomain(st->name)) {
        quote(st->name, q, sizeof(q));
        return osw_errbuf_set(eb, OSW_EBADOBJ,
                              "%s: %s is not a DNS-1123 subdomain (lowercase alphanumerics, "
                              "'-' and '.', at most 253 characters)",
                              path, q);
    }
    err = check_image(elem, i, "osImage", &st->os_image, eb);
    if (err != OSW_OK)
        return err;
    return check_image(elem, i, "osExtensionsImage", &st->ext_image, eb);
}

/* apiVersion and kind. */
static enum osw_err check_type_meta(const json_t *obj, struct osw_errbuf *eb)
{
    char q[4 * QUOTE_MAX + 8];
    const json_t *av = json_object_get(obj, "apiVersion");
    const json_t *kind = json_object_get(obj, "kind");

    if (!json_is_string(av))
        return bad_type(eb, "apiVersion", av, "a string");
    if (!osw_str_eq_cstr(jstr(av), API_GROUP "/v1") &&
        !osw_str_eq_cstr(jstr(av), API_GROUP "/v1alpha1")) {
        quote(jstr(av), q, sizeof(q));
        return osw_errbuf_set(
            eb, OSW_EBADOBJ, "apiVersion: %s is not " API_GROUP "/v1 or " API_GROUP "/v1alpha1", q);
    }
    if (!json_is_string(kind))
        return bad_type(eb, "kind", kind, "a string");
    if (!osw_str_eq_cstr(jstr(kind), "OSImageStream")) {
        quote(jstr(kind), q, sizeof(q));
        return osw_errbuf_set(eb, OSW_EBADOBJ, "kind: %s is not OSImageStream", q);
    }
    return OSW_OK;
}

/* metadata.name and metadata.resourceVersion: optional strings. */
static enum osw_err check_metadata(const json_t *obj, struct osw_str *name, struct osw_str *rv,
                                   struct osw_errbuf *eb)
{
    const json_t *md = json_object_get(obj, "metadata");

    *name = OSW_STR_NULL;
    *rv = OSW_STR_NULL;
    if (!md || json_is_null(md))
        return OSW_OK;
    if (!json_is_object(md))
        return bad_type(eb, "metadata", md, "an object");
    const json_t *n = json_object_get(md, "name");
    if (n && !json_is_null(n)) {
        if (!json_is_string(n))
            return bad_type(eb, "metadata.name", n, "a string");
        *name = jstr(n);
    }
    const json_t *r = json_object_get(md, "resourceVersion");
    if (r && !json_is_null(r)) {
        if (!json_is_string(r))
            return bad_type(eb, "metadata.resourceVersion", r, "a string");
        *rv = jstr(r);
    }
    return OSW_OK;
}

/* Copies `s` into the string area at `*at` (NUL-terminated for debugging
 * convenience; users go by the length) and returns the copy's slice. */
static struct osw_str place(struct osw_str s, char **at)
{
    struct osw_str r = {*at, s.len};
    if (s.len > 0)
        memcpy(*at, s.ptr, s.len);
    (*at)[s.len] = '\0';
    *at += s.len + 1;
    return r;
}

/* Bytes needed by `s` in the string area; false on overflow. */
static bool add_len(size_t *total, struct osw_str s)
{
    if (s.len > SIZE_MAX - 1 || *total > SIZE_MAX - (s.len + 1))
        return false;
    *total += s.len + 1;
    return true;
}

enum osw_err osw_osis_parse(const json_t *obj, struct osw_osis **out, struct osw_errbuf *eb)
{
    struct osw_stream tmp[OSW_OSIS_MAX_STREAMS];
    struct osw_str md_name, md_rv, def;
    char q[4 * QUOTE_MAX + 8];
    enum osw_err err;

    *out = NULL;
    memset(tmp, 0, sizeof(tmp));
    md_name = md_rv = OSW_STR_NULL;
    if (!json_is_object(obj))
        return osw_errbuf_set(eb, OSW_EBADOBJ, "OSImageStream: must be an object, not %s",
                              obj ? type_name(obj) : "nothing");
    err = check_type_meta(obj, eb);
    if (err != OSW_OK)
        return err;
    err = check_metadata(obj, &md_name, &md_rv, eb);
    if (err != OSW_OK)
        return err;

    const json_t *status = json_object_get(obj, "status");
    if (!json_is_object(status))
        return bad_type(eb, "status", status, "an object");
    const json_t *arr = json_object_get(status, "availableStreams");
    if (!json_is_array(arr))
        return bad_type(eb, "status.availableStreams", arr, "an array");
    size_t n = json_array_size(arr);
    if (n == 0)
        return osw_errbuf_set(eb, OSW_EBADOBJ,
                              "status.availableStreams: Required value "
                              "(at least one stream)");
    if (n > OSW_OSIS_MAX_STREAMS)
        return osw_errbuf_set(eb, OSW_EBADOBJ,
                              "status.availableStreams: Too many: %zu: must have at most %d items",
                              n, OSW_OSIS_MAX_STREAMS);
    for (size_t i = 0; i < n; i++) {
        err = check_stream(arr, i, &tmp[i], eb);
        if (err != OSW_OK)
            return err;
        for (size_t j = 0; j < i; j++) {
            if (osw_str_eq(tmp[j].name, tmp[i].name)) {
                quote(tmp[i].name, q, sizeof(q));
                return osw_errbuf_set(eb, OSW_EBADOBJ,
                                      "status.availableStreams[%zu].name: Duplicate value: %s "
                                      "(also status.availableStreams[%zu].name)",
                                      i, q, j);
            }
        }
    }

    const json_t *dv = json_object_get(status, "defaultStream");
    if (!json_is_string(dv))
        return bad_type(eb, "status.defaultStream", dv, "a string");
    def = jstr(dv);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = osw_str_eq(tmp[i].name, def);
    if (!found) {
        quote(def, q, sizeof(q));
        return osw_errbuf_set(eb, OSW_EBADOBJ,
                              "status.defaultStream: %s is not one of the available streams", q);
    }

    /* Everything is valid: size and fill the single allocation. */
    size_t strings = 0;
    bool ok = add_len(&strings, md_name) && add_len(&strings, md_rv) && add_len(&strings, def);
    for (size_t i = 0; i < n && ok; i++)
        ok = add_len(&strings, tmp[i].name) && add_len(&strings, tmp[i].os_image) &&
             add_len(&strings, tmp[i].ext_image);
    size_t head = sizeof(struct osw_osis) + n * sizeof(struct osw_stream);
    if (!ok || strings > SIZE_MAX - head)
        return osw_errbuf_set(eb, OSW_ENOMEM, "OSImageStream too large");
    struct osw_osis *s = malloc(head + strings);
    if (!s)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    char *at = (char *)s + head;
    atomic_init(&s->refs, 1);
    s->count = n;
    s->name = place(md_name, &at);
    s->resource_version = place(md_rv, &at);
    s->default_stream = place(def, &at);
    for (size_t i = 0; i < n; i++) {
        s->streams[i].name = place(tmp[i].name, &at);
        s->streams[i].os_image = place(tmp[i].os_image, &at);
        s->streams[i].ext_image = place(tmp[i].ext_image, &at);
    }
    *out = s;
    return OSW_OK;
}

struct osw_osis *osw_osis_ref(struct osw_osis *s)
{
    if (s)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void osw_osis_unref(struct osw_osis *s)
{
    if (!s)
        return;
    /* acq_rel: the freeing thread sees every other holder's reads finished
     * (and TSan understands it without a separate fence). */
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        free(s);
}

size_t osw_osis_count(const struct osw_osis *s)
{
    return s ? s->count : 0;
}

const struct osw_stream *osw_osis_at(const struct osw_osis *s, size_t i)
{
    if (!s || i >= s->count)
        return NULL;
    return &s->streams[i];
}

const struct osw_stream *osw_osis_find(const struct osw_osis *s, struct osw_str name)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->count; i++) {
        if (osw_str_eq(s->streams[i].name, name))
            return &s->streams[i];
    }
    return NULL;
}

struct osw_str osw_osis_default(const struct osw_osis *s)
{
    return s ? s->default_stream : OSW_STR_NULL;
}

struct osw_str osw_osis_name(const struct osw_osis *s)
{
    return s ? s->name : OSW_STR_NULL;
}

struct osw_str osw_osis_resource_version(const struct osw_osis *s)
{
    return s ? s->resource_version : OSW_STR_NULL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRI-O drop-ins for the runc guard. The extract of a MachineConfig is
 * built in two passes: first the shape checks that make a MachineConfig
 * undecodable as a whole (cheap, before any decoding), then each drop-in is
 * decoded (data URL, gzip, TOML) with its bytes dropped as soon as its
 * default_runtime is known. runc(P) then merges extracts by path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osw/buf.h"
#include "osw/crio.h"
#include "osw/dataurl.h"
#include "osw/gzip.h"
#include "osw/toml.h"

struct cand {
    const char *path;
    size_t path_len;
    size_t index; /* position in files[]: keeps the sort stable */
    const json_t *contents;
    enum osw_crio_state state;
    size_t value_len;
    bool value_cut;
    char value[OSW_CRIO_VALUE_MAX];
};

static bool absent(const json_t *v)
{
    return !v || json_is_null(v);
}

/* A member that must be an object when present: NULL when absent or null;
 * *bad when it is something else. */
static const json_t *object_member(const json_t *o, const char *key, bool *bad)
{
    const json_t *v = json_object_get(o, key);
    if (absent(v))
        return NULL;
    if (!json_is_object(v))
        *bad = true;
    return json_is_object(v) ? v : NULL;
}

/* Whether files[i] is a drop-in; *bad when its shape makes the whole
 * MachineConfig undecodable. */
static bool is_dropin(const json_t *f, bool *bad)
{
    const json_t *path = json_object_get(f, "path");
    if (!json_is_object(f) || !json_is_string(path)) {
        *bad = true;
        return false;
    }
    size_t plen = json_string_length(path), dlen = sizeof(OSW_CRIO_DIR) - 1;
    if (plen < dlen || memcmp(json_string_value(path), OSW_CRIO_DIR, dlen) != 0)
        return false;
    const json_t *contents = object_member(f, "contents", bad);
    if (*bad || !contents)
        return false;
    const json_t *source = json_object_get(contents, "source");
    const json_t *compression = json_object_get(contents, "compression");
    if ((!absent(source) && !json_is_string(source)) ||
        (!absent(compression) && !json_is_string(compression))) {
        *bad = true;
        return false;
    }
    /* Ignition 2.x `append: true` adds to a file: it sets no contents. */
    return !absent(source) && !json_is_true(json_object_get(f, "append"));
}

/* spec.config.storage.files, NULL when there is none; *bad as above. */
static const json_t *files_of(const json_t *mc, bool *bad)
{
    if (!json_is_object(mc)) {
        *bad = true;
        return NULL;
    }
    const json_t *o = object_member(mc, "spec", bad);
    o = o ? object_member(o, "config", bad) : NULL;
    o = o ? object_member(o, "storage", bad) : NULL;
    const json_t *files = o ? json_object_get(o, "files") : NULL;
    if (absent(files))
        return NULL;
    if (!json_is_array(files))
        *bad = true;
    return json_is_array(files) ? files : NULL;
}

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
    int c = n ? memcmp(x->path, y->path, n) : 0;
    if (c)
        return c;
    if (x->path_len != y->path_len)
        return x->path_len < y->path_len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static bool same_path(const struct cand *x, const struct cand *y)
{
    return x->path_len == y->path_len && memcmp(x->path, y->path, x->path_len) == 0;
}

/* Steps 1 to 5 of the contract for one drop-in; `a` and `b` are scratch. */
static enum osw_err decode(struct cand *c, struct osw_buf *a, struct osw_buf *b)
{
    static const char *const path[] = {"crio", "runtime", "default_runtime"};
    const json_t *source = json_object_get(c->contents, "source");
    const json_t *compression = json_object_get(c->contents, "compression");
    struct osw_buf *data = a;
    osw_buf_reset(a);
    osw_buf_reset(b);
    c->state = OSW_CRIO_UNDECODABLE;
    enum osw_err err = osw_dataurl_decode(json_string_value(source), json_string_length(source),
                                          OSW_CRIO_MAX_BYTES, a);
    if (err != OSW_OK)
        return err == OSW_ENOMEM ? err : OSW_OK;
    if (json_is_string(compression) && json_string_length(compression) > 0) {
        if (json_string_length(compression) != 4 ||
            memcmp(json_string_value(compression), "gzip", 4) != 0)
            return OSW_OK;
        err = osw_gzip_decode(a->data, a->len, OSW_CRIO_MAX_BYTES, b);
        if (err != OSW_OK)
            return err == OSW_ENOMEM ? err : OSW_OK;
        data = b;
    }
    if (data->len == 0) {
        c->state = OSW_CRIO_NOTHING;
        return OSW_OK;
    }
    enum osw_toml_found found;
    osw_buf_reset(a == data ? b : a);
    struct osw_buf *value = a == data ? b : a;
    err = osw_toml_lookup(data->data, data->len, path, 3, &found, value);
    if (err != OSW_OK)
        return err;
    if (found == OSW_TOML_UNDECODABLE)
        return OSW_OK;
    c->state = found == OSW_TOML_STRING && value->len > 0 ? OSW_CRIO_VALUE : OSW_CRIO_NOTHING;
    if (c->state == OSW_CRIO_VALUE) {
        c->value_cut = value->len > OSW_CRIO_VALUE_MAX;
        c->value_len = c->value_cut ? OSW_CRIO_VALUE_MAX : value->len;
        memcpy(c->value, value->data, c->value_len);
    }
    return OSW_OK;
}

/* Lays the sorted, de-duplicated candidates out in one allocation. */
static enum osw_err pack(const struct cand *c, size_t n, bool undecodable,
                         struct osw_crio_extract **out)
{
    size_t count = 0, bytes = sizeof(struct osw_crio_extract);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && same_path(&c[i - 1], &c[i]))
            continue;
        /* Object sizes are bounded by the JSON they came from: no overflow. */
        bytes += sizeof(struct osw_crio_dropin) + c[i].path_len + c[i].value_len;
        count++;
    }
    struct osw_crio_extract *x = malloc(bytes);
    if (!x)
        return OSW_ENOMEM;
    struct osw_crio_dropin *d = (struct osw_crio_dropin *)(x + 1);
    char *str = (char *)(d + count);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && same_path(&c[i - 1], &c[i]))
            continue;
        d[k] = (struct osw_crio_dropin){str, c[i].path_len, NULL, 0, c[i].value_cut, c[i].state};
        memcpy(str, c[i].path, c[i].path_len);
        str += c[i].path_len;
        if (c[i].state == OSW_CRIO_VALUE) {
            d[k].value = str;
            d[k].value_len = c[i].value_len;
            memcpy(str, c[i].value, c[i].value_len);
            str += c[i].value_len;
        }
        k++;
    }
    x->undecodable = undecodable;
    x->count = count;
    x->dropins = d;
    x->bytes = bytes;
    *out = x;
    return OSW_OK;
}

enum osw_err osw_crio_extract_build(const json_t *mc, struct osw_crio_extract **out)
{
    struct osw_buf a = OSW_BUF_INIT, b = OSW_BUF_INIT;
    struct cand *c = NULL;
    size_t n = 0;
    bool bad = false;
    enum osw_err err = OSW_OK;
    *out = NULL;

    const json_t *files = files_of(mc, &bad);
    size_t nfiles = json_array_size(files);
    /* Shape checks and a count first: nothing is allocated for an
     * undecodable MachineConfig or for its other files. */
    for (size_t i = 0; i < nfiles && !bad; i++)
        n += is_dropin(json_array_get(files, i), &bad);
    if (bad || n > OSW_CRIO_MAX_DROPINS) {
        err = pack(c, 0, true, out);
        goto out;
    }
    c = n ? calloc(n, sizeof(*c)) : NULL;
    if (n && !c)
        return OSW_ENOMEM;
    size_t want = n;
    n = 0;
    for (size_t i = 0; i < nfiles && n < want; i++) {
        const json_t *f = json_array_get(files, i);
        if (!is_dropin(f, &bad))
            continue;
        const json_t *path = json_object_get(f, "path");
        c[n] = (struct cand){.path = json_string_value(path),
                             .path_len = json_string_length(path),
                             .index = i,
                             .contents = json_object_get(f, "contents")};
        n++;
    }
    if (n > 1)
        qsort(c, n, sizeof(*c), cand_cmp);
    for (size_t i = 0; i < n; i++) {
        bool dup_before = i > 0 && same_path(&c[i - 1], &c[i]);
        bool dup_after = i + 1 < n && same_path(&c[i], &c[i + 1]);
        if (dup_before || dup_after) {
            c[i].state = OSW_CRIO_UNDECODABLE; /* the same path twice */
            continue;
        }
        err = decode(&c[i], &a, &b);
        if (err != OSW_OK)
            goto out;
    }
    err = pack(c, n, false, out);
out:
    osw_buf_free(&a);
    osw_buf_free(&b);
    free(c);
    return err;
}

void osw_crio_extract_free(struct osw_crio_extract *x)
{
    free(x);
}

struct ref {
    const struct osw_crio_dropin *d;
    size_t mc;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    size_t n = x->d->path_len < y->d->path_len ? x->d->path_len : y->d->path_len;
    int c = n ? memcmp(x->d->path, y->d->path, n) : 0;
    if (c)
        return c;
    if (x->d->path_len != y->d->path_len)
        return x->d->path_len < y->d->path_len ? -1 : 1;
    return x->mc < y->mc ? -1 : x->mc > y->mc;
}

enum osw_err osw_crio_runc(const struct osw_crio_extract *const *mcs, size_t n, enum osw_tri *out)
{
    struct ref stack[32], *refs = stack;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!mcs[i])
            continue;
        if (mcs[i]->undecodable) {
            *out = OSW_TRI_UNKNOWN;
            return OSW_OK;
        }
        total += mcs[i]->count;
    }
    if (total > sizeof stack / sizeof stack[0]) {
        refs = calloc(total, sizeof(*refs));
        if (!refs)
            return OSW_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; mcs[i] && j < mcs[i]->count; j++)
            refs[k++] = (struct ref){&mcs[i]->dropins[j], i};
    }
    if (total > 1)
        qsort(refs, total, sizeof(*refs), ref_cmp);
    /* Paths ascend; within a path the last MachineConfig (merge order) wins. */
    const struct osw_crio_dropin *last = NULL;
    enum osw_tri r = OSW_TRI_FALSE;
    for (size_t i = 0; i < total; i++) {
        const struct osw_crio_dropin *d = refs[i].d;
        if (i + 1 < total && d->path_len == refs[i + 1].d->path_len &&
            memcmp(d->path, refs[i + 1].d->path, d->path_len) == 0)
            continue; /* a later MachineConfig has this path */
        if (d->state == OSW_CRIO_UNDECODABLE) {
            r = OSW_TRI_UNKNOWN;
            break;
        }
        if (d->state == OSW_CRIO_VALUE)
            last = d;
    }
    if (r != OSW_TRI_UNKNOWN && last && !last->value_cut && last->value_len == 4 &&
        memcmp(last->value, "runc", 4) == 0)
        r = OSW_TRI_TRUE;
    if (refs != stack)
        free(refs);
    *out = r;
    return OSW_OK;
}

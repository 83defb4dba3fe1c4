/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label maps and label selectors with Kubernetes' semantics, reduced to what
 * the parity rules need: a selector becomes a sorted list of requirements
 * (matchLabels entries become In with one value), so matching is a few
 * binary searches and two selectors can be compared for equality, which lets
 * a pool request reuse the cached pool's selection when its selector did not
 * change.
 */
#include <stdlib.h>
#include <string.h>

#include "osw/selector.h"

enum op { OP_IN = 0, OP_NOTIN, OP_EXISTS, OP_DOES_NOT_EXIST };

struct req {
    struct osw_str key;
    enum op op;
    struct osw_str *values; /* sorted, unique */
    size_t nvalues;
};

struct osw_selector {
    struct req *reqs; /* sorted by (key, op, values) */
    size_t n;
    char *bytes; /* every key and value */
    size_t used, cap;
};

static int label_cmp(const void *a, const void *b)
{
    return osw_str_cmp(((const struct osw_label *)a)->key, ((const struct osw_label *)b)->key);
}

static struct osw_str jstr(const json_t *v)
{
    return (struct osw_str){json_string_value(v), json_string_length(v)};
}

void osw_labels_free(struct osw_labels *l)
{
    if (!l)
        return;
    free(l->items);
    free(l->bytes);
    memset(l, 0, sizeof(*l));
}

enum osw_err osw_labels_from_json(const json_t *obj, struct osw_labels *out)
{
    memset(out, 0, sizeof(*out));
    if (!obj || json_is_null(obj))
        return OSW_OK;
    if (!json_is_object(obj))
        return OSW_EBADOBJ;
    size_t n = json_object_size(obj), total = 0;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        if (!json_is_string(val))
            return OSW_EBADOBJ;
        total += strlen(key) + json_string_length(val);
    }
    if (n == 0)
        return OSW_OK;
    out->items = calloc(n, sizeof(*out->items));
    out->bytes = malloc(total ? total : 1);
    if (!out->items || !out->bytes) {
        osw_labels_free(out);
        return OSW_ENOMEM;
    }
    char *p = out->bytes;
    json_object_foreach((json_t *)obj, key, val)
    {
        struct osw_str k = osw_str_from_cstr(key), v = jstr(val);
        memcpy(p, k.ptr, k.len);
        out->items[out->n].key = (struct osw_str){p, k.len};
        p += k.len;
        if (v.len)
            memcpy(p, v.ptr, v.len);
        out->items[out->n].value = (struct osw_str){p, v.len};
        p += v.len;
        out->n++;
    }
    qsort(out->items, out->n, sizeof(*out->items), label_cmp);
    return OSW_OK;
}

const struct osw_str *osw_labels_get(const struct osw_labels *l, struct osw_str key)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = osw_str_cmp(l->items[mid].key, key);
        if (c == 0)
            return &l->items[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void osw_selector_free(struct osw_selector *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->reqs[i].values);
    free(s->reqs);
    free(s->bytes);
    free(s);
}

/* Copies `v` into the selector's byte store, sized up front by measure(). */
static struct osw_str keep(struct osw_selector *s, struct osw_str v)
{
    char *p = s->bytes + s->used;
    if (v.len)
        memcpy(p, v.ptr, v.len);
    s->used += v.len;
    return (struct osw_str){p, v.len};
}

static int value_cmp(const void *a, const void *b)
{
    return osw_str_cmp(*(const struct osw_str *)a, *(const struct osw_str *)b);
}

static int req_cmp(const void *pa, const void *pb)
{
    const struct req *a = pa, *b = pb;
    int c = osw_str_cmp(a->key, b->key);
    if (c != 0)
        return c;
    if (a->op != b->op)
        return a->op < b->op ? -1 : 1;
    for (size_t i = 0; i < a->nvalues && i < b->nvalues; i++) {
        c = osw_str_cmp(a->values[i], b->values[i]);
        if (c != 0)
            return c;
    }
    return a->nvalues < b->nvalues ? -1 : a->nvalues > b->nvalues;
}

static bool op_of(const json_t *v, enum op *op)
{
    static const char *const names[] = {"In", "NotIn", "Exists", "DoesNotExist"};
    for (int i = 0; i < 4; i++) {
        if (json_is_string(v) && osw_str_eq_cstr(jstr(v), names[i])) {
            *op = (enum op)i;
            return true;
        }
    }
    return false;
}

/* Checks the selector's shape and counts requirements and bytes; false when
 * it is invalid (it then selects nothing). */
static bool measure(const json_t *sel, size_t *nreqs, size_t *nbytes)
{
    const json_t *ml = json_object_get(sel, "matchLabels");
    const json_t *me = json_object_get(sel, "matchExpressions");
    const char *key;
    const json_t *v;
    size_t i;
    *nreqs = *nbytes = 0;
    if (ml && !json_is_null(ml)) {
        if (!json_is_object(ml))
            return false;
        json_object_foreach((json_t *)ml, key, v)
        {
            if (!json_is_string(v))
                return false;
            *nbytes += strlen(key) + json_string_length(v);
            (*nreqs)++;
        }
    }
    if (!me || json_is_null(me))
        return true;
    if (!json_is_array(me))
        return false;
    json_array_foreach(me, i, v)
    {
        const json_t *k = json_object_get(v, "key"), *vals = json_object_get(v, "values");
        enum op op;
        if (!json_is_object(v) || !json_is_string(k) || !op_of(json_object_get(v, "operator"), &op))
            return false;
        size_t nv = 0, j;
        const json_t *e;
        if (vals && !json_is_null(vals)) {
            if (!json_is_array(vals))
                return false;
            json_array_foreach(vals, j, e)
            {
                if (!json_is_string(e))
                    return false;
                *nbytes += json_string_length(e);
            }
            nv = json_array_size(vals);
        }
        if ((op == OP_IN || op == OP_NOTIN) != (nv > 0))
            return false;
        *nbytes += json_string_length(k);
        (*nreqs)++;
    }
    return true;
}

/* Sorts and de-duplicates a requirement's values. */
static void settle_values(struct req *r)
{
    qsort(r->values, r->nvalues, sizeof(*r->values), value_cmp);
    size_t w = 0;
    for (size_t i = 0; i < r->nvalues; i++) {
        if (w == 0 || !osw_str_eq(r->values[w - 1], r->values[i]))
            r->values[w++] = r->values[i];
    }
    r->nvalues = w;
}

static enum osw_err fill(struct osw_selector *s, const json_t *sel)
{
    const json_t *ml = json_object_get(sel, "matchLabels");
    const json_t *me = json_object_get(sel, "matchExpressions");
    const char *key;
    const json_t *v;
    size_t i;
    if (json_is_object(ml)) {
        json_object_foreach((json_t *)ml, key, v)
        {
            struct req *r = &s->reqs[s->n++];
            r->key = keep(s, osw_str_from_cstr(key));
            r->op = OP_IN;
            r->values = malloc(sizeof(*r->values));
            if (!r->values)
                return OSW_ENOMEM;
            r->values[0] = keep(s, jstr(v));
            r->nvalues = 1;
        }
    }
    json_array_foreach(me, i, v)
    {
        struct req *r = &s->reqs[s->n++];
        const json_t *vals = json_object_get(v, "values");
        r->key = keep(s, jstr(json_object_get(v, "key")));
        op_of(json_object_get(v, "operator"), &r->op);
        size_t nv = json_is_array(vals) ? json_array_size(vals) : 0;
        if (nv == 0)
            continue;
        r->values = calloc(nv, sizeof(*r->values));
        if (!r->values)
            return OSW_ENOMEM;
        for (size_t j = 0; j < nv; j++)
            r->values[r->nvalues++] = keep(s, jstr(json_array_get(vals, j)));
        settle_values(r);
    }
    qsort(s->reqs, s->n, sizeof(*s->reqs), req_cmp);
    return OSW_OK;
}

enum osw_err osw_selector_parse(const json_t *sel, struct osw_selector **out)
{
    size_t nreqs, nbytes;
    *out = NULL;
    /* Kubernetes controllers treat an empty selector as selecting nothing,
     * never everything; so does the contract (null or {}). */
    if (!json_is_object(sel) || !measure(sel, &nreqs, &nbytes) || nreqs == 0)
        return OSW_OK;
    struct osw_selector *s = calloc(1, sizeof(*s));
    if (!s)
        return OSW_ENOMEM;
    s->reqs = calloc(nreqs, sizeof(*s->reqs));
    s->bytes = malloc(nbytes ? nbytes : 1);
    s->cap = nbytes;
    enum osw_err err = (s->reqs && s->bytes) ? fill(s, sel) : OSW_ENOMEM;
    if (err != OSW_OK) {
        osw_selector_free(s);
        return err;
    }
    *out = s;
    return OSW_OK;
}

static bool has_value(const struct req *r, struct osw_str v)
{
    return bsearch(&v, r->values, r->nvalues, sizeof(*r->values), value_cmp) != NULL;
}

bool osw_selector_matches(const struct osw_selector *s, const struct osw_labels *l)
{
    if (!s)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        const struct req *r = &s->reqs[i];
        const struct osw_str *v = osw_labels_get(l, r->key);
        bool ok = false;
        switch (r->op) {
        case OP_IN:
            ok = v && has_value(r, *v);
            break;
        case OP_NOTIN:
            ok = !v || !has_value(r, *v);
            break;
        case OP_EXISTS:
            ok = v != NULL;
            break;
        case OP_DOES_NOT_EXIST:
            ok = v == NULL;
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

bool osw_selector_equal(const struct osw_selector *a, const struct osw_selector *b)
{
    if (!a || !b)
        return a == b;
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (req_cmp(&a->reqs[i], &b->reqs[i]) != 0)
            return false;
    }
    return true;
}

bool osw_selector_in_requirement(const struct osw_selector *s, struct osw_str *key,
                                 const struct osw_str **values, size_t *nvalues)
{
    const struct req *best = NULL;
    for (size_t i = 0; s && i < s->n; i++) {
        if (s->reqs[i].op == OP_IN && (!best || s->reqs[i].nvalues < best->nvalues))
            best = &s->reqs[i];
    }
    if (!best)
        return false;
    *key = best->key;
    *values = best->values;
    *nvalues = best->nvalues;
    return true;
}

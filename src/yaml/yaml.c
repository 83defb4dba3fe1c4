/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML to JSON conversion on libyaml's event API. The event API (rather than
 * the document API) is used because it tells a plain scalar without a tag
 * from one tagged `!!str`, which scalar resolution needs, and because
 * expanding aliases ourselves lets every expanded node be counted against a
 * budget: a few hundred bytes of "billion laughs" YAML cannot make us build
 * a billion nodes. An alias can only name a node that is already complete,
 * so recursive structures cannot arise.
 */
#include "yaml/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

struct anchor {
    char *name;    /* owned */
    json_t *value; /* one reference owned */
    size_t nodes;  /* nodes in the subtree */
    size_t depth;  /* levels in the subtree (a scalar is 1) */
};

struct conv {
    yaml_parser_t parser;
    struct osw_yaml_limits lim;
    struct anchor *anchors; /* of the current document */
    size_t nanchors, capanchors;
    size_t nodes;       /* produced so far in the current document */
    size_t alias_nodes; /* copied by aliases so far in the whole stream */
    struct osw_errbuf *eb;
};

static enum osw_err at_mark(struct conv *c, enum osw_err err, yaml_mark_t m, const char *what)
{
    return osw_errbuf_set(c->eb, err, "%zu:%zu: %s", m.line + 1, m.column + 1, what);
}

static enum osw_err parser_error(struct conv *c)
{
    yaml_parser_t *p = &c->parser;
    const char *problem = p->problem ? p->problem : "invalid YAML";

    if (p->error == YAML_MEMORY_ERROR)
        return osw_errbuf_set(c->eb, OSW_ENOMEM, "out of memory");
    if (p->error == YAML_READER_ERROR)
        return osw_errbuf_set(c->eb, OSW_EINVAL, "byte offset %zu: %s", p->problem_offset, problem);
    if (p->context)
        return osw_errbuf_set(c->eb, OSW_EINVAL, "%zu:%zu: %s %s (line %zu)",
                              p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
                              p->context, p->context_mark.line + 1);
    return osw_errbuf_set(c->eb, OSW_EINVAL, "%zu:%zu: %s", p->problem_mark.line + 1,
                          p->problem_mark.column + 1, problem);
}

/* The next event (caller deletes it). */
static enum osw_err next(struct conv *c, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&c->parser, ev))
        return parser_error(c);
    return OSW_OK;
}

static void clear_anchors(struct conv *c)
{
    for (size_t i = 0; i < c->nanchors; i++) {
        free(c->anchors[i].name);
        json_decref(c->anchors[i].value);
    }
    c->nanchors = 0;
}

static enum osw_err add_anchor(struct conv *c, const yaml_char_t *name, json_t *value, size_t nodes,
                               size_t depth)
{
    if (c->nanchors == c->capanchors) {
        size_t ncap = c->capanchors ? c->capanchors * 2 : 8;
        struct anchor *na = realloc(c->anchors, ncap * sizeof(*na));
        if (!na)
            return osw_errbuf_set(c->eb, OSW_ENOMEM, "out of memory");
        c->anchors = na;
        c->capanchors = ncap;
    }
    char *copy = strdup((const char *)name);
    if (!copy)
        return osw_errbuf_set(c->eb, OSW_ENOMEM, "out of memory");
    struct anchor *a = &c->anchors[c->nanchors++];
    a->name = copy;
    a->value = json_incref(value);
    a->nodes = nodes;
    a->depth = depth;
    return OSW_OK;
}

/* The most recent anchor called `name` (YAML lets an anchor be redefined). */
static const struct anchor *find_anchor(const struct conv *c, const yaml_char_t *name)
{
    for (size_t i = c->nanchors; i > 0; i--) {
        if (strcmp(c->anchors[i - 1].name, (const char *)name) == 0)
            return &c->anchors[i - 1];
    }
    return NULL;
}

static bool is_one_of(const char *s, size_t len, const char *const *words)
{
    for (; *words; words++) {
        if (strlen(*words) == len && memcmp(s, *words, len) == 0)
            return true;
    }
    return false;
}

static bool all_digits(const char *s, size_t len, int base)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        bool ok = base == 16  ? ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                                (ch >= 'A' && ch <= 'F'))
                  : base == 8 ? (ch >= '0' && ch <= '7')
                              : (ch >= '0' && ch <= '9');
        if (!ok)
            return false;
    }
    return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    if (i < len && s[i] == '.') {
        i++;
        size_t frac = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            frac++;
        }
        if (digits == 0 && frac == 0)
            return false;
    } else if (digits == 0) {
        return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t exp = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            exp++;
        }
        if (exp == 0)
            return false;
    }
    return i == len;
}

/* An unsigned 0x/0o literal's value as JSON (a real when it exceeds int64). */
static json_t *unsigned_number(const char *digits, int base)
{
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, base);
    if (errno == 0 && v <= (unsigned long long)INT64_MAX)
        return json_integer((json_int_t)v);
    double d = 0;
    for (const char *p = digits; *p; p++) {
        int dv = (*p >= '0' && *p <= '9') ? *p - '0' : (*p | 0x20) - 'a' + 10;
        d = d * base + dv;
    }
    return isfinite(d) ? json_real(d) : NULL;
}

/*
 * Resolves a plain scalar by the YAML 1.2 core schema. `text` is
 * NUL-terminated (libyaml guarantees it). Sets *bad to a reason when the
 * scalar is a number JSON cannot hold; returns NULL then (or on ENOMEM).
 */
static json_t *resolve_plain(const char *text, size_t len, const char **bad)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const infs[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                       "+.INF", "-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};

    *bad = NULL;
    if (is_one_of(text, len, nulls))
        return json_null();
    if (is_one_of(text, len, trues))
        return json_true();
    if (is_one_of(text, len, falses))
        return json_false();
    if (is_one_of(text, len, infs) || is_one_of(text, len, nans)) {
        *bad = "infinity and NaN cannot be represented in JSON (quote the value for a string)";
        return NULL;
    }
    if (len > 2 && text[0] == '0' && text[1] == 'x' && all_digits(text + 2, len - 2, 16))
        return unsigned_number(text + 2, 16);
    if (len > 2 && text[0] == '0' && text[1] == 'o' && all_digits(text + 2, len - 2, 8))
        return unsigned_number(text + 2, 8);
    size_t sign = (len > 0 && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
    if (all_digits(text + sign, len - sign, 10)) {
        errno = 0;
        long long v = strtoll(text, NULL, 10);
        if (errno == 0)
            return json_integer((json_int_t)v);
        /* Beyond 64 bits: a real, as a JSON decoder would read it. */
    }
    if (all_digits(text + sign, len - sign, 10) || is_float(text, len)) {
        errno = 0;
        double d = strtod(text, NULL);
        if (errno == ERANGE && !isfinite(d)) {
            *bad = "number is out of range for JSON";
            return NULL;
        }
        if (!isfinite(d)) {
            *bad = "number is out of range for JSON";
            return NULL;
        }
        return json_real(d);
    }
    return json_stringn(text, len);
}

static bool tag_is(const yaml_char_t *tag, const char *name)
{
    size_t plen = sizeof(TAG_PREFIX) - 1;
    return tag && strncmp((const char *)tag, TAG_PREFIX, plen) == 0 &&
           strcmp((const char *)tag + plen, name) == 0;
}

static enum osw_err convert_scalar(struct conv *c, const yaml_event_t *ev, json_t **out)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const yaml_char_t *tag = ev->data.scalar.tag;
    bool resolve;

    if (tag && (tag_is(tag, "str") || strcmp((const char *)tag, "!") == 0))
        resolve = false;
    else if (tag_is(tag, "null") || tag_is(tag, "bool") || tag_is(tag, "int") ||
             tag_is(tag, "float"))
        resolve = true;
    else
        resolve = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

    const char *bad = NULL;
    *out = resolve ? resolve_plain(text, len, &bad) : json_stringn(text, len);
    if (bad)
        return at_mark(c, OSW_EINVAL, ev->start_mark, bad);
    if (!*out) {
        /* json_stringn refuses invalid UTF-8. libyaml validates its input
         * and refuses surrogate escapes, so this is defensive; allocation
         * failure is the other possibility. */
        return at_mark(c, OSW_EINVAL, ev->start_mark, "string is not valid UTF-8");
    }
    return OSW_OK;
}

static enum osw_err convert_node(struct conv *c, yaml_event_t *ev, size_t depth, json_t **out,
                                 size_t *nodes, size_t *sub_depth);

/* Converts the children of a sequence (after its start event). */
static enum osw_err convert_sequence(struct conv *c, size_t depth, json_t *arr, size_t *nodes,
                                     size_t *sub_depth)
{
    for (;;) {
        yaml_event_t ev;
        enum osw_err err = next(c, &ev);
        if (err != OSW_OK)
            return err;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return OSW_OK;
        }
        json_t *child = NULL;
        size_t cn = 0, cd = 0;
        err = convert_node(c, &ev, depth + 1, &child, &cn, &cd);
        yaml_event_delete(&ev);
        if (err != OSW_OK)
            return err;
        if (json_array_append_new(arr, child) != 0)
            return osw_errbuf_set(c->eb, OSW_ENOMEM, "out of memory");
        *nodes += cn;
        if (cd + 1 > *sub_depth)
            *sub_depth = cd + 1;
    }
}

/* Converts the key/value pairs of a mapping (after its start event). */
static enum osw_err convert_mapping(struct conv *c, size_t depth, json_t *obj, size_t *nodes,
                                    size_t *sub_depth)
{
    for (;;) {
        yaml_event_t kev;
        enum osw_err err = next(c, &kev);
        if (err != OSW_OK)
            return err;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            return OSW_OK;
        }
        if (kev.type != YAML_SCALAR_EVENT) {
            err = at_mark(c, OSW_EINVAL, kev.start_mark,
                          kev.type == YAML_ALIAS_EVENT
                              ? "an alias cannot be a mapping key"
                              : "mapping keys must be scalars (strings, numbers, booleans)");
            yaml_event_delete(&kev);
            return err;
        }
        const char *key = (const char *)kev.data.scalar.value;
        size_t klen = kev.data.scalar.length;
        if (json_object_getn(obj, key, klen)) {
            err = at_mark(c, OSW_EINVAL, kev.start_mark, "duplicate mapping key");
            yaml_event_delete(&kev);
            return err;
        }
        if (c->nodes >= c->lim.max_nodes) {
            err = at_mark(c, OSW_ETOOBIG, kev.start_mark, "document has too many nodes");
            yaml_event_delete(&kev);
            return err;
        }
        c->nodes++;

        yaml_event_t vev;
        err = next(c, &vev);
        if (err != OSW_OK) {
            yaml_event_delete(&kev);
            return err;
        }
        json_t *child = NULL;
        size_t cn = 0, cd = 0;
        err = convert_node(c, &vev, depth + 1, &child, &cn, &cd);
        yaml_event_delete(&vev);
        if (err == OSW_OK && json_object_setn_new(obj, key, klen, child) != 0)
            err = at_mark(c, OSW_EINVAL, kev.start_mark, "mapping key is not valid UTF-8");
        yaml_event_delete(&kev);
        if (err != OSW_OK)
            return err;
        *nodes += cn + 1;
        if (cd + 1 > *sub_depth)
            *sub_depth = cd + 1;
    }
}

/*
 * Converts the node that starts with `ev` (borrowed; the caller deletes it)
 * at nesting level `depth` (the document root is 1). On success `*out` is a
 * new reference, `*nodes` the nodes it holds and `*sub_depth` its height.
 */
static enum osw_err convert_node(struct conv *c, yaml_event_t *ev, size_t depth, json_t **out,
                                 size_t *nodes, size_t *sub_depth)
{
    const yaml_char_t *anchor = NULL;
    enum osw_err err = OSW_OK;
    json_t *v = NULL;

    *out = NULL;
    *nodes = 1;
    *sub_depth = 1;
    if (depth > c->lim.max_depth)
        return at_mark(c, OSW_ETOOBIG, ev->start_mark, "nesting is too deep");

    if (ev->type == YAML_ALIAS_EVENT) {
        const struct anchor *a = find_anchor(c, ev->data.alias.anchor);
        if (!a)
            return at_mark(c, OSW_EINVAL, ev->start_mark, "unknown anchor");
        if (a->nodes > c->lim.max_nodes - c->nodes || a->nodes > c->lim.max_nodes - c->alias_nodes)
            return at_mark(c, OSW_ETOOBIG, ev->start_mark,
                           "document has too many nodes (aliases expand too far)");
        if (depth - 1 + a->depth > c->lim.max_depth)
            return at_mark(c, OSW_ETOOBIG, ev->start_mark, "nesting is too deep");
        v = json_deep_copy(a->value);
        if (!v)
            return osw_errbuf_set(c->eb, OSW_ENOMEM, "out of memory");
        c->nodes += a->nodes;
        c->alias_nodes += a->nodes;
        *nodes = a->nodes;
        *sub_depth = a->depth;
        *out = v;
        return OSW_OK;
    }

    if (c->nodes >= c->lim.max_nodes)
        return at_mark(c, OSW_ETOOBIG, ev->start_mark, "document has too many nodes");
    c->nodes++;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        err = convert_scalar(c, ev, &v);
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        v = json_array();
        err = v ? convert_sequence(c, depth, v, nodes, sub_depth)
                : osw_errbuf_set(c->eb, OSW_ENOMEM, "out of memory");
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        v = json_object();
        err = v ? convert_mapping(c, depth, v, nodes, sub_depth)
                : osw_errbuf_set(c->eb, OSW_ENOMEM, "out of memory");
        break;
    default:
        err = at_mark(c, OSW_EINVAL, ev->start_mark, "unexpected YAML event");
        break;
    }
    if (err == OSW_OK && anchor)
        err = add_anchor(c, anchor, v, *nodes, *sub_depth);
    if (err != OSW_OK) {
        json_decref(v);
        return err;
    }
    *out = v;
    return OSW_OK;
}

/* Converts one document (after its start event); `*doc` NULL when empty. */
static enum osw_err convert_document(struct conv *c, json_t **doc)
{
    yaml_event_t ev;
    size_t nodes = 0, depth = 0;
    enum osw_err err = next(c, &ev);

    *doc = NULL;
    if (err != OSW_OK)
        return err;
    err = convert_node(c, &ev, 1, doc, &nodes, &depth);
    yaml_event_delete(&ev);
    if (err != OSW_OK)
        return err;
    err = next(c, &ev);
    if (err != OSW_OK)
        goto fail;
    if (ev.type != YAML_DOCUMENT_END_EVENT) {
        err = at_mark(c, OSW_EINVAL, ev.start_mark, "expected the end of the document");
        yaml_event_delete(&ev);
        goto fail;
    }
    yaml_event_delete(&ev);
    return OSW_OK;
fail:
    json_decref(*doc);
    *doc = NULL;
    return err;
}

enum osw_err osw_yaml_parse(const char *data, size_t len, const struct osw_yaml_limits *limits,
                            json_t **docs, struct osw_errbuf *eb)
{
    struct conv c;
    enum osw_err err = OSW_OK;
    json_t *arr = NULL;

    *docs = NULL;
    memset(&c, 0, sizeof(c));
    c.eb = eb;
    c.lim.max_nodes = limits ? limits->max_nodes : OSW_YAML_MAX_NODES;
    c.lim.max_depth = limits ? limits->max_depth : OSW_YAML_MAX_DEPTH;
    if (!yaml_parser_initialize(&c.parser))
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)data, len);
    arr = json_array();
    if (!arr) {
        err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        yaml_event_t ev;
        err = next(&c, &ev);
        if (err != OSW_OK)
            goto out;
        yaml_event_type_t type = ev.type;
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
        if (type == YAML_STREAM_START_EVENT)
            continue;
        if (type != YAML_DOCUMENT_START_EVENT) {
            err = osw_errbuf_set(eb, OSW_EINVAL, "unexpected YAML event");
            goto out;
        }
        json_t *doc = NULL;
        /* The node budget is per document: nodes written out in full are
         * bounded by the input's size anyway, so 100,000 small pools in one
         * file are read as they are in two. Alias copies, which are not,
         * stay bounded over the whole stream (c.alias_nodes). */
        c.nodes = 0;
        err = convert_document(&c, &doc);
        clear_anchors(&c); /* anchors are scoped to their document */
        if (err != OSW_OK)
            goto out;
        if (json_is_null(doc)) {
            json_decref(doc);
            continue;
        }
        if (json_array_append_new(arr, doc) != 0) {
            err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
            goto out;
        }
    }
    *docs = arr;
    arr = NULL;
out:
    json_decref(arr);
    clear_anchors(&c);
    free(c.anchors);
    yaml_parser_delete(&c.parser);
    return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict TOML v1.0.0 reader for CRI-O drop-ins. Debian 12 packages no C
 * TOML library, only C++ ones (toml++, cpptoml). A shim over one would put
 * a second language, its runtime and exceptions into the pure core that the
 * server, the CLI and the fuzzers link, for one lookup, and the MCO-specific
 * rules (case-insensitive keys, two spellings) would still be ours. So this
 * reads the whole v1.0.0 grammar (lexing in toml_scan.c), keeps a hashed
 * tree of keys to enforce the definition rules, and answers the lookup from
 * that tree. It agrees with every TOML 1.0.0 case of toml-lang/toml-test.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/toml_scan.h"
#include "osw/buf.h"
#include "core_internal.h"
#include "osw/toml.h"

enum kind { K_VALUE, K_STRING, K_TABLE, K_AOT };

#define F_EXPLICIT 0x1u /* defined by a [table] header */
#define F_DOTTED   0x2u /* defined (or extended) by a dotted key in `section` */
#define F_FROZEN   0x4u /* an inline table: closed once its braces are */

/* One key of the document. Tables list their keys in `first`..`last`;
 * an array of tables lists its element tables there (without keys). */
struct node {
    const struct node *parent;
    struct node *first, *last, *next;
    const char *key; /* borrowed from the document or the arena */
    size_t klen;
    const char *str; /* a string value the lookup may want (arena), else NULL */
    size_t slen;
    unsigned section;
    unsigned char kind, flags;
};

struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[];
};

struct seg {
    const char *ptr;
    size_t len;
};

struct parser {
    struct osw_tomlscan sc; /* the document and the position in it */
    struct block *arena;
    struct node root;
    struct node *cur; /* the table key/value pairs go into */
    struct node **slots;
    size_t nslots, nused;
    struct seg *segs;
    size_t nsegs, capsegs;
    unsigned section, depth;
    const char *want; /* last key of the lookup: string values kept */
};

/* ---- memory: one arena per document, one hash of (parent, key) -------- */

static void *arena_alloc(struct parser *p, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct block *b = p->arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->next = p->arena;
        b->used = 0;
        b->cap = cap;
        p->arena = b;
    }
    void *r = (unsigned char *)b->data + b->used;
    b->used += n;
    return r;
}

static size_t hash_key(const struct node *parent, const char *k, size_t n)
{
    uint64_t h = 14695981039346656037ull ^ ((uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ull;
    }
    /* FNV's multiply only moves bits upwards: mix before using low bits. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (size_t)h;
}

static struct node *lookup(const struct parser *p, const struct node *parent, struct seg k)
{
    if (p->nslots == 0)
        return NULL;
    for (size_t i = hash_key(parent, k.ptr, k.len) & (p->nslots - 1);;
         i = (i + 1) & (p->nslots - 1)) {
        struct node *n = p->slots[i];
        if (!n)
            return NULL;
        if (n->parent == parent && n->klen == k.len && memcmp(n->key, k.ptr, k.len) == 0)
            return n;
    }
}

static void slot_put(struct node **slots, size_t nslots, struct node *n)
{
    size_t i = hash_key(n->parent, n->key, n->klen) & (nslots - 1);
    while (slots[i])
        i = (i + 1) & (nslots - 1);
    slots[i] = n;
}

static enum osw_err hash_insert(struct parser *p, struct node *n)
{
    if ((p->nused + 1) * 2 > p->nslots) {
        size_t ns = p->nslots ? p->nslots * 2 : 64;
        struct node **slots = calloc(ns, sizeof(struct node *));
        if (!slots)
            return OSW_ENOMEM;
        for (size_t i = 0; i < p->nslots; i++) {
            if (p->slots[i])
                slot_put(slots, ns, p->slots[i]);
        }
        free(p->slots);
        p->slots = slots;
        p->nslots = ns;
    }
    slot_put(p->slots, p->nslots, n);
    p->nused++;
    return OSW_OK;
}

/* A new key `k` of `parent` (k.ptr NULL: an element of an array of tables,
 * reached through its parent only). */
static enum osw_err new_child(struct parser *p, struct node *parent, struct seg k,
                              unsigned char kind, struct node **out)
{
    struct node *n = arena_alloc(p, sizeof(*n));
    if (!n)
        return OSW_ENOMEM;
    memset(n, 0, sizeof(*n));
    n->parent = parent;
    n->key = k.ptr;
    n->klen = k.len;
    n->kind = kind;
    if (parent) {
        if (parent->last)
            parent->last->next = n;
        else
            parent->first = n;
        parent->last = n;
    }
    if (k.ptr && parent)
        OSW_TRY(hash_insert(p, n));
    *out = n;
    return OSW_OK;
}

/* ---- keys, values and tables --------------------------------------------- */

static bool ci_eq(const char *k, size_t n, const char *c)
{
    size_t i = 0;
    for (; i < n && c[i]; i++) {
        unsigned char a = (unsigned char)k[i], b = (unsigned char)c[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return false;
    }
    return i == n && c[i] == '\0';
}

static enum osw_err push_seg(struct parser *p, const char *ptr, size_t len)
{
    if (!osw_grow(&p->segs, &p->capsegs, p->nsegs, sizeof(*p->segs), 8))
        return OSW_ENOMEM;
    p->segs[p->nsegs++] = (struct seg){ptr, len};
    return OSW_OK;
}

/* A dotted key into p->segs, then the blanks after it. */
static enum osw_err parse_key(struct parser *p)
{
    p->nsegs = 0;
    for (;;) {
        osw_tomlscan_skip_ws(&p->sc);
        if (p->sc.pos >= p->sc.len)
            return OSW_EINVAL;
        unsigned char c = p->sc.s[p->sc.pos];
        if (osw_tomlscan_is_bare(c)) {
            size_t start = p->sc.pos;
            while (p->sc.pos < p->sc.len && osw_tomlscan_is_bare(p->sc.s[p->sc.pos]))
                p->sc.pos++;
            OSW_TRY(push_seg(p, (const char *)p->sc.s + start, p->sc.pos - start));
        } else if (c == '"' || c == '\'') {
            size_t start = p->sc.pos;
            OSW_TRY(osw_tomlscan_string(&p->sc));
            /* A key is a one-line string: `"""` would read as "" then ". */
            if (p->sc.s[start + 1] == c && p->sc.pos - start > 2)
                return OSW_EINVAL;
            char *k = arena_alloc(p, p->sc.scratch.len + 1);
            if (!k)
                return OSW_ENOMEM;
            if (p->sc.scratch.len)
                memcpy(k, p->sc.scratch.data, p->sc.scratch.len);
            OSW_TRY(push_seg(p, k, p->sc.scratch.len));
        } else {
            return OSW_EINVAL;
        }
        osw_tomlscan_skip_ws(&p->sc);
        if (!osw_tomlscan_at(&p->sc, '.'))
            return OSW_OK;
        p->sc.pos++;
    }
}

static enum osw_err parse_value(struct parser *p, struct node *node);

static enum osw_err parse_array(struct parser *p)
{
    p->sc.pos++;
    for (;;) {
        OSW_TRY(osw_tomlscan_array_space(&p->sc));
        if (osw_tomlscan_at(&p->sc, ']'))
            break;
        OSW_TRY(parse_value(p, NULL));
        OSW_TRY(osw_tomlscan_array_space(&p->sc));
        if (osw_tomlscan_at(&p->sc, ','))
            p->sc.pos++;
        else if (osw_tomlscan_at(&p->sc, ']'))
            break;
        else
            return OSW_EINVAL;
    }
    p->sc.pos++;
    return OSW_OK;
}

/* `k.e.y = value` inside an inline table `t`: self-contained, so dotted keys
 * only meet tables made within the same braces. */
static enum osw_err inline_keyval(struct parser *p, struct node *t)
{
    OSW_TRY(parse_key(p));
    if (!osw_tomlscan_at(&p->sc, '='))
        return OSW_EINVAL;
    p->sc.pos++;
    osw_tomlscan_skip_ws(&p->sc);
    struct node *cur = t, *n = NULL;
    for (size_t i = 0; i + 1 < p->nsegs; i++, cur = n) {
        n = lookup(p, cur, p->segs[i]);
        if (!n)
            OSW_TRY(new_child(p, cur, p->segs[i], K_TABLE, &n));
        else if (n->kind != K_TABLE || (n->flags & F_FROZEN))
            return OSW_EINVAL;
    }
    if (lookup(p, cur, p->segs[p->nsegs - 1]))
        return OSW_EINVAL;
    OSW_TRY(new_child(p, cur, p->segs[p->nsegs - 1], K_VALUE, &n));
    return parse_value(p, n);
}

static enum osw_err parse_inline(struct parser *p, struct node *t)
{
    p->sc.pos++;
    osw_tomlscan_skip_ws(&p->sc);
    if (osw_tomlscan_at(&p->sc, '}')) {
        p->sc.pos++;
        return OSW_OK;
    }
    for (;;) {
        OSW_TRY(inline_keyval(p, t));
        osw_tomlscan_skip_ws(&p->sc);
        if (osw_tomlscan_at(&p->sc, '}'))
            break;
        if (!osw_tomlscan_at(&p->sc, ','))
            return OSW_EINVAL; /* no newline, no trailing comma */
        p->sc.pos++;
    }
    p->sc.pos++;
    return OSW_OK;
}

/* A value at pos; `node` is the key it is assigned to (NULL in arrays). */
static enum osw_err parse_value(struct parser *p, struct node *node)
{
    if (p->sc.pos >= p->sc.len)
        return OSW_EINVAL;
    unsigned char c = p->sc.s[p->sc.pos];
    if (c == '"' || c == '\'') {
        OSW_TRY(osw_tomlscan_string(&p->sc));
        if (node) {
            node->kind = K_STRING;
            if (p->want && ci_eq(node->key, node->klen, p->want)) {
                char *v = arena_alloc(p, p->sc.scratch.len + 1);
                if (!v)
                    return OSW_ENOMEM;
                if (p->sc.scratch.len)
                    memcpy(v, p->sc.scratch.data, p->sc.scratch.len);
                node->str = v;
                node->slen = p->sc.scratch.len;
            }
        }
        return OSW_OK;
    }
    if (c != '[' && c != '{')
        return osw_tomlscan_scalar(&p->sc);
    if (++p->depth > OSW_TOML_MAX_DEPTH)
        return OSW_EINVAL;
    enum osw_err err;
    if (c == '[') {
        err = parse_array(p);
    } else {
        /* An inline table in an array has no key: an orphan node holds its
         * keys so that duplicates are still found. */
        if (!node)
            OSW_TRY(new_child(p, NULL, (struct seg){NULL, 0}, K_TABLE, &node));
        node->kind = K_TABLE;
        err = parse_inline(p, node);
        node->flags |= F_FROZEN;
    }
    p->depth--;
    return err;
}

/* `k.e.y = value` in the current table. Dotted keys create or extend tables
 * of this section only: a table defined by a header, or by dotted keys
 * under an earlier header, is closed to them. */
static enum osw_err keyval(struct parser *p)
{
    OSW_TRY(parse_key(p));
    if (!osw_tomlscan_at(&p->sc, '='))
        return OSW_EINVAL;
    p->sc.pos++;
    osw_tomlscan_skip_ws(&p->sc);
    struct node *cur = p->cur, *n = NULL;
    for (size_t i = 0; i + 1 < p->nsegs; i++, cur = n) {
        n = lookup(p, cur, p->segs[i]);
        if (!n) {
            OSW_TRY(new_child(p, cur, p->segs[i], K_TABLE, &n));
        } else if (n->kind != K_TABLE || (n->flags & (F_FROZEN | F_EXPLICIT)) ||
                   ((n->flags & F_DOTTED) && n->section != p->section)) {
            return OSW_EINVAL;
        }
        n->flags |= F_DOTTED;
        n->section = p->section;
    }
    if (lookup(p, cur, p->segs[p->nsegs - 1]))
        return OSW_EINVAL;
    OSW_TRY(new_child(p, cur, p->segs[p->nsegs - 1], K_VALUE, &n));
    OSW_TRY(parse_value(p, n));
    return osw_tomlscan_eol(&p->sc);
}

/* `[table]` or `[[array.of.tables]]`. */
static enum osw_err header(struct parser *p)
{
    bool aot = p->sc.len - p->sc.pos > 1 && p->sc.s[p->sc.pos + 1] == '[';
    p->sc.pos += aot ? 2 : 1;
    OSW_TRY(parse_key(p));
    if (!osw_tomlscan_at(&p->sc, ']') ||
        (aot && (p->sc.len - p->sc.pos < 2 || p->sc.s[p->sc.pos + 1] != ']')))
        return OSW_EINVAL;
    p->sc.pos += aot ? 2 : 1;
    p->section++;
    struct node *cur = &p->root, *n = NULL;
    for (size_t i = 0; i + 1 < p->nsegs; i++, cur = n) {
        n = lookup(p, cur, p->segs[i]);
        if (!n)
            OSW_TRY(new_child(p, cur, p->segs[i], K_TABLE, &n));
        else if (n->kind == K_AOT)
            n = n->last; /* a sub-table of the latest element */
        else if (n->kind != K_TABLE || (n->flags & F_FROZEN))
            return OSW_EINVAL;
    }
    n = lookup(p, cur, p->segs[p->nsegs - 1]);
    if (!aot) {
        if (!n)
            OSW_TRY(new_child(p, cur, p->segs[p->nsegs - 1], K_TABLE, &n));
        else if (n->kind != K_TABLE || (n->flags & (F_EXPLICIT | F_FROZEN | F_DOTTED)))
            return OSW_EINVAL;
        n->flags |= F_EXPLICIT;
        p->cur = n;
    } else {
        if (!n)
            OSW_TRY(new_child(p, cur, p->segs[p->nsegs - 1], K_AOT, &n));
        else if (n->kind != K_AOT)
            return OSW_EINVAL;
        OSW_TRY(new_child(p, n, (struct seg){NULL, 0}, K_TABLE, &p->cur));
    }
    return osw_tomlscan_eol(&p->sc);
}

static enum osw_err parse_document(struct parser *p)
{
    if (p->sc.len >= 3 && memcmp(p->sc.s, "\xef\xbb\xbf", 3) == 0)
        p->sc.pos = 3;
    if (!osw_tomlscan_utf8_valid(p->sc.s + p->sc.pos, p->sc.len - p->sc.pos))
        return OSW_EINVAL;
    p->root.kind = K_TABLE;
    p->cur = &p->root;
    for (;;) {
        osw_tomlscan_skip_ws(&p->sc);
        if (p->sc.pos >= p->sc.len)
            return OSW_OK;
        unsigned char c = p->sc.s[p->sc.pos];
        if (c == '#' || c == '\n' || c == '\r')
            OSW_TRY(osw_tomlscan_eol(&p->sc));
        else if (c == '[')
            OSW_TRY(header(p));
        else
            OSW_TRY(keyval(p));
    }
}

/* ---- the lookup ------------------------------------------------------------ */

static enum osw_err collect(const struct node *t, const char *const *path, size_t npath,
                            enum osw_toml_found *found, struct osw_buf *value)
{
    for (const struct node *n = t->first; n && *found != OSW_TOML_UNDECODABLE; n = n->next) {
        if (!ci_eq(n->key, n->klen, path[0]))
            continue;
        if (npath > 1) {
            if (n->kind != K_TABLE)
                *found = OSW_TOML_UNDECODABLE;
            else
                OSW_TRY(collect(n, path + 1, npath - 1, found, value));
        } else if (n->kind != K_STRING) {
            *found = OSW_TOML_UNDECODABLE;
        } else if (*found == OSW_TOML_STRING) {
            if (n->slen != value->len || (n->slen && memcmp(n->str, value->data, n->slen) != 0))
                *found = OSW_TOML_UNDECODABLE;
        } else {
            *found = OSW_TOML_STRING;
            OSW_TRY(osw_buf_append(value, n->str ? n->str : "", n->slen));
        }
    }
    return OSW_OK;
}

enum osw_err osw_toml_lookup(const char *doc, size_t len, const char *const *path, size_t npath,
                             enum osw_toml_found *found, struct osw_buf *value)
{
    struct parser p = {0};
    enum osw_err err = OSW_OK;
    *found = OSW_TOML_UNDECODABLE;
    if (!doc || npath == 0)
        return OSW_OK;
    p.sc.s = (const unsigned char *)doc;
    p.sc.len = len;
    p.want = path[npath - 1];
    osw_buf_init(&p.sc.scratch);
    err = parse_document(&p);
    if (err == OSW_EINVAL) {
        err = OSW_OK; /* not TOML v1.0.0: undecodable */
        goto out;
    }
    if (err != OSW_OK)
        goto out;
    size_t mark = value->len;
    *found = OSW_TOML_MISSING;
    err = collect(&p.root, path, npath, found, value);
    if (*found != OSW_TOML_STRING && value->len > mark) {
        value->len = mark;
        value->data[mark] = '\0';
    }
out:
    while (p.arena) {
        struct block *next = p.arena->next;
        free(p.arena);
        p.arena = next;
    }
    free(p.slots);
    free(p.segs);
    osw_buf_free(&p.sc.scratch);
    return err;
}

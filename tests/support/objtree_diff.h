/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test support: the differential property of osw_objtree_decode (objtree.h)
 * against what the list path did before it, json_loadb of the whole
 * element. On the same bytes both must give the same verdict, a tree for
 * exactly the objects, and osw_mc_extract() the same extract (or the same
 * refusal) from the reduced tree as from the whole object, field by field.
 * The tree must also equal the reduced object_tree the jansson reference
 * reader makes of the same object inside an AdmissionReview. Header-only,
 * for the unit test and the fuzz driver.
 */
#ifndef OSW_TEST_OBJTREE_DIFF_H
#define OSW_TEST_OBJTREE_DIFF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "osw/cluster.h"
#include "osw/objtree.h"
#include "osw/review.h"
#include "review_diff.h"

/* The flags the List page reader parses an element with (listpage.c). */
#define OBJTREE_JFLAGS (JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY)

static inline bool objtree_str_eq(struct osw_str a, struct osw_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* NULL when two MachineConfig extracts are equal, else the first field that
 * differs. */
static inline const char *objtree_mc_diff(const struct osw_mc *a, const struct osw_mc *b)
{
    if (!a || !b)
        return a == b ? NULL : "extract presence";
    if (!objtree_str_eq(a->name, b->name))
        return "name";
    if (!objtree_str_eq(a->url, b->url))
        return "url";
    if (a->generated != b->generated)
        return "generated";
    if (a->role_worker != b->role_worker)
        return "role_worker";
    if (a->labels.n != b->labels.n)
        return "label count";
    for (size_t i = 0; i < a->labels.n; i++) {
        if (!objtree_str_eq(a->labels.items[i].key, b->labels.items[i].key) ||
            !objtree_str_eq(a->labels.items[i].value, b->labels.items[i].value))
            return "labels";
    }
    if (!review_diff_extract_eq(a->crio, b->crio))
        return "crio drop-ins";
    return NULL;
}

/* The extracts of the whole object and of its reduced tree. */
static inline const char *objtree_extract_diff(const json_t *full, const json_t *tree)
{
    struct osw_mc *a = NULL, *b = NULL;
    struct osw_errbuf ea, eb;
    ea.msg[0] = eb.msg[0] = '\0';
    enum osw_err ra = osw_mc_extract(full, &a, &ea);
    enum osw_err rb = osw_mc_extract(tree, &b, &eb);
    const char *w = NULL;
    if (ra == OSW_ENOMEM || rb == OSW_ENOMEM)
        w = NULL; /* memory is not a difference */
    else if (ra != rb)
        w = "extract verdict";
    else if (ra != OSW_OK && strcmp(ea.msg, eb.msg) != 0)
        w = "extract refusal";
    else if (ra == OSW_OK)
        w = objtree_mc_diff(a, b);
    osw_mc_unref(a);
    osw_mc_unref(b);
    return w;
}

/* The reduced object_tree of the jansson reference reader for the object
 * `data` placed at request.object of a MachineConfig review. */
static inline const char *objtree_review_diff(const char *data, size_t len, const json_t *tree)
{
    static const char head[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
        "\"uid\":\"u\",\"resource\":{\"group\":\"machineconfiguration.openshift.io\","
        "\"resource\":\"machineconfigs\"},\"object\":";
    static const char tail[] = "}}";
    size_t n = sizeof(head) - 1 + len + sizeof(tail) - 1;
    char *body = malloc(n);
    if (!body)
        return NULL;
    memcpy(body, head, sizeof(head) - 1);
    memcpy(body + sizeof(head) - 1, data, len);
    memcpy(body + sizeof(head) - 1 + len, tail, sizeof(tail) - 1);
    struct osw_review rv;
    const char *w = NULL;
    /* Refused only when nesting that a top-level object may have is too
     * deep two levels down: then there is nothing to compare. */
    if (osw_review_decode_jansson(body, n, &rv, NULL) == OSW_OK &&
        !review_diff_tree(rv.object_tree, tree))
        w = "tree (against the reference reader's object_tree)";
    osw_review_release(&rv);
    free(body);
    return w;
}

/* NULL when osw_objtree_decode agrees with json_loadb on `len` bytes at
 * `data`, else what differs. Out of memory on either side is not a
 * difference. */
static inline const char *objtree_diff(const char *data, size_t len)
{
    json_error_t jerr;
    json_t *full = json_loadb(data, len, OBJTREE_JFLAGS, &jerr);
    json_t *tree = NULL;
    struct osw_errbuf eb;
    enum osw_err err = osw_objtree_decode(data, len, &tree, &eb);
    const char *w = NULL;
    if (err == OSW_ENOMEM || (!full && json_error_code(&jerr) == json_error_out_of_memory))
        w = NULL;
    else if (!full)
        w = err == OSW_EBADJSON ? NULL : "verdict (jansson refuses, objtree accepts)";
    else if (err != OSW_OK && !memchr(data, '\0', len))
        w = "verdict (jansson accepts, objtree refuses)";
    else if (err != OSW_OK)
        w = NULL; /* a raw NUL: refused by design (objtree.h) */
    else if (json_is_object(full) != (tree != NULL))
        w = "tree for a value that is not an object, or none for an object";
    else if (tree && !json_is_object(tree))
        w = "tree is not an object";
    else if (tree && (w = objtree_extract_diff(full, tree)) == NULL)
        w = objtree_review_diff(data, len, tree);
    if (err != OSW_OK && tree)
        w = "tree left on failure";
    json_decref(full);
    json_decref(tree);
    return w;
}

/* `tmpl` with every '@' replaced by the `vlen` bytes at `v`, in a new
 * buffer of `*len` bytes (the caller frees it); NULL when out of memory.
 * For table tests that put one value in many places of an object. */
static inline char *osw_objtree_place(const char *tmpl, const char *v, size_t vlen, size_t *len)
{
    size_t n = 0;
    *len = 0;
    for (const char *t = tmpl; *t; t++)
        n += *t == '@' ? vlen : 1;
    char *out = malloc(n ? n : 1), *o = out;
    if (!out)
        return NULL;
    for (const char *t = tmpl; *t; t++) {
        if (*t == '@') {
            if (vlen)
                memcpy(o, v, vlen);
            o += vlen;
        } else {
            *o++ = *t;
        }
    }
    *len = n;
    return out;
}

#endif /* OSW_TEST_OBJTREE_DIFF_H */

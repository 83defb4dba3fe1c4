/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Labels and Kubernetes label selectors, as CONTRACT.md's parity Definitions
 * use them: matchLabels AND matchExpressions with In, NotIn, Exists and
 * DoesNotExist. A selector that is null, has no requirements, or is invalid
 * (In/NotIn without values, Exists/DoesNotExist with values, an unknown
 * operator, a member of the wrong JSON type) selects nothing, which is
 * represented by a NULL selector. Pure: parsed from jansson values, owned by
 * the caller, immutable afterwards and safe to read from any thread.
 */
#ifndef OSW_SELECTOR_H
#define OSW_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "osw/error.h"
#include "osw/str.h"

struct osw_label {
    struct osw_str key, value; /* bytes owned by the osw_labels */
};

/* A label map, sorted by key (byte order), keys unique. */
struct osw_labels {
    struct osw_label *items; /* owned */
    size_t n;
    char *bytes; /* owned: the keys' and values' bytes */
};

/* Copies a JSON label map (absent/NULL or null: no labels). OSW_EBADOBJ when
 * `obj` is not an object or a value is not a string; OSW_ENOMEM. On failure
 * `out` holds nothing to free. */
enum osw_err osw_labels_from_json(const json_t *obj, struct osw_labels *out);
void osw_labels_free(struct osw_labels *l); /* NULL is fine; leaves it empty */
/* The value of `key`, or NULL when absent. Borrowed from `l`. */
const struct osw_str *osw_labels_get(const struct osw_labels *l, struct osw_str key);

struct osw_selector; /* opaque */

/* Parses spec.machineConfigSelector. `*out` is NULL when the selector selects
 * nothing (see above); otherwise the caller owns it. Only OSW_ENOMEM fails. */
enum osw_err osw_selector_parse(const json_t *sel, struct osw_selector **out);
void osw_selector_free(struct osw_selector *s); /* NULL is fine */

/* Whether `s` (NULL: selects nothing) selects an object labelled `l`. */
bool osw_selector_matches(const struct osw_selector *s, const struct osw_labels *l);

/* An `In` requirement of `s` (matchLabels entries are In with one value), the
 * one with the fewest values, so an index of labels can list the only
 * candidates: `*key` and `values[0..*nvalues)` are borrowed from `s`. False
 * when `s` is NULL or has no In requirement. */
bool osw_selector_in_requirement(const struct osw_selector *s, struct osw_str *key,
                                 const struct osw_str **values, size_t *nvalues);

/* Whether two parsed selectors select exactly the same objects because they
 * hold the same requirements (NULL equals NULL). */
bool osw_selector_equal(const struct osw_selector *a, const struct osw_selector *b);

#endif /* OSW_SELECTOR_H */

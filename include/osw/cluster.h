/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster state the parity rules read: MachineConfigPools as served and
 * MachineConfigs as a small extract (CONTRACT.md "Cluster state"). Extracts
 * are immutable and reference-counted, so a cache can keep them and build a
 * new snapshot per change without copying; a snapshot (struct osw_cluster)
 * is immutable and reference-counted too, and precomputes per pool what a
 * request needs (its selection in merge order and the MachineConfig that
 * wins its osImageURL), so deciding never scans every MachineConfig.
 */
#ifndef OSW_CLUSTER_H
#define OSW_CLUSTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "osw/crio.h"
#include "osw/error.h"
#include "osw/selector.h"
#include "osw/str.h"
#include "osw/tri.h"

#define OSW_MC_ROLE_LABEL     "machineconfiguration.openshift.io/role"
#define OSW_MC_GENERATED_ANNO "machineconfiguration.openshift.io/generated-by-controller-version"

/* A MachineConfig, reduced to what the rules read. Immutable once made. */
struct osw_mc {
    atomic_uint refs;
    struct osw_str name;
    struct osw_labels labels;
    bool generated;     /* generated-by-controller-version is non-empty */
    bool role_worker;   /* labelled role: worker (first in merge order) */
    struct osw_str url; /* spec.osImageURL; empty when absent or null */
    /* The CRI-O drop-in extract for rule R (CONTRACT.md "runc on RHEL 10"),
     * owned; NULL when the MachineConfig has no drop-in and is decodable (a
     * NULL extract counts as one without drop-ins). */
    struct osw_crio_extract *crio;
    char *bytes; /* owned: name and url */
};

/*
 * Extracts a MachineConfig object. OSW_EBADOBJ (with `eb` naming the field)
 * when a field it reads has the wrong JSON type (metadata not an object, name
 * not a string, labels or annotations not a string map, spec not an object,
 * spec.osImageURL not a string); OSW_ENOMEM. The caller owns one reference.
 * The Ignition in spec.config never fails the extract: its CRI-O drop-ins are
 * decoded into `crio`, a malformed config making that extract undecodable.
 */
enum osw_err osw_mc_extract(const json_t *obj, struct osw_mc **out, struct osw_errbuf *eb);
struct osw_mc *osw_mc_ref(struct osw_mc *mc); /* NULL is fine */
void osw_mc_unref(struct osw_mc *mc);         /* NULL is fine */

/* Merge order (CONTRACT.md): role-worker MachineConfigs first, then by name
 * in byte order. Negative, zero or positive as qsort wants. */
int osw_mc_merge_cmp(const struct osw_mc *a, const struct osw_mc *b);

/* A MachineConfigPool as served. Immutable once made. */
struct osw_pool {
    atomic_uint refs;
    struct osw_str name;
    /* spec.osImageStream.name when it is a well-formed name; empty when the
     * pool names no stream, a malformed one included (Decision 6). */
    struct osw_str stream;
    bool paused;                   /* spec.paused is true */
    bool custom;                   /* osw_pool_name_is_custom(name) */
    struct osw_selector *selector; /* NULL selects nothing */
    /* spec.machineConfigSelector as jansson's compact dump when it is an
     * object (empty otherwise, and for pools made from parts): a request
     * whose selector has the same text selects what this pool does, without
     * parsing it (osw_cluster_select_same_text). Points into `sel_text`. */
    struct osw_str selector_text;
    char *sel_text; /* owned */
    char *bytes;    /* owned: name and stream */
};

/* Whether a pool name is custom (not master, worker or arbiter). */
bool osw_pool_name_is_custom(struct osw_str name);

/* Extracts a pool object (OSW_EBADOBJ for a field of the wrong type, as
 * osw_mc_extract; the stream's shape never fails). One reference. */
enum osw_err osw_pool_extract(const json_t *obj, struct osw_pool **out, struct osw_errbuf *eb);
/* A pool from parts (the object under review): copies `name` and `stream`,
 * takes ownership of `selector` (even on failure). */
enum osw_err osw_pool_make(struct osw_str name, struct osw_str stream, bool paused,
                           struct osw_selector *selector, struct osw_pool **out);
struct osw_pool *osw_pool_ref(struct osw_pool *p); /* NULL is fine */
void osw_pool_unref(struct osw_pool *p);           /* NULL is fine */

/* The MachineConfigs a pool selects, as indexes into the snapshot's merge
 * order (ascending). Borrowed from the snapshot, or owned when `owned`.
 * A selection borrowed from a cached pool (`cached`) also carries what the
 * snapshot precomputed for it: the MachineConfig winning effURL and runc(P),
 * so a request for a pool whose selector did not change recomputes neither. */
struct osw_selection {
    const uint32_t *idx;
    size_t n;
    uint32_t *owned; /* freed by osw_selection_free */
    bool cached;
    const struct osw_mc *winner; /* when `cached`: effURL's MachineConfig or NULL */
    enum osw_tri runc;           /* when `cached`: runc(P) over the selection */
};
void osw_selection_free(struct osw_selection *s);

struct osw_cluster; /* opaque, immutable, reference-counted */
struct osw_cluster_builder;

struct osw_cluster_builder *osw_cluster_builder_new(void);    /* NULL on OOM */
void osw_cluster_builder_free(struct osw_cluster_builder *b); /* NULL is fine */
/* Adds an extract (the builder takes its own reference; the caller keeps
 * theirs). A later pool or MachineConfig with the same name replaces the
 * earlier one. OSW_ENOMEM; OSW_EINVAL for NULL. */
enum osw_err osw_cluster_builder_add_pool(struct osw_cluster_builder *b, struct osw_pool *p);
enum osw_err osw_cluster_builder_add_mc(struct osw_cluster_builder *b, struct osw_mc *mc);
/* Builds the snapshot (one reference, owned by the caller) and precomputes
 * per pool its selection, the MachineConfig winning its osImageURL merge and
 * runc(P). The builder stays usable. OSW_ENOMEM. */
enum osw_err osw_cluster_build(struct osw_cluster_builder *b, struct osw_cluster **out);

struct osw_cluster *osw_cluster_ref(struct osw_cluster *c); /* NULL is fine */
void osw_cluster_unref(struct osw_cluster *c);              /* NULL is fine; thread-safe */

size_t osw_cluster_pool_count(const struct osw_cluster *c);
/* Pools by name (byte order); borrowed from `c`. */
const struct osw_pool *osw_cluster_pool_at(const struct osw_cluster *c, size_t i);
const struct osw_pool *osw_cluster_pool_find(const struct osw_cluster *c, struct osw_str name);
/* Cached custom pools naming no stream (they follow the worker; W-INHERIT). */
size_t osw_cluster_unnamed_custom(const struct osw_cluster *c);
/* Cached pools following the default stream: naming none and not
 * inheriting a name from the worker (W-DEFAULT). */
size_t osw_cluster_default_followers(const struct osw_cluster *c);

/* The cached pools whose precomputed runc(P) is not false, as ascending
 * indexes for osw_cluster_pool_at (borrowed from `c`; NULL when none): the
 * only pools a change of stream alone can make violate rule R. Returns how
 * many. */
size_t osw_cluster_runc_pools(const struct osw_cluster *c, const uint32_t **idx);
/* The cached pool `i`'s selection (borrowed, `cached` set). */
struct osw_selection osw_cluster_pool_selection(const struct osw_cluster *c, size_t i);

size_t osw_cluster_mc_count(const struct osw_cluster *c);
/* MachineConfigs in merge order; borrowed from `c`. */
const struct osw_mc *osw_cluster_mc_at(const struct osw_cluster *c, size_t i);
const struct osw_mc *osw_cluster_mc_find(const struct osw_cluster *c, struct osw_str name);

/* What `sel` selects (NULL: nothing). When the cached pool called `name` has
 * an equal selector its precomputed selection is borrowed; otherwise every
 * MachineConfig is matched once. OSW_ENOMEM. */
enum osw_err osw_cluster_select(const struct osw_cluster *c, struct osw_str name,
                                const struct osw_selector *sel, struct osw_selection *out);

/*
 * When the cached pool called `name` has a selector whose compact JSON text
 * equals `text` (a selector object's JSON; whitespace outside strings is
 * ignored), borrows that pool's precomputed selection into `*out` and
 * returns true: equal text parses to an equal selector, so nothing needs
 * parsing. False otherwise (then `*out` is zeroed); the caller parses.
 */
bool osw_cluster_select_same_text(const struct osw_cluster *c, struct osw_str name,
                                  struct osw_str text, struct osw_selection *out);
/*
 * The MachineConfig that wins effURL (CONTRACT.md) over selection `s`, with
 * the MachineConfig called `skip` left out (empty: none) and `extra` (may be
 * NULL; already known to be selected) put in at its place in merge order.
 * NULL when no non-generated MachineConfig sets a non-empty osImageURL.
 */
const struct osw_mc *osw_cluster_url_winner(const struct osw_cluster *c,
                                            const struct osw_selection *s, struct osw_str skip,
                                            const struct osw_mc *extra);

/*
 * runc(P) of CONTRACT.md over selection `s`, with the MachineConfig called
 * `skip` left out (empty: none) and `extra` (may be NULL; already known to be
 * selected) put in at its place in merge order. A cached selection with
 * nothing left out or put in gives its precomputed value without work.
 * OSW_ENOMEM (then *out is untouched).
 */
enum osw_err osw_cluster_runc(const struct osw_cluster *c, const struct osw_selection *s,
                              struct osw_str skip, const struct osw_mc *extra, enum osw_tri *out);

#endif /* OSW_CLUSTER_H */

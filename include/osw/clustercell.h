/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one place the current cluster-state snapshot (pools and MachineConfig
 * extracts) lives, with the state the rules need to know: served or not,
 * synced or not. Like the OSImageStream's snapcell, readers take a reference
 * without a lock and a writer swaps a new snapshot in without blocking them.
 */
#ifndef OSW_CLUSTERCELL_H
#define OSW_CLUSTERCELL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "osw/cluster.h"
#include "osw/inputs.h"

struct osw_clustercell {
    _Atomic(struct osw_cluster *) current; /* one reference owned by the cell */
    atomic_uint acquiring;                 /* readers between load and ref */
    atomic_int mode;                       /* enum osw_cluster_mode */
    atomic_bool synced_once;               /* SYNCED was published at least once */
};

/* Starts empty with `mode` (OFF, or NOT_SYNCED while caches list). */
void osw_clustercell_init(struct osw_clustercell *c, enum osw_cluster_mode mode);
/* Drops the cell's reference. No reader or writer may still use the cell. */
void osw_clustercell_destroy(struct osw_clustercell *c);

/* A new reference to the current snapshot (caller unrefs; NULL unless the
 * mode is SYNCED) and the mode, read together. Lock-free. */
struct osw_cluster *osw_clustercell_acquire(struct osw_clustercell *c, enum osw_cluster_mode *mode);

/* Makes `cl` current with `mode` (takes the caller's reference; NULL for any
 * mode but SYNCED). One writer at a time. */
void osw_clustercell_publish(struct osw_clustercell *c, struct osw_cluster *cl,
                             enum osw_cluster_mode mode);

/* Whether a SYNCED snapshot was ever published (--cluster-state required). */
bool osw_clustercell_synced_once(struct osw_clustercell *c);

#endif /* OSW_CLUSTERCELL_H */

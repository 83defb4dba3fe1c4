/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one place the current snapshot lives. Readers (request threads) take a
 * reference without a lock; a writer (a source) swaps in a new snapshot
 * atomically and drops the old one once no reader can still be taking a
 * reference to it. An update therefore never blocks a request, and a request
 * never sees a half-written snapshot.
 */
#ifndef OSW_SNAPCELL_H
#define OSW_SNAPCELL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "osw/osis.h"

struct osw_snapcell {
    _Atomic(struct osw_osis *) current; /* one reference owned by the cell */
    atomic_uint acquiring;              /* readers between load and ref */
    atomic_bool synced;                 /* a source has published at least once */
};

void osw_snapcell_init(struct osw_snapcell *c);
/* Drops the cell's reference. No reader or writer may still use the cell. */
void osw_snapcell_destroy(struct osw_snapcell *c);

/* A new reference to the current snapshot (caller unrefs), or NULL when the
 * cache is empty. Lock-free. */
struct osw_osis *osw_snapcell_acquire(struct osw_snapcell *c);

/* Makes `s` current (takes ownership of the caller's reference; NULL empties
 * the cache, as a DELETED event does) and marks the cell synced. The old
 * snapshot is released once no reader is between load and ref. */
void osw_snapcell_publish(struct osw_snapcell *c, struct osw_osis *s);

/*
 * The writer's half of the scheme, shared by every such cell (the cluster
 * state's too): returns once no reader is between loading the old pointer
 * and taking its reference, so the writer may drop the cell's reference to
 * the pointer it just exchanged out. `acquiring` is the cell's reader count.
 */
void osw_snapcell_wait_readers(atomic_uint *acquiring);

/* Whether osw_snapcell_publish() was ever called. */
bool osw_snapcell_synced(struct osw_snapcell *c);

#endif /* OSW_SNAPCELL_H */

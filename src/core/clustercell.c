/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cell holding the current cluster-state snapshot, with the same
 * reclamation scheme as snapcell.c (see its comments): readers count
 * themselves in while they load the pointer and take a reference, and the
 * writer drops the old snapshot only once no reader is inside that window.
 * The mode is published with the snapshot; a reader may see the new mode
 * with the old snapshot for an instant, which the acquire below resolves by
 * never returning a snapshot with a mode other than SYNCED.
 */
#include "osw/clustercell.h"

#include "osw/snapcell.h"

void osw_clustercell_init(struct osw_clustercell *c, enum osw_cluster_mode mode)
{
    atomic_init(&c->current, NULL);
    atomic_init(&c->acquiring, 0);
    atomic_init(&c->mode, (int)mode);
    atomic_init(&c->synced_once, false);
}

void osw_clustercell_destroy(struct osw_clustercell *c)
{
    if (!c)
        return;
    osw_cluster_unref(atomic_exchange(&c->current, NULL));
}

struct osw_cluster *osw_clustercell_acquire(struct osw_clustercell *c, enum osw_cluster_mode *mode)
{
    atomic_fetch_add(&c->acquiring, 1);
    struct osw_cluster *s = atomic_load(&c->current);
    osw_cluster_ref(s);
    atomic_fetch_sub(&c->acquiring, 1);
    *mode = (enum osw_cluster_mode)atomic_load(&c->mode);
    if (*mode != OSW_CLUSTER_SYNCED || !s) {
        /* Between a publish's two stores: decide without the rules. */
        if (*mode == OSW_CLUSTER_SYNCED)
            *mode = OSW_CLUSTER_NOT_SYNCED;
        osw_cluster_unref(s);
        return NULL;
    }
    return s;
}

void osw_clustercell_publish(struct osw_clustercell *c, struct osw_cluster *cl,
                             enum osw_cluster_mode mode)
{
    struct osw_cluster *old = atomic_exchange(&c->current, cl);
    atomic_store(&c->mode, (int)mode);
    if (mode == OSW_CLUSTER_SYNCED && cl)
        atomic_store(&c->synced_once, true);
    if (!old)
        return;
    osw_snapcell_wait_readers(&c->acquiring);
    osw_cluster_unref(old);
}

bool osw_clustercell_synced_once(struct osw_clustercell *c)
{
    return atomic_load(&c->synced_once);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cell holding the current OSImageStream snapshot. Request threads take
 * a reference without any lock; a source swaps a new snapshot in and drops
 * the old one only once no reader can still be about to reference it. This
 * is a tiny form of quiescent-state reclamation keyed on one counter of
 * readers that are between "load the pointer" and "take a reference".
 */
#include "osw/snapcell.h"

#include <sched.h>
#include <time.h>

/* After this many yields the writer waits with short sleeps instead, so a
 * reader descheduled inside its window does not make the writer burn a core. */
#define YIELD_SPINS 1000

void osw_snapcell_init(struct osw_snapcell *c)
{
    atomic_init(&c->current, NULL);
    atomic_init(&c->acquiring, 0);
    atomic_init(&c->synced, false);
}

void osw_snapcell_destroy(struct osw_snapcell *c)
{
    if (!c)
        return;
    osw_osis_unref(atomic_exchange(&c->current, NULL));
}

struct osw_osis *osw_snapcell_acquire(struct osw_snapcell *c)
{
    /*
     * All three operations are sequentially consistent. The increment is
     * ordered before the load, so a writer that exchanges the pointer after
     * our load will see acquiring > 0 until we hold our own reference.
     */
    atomic_fetch_add(&c->acquiring, 1);
    struct osw_osis *s = atomic_load(&c->current);
    osw_osis_ref(s);
    atomic_fetch_sub(&c->acquiring, 1);
    return s;
}

void osw_snapcell_wait_readers(atomic_uint *acquiring)
{
    /*
     * Why this is safe: a reader that loaded `old` incremented `acquiring`
     * before that load and decrements it only after its own reference is
     * taken. Our exchange happened after its load (otherwise it would have
     * loaded the new pointer), so in the single total order of seq_cst
     * operations its increment precedes our exchange, which precedes the
     * loads below. Seeing acquiring == 0 after the exchange therefore means
     * every reader that could have loaded `old` already holds a reference
     * (or never got it), and dropping the cell's reference cannot free a
     * snapshot out from under anyone. Readers that start after the exchange
     * load the new pointer, so they only delay us, never endanger `old`.
     * The window is a few instructions long, so the wait ends quickly; it
     * never gives up, because giving up could free memory still in use.
     */
    unsigned spins = 0;
    while (atomic_load(acquiring) != 0) {
        if (spins < YIELD_SPINS) {
            spins++;
            sched_yield();
        } else {
            struct timespec ts = {0, 100000}; /* 100 us */
            nanosleep(&ts, NULL);
        }
    }
}

void osw_snapcell_publish(struct osw_snapcell *c, struct osw_osis *s)
{
    struct osw_osis *old = atomic_exchange(&c->current, s);
    atomic_store(&c->synced, true);
    if (!old)
        return;
    osw_snapcell_wait_readers(&c->acquiring);
    osw_osis_unref(old);
}

bool osw_snapcell_synced(struct osw_snapcell *c)
{
    return atomic_load(&c->synced);
}

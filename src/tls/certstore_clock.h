/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certificate store's clock, replaceable for tests. A new pair that does
 * not load is only refused (logged, counted) once the same bytes have stayed
 * on disk for OSW_CERTSTORE_SETTLE_MS, because kubelet and people write the
 * certificate and the key in two steps; tests drive that grace period with a
 * fake clock instead of sleeping.
 */
#ifndef OSW_TLS_CERTSTORE_CLOCK_H
#define OSW_TLS_CERTSTORE_CLOCK_H

#include "tls/certstore.h"

/* How long the same failing content is treated as "not yet" (milliseconds). */
#define OSW_CERTSTORE_SETTLE_MS 2000

/* A monotonic clock in milliseconds; `ctx` is borrowed. */
typedef long long (*osw_certstore_clock_fn)(void *ctx);

/* Replaces the monotonic clock used by osw_certstore_check() (NULL restores
 * CLOCK_MONOTONIC). Call before osw_certstore_start(). */
void osw_certstore_set_clock(struct osw_certstore *st, osw_certstore_clock_fn fn, void *ctx);

#endif /* OSW_TLS_CERTSTORE_CLOCK_H */

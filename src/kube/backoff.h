/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capped exponential backoff with jitter for the Kubernetes reflectors, with
 * CONTRACT.md's numbers: the nominal wait starts at OSW_BACKOFF_BASE_MS,
 * doubles with each consecutive failure up to OSW_BACKOFF_CAP_MS, and the
 * actual wait is the nominal one times a factor in [1 - JITTER, 1 + JITTER].
 * The randomness is injected, so the bounds are unit-testable.
 */
#ifndef OSW_KUBE_BACKOFF_H
#define OSW_KUBE_BACKOFF_H

#include <stdint.h>

#define OSW_BACKOFF_BASE_MS 250.0   /* contract: between 100 ms and 1 s */
#define OSW_BACKOFF_FACTOR  2.0     /* contract: 1.5 to 2 */
#define OSW_BACKOFF_CAP_MS  30000.0 /* contract: 30 s */
#define OSW_BACKOFF_JITTER  0.3     /* contract: at most 0.5 */

struct osw_backoff {
    double base_ms, factor, cap_ms, jitter;
    double nominal_ms;           /* nominal wait of the last failure; 0 after a reset */
    unsigned failures;           /* consecutive failures since the last reset */
    double (*rand01)(void *ctx); /* a number in [0, 1); NULL: always the middle */
    void *rand_ctx;              /* borrowed */
};

/*
 * Initialises `b` with the contract's numbers. `rand01(rand_ctx)` supplies
 * the jitter (osw_backoff_rand_xorshift in production, a script in tests);
 * `rand_ctx` is borrowed for the life of `b`.
 */
void osw_backoff_init(struct osw_backoff *b, double (*rand01)(void *ctx), void *rand_ctx);

/* Overrides base and cap (tests use small numbers); factor and jitter stay. */
void osw_backoff_scale(struct osw_backoff *b, double base_ms, double cap_ms);

/* Records one more consecutive failure and returns the wait before the next
 * attempt, in milliseconds: jittered around the new nominal wait. */
int64_t osw_backoff_next_ms(struct osw_backoff *b);

/* The nominal wait the last osw_backoff_next_ms() used (0 after a reset). */
double osw_backoff_nominal_ms(const struct osw_backoff *b);

/* Forgets the failures (after a healthy watch): the next wait is the first. */
void osw_backoff_reset(struct osw_backoff *b);

/* A small xorshift generator for production use: `state` points at a
 * non-zero uint64_t owned by the caller. */
double osw_backoff_rand_xorshift(void *state);

#endif /* OSW_KUBE_BACKOFF_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capped exponential backoff with bounded jitter (see backoff.h). The nominal
 * wait is kept as a number rather than recomputed from the failure count, so
 * it never overflows however long the API server stays away; the jitter only
 * ever scales the nominal wait within its bounds.
 */
#include "kube/backoff.h"

#include <stddef.h>

void osw_backoff_init(struct osw_backoff *b, double (*rand01)(void *ctx), void *rand_ctx)
{
    b->base_ms = OSW_BACKOFF_BASE_MS;
    b->factor = OSW_BACKOFF_FACTOR;
    b->cap_ms = OSW_BACKOFF_CAP_MS;
    b->jitter = OSW_BACKOFF_JITTER;
    b->nominal_ms = 0;
    b->failures = 0;
    b->rand01 = rand01;
    b->rand_ctx = rand_ctx;
}

void osw_backoff_scale(struct osw_backoff *b, double base_ms, double cap_ms)
{
    if (base_ms > 0)
        b->base_ms = base_ms;
    if (cap_ms >= b->base_ms)
        b->cap_ms = cap_ms;
}

int64_t osw_backoff_next_ms(struct osw_backoff *b)
{
    if (b->failures == 0 || b->nominal_ms <= 0)
        b->nominal_ms = b->base_ms;
    else
        b->nominal_ms *= b->factor;
    if (b->nominal_ms > b->cap_ms)
        b->nominal_ms = b->cap_ms;
    if (b->failures < UINT32_MAX)
        b->failures++;

    double r = b->rand01 ? b->rand01(b->rand_ctx) : 0.5;
    /* A generator that strays outside [0, 1) must not break the bounds. */
    if (!(r >= 0.0))
        r = 0.0;
    if (r > 1.0)
        r = 1.0;
    double wait = b->nominal_ms * (1.0 - b->jitter + 2.0 * b->jitter * r);
    return (int64_t)(wait + 0.5);
}

double osw_backoff_nominal_ms(const struct osw_backoff *b)
{
    return b->nominal_ms;
}

void osw_backoff_reset(struct osw_backoff *b)
{
    b->failures = 0;
    b->nominal_ms = 0;
}

double osw_backoff_rand_xorshift(void *state)
{
    uint64_t *s = state;
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return (double)(x >> 11) * (1.0 / 9007199254740992.0); /* 53 bits in [0, 1) */
}

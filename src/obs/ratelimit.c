/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixed-window rate limiting for log lines caused by clients (TLS handshake
 * failures). A fixed window is enough here: the point is a bounded number of
 * lines per minute, not a smooth rate, and a refused event costs one mutex
 * round trip. Refused events are counted so the next line can say how many
 * were left out.
 */
#include "obs/ratelimit.h"

void osw_ratelimit_init(struct osw_ratelimit *rl, unsigned burst, long long window_ms)
{
    pthread_mutex_init(&rl->mu, NULL);
    rl->window_ms = window_ms > 0 ? window_ms : 1;
    rl->burst = burst;
    rl->window_start = 0;
    rl->used = 0;
    rl->started = false;
    rl->suppressed = 0;
}

void osw_ratelimit_free(struct osw_ratelimit *rl)
{
    if (rl != NULL)
        pthread_mutex_destroy(&rl->mu);
}

bool osw_ratelimit_allow(struct osw_ratelimit *rl, long long now_ms, unsigned long long *suppressed)
{
    bool ok = false;

    pthread_mutex_lock(&rl->mu);
    /* A clock that went backwards (another clock passed in) also starts a
     * new window rather than refusing for ever. */
    if (!rl->started || now_ms - rl->window_start >= rl->window_ms || now_ms < rl->window_start) {
        rl->started = true;
        rl->window_start = now_ms;
        rl->used = 0;
    }
    if (rl->used < rl->burst) {
        rl->used++;
        *suppressed = rl->suppressed;
        rl->suppressed = 0;
        ok = true;
    } else {
        rl->suppressed++;
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

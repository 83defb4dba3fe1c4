/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A log rate limiter: at most `burst` events per window, the rest counted
 * and reported with the next event that is let through. It keeps a scanner
 * that opens thousands of failing TLS connections from flooding the log
 * while an operator still sees that it happens and how often. The caller
 * passes the time in, so the limiter reads no clock and is tested as is.
 */
#ifndef OSW_OBS_RATELIMIT_H
#define OSW_OBS_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>

struct osw_ratelimit {
    pthread_mutex_t mu;
    long long window_ms;           /* length of a window */
    unsigned burst;                /* events let through per window */
    long long window_start;        /* ms; start of the current window */
    unsigned used;                 /* events let through in it */
    bool started;                  /* a window has begun */
    unsigned long long suppressed; /* events refused since the last one let through */
};

/* Initialises `rl` for `burst` events per `window_ms` milliseconds. */
void osw_ratelimit_init(struct osw_ratelimit *rl, unsigned burst, long long window_ms);
/* Destroys the mutex; NULL is fine. */
void osw_ratelimit_free(struct osw_ratelimit *rl);

/*
 * One event at `now_ms` (any monotonic clock in milliseconds). True when it
 * may be logged; then `*suppressed` is the number of events refused since
 * the last one let through (to report alongside it). Thread-safe.
 */
bool osw_ratelimit_allow(struct osw_ratelimit *rl, long long now_ms,
                         unsigned long long *suppressed);

#endif /* OSW_OBS_RATELIMIT_H */

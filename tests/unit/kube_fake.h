/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A scripted reflector transport for the unit tests: each GET takes the next
 * scripted answer (status, body pieces, a transport failure, or a stream held
 * open until aborted), records its path and time, and, when the script runs
 * out, blocks like a quiet watch until the reflector aborts it. Include after
 * <cmocka.h>.
 */
#ifndef OSW_TESTS_KUBE_FAKE_H
#define OSW_TESTS_KUBE_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/reflector.h"

#define MAX_STEPS 32
#define MAX_CALLS 64

/* One scripted answer. `hold`: after the pieces, block until aborted.
 * `chop`: deliver each piece in bits of at most this many bytes (1: byte by
 * byte, as a slow connection might); 0: each piece whole. */
struct step {
    long status;
    const char *pieces[6];
    bool eio;
    bool hold;
    double retry_after;
    size_t chop;
};

struct fake {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct step steps[MAX_STEPS];
    size_t nsteps, next;
    char *calls[MAX_CALLS];
    int64_t call_ms[MAX_CALLS];
    size_t ncalls;
    bool aborted;
    bool destroyed;
};

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline enum osw_err fake_get(void *impl, const char *pq, bool watch,
                                    bool (*on_data)(void *ctx, const char *data, size_t len),
                                    void *ctx, struct osw_reflector_response *resp,
                                    struct osw_errbuf *eb)
{
    struct fake *f = impl;
    struct step st;
    (void)watch;
    pthread_mutex_lock(&f->mu);
    if (f->ncalls < MAX_CALLS) {
        f->calls[f->ncalls] = strdup(pq);
        f->call_ms[f->ncalls++] = now_ms();
    }
    pthread_cond_broadcast(&f->cond);
    /* Out of script: behave like a watch that never ends. */
    while (!f->aborted && f->next >= f->nsteps)
        pthread_cond_wait(&f->cond, &f->mu);
    if (f->aborted) {
        pthread_mutex_unlock(&f->mu);
        resp->status = 0;
        return osw_errbuf_set(eb, OSW_EIO, "aborted");
    }
    st = f->steps[f->next++];
    pthread_mutex_unlock(&f->mu);

    resp->status = st.status;
    resp->retry_after_s = st.retry_after ? st.retry_after : -1;
    if (st.eio)
        return osw_errbuf_set(eb, OSW_EIO, "connection reset");
    for (size_t i = 0; i < 6 && st.pieces[i]; i++) {
        size_t len = strlen(st.pieces[i]), bit = st.chop ? st.chop : len;
        for (size_t off = 0; off < len || (len == 0 && off == 0); off += bit ? bit : 1) {
            if (!on_data(ctx, st.pieces[i] + off, len - off < bit ? len - off : bit))
                return OSW_OK;
        }
    }
    if (st.hold) {
        pthread_mutex_lock(&f->mu);
        while (!f->aborted)
            pthread_cond_wait(&f->cond, &f->mu);
        pthread_mutex_unlock(&f->mu);
        resp->status = 0;
        return osw_errbuf_set(eb, OSW_EIO, "aborted");
    }
    return OSW_OK;
}

static inline void fake_abort(void *impl)
{
    struct fake *f = impl;
    pthread_mutex_lock(&f->mu);
    f->aborted = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
}

static inline void fake_destroy(void *impl)
{
    struct fake *f = impl;
    f->destroyed = true;
}

static const struct osw_reflector_transport_ops __attribute__((unused))
fake_ops = {fake_get, fake_abort, fake_destroy};

#endif /* OSW_TESTS_KUBE_FAKE_H */

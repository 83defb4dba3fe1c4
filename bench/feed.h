/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plumbing shared by the benches that feed the real reflectors from memory
 * (listbench.c, burstbench.c): a writer that hands bytes over in pieces of
 * at most PIECE bytes, as libcurl hands a response to its write callback;
 * printf into it; the base64 text of a rendered MachineConfig's Ignition
 * files; a monotonic clock; and fields of /proc/self/status. Header-only,
 * for bench programs (one translation unit each).
 */
#ifndef OSW_BENCH_FEED_H
#define OSW_BENCH_FEED_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PIECE        16384
#define PUTS(w, lit) put((w), (lit), sizeof(lit) - 1)
#define FILE_SIZE    65536 /* bytes of one Ignition file's data URL in a rendered MC */

/* Pieces of at most PIECE bytes for on_data. */
struct writer {
    char buf[PIECE];
    size_t len;
    bool (*on_data)(void *ctx, const char *data, size_t len);
    void *ctx;
    bool stopped;
};

static inline void flush(struct writer *w)
{
    if (w->len && !w->stopped && !w->on_data(w->ctx, w->buf, w->len))
        w->stopped = true;
    w->len = 0;
}

static inline void put(struct writer *w, const char *s, size_t n)
{
    while (n > 0 && !w->stopped) {
        size_t k = sizeof(w->buf) - w->len < n ? sizeof(w->buf) - w->len : n;
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
        if (w->len == sizeof(w->buf))
            flush(w);
    }
}

static inline void putf(struct writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void putf(struct writer *w, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(w, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* FILE_SIZE bytes of base64 text (not NUL-terminated), made once. */
static inline const char *b64_filler(void)
{
    static char b64[FILE_SIZE];
    if (!b64[0]) {
        static const char abc[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (size_t k = 0; k < sizeof(b64); k++)
            b64[k] = abc[(k * 7 + k / 64) % 64];
    }
    return b64;
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A /proc/self/status field in KiB (VmRSS, VmHWM); 0 when unreadable. */
static inline long rss_kib(const char *field)
{
    char line[256];
    long v = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    size_t n = strlen(field);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

#endif /* OSW_BENCH_FEED_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When to look at watched files again: the one watcher behind the
 * OSImageStream file source, the certificate store and the API source's
 * token file. It never reads the files (the owner reads and compares them
 * with osw_fileio_read); it only wakes its owner's thread when they may have
 * changed, however they were changed: written in place, renamed over, or
 * swapped through a Kubernetes volume's `..data` symlink.
 */
#ifndef OSW_SYS_FILEWATCH_H
#define OSW_SYS_FILEWATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/error.h"

/* At most this many paths per watcher. */
#define OSW_FILEWATCH_MAX 4

/* The stat() poll interval, and how many polls apart a look is due even
 * when stat() saw nothing (coarse timestamps can hide a same-size rewrite). */
#define OSW_FILEWATCH_POLL_MS     500
#define OSW_FILEWATCH_FULL_CHECKS 4

struct osw_filewatch;

enum osw_filewatch_wake {
    OSW_FILEWATCH_CHECK, /* look at the files now */
    OSW_FILEWATCH_STOP,  /* osw_filewatch_stop() was called */
};

/*
 * Watches `paths` (1 to OSW_FILEWATCH_MAX, copied): inotify on each path's
 * directory (a rename or a `..data` swap is an event there) and a stat()
 * poll of each path (symlinks followed) every OSW_FILEWATCH_POLL_MS. Their
 * current state is remembered, so only later changes wake the owner. When
 * inotify is unavailable the poll alone remains (*inotify reports which,
 * may be NULL). OSW_ENOMEM / OSW_EIO (no eventfd) / OSW_EINVAL on failure.
 */
enum osw_err osw_filewatch_new(const char *const *paths, size_t npaths, bool *inotify,
                               struct osw_filewatch **out, struct osw_errbuf *eb);

/*
 * Blocks the (one) owner thread until the files should be looked at: 75 ms
 * after the first inotify event of a burst, at a poll that saw a stat()
 * change, every OSW_FILEWATCH_FULL_CHECKS polls, or `recheck_ms` (> 0) after
 * this call (for content judged too early, say half-written). Returns
 * OSW_FILEWATCH_STOP, at once and from then on, after osw_filewatch_stop().
 */
enum osw_filewatch_wake osw_filewatch_wait(struct osw_filewatch *w, int recheck_ms);

/* Makes osw_filewatch_wait() return OSW_FILEWATCH_STOP; any thread. */
void osw_filewatch_stop(struct osw_filewatch *w);

/* Frees the watcher (no thread may be waiting on it). NULL is fine. */
void osw_filewatch_free(struct osw_filewatch *w);

#endif /* OSW_SYS_FILEWATCH_H */

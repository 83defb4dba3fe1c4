/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inotify for promptness, stat() for what inotify cannot see. inotify watches
 * each path's directory rather than the path, because the usual updates
 * (rename-over, kubelet's `..data` symlink swap) replace the directory entry
 * and a watch on the old inode would go quiet. The stat() poll follows
 * symlinks, so it also notices a target that changes in another directory,
 * and it is all there is when inotify is unavailable. A stop request is an
 * eventfd in the same poll(), so stopping never waits for a timeout.
 */
#include "sys/filewatch.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Quiet time after an inotify event before waking the owner: a writer's
 * burst of events (truncate, write, close; two files of a pair) then costs
 * one look. */
#define DEBOUNCE_MS 75

#define WATCH_MASK                                                                                 \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |            \
     IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF)

struct watched {
    char *path; /* owned */
    struct stat st;
    bool have_st;
};

struct osw_filewatch {
    struct watched files[OSW_FILEWATCH_MAX];
    size_t n;
    int wake_fd; /* eventfd: stop */
    int ino_fd;  /* -1: poll only */
    int64_t next_poll, due;
    unsigned ticks;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The directory part of `path` ("." when there is none); NULL on OOM. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Whether stat() (following symlinks) sees a different file than last time;
 * remembers what it saw. */
static bool stat_changed(struct watched *f)
{
    struct stat st;
    if (stat(f->path, &st) != 0) {
        bool changed = f->have_st;
        f->have_st = false;
        return changed;
    }
    bool changed =
        !f->have_st || st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino ||
        st.st_size != f->st.st_size || st.st_mode != f->st.st_mode ||
        st.st_mtim.tv_sec != f->st.st_mtim.tv_sec || st.st_mtim.tv_nsec != f->st.st_mtim.tv_nsec ||
        st.st_ctim.tv_sec != f->st.st_ctim.tv_sec || st.st_ctim.tv_nsec != f->st.st_ctim.tv_nsec;
    f->st = st;
    f->have_st = true;
    return changed;
}

static void drain(int fd)
{
    /* Aligned as inotify requires; which events came does not matter. */
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int i = 0; i < 64; i++) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r <= 0 && !(r < 0 && errno == EINTR))
            return;
    }
}

enum osw_err osw_filewatch_new(const char *const *paths, size_t npaths, bool *inotify,
                               struct osw_filewatch **out, struct osw_errbuf *eb)
{
    struct osw_filewatch *w = NULL;
    enum osw_err err = OSW_OK;

    *out = NULL;
    if (inotify != NULL)
        *inotify = false;
    if (npaths == 0 || npaths > OSW_FILEWATCH_MAX)
        return osw_errbuf_set(eb, OSW_EINVAL, "file watch: %zu paths", npaths);
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return osw_errbuf_set(eb, OSW_ENOMEM, "file watch: out of memory");
    w->wake_fd = -1;
    w->ino_fd = -1;
    w->due = -1;
    for (; w->n < npaths; w->n++) {
        w->files[w->n].path = strdup(paths[w->n]);
        if (w->files[w->n].path == NULL) {
            err = osw_errbuf_set(eb, OSW_ENOMEM, "file watch: out of memory");
            goto out;
        }
        (void)stat_changed(&w->files[w->n]); /* the state to compare with */
    }
    w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->wake_fd < 0) {
        err = osw_errbuf_set(eb, OSW_EIO, "file watch: eventfd: %s", strerror(errno));
        goto out;
    }
    /* inotify is an optimisation: without it (no instances left, a file
     * system without events) the poll still sees every change. */
    w->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    for (size_t i = 0; i < w->n && w->ino_fd >= 0; i++) {
        char *dir = dir_of(w->files[i].path);
        int wd = dir != NULL ? inotify_add_watch(w->ino_fd, dir, WATCH_MASK) : -1;
        free(dir);
        if (wd < 0) {
            close(w->ino_fd);
            w->ino_fd = -1;
        }
    }
    if (inotify != NULL)
        *inotify = w->ino_fd >= 0;
    w->next_poll = mono_ms() + OSW_FILEWATCH_POLL_MS;
    *out = w;
    w = NULL;
out:
    osw_filewatch_free(w);
    return err;
}

enum osw_filewatch_wake osw_filewatch_wait(struct osw_filewatch *w, int recheck_ms)
{
    if (recheck_ms > 0 && w->due < 0)
        w->due = mono_ms() + recheck_ms;
    for (;;) {
        struct pollfd pfd[2] = {{w->wake_fd, POLLIN, 0}, {w->ino_fd, POLLIN, 0}};
        nfds_t nfds = w->ino_fd >= 0 ? 2 : 1;
        int64_t now = mono_ms();
        int64_t wait = w->next_poll - now;
        if (w->due >= 0 && w->due - now < wait)
            wait = w->due - now;
        if (wait < 0)
            wait = 0;
        int r = poll(pfd, nfds, (int)wait);
        if (r < 0 && errno != EINTR)
            return OSW_FILEWATCH_STOP; /* cannot wait any more: nothing else is safe */
        if (r > 0 && (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)))
            return OSW_FILEWATCH_STOP;
        now = mono_ms();
        if (r > 0 && nfds == 2 && (pfd[1].revents & POLLIN)) {
            drain(w->ino_fd);
            if (w->due < 0)
                w->due = now + DEBOUNCE_MS;
        }
        bool look = false;
        if (w->due >= 0 && now >= w->due) {
            look = true;
            w->due = -1;
        }
        if (now >= w->next_poll) {
            w->next_poll = now + OSW_FILEWATCH_POLL_MS;
            w->ticks++;
            for (size_t i = 0; i < w->n; i++)
                look = stat_changed(&w->files[i]) || look;
            if (w->ticks % OSW_FILEWATCH_FULL_CHECKS == 0)
                look = true;
        }
        if (look)
            return OSW_FILEWATCH_CHECK;
    }
}

void osw_filewatch_stop(struct osw_filewatch *w)
{
    uint64_t one = 1;
    if (w == NULL || w->wake_fd < 0)
        return;
    while (write(w->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

void osw_filewatch_free(struct osw_filewatch *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->files[i].path);
    if (w->ino_fd >= 0)
        close(w->ino_fd);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    free(w);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded whole-file reads that never block on what is not a regular file.
 * A FIFO renamed over a watched file used to stop a watcher thread in open()
 * forever (no more reloads, and no exit on SIGTERM); here the open is
 * non-blocking and the type is checked on the descriptor itself (fstat), so
 * no rename between a stat and the open can slip a FIFO in.
 */
#include "sys/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* First buffer when the size is unknown (pipes) or zero. */
#define FIRST_CAP 8192u

void osw_fileio_wipe_free(void *data, size_t len)
{
    if (data == NULL)
        return;
    explicit_bzero(data, len);
    free(data);
}

/* Grows *buf from `cap` to `ncap` bytes, of which `used` hold data; the old
 * buffer is wiped (realloc could leave a copy of a key behind). */
static bool grow(char **buf, size_t *cap, size_t ncap, size_t used)
{
    char *nb = malloc(ncap);
    if (nb == NULL)
        return false;
    if (used > 0)
        memcpy(nb, *buf, used);
    osw_fileio_wipe_free(*buf, *cap);
    *buf = nb;
    *cap = ncap;
    return true;
}

/* Reads `fd` to its end; `hint` is the expected size (0: unknown). */
static enum osw_err read_all(int fd, const char *name, size_t max_bytes, size_t hint, char **data,
                             size_t *len, struct osw_errbuf *eb)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    enum osw_err err = OSW_OK;

    if (max_bytes > SIZE_MAX / 4)
        max_bytes = SIZE_MAX / 4; /* so that max_bytes + 2 and cap * 2 never wrap */
    for (;;) {
        if (cap - n < 2) {
            /* Never more than max + 2: one byte past `max` says "too big",
             * one more is for the NUL. One byte more than the expected
             * size, so a file that grew while it was read shows. */
            size_t ncap = cap > 0 ? cap * 2 : (hint > 0 ? hint + 2 : FIRST_CAP);
            if (ncap > max_bytes + 2)
                ncap = max_bytes + 2;
            if (!grow(&buf, &cap, ncap, n)) {
                err = osw_errbuf_set(eb, OSW_ENOMEM, "%s: out of memory", name);
                goto out;
            }
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = osw_errbuf_set(eb, OSW_EIO, "%s: %s", name, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max_bytes) {
            err = osw_errbuf_set(eb, OSW_ETOOBIG, "%s: larger than %zu bytes", name, max_bytes);
            goto out;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
out:
    osw_fileio_wipe_free(buf, cap);
    return err;
}

enum osw_err osw_fileio_read_fd(int fd, const char *name, size_t max_bytes, char **data,
                                size_t *len, struct osw_errbuf *eb)
{
    *data = NULL;
    *len = 0;
    return read_all(fd, name, max_bytes, 0, data, len, eb);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

enum osw_err osw_fileio_read_stable(const char *path, size_t max_bytes, char **data, size_t *len,
                                    bool *changed, struct osw_errbuf *eb)
{
    struct stat before, after;
    enum osw_err err;
    int fd, flags;

    *data = NULL;
    *len = 0;
    *changed = false;
    /* O_NONBLOCK: opening a FIFO without a writer (or with one) returns at
     * once instead of waiting; O_NOCTTY: a terminal never becomes ours. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return osw_errbuf_set(eb, OSW_EIO, "%s: %s", path, strerror(errno));
    if (fstat(fd, &before) != 0) {
        err = osw_errbuf_set(eb, OSW_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(before.st_mode)) {
        err = osw_errbuf_set(eb, OSW_EIO, "%s: not a regular file", path);
        goto out;
    }
    if ((unsigned long long)before.st_size > max_bytes) {
        err = osw_errbuf_set(eb, OSW_ETOOBIG, "%s: larger than %zu bytes", path, max_bytes);
        goto out;
    }
    /* A regular file: reads would not block anyway, but clear the flag so
     * a read never returns EAGAIN on a file system that honours it. */
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        err = osw_errbuf_set(eb, OSW_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    err = read_all(fd, path, max_bytes, (size_t)before.st_size, data, len, eb);
    if (err != OSW_OK)
        goto out;
    if (fstat(fd, &after) != 0 || !same_file(&before, &after) || *len != (size_t)before.st_size)
        *changed = true;
out:
    close(fd);
    return err;
}

enum osw_err osw_fileio_read(const char *path, size_t max_bytes, char **data, size_t *len,
                             struct osw_errbuf *eb)
{
    bool changed;
    return osw_fileio_read_stable(path, max_bytes, data, len, &changed, eb);
}

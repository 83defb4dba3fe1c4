/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one bounded whole-file reader for files the server reads while it runs
 * (the OSImageStream file, the serving certificate and key, the API source's
 * token file). A watched path can be replaced by anything, so a path that is
 * not a regular file (a FIFO, a device, a directory) is refused instead of
 * read: opening one never blocks, and a watcher thread never hangs on it.
 */
#ifndef OSW_SYS_FILEIO_H
#define OSW_SYS_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/error.h"

/*
 * Reads the whole regular file at `path` (symlinks followed). The file is
 * opened with O_NONBLOCK (so a FIFO or a device cannot block the open),
 * checked with fstat and refused unless it is a regular file, then read
 * with O_NONBLOCK cleared.
 *
 * On OSW_OK, *data is a new buffer (the caller owns it and frees it with
 * free(); osw_fileio_wipe_free() for secrets) holding *len bytes followed by
 * a NUL that *len does not count. On failure *data is NULL and *len 0, and
 * `eb` (may be NULL) holds one line that starts with the path:
 *   OSW_EIO     cannot be opened, read or stat'ed, or not a regular file
 *               ("PATH: not a regular file")
 *   OSW_ETOOBIG more than `max_bytes` bytes ("PATH: larger than N bytes")
 *   OSW_ENOMEM  out of memory
 * Every intermediate buffer is wiped before it is freed, so reading a key
 * leaves no copy behind in freed memory.
 */
enum osw_err osw_fileio_read(const char *path, size_t max_bytes, char **data, size_t *len,
                             struct osw_errbuf *eb);

/*
 * osw_fileio_read(), and also tells whether the file changed while it was
 * read (*changed: its size, inode, mtime or ctime differ between the fstat
 * before and the one after, or the bytes read differ in number from the
 * size): a writer was at work, and the caller should judge the bytes on a
 * later read. *changed is false on failure.
 */
enum osw_err osw_fileio_read_stable(const char *path, size_t max_bytes, char **data, size_t *len,
                                    bool *changed, struct osw_errbuf *eb);

/*
 * Reads all of the open descriptor `fd` (not closed; any type: a pipe,
 * stdin) into a new buffer as osw_fileio_read() does; `name` is used in the
 * messages in place of the path. May block as `fd` does.
 */
enum osw_err osw_fileio_read_fd(int fd, const char *name, size_t max_bytes, char **data,
                                size_t *len, struct osw_errbuf *eb);

/* Overwrites `len` bytes of `data` with zeros and frees it. NULL is fine. */
void osw_fileio_wipe_free(void *data, size_t len);

#endif /* OSW_SYS_FILEIO_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by the unit tests that work on real files: checked
 * path formatting, making and removing a test's temporary directory, reading
 * a file whole. Include after <cmocka.h> (they assert through it).
 */
#ifndef OSW_TESTS_TESTUTIL_H
#define OSW_TESTS_TESTUTIL_H

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* snprintf that fails the test instead of truncating. */
static inline void osw_test_pathf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void osw_test_pathf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < len);
}

/* For a fixture's setup: makes a fresh /tmp/osw-`tag`-XXXXXX directory into
 * `dir` and puts the path of the file "f" in it into `file` (not created).
 * 0, or -1 (for the setup to return) if a path does not fit or mkdtemp fails. */
static inline int osw_test_tmpdir(char *dir, size_t dirlen, char *file, size_t filelen,
                                  const char *tag)
{
    int n = snprintf(dir, dirlen, "/tmp/osw-%s-XXXXXX", tag);
    if (n < 0 || (size_t)n >= dirlen || mkdtemp(dir) == NULL)
        return -1;
    n = snprintf(file, filelen, "%s/f", dir);
    return n < 0 || (size_t)n >= filelen ? -1 : 0;
}

static inline int osw_test_rm_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* rm -rf `dir` (symlinks are removed, not followed); 0 on success. */
static inline int osw_test_rmtree(const char *dir)
{
    return nftw(dir, osw_test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The whole file (at most 1 MiB), NUL-terminated; the caller frees it. */
static inline char *osw_test_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, fp);
    fclose(fp);
    return buf;
}

#endif /* OSW_TESTS_TESTUTIL_H */

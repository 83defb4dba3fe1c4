/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bounded whole-file reader: exact reads at and around the limit, the
 * refusal of everything that is not a regular file (a FIFO with or without
 * a writer, a directory, a character device) without ever blocking, missing
 * files, and descriptors (pipes) read to their end.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sys/fileio.h"
#include "testutil.h"

struct fx {
    char dir[256];
    char file[300];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    if (osw_test_tmpdir(f->dir, sizeof(f->dir), f->file, sizeof(f->file), "fileio") != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    osw_test_rmtree(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_regular_file(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb;
    char *data = NULL;
    size_t len = 0;
    bool changed = true;

    write_file(f->file, "hello", 5);
    assert_int_equal(osw_fileio_read(f->file, 5, &data, &len, &eb), OSW_OK);
    assert_int_equal(len, 5);
    assert_string_equal(data, "hello");
    free(data);
    assert_int_equal(osw_fileio_read_stable(f->file, 5, &data, &len, &changed, &eb), OSW_OK);
    assert_false(changed);
    osw_fileio_wipe_free(data, len);

    /* One byte over the limit. */
    assert_int_equal(osw_fileio_read(f->file, 4, &data, &len, &eb), OSW_ETOOBIG);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_non_null(strstr(eb.msg, "larger than 4 bytes"));
    assert_non_null(strstr(eb.msg, f->file));

    /* Empty. */
    write_file(f->file, "", 0);
    assert_int_equal(osw_fileio_read(f->file, 5, &data, &len, &eb), OSW_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
}

static void test_larger_than_first_buffer(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb;
    size_t n = 100000, len = 0;
    char *big = malloc(n), *data = NULL;
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    write_file(f->file, big, n);
    assert_int_equal(osw_fileio_read(f->file, n, &data, &len, &eb), OSW_OK);
    assert_int_equal(len, n);
    assert_memory_equal(data, big, n);
    assert_int_equal(data[n], '\0');
    free(data);
    free(big);
}

static void test_missing_and_directory(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb;
    char *data = NULL;
    size_t len = 0;

    assert_int_equal(osw_fileio_read(f->file, 100, &data, &len, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "No such file"));
    assert_int_equal(osw_fileio_read(f->dir, 100, &data, &len, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "not a regular file"));
    assert_int_equal(osw_fileio_read("/dev/null", 100, &data, &len, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "not a regular file"));
    assert_null(data);
}

/* A FIFO never blocks the reader: without a writer (where a blocking open
 * would wait forever) and with a writer that never writes (where a read
 * would). Symlinks to one are followed and refused as well. */
static void test_fifo_never_blocks(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb;
    char *data = NULL, link[320];
    size_t len = 0;

    assert_int_equal(mkfifo(f->file, 0600), 0);
    double t0 = now_s();
    assert_int_equal(osw_fileio_read(f->file, 100, &data, &len, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "not a regular file"));

    int rd = open(f->file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(rd >= 0);
    int wr = open(f->file, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(wr >= 0);
    assert_int_equal(osw_fileio_read(f->file, 100, &data, &len, &eb), OSW_EIO);
    osw_test_pathf(link, sizeof(link), "%s/link", f->dir);
    assert_int_equal(symlink(f->file, link), 0);
    assert_int_equal(osw_fileio_read(link, 100, &data, &len, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "not a regular file"));
    assert_true(now_s() - t0 < 1.0);
    close(wr);
    close(rd);
    assert_null(data);
}

static void test_read_fd(void **state)
{
    (void)state;
    struct osw_errbuf eb;
    char *data = NULL;
    size_t len = 0;
    int p[2];

    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "hello", 5), 5);
    close(p[1]);
    assert_int_equal(osw_fileio_read_fd(p[0], "<pipe>", 5, &data, &len, &eb), OSW_OK);
    close(p[0]);
    assert_int_equal(len, 5);
    assert_string_equal(data, "hello");
    free(data);

    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "hello!", 6), 6);
    close(p[1]);
    assert_int_equal(osw_fileio_read_fd(p[0], "<pipe>", 5, &data, &len, &eb), OSW_ETOOBIG);
    close(p[0]);
    assert_null(data);
    assert_string_equal(eb.msg, "<pipe>: larger than 5 bytes");

    /* A read error: a descriptor open for writing only. */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(osw_fileio_read_fd(p[1], "<w>", 5, &data, &len, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "<w>: "));
    close(p[0]);
    close(p[1]);
    osw_fileio_wipe_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_larger_than_first_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_never_blocks, setup, teardown),
        cmocka_unit_test(test_read_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

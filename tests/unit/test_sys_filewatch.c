/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file watcher: each kind of update (in place, rename-over, a ConfigMap
 * or Secret volume's `..data` symlink swap) wakes the owner promptly, a
 * re-check asked for comes when asked, nothing wakes it early without a
 * change, a stop ends a wait at once and every wait after it, and bad
 * arguments are refused. Every wait is bounded by the test's own clock.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sys/filewatch.h"
#include "testutil.h"

struct fx {
    char dir[256];
    char file[300];
    struct osw_filewatch *w;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_file(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
    close(fd);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    if (osw_test_tmpdir(f->dir, sizeof(f->dir), f->file, sizeof(f->file), "filewatch") != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    osw_filewatch_free(f->w);
    osw_test_rmtree(f->dir);
    free(f);
    return 0;
}

static void watch(struct fx *f, const char *path)
{
    struct osw_errbuf eb;
    bool inotify = false;
    assert_int_equal(osw_filewatch_new((const char *const[]){path}, 1, &inotify, &f->w, &eb),
                     OSW_OK);
    assert_true(inotify);
}

/* Seconds until the watcher says CHECK. */
static double until_check(struct fx *f, int recheck_ms)
{
    double t0 = now_s();
    assert_int_equal(osw_filewatch_wait(f->w, recheck_ms), OSW_FILEWATCH_CHECK);
    return now_s() - t0;
}

static void test_in_place_and_rename(void **state)
{
    struct fx *f = *state;
    char tmp[320];
    write_file(f->file, "a");
    watch(f, f->file);

    write_file(f->file, "b");
    assert_true(until_check(f, 0) < 1.0); /* well within the contract's 2 s */

    osw_test_pathf(tmp, sizeof(tmp), "%s/f.tmp", f->dir);
    write_file(tmp, "c");
    assert_int_equal(rename(tmp, f->file), 0);
    assert_true(until_check(f, 0) < 1.0);
}

/* kubelet's layout: f -> ..data/f, ..data -> ..<ts>; the swap renames a new
 * ..data symlink over the old one. */
static void test_data_symlink_swap(void **state)
{
    struct fx *f = *state;
    char p[400], q[400];
    osw_test_pathf(p, sizeof(p), "%s/..v1", f->dir);
    assert_int_equal(mkdir(p, 0700), 0);
    osw_test_pathf(p, sizeof(p), "%s/..v1/f", f->dir);
    write_file(p, "one");
    osw_test_pathf(p, sizeof(p), "%s/..data", f->dir);
    assert_int_equal(symlink("..v1", p), 0);
    assert_int_equal(symlink("..data/f", f->file), 0);
    watch(f, f->file);

    osw_test_pathf(p, sizeof(p), "%s/..v2", f->dir);
    assert_int_equal(mkdir(p, 0700), 0);
    osw_test_pathf(p, sizeof(p), "%s/..v2/f", f->dir);
    write_file(p, "two");
    osw_test_pathf(p, sizeof(p), "%s/..data_tmp", f->dir);
    assert_int_equal(symlink("..v2", p), 0);
    osw_test_pathf(q, sizeof(q), "%s/..data", f->dir);
    assert_int_equal(rename(p, q), 0);
    assert_true(until_check(f, 0) < 1.0);
}

/* With no change, the first wake is the periodic full check (every
 * OSW_FILEWATCH_FULL_CHECKS polls), not earlier; a re-check asked for comes
 * after about the time asked. */
static void test_quiet_and_recheck(void **state)
{
    struct fx *f = *state;
    write_file(f->file, "a");
    watch(f, f->file);
    double took = until_check(f, 0);
    double full = OSW_FILEWATCH_POLL_MS * OSW_FILEWATCH_FULL_CHECKS / 1000.0;
    assert_true(took > full - 0.6 && took < full + 1.5);
    took = until_check(f, 150);
    assert_true(took > 0.1 && took < 1.0);
}

static void *stopper(void *arg)
{
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    osw_filewatch_stop(arg);
    return NULL;
}

static void test_stop(void **state)
{
    struct fx *f = *state;
    pthread_t th;
    write_file(f->file, "a");
    watch(f, f->file);
    double t0 = now_s();
    assert_int_equal(pthread_create(&th, NULL, stopper, f->w), 0);
    assert_int_equal(osw_filewatch_wait(f->w, 0), OSW_FILEWATCH_STOP);
    assert_true(now_s() - t0 < 0.4);
    pthread_join(th, NULL);
    /* And from then on, even with a change pending. */
    write_file(f->file, "b");
    assert_int_equal(osw_filewatch_wait(f->w, 10), OSW_FILEWATCH_STOP);
}

static void test_missing_file_and_bad_arguments(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb;
    struct osw_filewatch *w = NULL;
    const char *many[OSW_FILEWATCH_MAX + 1] = {f->file, f->file, f->file, f->file, f->file};

    assert_int_equal(osw_filewatch_new(many, 0, NULL, &w, &eb), OSW_EINVAL);
    assert_int_equal(osw_filewatch_new(many, OSW_FILEWATCH_MAX + 1, NULL, &w, &eb), OSW_EINVAL);
    assert_null(w);
    /* A path that does not exist yet is watched; its creation wakes. */
    watch(f, f->file);
    write_file(f->file, "now");
    assert_true(until_check(f, 0) < 1.0);
    osw_filewatch_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_place_and_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_symlink_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiet_and_recheck, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_and_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

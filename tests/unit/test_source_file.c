/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the file source: start-up failures name the file and the field;
 * changes written in place, renamed over, or swapped through a ConfigMap's
 * `..data` symlink are picked up; an invalid or missing file is refused once
 * (one warning, one "invalid" count) while the last good snapshot stays; a
 * later valid change is picked up again. Changes are awaited by polling the
 * cell with a generous deadline: the tests check that a change arrives, never
 * how fast.
 */
#include <fcntl.h>
#include <ftw.h>
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

#include "testutil.h"

#include "source/source.h"

#define IMG  "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:"
#define HEX1 "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2"
#define HEX2 "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b"

/* Deadline for a change to arrive: generous, for loaded CI machines. */
#define WAIT_MS 5000
#define STEP_MS 10

struct fixture {
    char dir[64];
    char file[128];
    char logpath[128];
    int logfd;
    struct osw_log log;
    struct osw_metrics *metrics;
    struct osw_snapcell cell;
    struct osw_source *src;
};

/* A valid OSImageStream (YAML) with resourceVersion `rv`. */
static void osis_yaml(char *buf, size_t cap, const char *rv, const char *def)
{
    int n = snprintf(buf, cap,
                     "apiVersion: machineconfiguration.openshift.io/v1\n"
                     "kind: OSImageStream\n"
                     "metadata:\n  name: cluster\n  resourceVersion: \"%s\"\n"
                     "status:\n  defaultStream: %s\n  availableStreams:\n"
                     "    - name: rhel-9\n      osImage: " IMG HEX1 "\n"
                     "      osExtensionsImage: " IMG HEX2 "\n"
                     "    - name: rhel-10\n      osImage: " IMG HEX2 "\n"
                     "      osExtensionsImage: " IMG HEX1 "\n",
                     rv, def);
    assert_true(n > 0 && (size_t)n < cap);
}

static void write_all(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    size_t len = strlen(data);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void write_in_place(struct fixture *f, const char *rv, const char *def)
{
    char buf[2048];
    osis_yaml(buf, sizeof(buf), rv, def);
    write_all(f->file, buf);
}

static void write_rename(struct fixture *f, const char *rv, const char *def)
{
    char buf[2048], tmp[160];
    osis_yaml(buf, sizeof(buf), rv, def);
    snprintf(tmp, sizeof(tmp), "%s.tmp", f->file);
    write_all(tmp, buf);
    assert_int_equal(rename(tmp, f->file), 0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool cell_has_rv(struct fixture *f, const char *rv)
{
    struct osw_osis *s = osw_snapcell_acquire(&f->cell);
    bool ok = s && osw_str_eq_cstr(osw_osis_resource_version(s), rv);
    osw_osis_unref(s);
    return ok;
}

static void wait_rv(struct fixture *f, const char *rv)
{
    for (int i = 0; i < WAIT_MS / STEP_MS; i++) {
        if (cell_has_rv(f, rv))
            return;
        sleep_ms(STEP_MS);
    }
    fail_msg("resourceVersion %s never arrived", rv);
}

/* The value of one rendered metric line starting with `prefix`, or -1. */
static long metric(struct fixture *f, const char *prefix)
{
    struct osw_buf b = OSW_BUF_INIT;
    long v = -1;
    assert_int_equal(osw_metrics_render(f->metrics, &b), OSW_OK);
    for (const char *p = b.data; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t plen = strlen(prefix);
        if (strncmp(p, prefix, plen) == 0 && p[plen] == ' ') {
            v = strtol(p + plen + 1, NULL, 10);
            break;
        }
        p = nl ? nl + 1 : NULL;
    }
    osw_buf_free(&b);
    return v;
}

#define INVALID_TOTAL "osstream_webhook_osimagestream_updates_total{result=\"invalid\"}"
#define SUCCESS_TOTAL "osstream_webhook_osimagestream_updates_total{result=\"success\"}"

static void wait_invalid(struct fixture *f, long want)
{
    for (int i = 0; i < WAIT_MS / STEP_MS; i++) {
        if (metric(f, INVALID_TOTAL) >= want)
            return;
        sleep_ms(STEP_MS);
    }
    fail_msg("invalid count never reached %ld", want);
}

/* Occurrences of `needle` in the log written so far. */
static int log_count(struct fixture *f, const char *needle)
{
    char buf[65536];
    int fd = open(f->logpath, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    int count = 0;
    for (const char *p = strstr(buf, needle); p; p = strstr(p + 1, needle))
        count++;
    return count;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/osw-srcfile-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->file, sizeof(f->file), "%s/osimagestream.yaml", f->dir);
    snprintf(f->logpath, sizeof(f->logpath), "%s.log", f->dir);
    f->logfd = open(f->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    assert_true(f->logfd >= 0);
    osw_log_init(&f->log, OSW_LOG_DEBUG, OSW_LOG_TEXT, f->logfd);
    f->metrics = osw_metrics_new();
    assert_non_null(f->metrics);
    osw_snapcell_init(&f->cell);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    osw_source_destroy(f->src);
    osw_snapcell_destroy(&f->cell);
    osw_metrics_free(f->metrics);
    close(f->logfd);
    unlink(f->logpath);
    assert_int_equal(osw_test_rmtree(f->dir), 0);
    free(f);
    return 0;
}

static void start_on(struct fixture *f, const char *path)
{
    struct osw_source_env env = {&f->cell, &f->log, f->metrics};
    struct osw_errbuf eb;
    assert_int_equal(osw_source_file_new(path, &env, &f->src, &eb), OSW_OK);
    enum osw_err err = osw_source_start(f->src, &eb);
    if (err != OSW_OK)
        fail_msg("start: %s", eb.msg);
}

static void test_start_errors(void **state)
{
    struct fixture *f = *state;
    struct osw_source_env env = {&f->cell, &f->log, NULL};
    struct osw_errbuf eb;
    struct osw_source *src = NULL;

    /* Missing file. */
    assert_int_equal(osw_source_file_new(f->file, &env, &src, &eb), OSW_OK);
    assert_int_equal(osw_source_start(src, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, f->file));
    assert_non_null(strstr(eb.msg, "No such file"));
    osw_source_destroy(src);

    /* Invalid content: the reason names the file and the field. */
    write_in_place(f, "1", "rhel-8");
    assert_int_equal(osw_source_file_new(f->file, &env, &src, &eb), OSW_OK);
    assert_int_equal(osw_source_start(src, &eb), OSW_EBADOBJ);
    assert_non_null(strstr(eb.msg, f->file));
    assert_non_null(strstr(eb.msg, ": status.defaultStream: \"rhel-8\" is not one of"));
    osw_source_destroy(src);

    /* Unparsable YAML: file:line:column. */
    write_all(f->file, "apiVersion: v1\nkind: [\n");
    assert_int_equal(osw_source_file_new(f->file, &env, &src, &eb), OSW_OK);
    assert_int_equal(osw_source_start(src, &eb), OSW_EBADOBJ);
    assert_non_null(strstr(eb.msg, f->file));
    assert_non_null(strstr(eb.msg, "yaml:3:1: "));
    osw_source_destroy(src);

    assert_false(osw_snapcell_synced(&f->cell));
    assert_null(osw_snapcell_acquire(&f->cell));

    /* Bad arguments; NULL-safe wrappers. */
    assert_int_equal(osw_source_file_new("", &env, &src, &eb), OSW_EINVAL);
    assert_null(src);
    assert_int_equal(osw_source_start(NULL, &eb), OSW_EINVAL);
    osw_source_stop(NULL);
    osw_source_destroy(NULL);
}

static void test_load_file(void **state)
{
    struct fixture *f = *state;
    struct osw_osis *s = NULL;
    struct osw_errbuf eb;

    assert_int_equal(osw_source_load_file(OSW_TEST_DATA "/osimagestream.json", &s, &eb), OSW_OK);
    assert_int_equal(osw_osis_count(s), 2);
    osw_osis_unref(s);
    assert_int_equal(osw_source_load_file(OSW_TEST_DATA "/osimagestream.yaml", &s, &eb), OSW_OK);
    assert_true(osw_str_eq_cstr(osw_osis_resource_version(s), "48213"));
    osw_osis_unref(s);

    char two[4200], one[2048];
    osis_yaml(one, sizeof(one), "1", "rhel-9");
    snprintf(two, sizeof(two), "%s---\n%s", one, one);
    write_all(f->file, two);
    assert_int_equal(osw_source_load_file(f->file, &s, &eb), OSW_EBADOBJ);
    assert_null(s);
    assert_non_null(strstr(eb.msg, "expected one OSImageStream document, found 2"));
    write_all(f->file, "# nothing\n");
    assert_int_equal(osw_source_load_file(f->file, &s, &eb), OSW_EBADOBJ);
    assert_non_null(strstr(eb.msg, "found 0"));
    /* Not JSON, but valid YAML flow style (apiVersion: null): read as YAML
     * and refused for its content. */
    write_all(f->file, "{\"apiVersion\": }");
    assert_int_equal(osw_source_load_file(f->file, &s, &eb), OSW_EBADOBJ);
    assert_non_null(strstr(eb.msg, "apiVersion"));
    /* Neither JSON nor YAML: JSON's own line:column error. */
    write_all(f->file, "{\"apiVersion\": ");
    assert_int_equal(osw_source_load_file(f->file, &s, &eb), OSW_EBADOBJ);
    assert_non_null(strstr(eb.msg, "osimagestream.yaml:1:"));
    assert_int_equal(osw_source_load_file(f->dir, &s, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, f->dir));
}

static void test_in_place_and_rename(void **state)
{
    struct fixture *f = *state;
    write_in_place(f, "1", "rhel-9");
    start_on(f, f->file);
    assert_true(osw_snapcell_synced(&f->cell));
    assert_true(cell_has_rv(f, "1"));
    assert_int_equal(metric(f, "osstream_webhook_osimagestream_synced"), 1);
    assert_int_equal(metric(f, "osstream_webhook_osimagestream_streams"), 2);
    assert_int_equal(metric(f, SUCCESS_TOTAL), 1);

    write_in_place(f, "2", "rhel-10");
    wait_rv(f, "2");
    struct osw_osis *s = osw_snapcell_acquire(&f->cell);
    assert_true(osw_str_eq_cstr(osw_osis_default(s), "rhel-10"));
    osw_osis_unref(s);

    write_rename(f, "3", "rhel-9");
    wait_rv(f, "3");
    assert_int_equal(metric(f, SUCCESS_TOTAL), 3);
    assert_int_equal(metric(f, INVALID_TOTAL), 0);
    assert_true(log_count(f, "OSImageStream file changed") >= 2);

    osw_source_stop(f->src);
    osw_source_stop(f->src); /* idempotent */
    /* Stopped: nothing more is published. */
    write_rename(f, "4", "rhel-9");
    sleep_ms(700);
    assert_true(cell_has_rv(f, "3"));
}

/* Lays out a ConfigMap volume version `ts` holding `rv` and points ..data
 * at it atomically, as kubelet does (new symlink renamed over the old). */
static void configmap_version(struct fixture *f, const char *ts, const char *rv, const char *old_ts)
{
    char d[160], p[200], link[160], tmp[160], buf[2048];
    snprintf(d, sizeof(d), "%s/%s", f->dir, ts);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(p, sizeof(p), "%s/osimagestream.yaml", d);
    osis_yaml(buf, sizeof(buf), rv, "rhel-9");
    write_all(p, buf);
    snprintf(link, sizeof(link), "%s/..data", f->dir);
    snprintf(tmp, sizeof(tmp), "%s/..data_tmp", f->dir);
    assert_int_equal(symlink(ts, tmp), 0);
    assert_int_equal(rename(tmp, link), 0);
    if (old_ts) {
        char old[200];
        snprintf(old, sizeof(old), "%s/%s/osimagestream.yaml", f->dir, old_ts);
        assert_int_equal(unlink(old), 0);
        snprintf(old, sizeof(old), "%s/%s", f->dir, old_ts);
        assert_int_equal(rmdir(old), 0);
    }
}

static void test_configmap_swap(void **state)
{
    struct fixture *f = *state;
    configmap_version(f, "..2026_01_01_00_00_00.1", "1", NULL);
    assert_int_equal(symlink("..data/osimagestream.yaml", f->file), 0);
    start_on(f, f->file);
    assert_true(cell_has_rv(f, "1"));

    configmap_version(f, "..2026_01_01_00_01_00.2", "2", "..2026_01_01_00_00_00.1");
    wait_rv(f, "2");
    configmap_version(f, "..2026_01_01_00_02_00.3", "3", "..2026_01_01_00_01_00.2");
    wait_rv(f, "3");
    assert_int_equal(metric(f, INVALID_TOTAL), 0);
}

static void test_invalid_refused(void **state)
{
    struct fixture *f = *state;
    write_in_place(f, "1", "rhel-9");
    start_on(f, f->file);

    /* An invalid change: refused once, the old snapshot stays. */
    write_rename(f, "2", "rhel-8");
    wait_invalid(f, 1);
    assert_true(cell_has_rv(f, "1"));
    assert_int_equal(log_count(f, "refused"), 1);
    assert_int_equal(log_count(f, "status.defaultStream"), 1);

    /* Touching it (same bad content) is not a new refusal: no log spam. */
    assert_int_equal(utimensat(AT_FDCWD, f->file, NULL, 0), 0);
    sleep_ms(1200);
    assert_int_equal(metric(f, INVALID_TOTAL), 1);
    assert_int_equal(log_count(f, "refused"), 1);

    /* A different bad content is refused (and logged) again. */
    write_all(f->file, "kind: [\n");
    wait_invalid(f, 2);
    assert_int_equal(log_count(f, "refused"), 2);
    assert_true(cell_has_rv(f, "1"));

    /* A later valid change is picked up. */
    write_in_place(f, "3", "rhel-10");
    wait_rv(f, "3");
    assert_int_equal(metric(f, INVALID_TOTAL), 2);
    assert_int_equal(metric(f, "osstream_webhook_osimagestream_synced"), 1);
}

static void test_missing_then_back(void **state)
{
    struct fixture *f = *state;
    write_in_place(f, "1", "rhel-9");
    start_on(f, f->file);

    assert_int_equal(unlink(f->file), 0);
    wait_invalid(f, 1);
    assert_true(cell_has_rv(f, "1"));
    assert_int_equal(log_count(f, "No such file"), 1);

    /* The same content as before comes back: nothing to publish, and the
     * snapshot in use never changed. Then a new one is picked up. */
    write_in_place(f, "1", "rhel-9");
    write_rename(f, "5", "rhel-9");
    wait_rv(f, "5");
}

/* A FIFO renamed over the file is refused without blocking the watcher (a
 * blocking open would wait for a writer forever): logged, counted as an
 * invalid update, the old snapshot kept; a valid file renamed over it later
 * is used, and stopping the source is prompt throughout. */
static void test_fifo_renamed_over(void **state)
{
    struct fixture *f = *state;
    char fifo[320];
    write_in_place(f, "1", "rhel-9");
    start_on(f, f->file);

    osw_test_pathf(fifo, sizeof(fifo), "%s/fifo", f->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(rename(fifo, f->file), 0);
    wait_invalid(f, 1);
    assert_true(cell_has_rv(f, "1"));
    assert_int_equal(log_count(f, "not a regular file"), 1);

    write_rename(f, "2", "rhel-10");
    wait_rv(f, "2");

    /* And again, this time stopping while the FIFO is in place. */
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(rename(fifo, f->file), 0);
    wait_invalid(f, 2);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    osw_source_stop(f->src);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_place_and_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configmap_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_then_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_renamed_over, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

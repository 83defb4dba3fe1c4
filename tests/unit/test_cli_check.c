/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the `check` command, called as main calls it, with stdout and
 * stderr captured: verdict lines and exit codes for allowed and denied pools
 * (with the server's status.message), each line naming its file, Lists and
 * `<Kind>List`s as the API returns them, multi-document files with empty
 * documents, objects that are not pools, files without pools (said on
 * stderr), directories (-R), stdin, and every exit-2 path (bad flags,
 * invalid OSImageStream, unreadable or unparsable manifests).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/commands.h"
#include "testutil.h"

#define D      OSW_TEST_DATA
#define OSIS   D "/osimagestream.yaml"
#define CHECKD D "/check"

#define MSG_UNSUPPORTED                                                                            \
    "MachineConfigPool.machineconfiguration.openshift.io \"unknown-stream\" is invalid: "          \
    "spec.osImageStream.name: Unsupported value: \"rhel-8\": supported values: \"rhel-9\", "       \
    "\"rhel-10\""
#define SENTENCE                                                                                   \
    "The specified osImageStream name must reference a valid stream from the cluster "             \
    "OSImageStream resource"

struct result {
    int rc;
    char out[32768];
    char err[4096];
};

static void slurp(FILE *f, char *buf, size_t cap)
{
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs `check ARGS...` (NULL-terminated), with `stdin_path` as stdin when
 * not NULL, capturing stdout and stderr into `r`. */
static void run(struct result *r, const char *stdin_path, ...)
{
    char *argv[16];
    int argc = 0;
    va_list ap;

    argv[argc++] = strdup("check");
    va_start(ap, stdin_path);
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *)) {
        assert_true(argc < 15);
        argv[argc++] = strdup(a);
    }
    va_end(ap);
    argv[argc] = NULL;

    fflush(stdout);
    fflush(stderr);
    FILE *fo = tmpfile(), *fe = tmpfile();
    assert_non_null(fo);
    assert_non_null(fe);
    int saved_out = dup(1), saved_err = dup(2), saved_in = -1;
    assert_true(saved_out >= 0 && saved_err >= 0);
    assert_true(dup2(fileno(fo), 1) >= 0);
    assert_true(dup2(fileno(fe), 2) >= 0);
    if (stdin_path) {
        int fd = open(stdin_path, O_RDONLY);
        assert_true(fd >= 0);
        saved_in = dup(0);
        assert_true(dup2(fd, 0) >= 0);
        close(fd);
    }

    r->rc = osw_cmd_check(argc, argv);

    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    if (saved_in >= 0) {
        dup2(saved_in, 0);
        close(saved_in);
        clearerr(stdin);
    }
    slurp(fo, r->out, sizeof(r->out));
    slurp(fe, r->err, sizeof(r->err));
    for (int i = 0; i < argc; i++)
        free(argv[i]);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("<<%s>> lacks <<%s>>", hay, needle);
}

static void test_allowed(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/pools.yaml", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, CHECKD "/pools.yaml: infra: allowed\n" CHECKD
                                      "/pools.yaml: default-stream: allowed\n" CHECKD
                                      "/pools.yaml: listed-rhel-9: allowed\n");
    assert_string_equal(r.err, "");

    /* The = form, JSON OSImageStream, several files, one without pools. */
    run(&r, NULL, "--osimagestream-file=" D "/osimagestream.json", CHECKD "/no-pools.yaml",
        D "/mcp-infra-custom.yaml", D "/mcp-worker-rhel10.json", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, D "/mcp-infra-custom.yaml: infra: allowed\n" D
                                 "/mcp-worker-rhel10.json: worker: allowed\n");
    assert_string_equal(r.err, "osstream-webhook check: " CHECKD
                               "/no-pools.yaml: no MachineConfigPools found\n");
}

/* A check that found nothing says so: no pool is no pass in silence. */
static void test_no_pools_warns(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/no-pools.yaml", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "osstream-webhook check: " CHECKD
                               "/no-pools.yaml: no MachineConfigPools found\n");

    run(&r, CHECKD "/no-pools.yaml", "--osimagestream-file", OSIS, "-", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "osstream-webhook check: -: no MachineConfigPools found\n");

    /* A directory without manifests, and one pool in another file. */
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/empty-dir", D "/mcp-infra-custom.yaml",
        NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, D "/mcp-infra-custom.yaml: infra: allowed\n");
    assert_string_equal(r.err, "osstream-webhook check: " CHECKD
                               "/empty-dir: no MachineConfigPools found\n");
}

/* A MachineConfigPoolList as `oc get mcp -o json` prints it: items without
 * kind and apiVersion are pools all the same. */
static void test_api_list(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/api-list.json", NULL);
    assert_int_equal(r.rc, 1);
    assert_int_equal(count_lines(r.out), 3);
    assert_contains(r.out, CHECKD "/api-list.json: master: allowed\n");
    assert_contains(r.out, CHECKD "/api-list.json: worker: denied: "
                                  "MachineConfigPool.machineconfiguration.openshift.io \"worker\" "
                                  "is invalid: spec.osImageStream.name: Unsupported value: "
                                  "\"rhel-8\"");
    assert_contains(r.out, CHECKD "/api-list.json: infra: allowed\n");
    assert_string_equal(r.err, "");
}

/* A directory is its *.yaml, *.yml and *.json files in name order; -R (or
 * --recursive) descends into subdirectories. */
static void test_directory(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/dir", NULL);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, CHECKD "/dir/a-allowed.yaml: dir-a: allowed\n" CHECKD
                                      "/dir/b-denied.yml: dir-b: denied: "
                                      "MachineConfigPool.machineconfiguration.openshift.io "
                                      "\"dir-b\" is invalid: spec.osImageStream.name: "
                                      "Unsupported value: \"rhel-8\": supported values: "
                                      "\"rhel-9\", \"rhel-10\". " SENTENCE "\n" CHECKD
                                      "/dir/c.json: dir-c: allowed\n");
    assert_string_equal(r.err, "");

    run(&r, NULL, "-R", "--osimagestream-file", OSIS, CHECKD "/dir/", NULL);
    assert_int_equal(r.rc, 1);
    assert_int_equal(count_lines(r.out), 4);
    assert_contains(r.out, CHECKD "/dir/c.json: dir-c: allowed\n" CHECKD
                                  "/dir/sub/d.yaml: dir-sub-d: allowed\n");
    assert_true(strstr(r.out, "not-read-txt") == NULL);

    run(&r, NULL, "--recursive", "--osimagestream-file", OSIS, CHECKD "/dir/sub", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, CHECKD "/dir/sub/d.yaml: dir-sub-d: allowed\n");

    /* A dangling link named like a manifest is an error naming it. */
    char tmp[] = "/tmp/osw-check-XXXXXX", path[512];
    assert_non_null(mkdtemp(tmp));
    osw_test_pathf(path, sizeof(path), "%s/gone.yaml", tmp);
    assert_int_equal(symlink("/nonexistent/osw-gone.yaml", path), 0);
    run(&r, NULL, "--osimagestream-file", OSIS, tmp, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_contains(r.err, "gone.yaml: No such file or directory");
    assert_int_equal(count_lines(r.err), 1);
    assert_int_equal(unlink(path), 0);

    /* -R stops at a depth no real repository has (a guard, not a limit
     * anyone meets): an error, not a crash or an endless walk. */
    size_t n = strlen(tmp);
    memcpy(path, tmp, n + 1);
    for (int i = 0; i < 40; i++) {
        assert_true(n + 3 < sizeof(path));
        memcpy(path + n, "/d", 3);
        n += 2;
        assert_int_equal(mkdir(path, 0755), 0);
    }
    run(&r, NULL, "-R", "--osimagestream-file", OSIS, tmp, NULL);
    assert_int_equal(r.rc, 2);
    assert_contains(r.err, "directories nested too deep");
    assert_int_equal(count_lines(r.err), 1);
    /* Without -R the subdirectories are not read: nothing found. */
    run(&r, NULL, "--osimagestream-file", OSIS, tmp, NULL);
    assert_int_equal(r.rc, 0);
    assert_contains(r.err, "no MachineConfigPools found");
    assert_int_equal(osw_test_rmtree(tmp), 0);

    /* An unparsable file in a directory stops everything, naming it. */
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_contains(r.err, CHECKD "/unparsable.yaml:5:5: ");
    assert_int_equal(count_lines(r.err), 1);
}

static void test_denied(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/denied.yaml", NULL);
    assert_int_equal(r.rc, 1);
    assert_int_equal(count_lines(r.out), 4);
    assert_contains(r.out, CHECKD "/denied.yaml: unknown-stream: denied: " MSG_UNSUPPORTED);
    assert_contains(r.out, SENTENCE "\n");
    assert_contains(r.out, CHECKD "/denied.yaml: ok: allowed\n");
    assert_contains(r.out, "upper-case: denied: "
                           "MachineConfigPool.machineconfiguration.openshift.io \"upper-case\" is "
                           "invalid: spec.osImageStream.name: Invalid value: \"RHEL-10\": ");
    assert_contains(r.out, "empty: denied: "
                           "MachineConfigPool.machineconfiguration.openshift.io \"empty\" is "
                           "invalid: spec.osImageStream.name: Required value\n");
    /* Verdicts come in manifest order. */
    assert_true(strstr(r.out, "unknown-stream") < strstr(r.out, ": ok:"));
    assert_true(strstr(r.out, ": upper-case:") < strstr(r.out, ": empty:"));
    assert_string_equal(r.err, "");

    /* One denied pool among allowed ones in other files still exits 1. */
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/pools.yaml", CHECKD "/pool-list.json",
        NULL);
    assert_int_equal(r.rc, 1);
    assert_int_equal(count_lines(r.out), 5);
    assert_contains(r.out, CHECKD "/pool-list.json: json-a: allowed\n");
    assert_contains(r.out, CHECKD "/pool-list.json: json-b: denied: "
                                  "MachineConfigPool.machineconfiguration.openshift.io \"json-b\" "
                                  "is invalid: spec.osImageStream.name: Unsupported value: "
                                  "\"rhel-11\"");
}

static void test_server_400_is_denied(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/wrong-types.yaml", NULL);
    assert_int_equal(r.rc, 1);
    assert_contains(r.out, "bad-annotations: denied: ");
    assert_contains(r.out, "annotations");
    assert_int_equal(count_lines(r.out), 1);
}

static void test_odd_names(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/odd-names.yaml", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, CHECKD "/odd-names.yaml: (unnamed): allowed\n" CHECKD
                                      "/odd-names.yaml: two?lines: allowed\n");
}

/* Rule R with the manifests' MachineConfigs as the cluster state: the worker
 * (a CREATE) is denied for itself and for infra, which follows it; infra is
 * denied for itself; the MachineConfig gets no denial line. */
static void test_runc(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/runc.yaml", NULL);
    assert_int_equal(r.rc, 1);
    assert_int_equal(count_lines(r.out), 3);
    assert_contains(r.out, "worker: denied: MachineConfigPool.machineconfiguration.openshift.io "
                           "\"worker\" is invalid: [spec.osImageStream.name: Forbidden: "
                           "MachineConfigPool worker targets a RHEL 10 OS image where runc is "
                           "not available. To unblock, migrate to crun by removing any "
                           "ContainerRuntimeConfig that sets defaultRuntime to runc, and removing "
                           "any MachineConfig that sets default_runtime = \"runc\" in CRI-O "
                           "configuration under /etc/crio/crio.conf.d/, spec.osImageStream.name: "
                           "Forbidden: MachineConfigPool infra targets a RHEL 10 OS image");
    assert_contains(r.out, "infra: denied: MachineConfigPool.machineconfiguration.openshift.io "
                           "\"infra\" is invalid: spec.osImageStream.name: Forbidden: "
                           "MachineConfigPool infra targets a RHEL 10 OS image");
    assert_contains(r.out, "rhel9-pool: allowed\n");
    assert_true(strstr(r.out, "99-worker-runc: denied") == NULL);
    assert_string_equal(r.err, "");
}

static void test_stdin(void **state)
{
    (void)state;
    static struct result r;
    run(&r, D "/mcp-infra-custom.yaml", "--osimagestream-file", OSIS, "-", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "-: infra: allowed\n");

    run(&r, CHECKD "/denied.yaml", "--osimagestream-file", OSIS, "-", NULL);
    assert_int_equal(r.rc, 1);
    assert_contains(r.out, "-: unknown-stream: denied: ");
}

static void test_bad_manifests(void **state)
{
    (void)state;
    static struct result r;
    /* A good file first: nothing is printed when a later one fails. */
    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/pools.yaml", CHECKD "/missing.yaml", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_contains(r.err, CHECKD "/missing.yaml: No such file or directory");
    assert_int_equal(count_lines(r.err), 1);

    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/denied.yaml", CHECKD "/unparsable.yaml",
        NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_contains(r.err, CHECKD "/unparsable.yaml:5:5: ");
    assert_int_equal(count_lines(r.err), 1);

    run(&r, NULL, "--osimagestream-file", OSIS, CHECKD "/nope-dir/", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_contains(r.err, CHECKD "/nope-dir/: No such file or directory");
}

static void test_bad_osimagestream(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, "--osimagestream-file", D "/osis/invalid-default.yaml", CHECKD "/pools.yaml",
        NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_contains(r.err, "osis/invalid-default.yaml: status.defaultStream: \"rhel-8\" is not one "
                           "of the available streams");

    run(&r, NULL, "--osimagestream-file", D "/osis/invalid-image.json", CHECKD "/pools.yaml", NULL);
    assert_int_equal(r.rc, 2);
    assert_contains(r.err, "status.availableStreams[1].osImage: ");

    run(&r, NULL, "--osimagestream-file", D "/nope.yaml", CHECKD "/pools.yaml", NULL);
    assert_int_equal(r.rc, 2);
    assert_contains(r.err, D "/nope.yaml: No such file");

    /* A valid variant (v1alpha1; anchors) is fine. */
    run(&r, NULL, "--osimagestream-file", D "/osis/valid-v1alpha1.json", CHECKD "/pools.yaml",
        NULL);
    assert_int_equal(r.rc, 0);
    run(&r, NULL, "--osimagestream-file", D "/osis/valid-anchors.yaml", CHECKD "/pools.yaml", NULL);
    assert_int_equal(r.rc, 0);
}

static void test_flags(void **state)
{
    (void)state;
    static struct result r;
    run(&r, NULL, CHECKD "/pools.yaml", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_contains(r.err, "--osimagestream-file is required");
    assert_int_equal(count_lines(r.err), 1);

    run(&r, NULL, "--osimagestream-file", OSIS, NULL);
    assert_int_equal(r.rc, 2);
    assert_contains(r.err, "MANIFEST");
    assert_int_equal(count_lines(r.err), 1);

    run(&r, NULL, "--osimagestream-file", OSIS, "--bogus", CHECKD "/pools.yaml", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_contains(r.err, "bogus");

    run(&r, NULL, "--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_contains(r.out, "--osimagestream-file");
    assert_contains(r.out, "-R, --recursive");
    assert_contains(r.out, "Exit status:\n  0  ");
    assert_string_equal(r.err, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_denied),
        cmocka_unit_test(test_no_pools_warns),
        cmocka_unit_test(test_api_list),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_server_400_is_denied),
        cmocka_unit_test(test_odd_names),
        cmocka_unit_test(test_runc),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_bad_manifests),
        cmocka_unit_test(test_bad_osimagestream),
        cmocka_unit_test(test_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the API source choice: --kubeconfig wins over $KUBECONFIG, which
 * wins over in-cluster; $KUBECONFIG lists merge and ignore empty entries;
 * empty values count as unset; and each source's failure comes back as a
 * one-line reason naming what was tried.
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

#include "testutil.h"

#include "cli/gencerts.h"
#include "cli/kubesel.h"

static char g_dir[64];
static char g_a[128], g_b[128], g_exec[128], g_sa[128], g_missing[128];

static void write_file(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    size_t len = strlen(data);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void kubeconfig(const char *path, const char *ctx, const char *server, const char *user)
{
    char text[1024];
    int n = snprintf(text, sizeof(text),
                     "current-context: %s\n"
                     "contexts:\n- name: %s\n  context: {cluster: k-%s, user: u-%s}\n"
                     "clusters:\n- name: k-%s\n  cluster: {server: \"%s\", "
                     "insecure-skip-tls-verify: true}\n"
                     "users:\n- name: u-%s\n  user: %s\n",
                     ctx, ctx, ctx, ctx, ctx, server, ctx, user);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    write_file(path, text);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/osw-kubesel-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    osw_test_pathf(g_a, sizeof(g_a), "%s/a.yaml", g_dir);
    osw_test_pathf(g_b, sizeof(g_b), "%s/b.yaml", g_dir);
    osw_test_pathf(g_exec, sizeof(g_exec), "%s/exec.yaml", g_dir);
    osw_test_pathf(g_sa, sizeof(g_sa), "%s/sa", g_dir);
    osw_test_pathf(g_missing, sizeof(g_missing), "%s/missing.yaml", g_dir);
    kubeconfig(g_a, "a", "https://a:1", "{token: ta}");
    kubeconfig(g_b, "b", "https://b:1", "{token: tb}");
    kubeconfig(g_exec, "e", "https://e:1", "{exec: {command: gke-gcloud-auth-plugin}}");
    /* A service account directory with a real CA. */
    const char *names[] = {"localhost"};
    struct osw_errbuf eb;
    assert_int_equal(osw_gencerts_write(g_sa, names, 1, false, &eb), OSW_OK);
    char tok[160];
    osw_test_pathf(tok, sizeof(tok), "%s/token", g_sa);
    write_file(tok, "sa-token\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(osw_test_rmtree(g_dir), 0);
    return 0;
}

/* Selects and returns the server (static copy), or fails the test. */
static const char *server_of(const char *flag, const char *env, const char *host, const char *port,
                             const char *sa)
{
    static char server[256];
    struct osw_kube_config c;
    struct osw_errbuf eb;
    if (osw_cli_kube_select(flag, env, host, port, sa, &c, &eb) != OSW_OK)
        fail_msg("select: %s", eb.msg);
    snprintf(server, sizeof(server), "%s", c.server);
    osw_kube_config_free(&c);
    return server;
}

static void test_precedence(void **state)
{
    (void)state;
    assert_string_equal(server_of(g_a, g_b, "10.0.0.1", "443", g_sa), "https://a:1");
    assert_string_equal(server_of(NULL, g_b, "10.0.0.1", "443", g_sa), "https://b:1");
    assert_string_equal(server_of("", g_b, "10.0.0.1", "443", g_sa), "https://b:1");
    assert_string_equal(server_of(NULL, NULL, "10.0.0.1", "443", g_sa), "https://10.0.0.1:443");
    assert_string_equal(server_of(NULL, "", "fd00::1", "6443", g_sa), "https://[fd00::1]:6443");
    assert_string_equal(server_of(NULL, ":::", "10.0.0.2", "443", g_sa), "https://10.0.0.2:443");
    struct osw_kube_config c;
    struct osw_errbuf eb;
    assert_int_equal(osw_cli_kube_select(NULL, NULL, "10.0.0.1", "443", g_sa, &c, &eb), OSW_OK);
    assert_string_equal(c.origin, "in-cluster");
    assert_non_null(strstr(c.token_file, "/sa/token"));
    assert_non_null(c.ca_pem);
    osw_kube_config_free(&c);
    assert_int_equal(osw_cli_kube_select(g_a, NULL, NULL, NULL, NULL, &c, &eb), OSW_OK);
    assert_string_equal(c.token, "ta");
    osw_kube_config_free(&c);
}

static void test_env_list(void **state)
{
    (void)state;
    char env[512];
    /* The first file's current-context wins; missing files are skipped. */
    osw_test_pathf(env, sizeof(env), "::%s:%s:%s:", g_missing, g_b, g_a);
    assert_string_equal(server_of(NULL, env, NULL, NULL, NULL), "https://b:1");
    osw_test_pathf(env, sizeof(env), "%s:%s:%s", g_a, g_a, g_b);
    assert_string_equal(server_of(NULL, env, NULL, NULL, NULL), "https://a:1");
    struct osw_kube_config c;
    struct osw_errbuf eb;
    /* One file in $KUBECONFIG that does not exist is an error. */
    assert_int_equal(osw_cli_kube_select(NULL, g_missing, "h", "1", g_sa, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, g_missing));
    assert_null(c.server);
}

static void test_failures_name_the_source(void **state)
{
    (void)state;
    struct osw_kube_config c;
    struct osw_errbuf eb;
    assert_int_equal(osw_cli_kube_select(g_missing, g_a, NULL, NULL, NULL, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "kubeconfig"));
    assert_non_null(strstr(eb.msg, g_missing));
    assert_int_equal(osw_cli_kube_select(g_exec, NULL, NULL, NULL, NULL, &c, &eb), OSW_EINVAL);
    assert_non_null(strstr(eb.msg, "exec credential plugin \"gke-gcloud-auth-plugin\""));
    assert_int_equal(osw_cli_kube_select(NULL, NULL, NULL, NULL, NULL, &c, &eb), OSW_EINVAL);
    assert_non_null(strstr(eb.msg, "not running in a cluster"));
    assert_int_equal(osw_cli_kube_select(NULL, "", "h", "", NULL, &c, &eb), OSW_EINVAL);
    /* The default service account directory is used when none is given;
     * here it does not exist (tests do not run in a pod). */
    struct stat st;
    if (stat(OSW_CLI_SA_DIR_DEFAULT, &st) != 0) {
        assert_int_equal(osw_cli_kube_select(NULL, NULL, "h", "443", NULL, &c, &eb), OSW_EIO);
        assert_non_null(strstr(eb.msg, OSW_CLI_SA_DIR_DEFAULT));
    }
    char sa2[160];
    osw_test_pathf(sa2, sizeof(sa2), "%s/nosa", g_dir);
    assert_int_equal(osw_cli_kube_select(NULL, NULL, "h", "443", sa2, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "in-cluster config"));
    assert_null(strchr(eb.msg, '\n'));
    assert_null(c.server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_env_list),
        cmocka_unit_test(test_failures_name_the_source),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

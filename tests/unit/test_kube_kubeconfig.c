/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the kubeconfig reader and the in-cluster configuration: every
 * field it takes (server, certificate-authority and -data, insecure skip,
 * token, tokenFile, client certificate and key as files and -data, relative
 * paths against the kubeconfig's directory, $KUBECONFIG-style merging) and
 * every refusal, each with the field named in its one-line reason. The PEM
 * material comes from gen-certs at set-up, written to a temporary directory.
 */
#include <fcntl.h>
#include <limits.h>
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
#include <openssl/evp.h>

#include "testutil.h"

#include "cli/gencerts.h"
#include "kube/kubeconfig.h"

static char g_dir[64];      /* the test's temporary directory */
static char *g_ca, *g_ca64; /* ca.crt, and its base64 */
static size_t g_ca_len;
static char *g_crt64, *g_key64, *g_key2_64; /* tls.crt, tls.key, another tls.key (base64) */
static char *g_crt, *g_key;
static size_t g_crt_len, g_key_len;

static char *b64(const char *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    return out;
}

static void write_file(const char *name, const char *data)
{
    char path[256];
    osw_test_pathf(path, sizeof(path), "%s/%s", g_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    size_t len = strlen(data);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/osw-kc-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    const char *names[] = {"localhost"};
    char sub[128], path[256];
    struct osw_errbuf eb;
    osw_test_pathf(sub, sizeof(sub), "%s/a", g_dir);
    assert_int_equal(osw_gencerts_write(sub, names, 1, false, &eb), OSW_OK);
    osw_test_pathf(sub, sizeof(sub), "%s/b", g_dir);
    assert_int_equal(osw_gencerts_write(sub, names, 1, false, &eb), OSW_OK);
    osw_test_pathf(path, sizeof(path), "%s/a/ca.crt", g_dir);
    g_ca = osw_test_slurp(path, &g_ca_len);
    g_ca64 = b64(g_ca, g_ca_len);
    osw_test_pathf(path, sizeof(path), "%s/a/tls.crt", g_dir);
    g_crt = osw_test_slurp(path, &g_crt_len);
    g_crt64 = b64(g_crt, g_crt_len);
    osw_test_pathf(path, sizeof(path), "%s/a/tls.key", g_dir);
    g_key = osw_test_slurp(path, &g_key_len);
    g_key64 = b64(g_key, g_key_len);
    size_t l2;
    osw_test_pathf(path, sizeof(path), "%s/b/tls.key", g_dir);
    char *k2 = osw_test_slurp(path, &l2);
    g_key2_64 = b64(k2, l2);
    free(k2);
    write_file("token", "file-token\n");
    write_file("empty-token", " \n");
    write_file("not-pem", "hello\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(g_ca);
    free(g_ca64);
    free(g_crt);
    free(g_crt64);
    free(g_key);
    free(g_key64);
    free(g_key2_64);
    assert_int_equal(osw_test_rmtree(g_dir), 0);
    return 0;
}

/* Writes `text` as g_dir/kubeconfig and loads it. */
static enum osw_err load_text(const char *text, struct osw_kube_config *out, struct osw_errbuf *eb)
{
    char path[256];
    write_file("kubeconfig", text);
    osw_test_pathf(path, sizeof(path), "%s/kubeconfig", g_dir);
    memset(out, 0, sizeof(*out));
    eb->msg[0] = '\0';
    return osw_kubeconfig_load(path, out, eb);
}

/* A kubeconfig with context "c" -> cluster "k" and user "u", their bodies
 * given as indented YAML lines. */
static char *kc(const char *cluster_body, const char *user_body)
{
    static char buf[16384];
    int n = snprintf(buf, sizeof(buf),
                     "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                     "contexts:\n- name: other\n  context: {cluster: none, user: none}\n"
                     "- name: c\n  context:\n    cluster: k\n    user: u\n"
                     "clusters:\n- name: k\n  cluster:\n%s"
                     "users:\n- name: u\n  user:\n%s",
                     cluster_body, user_body);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    return buf;
}

static char *line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *line(const char *fmt, ...)
{
    static char bufs[4][8192];
    static int next;
    char *b = bufs[next++ % 4];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof(bufs[0]), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(bufs[0]));
    return b;
}

/* Loads and expects failure `err` with `needle` in the message. */
static void expect_fail(const char *text, enum osw_err err, const char *needle)
{
    struct osw_kube_config c;
    struct osw_errbuf eb;
    enum osw_err got = load_text(text, &c, &eb);
    if (got != err || !strstr(eb.msg, needle))
        fail_msg("got %d \"%s\", want %d with \"%s\"", got, eb.msg, err, needle);
    assert_null(c.server);
    assert_null(strchr(eb.msg, '\n'));
}

static void test_token_and_ca_data(void **state)
{
    (void)state;
    struct osw_kube_config c;
    struct osw_errbuf eb;
    const char *text = kc(line("    server: https://127.0.0.1:6443/\n"
                               "    certificate-authority-data: %s\n",
                               g_ca64),
                          "    token: abc.def\n");
    assert_int_equal(load_text(text, &c, &eb), OSW_OK);
    assert_string_equal(c.server, "https://127.0.0.1:6443");
    assert_int_equal(c.ca_len, g_ca_len);
    assert_memory_equal(c.ca_pem, g_ca, g_ca_len);
    assert_false(c.insecure_skip_tls_verify);
    assert_string_equal(c.token, "abc.def");
    assert_null(c.token_file);
    assert_null(c.client_cert_pem);
    assert_null(c.client_key_pem);
    assert_non_null(strstr(c.origin, "/kubeconfig (context c)"));
    struct osw_kube_config d;
    assert_int_equal(osw_kube_config_copy(&d, &c), OSW_OK);
    assert_string_equal(d.server, c.server);
    assert_true(d.ca_pem != c.ca_pem);
    assert_memory_equal(d.ca_pem, g_ca, g_ca_len);
    assert_string_equal(d.token, "abc.def");
    osw_kube_config_free(&d);
    osw_kube_config_free(&c);
    assert_null(c.server);
    osw_kube_config_free(NULL);
}

static void test_ca_file_relative_and_absolute(void **state)
{
    (void)state;
    struct osw_kube_config c;
    struct osw_errbuf eb;
    /* Relative to the kubeconfig's directory, not to the working directory. */
    assert_int_equal(chdir("/"), 0);
    assert_int_equal(load_text(kc("    server: https://h:1\n"
                                  "    certificate-authority: a/ca.crt\n",
                                  ""),
                               &c, &eb),
                     OSW_OK);
    assert_memory_equal(c.ca_pem, g_ca, g_ca_len);
    assert_null(c.token);
    osw_kube_config_free(&c);
    assert_int_equal(load_text(kc(line("    server: https://h:1\n"
                                       "    certificate-authority: %s/a/ca.crt\n",
                                       g_dir),
                                  ""),
                               &c, &eb),
                     OSW_OK);
    assert_memory_equal(c.ca_pem, g_ca, g_ca_len);
    osw_kube_config_free(&c);
    /* -data wins over the file (client-go), even a missing one. */
    assert_int_equal(load_text(kc(line("    server: https://h:1\n"
                                       "    certificate-authority: missing.crt\n"
                                       "    certificate-authority-data: %s\n",
                                       g_ca64),
                                  ""),
                               &c, &eb),
                     OSW_OK);
    assert_memory_equal(c.ca_pem, g_ca, g_ca_len);
    osw_kube_config_free(&c);
    expect_fail(kc("    server: https://h:1\n    certificate-authority: missing.crt\n", ""),
                OSW_EIO, "certificate-authority");
    expect_fail(kc("    server: https://h:1\n    certificate-authority: not-pem\n", ""), OSW_EINVAL,
                "no PEM certificate");
    expect_fail(kc("    server: https://h:1\n    certificate-authority-data: aGVsbG8K\n", ""),
                OSW_EINVAL, "no PEM certificate");
    expect_fail(kc("    server: https://h:1\n    certificate-authority-data: '@@notbase64'\n", ""),
                OSW_EINVAL, "certificate-authority-data: not valid base64");
    expect_fail(kc("    server: https://h:1\n    certificate-authority: [a]\n", ""), OSW_EINVAL,
                "certificate-authority: not a string");
}

static void test_insecure(void **state)
{
    (void)state;
    struct osw_kube_config c;
    struct osw_errbuf eb;
    assert_int_equal(
        load_text(kc("    server: https://h:1\n    insecure-skip-tls-verify: true\n", ""), &c, &eb),
        OSW_OK);
    assert_true(c.insecure_skip_tls_verify);
    assert_null(c.ca_pem);
    osw_kube_config_free(&c);
    assert_int_equal(
        load_text(kc("    server: https://h:1\n    insecure-skip-tls-verify: false\n", ""), &c,
                  &eb),
        OSW_OK);
    assert_false(c.insecure_skip_tls_verify);
    osw_kube_config_free(&c);
    expect_fail(kc("    server: https://h:1\n    insecure-skip-tls-verify: \"yes\"\n", ""),
                OSW_EINVAL, "insecure-skip-tls-verify: not a boolean");
    expect_fail(kc(line("    server: https://h:1\n    insecure-skip-tls-verify: true\n"
                        "    certificate-authority-data: %s\n",
                        g_ca64),
                   ""),
                OSW_EINVAL, "insecure-skip-tls-verify is not allowed");
}

static void test_server_forms(void **state)
{
    (void)state;
    struct osw_kube_config c;
    struct osw_errbuf eb;
    assert_int_equal(load_text(kc("    server: api.example.com:6443\n", ""), &c, &eb), OSW_OK);
    assert_string_equal(c.server, "https://api.example.com:6443");
    osw_kube_config_free(&c);
    assert_int_equal(load_text(kc("    server: https://[::1]:6443/k8s/c1//\n", ""), &c, &eb),
                     OSW_OK);
    assert_string_equal(c.server, "https://[::1]:6443/k8s/c1");
    osw_kube_config_free(&c);
    assert_int_equal(load_text(kc("    server: http://127.0.0.1:8001\n", ""), &c, &eb), OSW_OK);
    assert_string_equal(c.server, "http://127.0.0.1:8001");
    osw_kube_config_free(&c);
    expect_fail(kc("    certificate-authority-data: ''\n", ""), OSW_EINVAL, "no server");
    expect_fail(kc("    server: ''\n", ""), OSW_EINVAL, "no server");
    expect_fail(kc("    server: ftp://h\n", ""), OSW_EINVAL, "not an http(s) URL");
    expect_fail(kc("    server: https://h:1/a?b=c\n", ""), OSW_EINVAL, "not a URL");
    expect_fail(kc("    server: \"https://h:1\\r\\nX: y\"\n", ""), OSW_EINVAL, "not a URL");
    expect_fail(kc("    server: https:///path\n", ""), OSW_EINVAL, "no host");
    expect_fail(kc("    server: 6443\n", ""), OSW_EINVAL, "server: not a string");
    expect_fail(kc("    server: https://h\n    tls-server-name: x\n", ""), OSW_EINVAL,
                "tls-server-name is not supported");
    expect_fail(kc("    server: https://h\n    proxy-url: http://p:3128\n", ""), OSW_EINVAL,
                "proxy-url is not supported");
}

static void test_token_file(void **state)
{
    (void)state;
    struct osw_kube_config c;
    struct osw_errbuf eb;
    assert_int_equal(load_text(kc("    server: https://h\n", "    tokenFile: token\n"), &c, &eb),
                     OSW_OK);
    assert_null(c.token);
    assert_string_equal(c.token_file, line("%s/token", g_dir));
    osw_kube_config_free(&c);
    /* Both: the token now, the file later (it need not be readable yet). */
    assert_int_equal(
        load_text(kc("    server: https://h\n", "    token: static\n    tokenFile: later\n"), &c,
                  &eb),
        OSW_OK);
    assert_string_equal(c.token, "static");
    assert_string_equal(c.token_file, line("%s/later", g_dir));
    osw_kube_config_free(&c);
    expect_fail(kc("    server: https://h\n", "    tokenFile: missing\n"), OSW_EIO, "token file");
    expect_fail(kc("    server: https://h\n", "    tokenFile: empty-token\n"), OSW_EINVAL,
                "empty or holds a control character");
    expect_fail(kc("    server: https://h\n", "    tokenFile: a\n"), OSW_EIO, "not a regular file");
    expect_fail(kc("    server: https://h\n", "    token: \"a\\nb\"\n"), OSW_EINVAL,
                "control character");
    expect_fail(kc("    server: https://h\n", "    token: 12345\n"), OSW_EINVAL,
                "token: not a string");
}

static void test_client_certificate(void **state)
{
    (void)state;
    struct osw_kube_config c;
    struct osw_errbuf eb;
    assert_int_equal(
        load_text(kc("    server: https://h\n", line("    client-certificate-data: %s\n"
                                                     "    client-key-data: %s\n",
                                                     g_crt64, g_key64)),
                  &c, &eb),
        OSW_OK);
    assert_int_equal(c.client_cert_len, g_crt_len);
    assert_memory_equal(c.client_cert_pem, g_crt, g_crt_len);
    assert_int_equal(c.client_key_len, g_key_len);
    assert_memory_equal(c.client_key_pem, g_key, g_key_len);
    osw_kube_config_free(&c);
    assert_int_equal(load_text(kc("    server: https://h\n", "    client-certificate: a/tls.crt\n"
                                                             "    client-key: a/tls.key\n"
                                                             "    token: t\n"),
                               &c, &eb),
                     OSW_OK);
    assert_memory_equal(c.client_cert_pem, g_crt, g_crt_len);
    assert_memory_equal(c.client_key_pem, g_key, g_key_len);
    assert_string_equal(c.token, "t");
    osw_kube_config_free(&c);
    expect_fail(kc("    server: https://h\n", "    client-certificate: a/tls.crt\n"), OSW_EINVAL,
                "client certificate without client key");
    expect_fail(kc("    server: https://h\n", "    client-key: a/tls.key\n"), OSW_EINVAL,
                "client key without client certificate");
    expect_fail(kc("    server: https://h\n", line("    client-certificate-data: %s\n"
                                                   "    client-key-data: %s\n",
                                                   g_crt64, g_key2_64)),
                OSW_EINVAL, "does not match");
    expect_fail(kc("    server: https://h\n", line("    client-certificate-data: %s\n"
                                                   "    client-certificate: a/tls.crt\n",
                                                   g_crt64)),
                OSW_EINVAL, "both client-certificate-data and client-certificate");
    expect_fail(kc("    server: https://h\n", "    client-certificate: not-pem\n"
                                              "    client-key: a/tls.key\n"),
                OSW_EINVAL, "not a PEM certificate");
    expect_fail(kc("    server: https://h\n", "    client-certificate: a/tls.crt\n"
                                              "    client-key: a/ca.crt\n"),
                OSW_EINVAL, "not an unencrypted PEM private key");
    expect_fail(kc("    server: https://h\n", "    client-certificate: a/tls.crt\n"
                                              "    client-key: a/missing.key\n"),
                OSW_EIO, "client-key");
}

static void test_unsupported_auth_named(void **state)
{
    (void)state;
    expect_fail(kc("    server: https://h\n", "    exec:\n      apiVersion: "
                                              "client.authentication.k8s.io/v1\n"
                                              "      command: aws-iam-authenticator\n"),
                OSW_EINVAL, "exec credential plugin \"aws-iam-authenticator\" is not supported");
    expect_fail(kc("    server: https://h\n", "    auth-provider:\n      name: oidc\n"), OSW_EINVAL,
                "auth-provider \"oidc\" is not supported");
    expect_fail(kc("    server: https://h\n", "    username: admin\n    password: x\n"), OSW_EINVAL,
                "username is not supported (basic authentication)");
    expect_fail(kc("    server: https://h\n", "    token: t\n    as: someone\n"), OSW_EINVAL,
                "as is not supported (impersonation)");
    /* Empty values are what kubectl writes by default: not an error. */
    struct osw_kube_config c;
    struct osw_errbuf eb;
    assert_int_equal(load_text(kc("    server: https://h\n", "    token: t\n    username: ''\n"
                                                             "    as-groups: []\n    exec: null\n"),
                               &c, &eb),
                     OSW_OK);
    osw_kube_config_free(&c);
}

static void test_context_resolution_errors(void **state)
{
    (void)state;
    expect_fail("apiVersion: v1\nkind: Config\n", OSW_EINVAL, "no current-context is set");
    expect_fail("", OSW_EINVAL, "no current-context is set");
    expect_fail("current-context: \"\"\n", OSW_EINVAL, "no current-context is set");
    expect_fail("current-context: x\n", OSW_EINVAL, "current-context \"x\" not found");
    expect_fail("current-context: 7\n", OSW_EINVAL, "current-context: not a string");
    expect_fail("current-context: x\ncontexts:\n- name: x\n", OSW_EINVAL,
                "current-context \"x\" not found");
    expect_fail("current-context: x\ncontexts:\n- name: x\n  context: {user: u}\n", OSW_EINVAL,
                "context \"x\": no cluster");
    expect_fail("current-context: x\ncontexts:\n- name: x\n  context: {cluster: k}\n", OSW_EINVAL,
                "cluster \"k\" not found");
    expect_fail("current-context: x\ncontexts:\n- name: x\n  context: {cluster: k, user: u}\n"
                "clusters:\n- name: k\n  cluster: {server: 'https://h'}\n",
                OSW_EINVAL, "user \"u\" not found");
    expect_fail("current-context: x\ncontexts: {x: 1}\n", OSW_EINVAL, "contexts: not a list");
    expect_fail("current-context: x\ncontexts:\n- 7\n", OSW_EINVAL, "contexts[0]: not a mapping");
    expect_fail("current-context: x\ncontexts:\n- context: {}\n", OSW_EINVAL,
                "contexts[0]: no name");
    expect_fail("current-context: x\ncontexts:\n- name: x\n  context: [1]\n", OSW_EINVAL,
                "context: not a mapping");
    expect_fail("current-context: x\ncontexts:\n- name: x\n  context: {cluster: k}\n"
                "- name: x\n  context: {cluster: k}\n",
                OSW_EINVAL, "\"x\" defined twice");
    expect_fail("- a\n- b\n", OSW_EINVAL, "not a mapping");
    expect_fail("a: [\n", OSW_EINVAL, "kubeconfig ");
    expect_fail("a: 1\n---\nb: 2\n", OSW_EINVAL, "more than one YAML document");
    /* A context without a user: no authentication at all. */
    struct osw_kube_config c;
    struct osw_errbuf eb;
    assert_int_equal(load_text("{\"current-context\": \"x\", \"contexts\": [{\"name\": \"x\", "
                               "\"context\": {\"cluster\": \"k\"}}], \"clusters\": [{\"name\": "
                               "\"k\", \"cluster\": {\"server\": \"https://h:1\"}}]}",
                               &c, &eb),
                     OSW_OK);
    assert_string_equal(c.server, "https://h:1");
    assert_null(c.token);
    assert_null(c.token_file);
    osw_kube_config_free(&c);
}

static void test_file_reading(void **state)
{
    (void)state;
    struct osw_kube_config c = {0};
    struct osw_errbuf eb;
    char path[256];
    osw_test_pathf(path, sizeof(path), "%s/missing", g_dir);
    assert_int_equal(osw_kubeconfig_load(path, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "No such file"));
    assert_non_null(strstr(eb.msg, path));
    osw_test_pathf(path, sizeof(path), "%s/a", g_dir);
    assert_int_equal(osw_kubeconfig_load(path, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "not a regular file"));
    /* A FIFO without a writer must be refused, not waited on. */
    osw_test_pathf(path, sizeof(path), "%s/fifo", g_dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(osw_kubeconfig_load(path, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "not a regular file"));
    /* Too big. */
    osw_test_pathf(path, sizeof(path), "%s/big", g_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)OSW_KUBECONFIG_MAX_BYTES + 1), 0);
    close(fd);
    assert_int_equal(osw_kubeconfig_load(path, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "larger than"));
    assert_null(c.server);
}

static void test_merge_list(void **state)
{
    (void)state;
    char p1[256], p2[256], p3[256], sub[256];
    osw_test_pathf(sub, sizeof(sub), "%s/m", g_dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    /* The first file sets the context and a user; the second the cluster,
     * with a CA relative to its own directory, and a losing context. */
    write_file("m1", "current-context: x\ncontexts:\n- name: x\n  context: {cluster: k, user: u}\n"
                     "users:\n- name: u\n  user: {token: first}\n");
    write_file("m/m2", "current-context: y\ncontexts:\n- name: x\n  context: {cluster: zz}\n"
                       "clusters:\n- name: k\n  cluster:\n    server: https://merged:1\n"
                       "    certificate-authority: ../a/ca.crt\n"
                       "users:\n- name: u\n  user: {token: second}\n");
    osw_test_pathf(p1, sizeof(p1), "%s/m1", g_dir);
    osw_test_pathf(p2, sizeof(p2), "%s/m/m2", g_dir);
    osw_test_pathf(p3, sizeof(p3), "%s/m/none", g_dir);
    const char *paths[] = {p1, p3, p2};
    struct osw_kube_config c;
    struct osw_errbuf eb;
    assert_int_equal(osw_kubeconfig_load_list(paths, 3, &c, &eb), OSW_OK);
    assert_string_equal(c.server, "https://merged:1");
    assert_string_equal(c.token, "first");
    assert_memory_equal(c.ca_pem, g_ca, g_ca_len);
    osw_kube_config_free(&c);
    const char *none[] = {p3, p3};
    assert_int_equal(osw_kubeconfig_load_list(none, 2, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "none of the 2 files exists"));
    /* A single missing file is an error, not skipped. */
    assert_int_equal(osw_kubeconfig_load_list(none, 1, &c, &eb), OSW_EIO);
    /* An unreadable one in a list is an error too. */
    const char *bad[] = {p1, sub};
    assert_int_equal(osw_kubeconfig_load_list(bad, 2, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "not a regular file"));
}

static void test_parse_bytes(void **state)
{
    (void)state;
    struct osw_kube_config c = {0};
    struct osw_errbuf eb;
    const char *text = kc(line("    server: https://h:2\n    certificate-authority: a/ca.crt\n"),
                          "    token: t\n");
    assert_int_equal(osw_kubeconfig_parse(text, strlen(text), "mem", g_dir, &c, &eb), OSW_OK);
    assert_string_equal(c.origin, "kubeconfig mem (context c)");
    assert_memory_equal(c.ca_pem, g_ca, g_ca_len);
    osw_kube_config_free(&c);
}

static void test_incluster(void **state)
{
    (void)state;
    struct osw_kube_config c = {0};
    struct osw_errbuf eb;
    char sa[256];
    osw_test_pathf(sa, sizeof(sa), "%s/sa", g_dir);
    assert_int_equal(mkdir(sa, 0700), 0);
    assert_int_equal(osw_kube_config_incluster("10.0.0.1", "443", sa, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "ca.crt"));
    write_file("sa/ca.crt", "not pem");
    assert_int_equal(osw_kube_config_incluster("10.0.0.1", "443", sa, &c, &eb), OSW_EINVAL);
    assert_non_null(strstr(eb.msg, "no PEM certificate"));
    write_file("sa/ca.crt", g_ca);
    assert_int_equal(osw_kube_config_incluster("10.0.0.1", "443", sa, &c, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "/sa/token"));
    write_file("sa/token", "\n");
    assert_int_equal(osw_kube_config_incluster("10.0.0.1", "443", sa, &c, &eb), OSW_EINVAL);
    write_file("sa/token", "sa-token");
    assert_int_equal(osw_kube_config_incluster("10.0.0.1", "443", sa, &c, &eb), OSW_OK);
    assert_string_equal(c.server, "https://10.0.0.1:443");
    assert_string_equal(c.token_file, line("%s/token", sa));
    assert_null(c.token);
    assert_memory_equal(c.ca_pem, g_ca, g_ca_len);
    assert_string_equal(c.origin, "in-cluster");
    assert_false(c.insecure_skip_tls_verify);
    osw_kube_config_free(&c);
    assert_int_equal(osw_kube_config_incluster("fd00::1", "6443", sa, &c, &eb), OSW_OK);
    assert_string_equal(c.server, "https://[fd00::1]:6443");
    osw_kube_config_free(&c);
    assert_int_equal(osw_kube_config_incluster(NULL, "443", sa, &c, &eb), OSW_EINVAL);
    assert_non_null(strstr(eb.msg, "not running in a cluster"));
    assert_int_equal(osw_kube_config_incluster("h", "", sa, &c, &eb), OSW_EINVAL);
    assert_int_equal(osw_kube_config_incluster("h", "0", sa, &c, &eb), OSW_EINVAL);
    assert_non_null(strstr(eb.msg, "is not a port"));
    assert_int_equal(osw_kube_config_incluster("h", "65536", sa, &c, &eb), OSW_EINVAL);
    assert_int_equal(osw_kube_config_incluster("h", "44x", sa, &c, &eb), OSW_EINVAL);
    assert_int_equal(osw_kube_config_incluster("h", "+443", sa, &c, &eb), OSW_EINVAL);
    assert_int_equal(osw_kube_config_incluster("h/x", "443", sa, &c, &eb), OSW_EINVAL);
    assert_non_null(strstr(eb.msg, "is not a host"));
    assert_null(c.server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_and_ca_data),
        cmocka_unit_test(test_ca_file_relative_and_absolute),
        cmocka_unit_test(test_insecure),
        cmocka_unit_test(test_server_forms),
        cmocka_unit_test(test_token_file),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_unsupported_auth_named),
        cmocka_unit_test(test_context_resolution_errors),
        cmocka_unit_test(test_file_reading),
        cmocka_unit_test(test_merge_list),
        cmocka_unit_test(test_parse_bytes),
        cmocka_unit_test(test_incluster),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the credential helpers: the bounded regular-file reader (FIFOs,
 * directories and oversized files refused without blocking), token
 * trimming and its refusal of control characters, base64 through OpenSSL,
 * and the PEM checks (certificate count, certificate and key that match).
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
#include "kube/credential.h"

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/osw-cred-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(osw_test_rmtree(g_dir), 0);
    return 0;
}

static void write_file(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    size_t len = strlen(data);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[128];
    char *data = NULL;
    size_t len = 0;
    struct osw_errbuf eb;
    osw_test_pathf(path, sizeof(path), "%s/token", g_dir);
    write_file(path, "file-token\n");
    assert_int_equal(osw_credential_read_file(path, 64, &data, &len, &eb), OSW_OK);
    assert_int_equal(len, strlen("file-token\n"));
    assert_string_equal(data, "file-token\n");
    free(data);
    assert_int_equal(osw_credential_read_file(path, 4, &data, &len, &eb), OSW_ETOOBIG);
    assert_null(data);
    assert_non_null(strstr(eb.msg, "larger than 4 bytes"));
    osw_test_pathf(path, sizeof(path), "%s/empty", g_dir);
    write_file(path, "");
    assert_int_equal(osw_credential_read_file(path, 4, &data, &len, &eb), OSW_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
    assert_int_equal(osw_credential_read_file(g_dir, 64, &data, &len, &eb), OSW_EIO);
    assert_string_equal(eb.msg, "not a regular file");
    osw_test_pathf(path, sizeof(path), "%s/fifo", g_dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(osw_credential_read_file(path, 64, &data, &len, &eb), OSW_EIO);
    assert_string_equal(eb.msg, "not a regular file");
    assert_int_equal(osw_credential_read_file("/dev/zero", 64, &data, &len, &eb), OSW_EIO);
    osw_test_pathf(path, sizeof(path), "%s/missing", g_dir);
    assert_int_equal(osw_credential_read_file(path, 64, &data, &len, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "No such file"));
    assert_null(data);
}

static void test_token_clean(void **state)
{
    (void)state;
    char a[] = "  \tabc.def\r\n";
    size_t len = strlen(a);
    assert_true(osw_credential_token_clean(a, &len));
    assert_int_equal(len, 7);
    assert_string_equal(a, "abc.def");
    char b[] = "a\x01"
               "b";
    len = strlen(b);
    assert_false(osw_credential_token_clean(b, &len));
    char d[] = "a\x7f";
    len = strlen(d);
    assert_false(osw_credential_token_clean(d, &len));
    char e[] = "\n\n";
    len = strlen(e);
    assert_false(osw_credential_token_clean(e, &len));
    assert_int_equal(len, 0);
    char f[] = "a b";
    len = strlen(f);
    assert_true(osw_credential_token_clean(f, &len));
}

static void test_b64(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(osw_credential_b64_decode("aGVsbG8=", 8, &out, &len), OSW_OK);
    assert_int_equal(len, 5);
    assert_string_equal(out, "hello");
    free(out);
    /* Line breaks, as in PEM-style wrapped base64, are fine. */
    const char *wrapped = "aGVs\nbG8g\r\nd29y bGQ=\n";
    assert_int_equal(osw_credential_b64_decode(wrapped, strlen(wrapped), &out, &len), OSW_OK);
    assert_string_equal(out, "hello world");
    free(out);
    assert_int_equal(osw_credential_b64_decode("", 0, &out, &len), OSW_OK);
    assert_int_equal(len, 0);
    free(out);
    assert_int_equal(osw_credential_b64_decode("@@@@", 4, &out, &len), OSW_EINVAL);
    assert_null(out);
    assert_int_equal(osw_credential_b64_decode("aGVsbG8", 7, &out, &len), OSW_EINVAL);
    assert_int_equal(osw_credential_b64_decode("aGVsbG8=aGVs", 12, &out, &len), OSW_EINVAL);
}

static void test_pem(void **state)
{
    (void)state;
    char sub[128], path[160];
    const char *names[] = {"localhost"};
    struct osw_errbuf eb;
    size_t ca_len, crt_len, key_len, key2_len;
    osw_test_pathf(sub, sizeof(sub), "%s/a", g_dir);
    assert_int_equal(osw_gencerts_write(sub, names, 1, false, &eb), OSW_OK);
    osw_test_pathf(path, sizeof(path), "%s/ca.crt", sub);
    char *ca = osw_test_slurp(path, &ca_len);
    osw_test_pathf(path, sizeof(path), "%s/tls.crt", sub);
    char *crt = osw_test_slurp(path, &crt_len);
    osw_test_pathf(path, sizeof(path), "%s/tls.key", sub);
    char *key = osw_test_slurp(path, &key_len);
    osw_test_pathf(sub, sizeof(sub), "%s/b", g_dir);
    assert_int_equal(osw_gencerts_write(sub, names, 1, false, &eb), OSW_OK);
    osw_test_pathf(path, sizeof(path), "%s/tls.key", sub);
    char *key2 = osw_test_slurp(path, &key2_len);

    assert_int_equal(osw_credential_pem_certs(ca, ca_len), 1);
    char both[8192];
    int n = snprintf(both, sizeof(both), "%s%s", ca, crt);
    assert_true(n > 0 && (size_t)n < sizeof(both));
    assert_int_equal(osw_credential_pem_certs(both, (size_t)n), 2);
    assert_int_equal(osw_credential_pem_certs("junk", 4), 0);
    assert_int_equal(osw_credential_pem_certs(key, key_len), 0);

    assert_int_equal(osw_credential_check_pair(crt, crt_len, key, key_len, "u", &eb), OSW_OK);
    assert_int_equal(osw_credential_check_pair(crt, crt_len, key2, key2_len, "u", &eb), OSW_EINVAL);
    assert_string_equal(eb.msg, "u: client key does not match the client certificate");
    assert_int_equal(osw_credential_check_pair(key, key_len, key, key_len, "u", &eb), OSW_EINVAL);
    assert_string_equal(eb.msg, "u: client certificate is not a PEM certificate");
    assert_int_equal(osw_credential_check_pair(crt, crt_len, crt, crt_len, "u", &eb), OSW_EINVAL);
    assert_string_equal(eb.msg, "u: client key is not an unencrypted PEM private key");
    free(ca);
    free(crt);
    free(key);
    free(key2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_token_clean),
        cmocka_unit_test(test_b64),
        cmocka_unit_test(test_pem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of `gen-certs` (src/cli/cmd_gencerts.c): the files it writes are
 * read back with OpenSSL and checked as a TLS client would (chain, names, CA
 * and key usage flags, lifetimes), existing files are shown to stay untouched
 * byte for byte, and the written pair is loaded by the certificate store so
 * the serving side accepts what the command makes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli/commands.h"
#include "cli/gencerts.h"
#include "tls/certstore.h"

struct fx {
    char dir[64];
    char out[128]; /* where gen-certs writes: a not yet existing subdirectory */
    char path[3][192];
};

static const char *const fnames[3] = {"ca.crt", "tls.crt", "tls.key"};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    memcpy(f->dir, "/tmp/osw-gencerts-XXXXXX", sizeof("/tmp/osw-gencerts-XXXXXX"));
    assert_non_null(mkdtemp(f->dir));
    osw_test_pathf(f->out, sizeof(f->out), "%s/certs", f->dir);
    for (int i = 0; i < 3; i++)
        osw_test_pathf(f->path[i], sizeof(f->path[i]), "%s/%s", f->out, fnames[i]);
    umask(022);
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

static X509 *load_cert(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(x);
    return x;
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    EVP_PKEY *k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(k);
    return k;
}

static size_t count_entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static enum osw_err gen(const struct fx *f, bool force, struct osw_errbuf *eb)
{
    const char *names[] = {"localhost", "osstream-webhook.openshift-machine-config.svc"};
    return osw_gencerts_write(f->out, names, 2, force, eb);
}

/* ---- what is written ----------------------------------------------------- */

static void test_files_and_modes(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb = {{0}};
    assert_int_equal(gen(f, false, &eb), OSW_OK);
    struct stat st;
    assert_int_equal(stat(f->out, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(stat(f->path[0], &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(stat(f->path[1], &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(stat(f->path[2], &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(count_entries(f->out), 3); /* no temporary files left */
}

static void test_nested_dir_created(void **state)
{
    struct fx *f = *state;
    osw_test_pathf(f->out, sizeof(f->out), "%s/a/b/c/", f->dir);
    const char *names[] = {"localhost"};
    struct osw_errbuf eb = {{0}};
    assert_int_equal(osw_gencerts_write(f->out, names, 1, false, &eb), OSW_OK);
    char p[256];
    osw_test_pathf(p, sizeof(p), "%s/a/b/c/tls.key", f->dir);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
}

static void test_chain_verifies(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb = {{0}};
    assert_int_equal(gen(f, false, &eb), OSW_OK);
    X509 *ca = load_cert(f->path[0]), *leaf = load_cert(f->path[1]);
    X509_STORE *store = X509_STORE_new();
    assert_int_equal(X509_STORE_add_cert(store, ca), 1);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    assert_int_equal(X509_VERIFY_PARAM_set1_host(vp, "localhost", 0), 1);
    assert_int_equal(X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER), 1);
    int ok = X509_verify_cert(ctx);
    if (ok != 1)
        fail_msg("verify: %s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    /* The leaf's key is the one in tls.key. */
    EVP_PKEY *key = load_key(f->path[2]);
    assert_int_equal(X509_check_private_key(leaf, key), 1);
    assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    assert_int_equal(EVP_PKEY_get_bits(key), 256);
    EVP_PKEY_free(key);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(ca);
    X509_free(leaf);
}

static void test_names_and_flags(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb = {{0}};
    assert_int_equal(gen(f, false, &eb), OSW_OK);
    X509 *ca = load_cert(f->path[0]), *leaf = load_cert(f->path[1]);
    /* SANs: each DNS name, 127.0.0.1 and ::1, nothing else. */
    assert_int_equal(X509_check_host(leaf, "localhost", 0, 0, NULL), 1);
    assert_int_equal(
        X509_check_host(leaf, "osstream-webhook.openshift-machine-config.svc", 0, 0, NULL), 1);
    assert_int_equal(
        X509_check_host(leaf, "example.com", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), 0);
    assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "::1", 0), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.2", 0), 0);
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    assert_non_null(gens);
    assert_int_equal(sk_GENERAL_NAME_num(gens), 4);
    GENERAL_NAMES_free(gens);
    /* CN = the first name. */
    char cn[128];
    assert_true(
        X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn)) > 0);
    assert_string_equal(cn, "localhost");
    /* CA: CA:TRUE (critical), keyCertSign + cRLSign. */
    assert_int_equal(X509_check_ca(ca), 1);
    int crit = 0;
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(ca, NID_basic_constraints, &crit, NULL);
    assert_non_null(bc);
    assert_true(bc->ca);
    assert_int_equal(crit, 1);
    BASIC_CONSTRAINTS_free(bc);
    assert_true((X509_get_key_usage(ca) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) ==
                (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    /* Leaf: not a CA, digitalSignature, serverAuth, AKI = CA's SKI. */
    assert_int_equal(X509_check_ca(leaf), 0);
    assert_true(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE);
    assert_false(X509_get_key_usage(leaf) & KU_KEY_CERT_SIGN);
    assert_true(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(leaf);
    assert_non_null(ski);
    assert_non_null(aki);
    assert_int_equal(ASN1_OCTET_STRING_cmp(ski, aki), 0);
    assert_non_null(X509_get0_subject_key_id(leaf));
    X509_free(ca);
    X509_free(leaf);
}

static long days_left(X509 *x)
{
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)), 1);
    return days;
}

static void test_lifetimes_and_serials(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb = {{0}};
    assert_int_equal(gen(f, false, &eb), OSW_OK);
    X509 *ca = load_cert(f->path[0]), *leaf = load_cert(f->path[1]);
    assert_true(days_left(leaf) >= 364 && days_left(leaf) <= 366);
    assert_true(days_left(ca) >= 3649 && days_left(ca) <= 3651);
    /* notBefore is in the past (clock skew). */
    assert_true(X509_cmp_current_time(X509_get0_notBefore(leaf)) < 0);
    assert_true(X509_cmp_current_time(X509_get0_notBefore(ca)) < 0);
    BIGNUM *s1 = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ca), NULL);
    BIGNUM *s2 = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    assert_true(BN_num_bits(s1) > 120 && BN_num_bits(s1) <= 128 && !BN_is_negative(s1));
    assert_true(BN_num_bits(s2) > 120 && BN_num_bits(s2) <= 128 && !BN_is_negative(s2));
    assert_int_not_equal(BN_cmp(s1, s2), 0);
    BN_free(s1);
    BN_free(s2);
    X509_free(ca);
    X509_free(leaf);
}

/* The written pair is what the serving side loads. */
static void test_certstore_loads_it(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb = {{0}};
    assert_int_equal(gen(f, false, &eb), OSW_OK);
    struct osw_certstore *st = NULL;
    assert_int_equal(osw_certstore_new(f->path[1], f->path[2], NULL, NULL, &st, &eb), OSW_OK);
    struct osw_certpair *p = osw_certstore_acquire(st);
    double now = (double)time(NULL);
    assert_true(osw_certpair_not_after(p) > now + 364 * 86400.0);
    assert_true(osw_certpair_not_after(p) < now + 366 * 86400.0);
    osw_certpair_unref(p);
    osw_certstore_free(st);
    /* And its key does not match the CA certificate. */
    assert_int_equal(osw_certstore_new(f->path[0], f->path[2], NULL, NULL, &st, &eb), OSW_ETLS);
    assert_non_null(strstr(eb.msg, "does not match"));
}

/* ---- never overwrite ----------------------------------------------------- */

static void test_refuses_each_existing_file(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 3; i++) {
        osw_test_pathf(f->out, sizeof(f->out), "%s/d%d", f->dir, i);
        char p[256];
        osw_test_pathf(p, sizeof(p), "%s/%s", f->out, fnames[i]);
        assert_int_equal(mkdir(f->out, 0700), 0);
        FILE *fp = fopen(p, "w");
        assert_non_null(fp);
        fputs("precious\n", fp);
        fclose(fp);
        struct osw_errbuf eb = {{0}};
        assert_int_equal(gen(f, false, &eb), OSW_EEXISTS);
        assert_non_null(strstr(eb.msg, p));
        assert_null(strchr(eb.msg, '\n'));
        assert_int_equal(count_entries(f->out), 1); /* nothing added */
        size_t len;
        char *b = osw_test_slurp(p, &len);
        assert_string_equal(b, "precious\n");
        free(b);
        struct stat st;
        assert_int_equal(stat(f->out, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700); /* not even chmod'ed */
    }
}

static void test_second_run_refused_force_replaces(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb = {{0}};
    assert_int_equal(gen(f, false, &eb), OSW_OK);
    char *before[3];
    size_t blen[3];
    for (int i = 0; i < 3; i++)
        before[i] = osw_test_slurp(f->path[i], &blen[i]);
    assert_int_equal(gen(f, false, &eb), OSW_EEXISTS);
    assert_non_null(strstr(eb.msg, "ca.crt"));
    for (int i = 0; i < 3; i++) {
        size_t len;
        char *now = osw_test_slurp(f->path[i], &len);
        assert_true(len == blen[i] && memcmp(now, before[i], len) == 0);
        free(now);
    }
    assert_int_equal(gen(f, true, &eb), OSW_OK);
    for (int i = 0; i < 3; i++) {
        size_t len;
        char *now = osw_test_slurp(f->path[i], &len);
        assert_false(len == blen[i] && memcmp(now, before[i], len) == 0);
        free(now);
        free(before[i]);
    }
    struct stat st;
    assert_int_equal(stat(f->path[2], &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(count_entries(f->out), 3);
}

static void test_bad_arguments(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb = {{0}};
    /* RFC 1123: labels of 1 to 63 letters, digits and '-', not at either
     * end of a label; 253 characters in all. */
    char label64[80], long254[300];
    memset(label64, 'a', 64);
    memcpy(label64 + 64, ".example", 9);
    for (size_t i = 0; i < 253; i += 2)
        memcpy(long254 + i, "a.", 2);
    memcpy(long254 + 252, "ab", 3); /* 254 characters */
    const char *bad[] = {"",    "a,DNS:evil.example", "with space", "-lead", "trail.",
                         "x/y", "a*.example",         "a..b",       "a-.b",  "a.-b",
                         "*.",  "1.2.3.4.5:80",       "[::1]",      label64, long254};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *names[] = {"localhost", bad[i]};
        eb.msg[0] = '\0';
        assert_int_equal(osw_gencerts_write(f->out, names, 2, false, &eb), OSW_EINVAL);
        /* The message says what is allowed. */
        assert_non_null(strstr(eb.msg, "1 to 63 characters"));
    }
    const char *ok[] = {"*.example.com"};
    assert_int_equal(osw_gencerts_write(f->out, ok, 0, false, &eb), OSW_EINVAL);
    assert_int_equal(osw_gencerts_write("", ok, 1, false, &eb), OSW_EINVAL);
    assert_int_equal(access(f->out, F_OK), -1); /* nothing created */
    /* The directory is a file. */
    char file[200];
    osw_test_pathf(file, sizeof(file), "%s/file", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(osw_gencerts_write(file, ok, 1, false, &eb), OSW_EIO);
    assert_int_equal(osw_gencerts_write(f->out, ok, 1, false, &eb), OSW_OK);
    label64[1] = '.'; /* labels of 1 and 62 characters */
    long254[253] = '\0';
    const char *good[] = {"localhost", label64, long254, "a-b.c-d", "UPPER.example"};
    assert_int_equal(osw_gencerts_write(f->out, good, 5, true, &eb), OSW_OK);
    assert_int_equal(osw_gencerts_write(f->out, good, 5, true, &eb), OSW_OK);
}

/* Two runs at once into one directory: exactly one wins and the files are
 * one consistent set (link(2) refuses what the other run placed first, and
 * the loser takes back what it had placed). */
struct racer {
    const char *dir;
    enum osw_err rc;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    const char *names[] = {"localhost"};
    struct osw_errbuf eb = {{0}};
    r->rc = osw_gencerts_write(r->dir, names, 1, false, &eb);
    return NULL;
}

static void test_concurrent_runs_one_wins(void **state)
{
    struct fx *f = *state;
    for (int round = 0; round < 20; round++) {
        osw_test_pathf(f->out, sizeof(f->out), "%s/race%d", f->dir, round);
        assert_int_equal(mkdir(f->out, 0755), 0);
        struct racer r[2] = {{f->out, OSW_OK}, {f->out, OSW_OK}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, racer_main, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        assert_int_equal((r[0].rc == OSW_OK) + (r[1].rc == OSW_OK), 1);
        assert_true(r[0].rc == OSW_EEXISTS || r[1].rc == OSW_EEXISTS);
        assert_int_equal(count_entries(f->out), 3);
        char p[3][200];
        for (int i = 0; i < 3; i++)
            osw_test_pathf(p[i], sizeof(p[i]), "%s/%s", f->out, fnames[i]);
        X509 *ca = load_cert(p[0]), *leaf = load_cert(p[1]);
        EVP_PKEY *key = load_key(p[2]);
        EVP_PKEY *ca_pub = X509_get0_pubkey(ca);
        assert_int_equal(X509_verify(leaf, ca_pub), 1);
        assert_int_equal(X509_check_private_key(leaf, key), 1);
        EVP_PKEY_free(key);
        X509_free(ca);
        X509_free(leaf);
    }
}

/* ---- the command --------------------------------------------------------- */

/* Runs the command (arguments up to a NULL) with stdout and stderr captured
 * into files. */
static int run(const struct fx *f, char **out, char **err, ...)
{
    char *argv[16];
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    argv[0] = (char *)"gen-certs";
    while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
        argc++;
    va_end(ap);
    argv[argc] = NULL;
    char po[200], pe[200];
    osw_test_pathf(po, sizeof(po), "%s/stdout", f->dir);
    osw_test_pathf(pe, sizeof(pe), "%s/stderr", f->dir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    int code = osw_cmd_gencerts(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    close(fo);
    close(fe);
    size_t len;
    *out = osw_test_slurp(po, &len);
    *err = osw_test_slurp(pe, &len);
    return code;
}

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* IP literals become IP SANs (given as --dns-name or --ip-address); the
 * loopback addresses are there once, however they are spelled. */
static void test_ip_sans(void **state)
{
    struct fx *f = *state;
    struct osw_errbuf eb = {{0}};
    const char *names[] = {"192.0.2.10", "svc.example", "2001:db8::7", "0:0::1"};
    assert_int_equal(osw_gencerts_write(f->out, names, 4, false, &eb), OSW_OK);
    X509 *leaf = load_cert(f->path[1]);
    assert_int_equal(X509_check_ip_asc(leaf, "192.0.2.10", 0), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "2001:db8::7", 0), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "::1", 0), 1);
    /* An IP is not a DNS name. */
    assert_int_equal(
        X509_check_host(leaf, "192.0.2.10", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), 0);
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    assert_non_null(gens);
    int dns = 0, ip = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        dns += g->type == GEN_DNS;
        ip += g->type == GEN_IPADD;
    }
    assert_int_equal(dns, 1);
    assert_int_equal(ip, 4); /* 192.0.2.10, 2001:db8::7, ::1, 127.0.0.1 */
    GENERAL_NAMES_free(gens);
    char cn[128];
    assert_true(
        X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn)) > 0);
    assert_string_equal(cn, "svc.example"); /* the first DNS name, not an address */
    X509_free(leaf);
}

static void test_command(void **state)
{
    struct fx *f = *state;
    char *out, *err;
    assert_int_equal(run(f, &out, &err, "--dns-name", "localhost", NULL), 2);
    assert_non_null(strstr(err, "--dir"));
    assert_int_equal(lines(err), 1);
    assert_string_equal(out, "");
    free(out);
    free(err);
    assert_int_equal(run(f, &out, &err, "--dir", f->out, NULL), 2);
    assert_non_null(strstr(err, "--dns-name"));
    assert_int_equal(lines(err), 1);
    free(out);
    free(err);
    assert_int_equal(run(f, &out, &err, "--dir", f->out, "--bogus", "x", NULL), 2);
    free(out);
    free(err);
    assert_int_equal(run(f, &out, &err, "--dir", f->out, "--dns-name", "bad name", NULL), 2);
    assert_int_equal(lines(err), 1);
    free(out);
    free(err);
    assert_int_equal(access(f->out, F_OK), -1);

    assert_int_equal(run(f, &out, &err, "--dir", f->out, "--ip-address", "localhost", NULL), 2);
    assert_non_null(strstr(err, "--ip-address \"localhost\" is not an IPv4 or IPv6 address"));
    assert_int_equal(lines(err), 1);
    free(out);
    free(err);
    assert_int_equal(access(f->out, F_OK), -1);

    assert_int_equal(run(f, &out, &err, "--help", NULL), 0);
    assert_non_null(strstr(out, "--dir"));
    assert_non_null(strstr(out, "--dns-name"));
    assert_non_null(strstr(out, "--ip-address"));
    assert_non_null(strstr(out, "--force"));
    assert_non_null(strstr(out, "discarded"));
    assert_non_null(strstr(out, "365 days"));
    assert_non_null(strstr(out, "not for a cluster"));
    assert_non_null(strstr(out, "Exit status:"));
    free(out);
    free(err);

    /* Only an address is fine too. */
    assert_int_equal(run(f, &out, &err, "--dir", f->out, "--ip-address", "192.0.2.1", NULL), 0);
    assert_non_null(strstr(out, "(IP: 192.0.2.1, IP: 127.0.0.1, IP: ::1)\n"));
    free(out);
    free(err);
    assert_int_equal(unlink(f->path[0]) | unlink(f->path[1]) | unlink(f->path[2]), 0);
    /* A loopback address given is listed once. */
    assert_int_equal(run(f, &out, &err, "--dir", f->out, "--dns-name", "::1", NULL), 0);
    assert_non_null(strstr(out, "(IP: ::1, IP: 127.0.0.1)\n"));
    free(out);
    free(err);
    assert_int_equal(unlink(f->path[0]) | unlink(f->path[1]) | unlink(f->path[2]), 0);

    assert_int_equal(run(f, &out, &err, "--dir", f->out, "--dns-name", "localhost",
                         "--dns-name=svc.example", NULL),
                     0);
    assert_int_equal(lines(out), 1);
    assert_non_null(strstr(out, "tls.key"));
    assert_non_null(strstr(out, "DNS: svc.example"));
    assert_non_null(strstr(out, "127.0.0.1"));
    assert_string_equal(err, "");
    free(out);
    free(err);
    X509 *leaf = load_cert(f->path[1]);
    assert_int_equal(X509_check_host(leaf, "svc.example", 0, 0, NULL), 1);
    X509_free(leaf);

    assert_int_equal(run(f, &out, &err, "--dir", f->out, "--dns-name", "localhost", NULL), 1);
    assert_int_equal(lines(err), 1);
    assert_non_null(strstr(err, "already exists"));
    assert_string_equal(out, "");
    free(out);
    free(err);
    assert_int_equal(
        run(f, &out, &err, "--dir", f->out, "--dns-name", "localhost", "--force", NULL), 0);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_files_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_dir_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifetimes_and_serials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certstore_loads_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_each_existing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_run_refused_force_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_runs_one_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_sans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the serving certificate store (src/tls/certstore.c). Each
 * test makes real key pairs (gen-certs' ECDSA pairs, and self-signed RSA or
 * ECDSA ones with a chosen lifetime) in a fresh temporary directory, then
 * drives osw_certstore_check() directly with a fake clock, so reloads, the
 * settle period for half-written updates and refusals are tested without
 * sleeping. The priority strings are checked by asking GnuTLS which suites
 * they enable.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cli/gencerts.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "osw/buf.h"
#include "tls/certstore.h"
#include "tls/priorities.h"
#include "tls/certstore_clock.h"

#define DAY 86400.0

struct fx {
    char dir[64];
    char cert[256]; /* the paths the store watches */
    char key[256];
    char logpath[256];
    struct osw_log log;
    struct osw_metrics *m;
    long long now; /* the fake clock, ms */
};

static long long fake_clock(void *ctx)
{
    return *(const long long *)ctx;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    memcpy(f->dir, "/tmp/osw-certstore-XXXXXX", sizeof("/tmp/osw-certstore-XXXXXX"));
    assert_non_null(mkdtemp(f->dir));
    osw_test_pathf(f->cert, sizeof(f->cert), "%s/tls.crt", f->dir);
    osw_test_pathf(f->key, sizeof(f->key), "%s/tls.key", f->dir);
    osw_test_pathf(f->logpath, sizeof(f->logpath), "%s/log.txt", f->dir);
    int fd = open(f->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0600);
    assert_true(fd >= 0);
    osw_log_init(&f->log, OSW_LOG_DEBUG, OSW_LOG_TEXT, fd);
    f->m = osw_metrics_new();
    assert_non_null(f->m);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    close(f->log.fd);
    osw_metrics_free(f->m);
    osw_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* ---- files ------------------------------------------------------------- */

static void write_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

/* In place: the same inode, truncated and rewritten. */
static void copy_in_place(const char *src, const char *dst)
{
    size_t len;
    char *buf = osw_test_slurp(src, &len);
    write_bytes(dst, buf, len);
    free(buf);
}

/* Written beside and renamed over. */
static void copy_rename(const char *src, const char *dst)
{
    char tmp[300];
    osw_test_pathf(tmp, sizeof(tmp), "%s.new", dst);
    copy_in_place(src, tmp);
    assert_int_equal(rename(tmp, dst), 0);
}

static size_t count_in_file(const char *path, const char *needle)
{
    size_t len, n = 0;
    char *buf = osw_test_slurp(path, &len);
    for (const char *p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(buf);
    return n;
}

/* ---- key pairs ----------------------------------------------------------- */

/* A gen-certs pair (ECDSA P-256, one year) in f->dir/<name>/. */
static void gen_pair(const struct fx *f, const char *name, char *crt, char *key, size_t len)
{
    char dir[200];
    const char *names[] = {"localhost"};
    struct osw_errbuf eb = {{0}};
    osw_test_pathf(dir, sizeof(dir), "%s/%s", f->dir, name);
    assert_int_equal(osw_gencerts_write(dir, names, 1, false, &eb), OSW_OK);
    osw_test_pathf(crt, len, "%s/tls.crt", dir);
    osw_test_pathf(key, len, "%s/tls.key", dir);
}

/* A self-signed pair with its own lifetime: RSA 2048 or ECDSA P-256; the key
 * as PKCS#8 or in the "traditional" form (BEGIN RSA / EC PRIVATE KEY) that
 * cert-manager and older tools write. */
static void selfsigned(const char *crt, const char *key, bool rsa, long days, bool traditional)
{
    EVP_PKEY *pk = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    assert_non_null(pk);
    X509 *x = X509_new();
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), (long)days), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
    assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL));
    assert_int_equal(X509_set_pubkey(x, pk), 1);
    X509_NAME *nm = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
                                                (const unsigned char *)"localhost", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, nm), 1);
    assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
    FILE *fp = fopen(crt, "w");
    assert_non_null(fp);
    assert_int_equal(PEM_write_X509(fp, x), 1);
    fclose(fp);
    fp = fopen(key, "w");
    assert_non_null(fp);
    BIO *bio = BIO_new_fp(fp, BIO_NOCLOSE);
    assert_non_null(bio);
    if (traditional)
        assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, pk, NULL, NULL, 0, NULL, NULL),
                         1);
    else
        assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
    BIO_free(bio);
    fclose(fp);
    X509_free(x);
    EVP_PKEY_free(pk);
}

/* Whether the pair's leaf is the (first) certificate in PEM file `path`. */
static bool leaf_is(const struct osw_certpair *p, const char *path)
{
    gnutls_pcert_st *pc;
    unsigned n;
    gnutls_privkey_t k;
    size_t len;
    char *pem = osw_test_slurp(path, &len);
    gnutls_datum_t in = {(unsigned char *)pem, (unsigned)len}, der = {NULL, 0};
    assert_true(gnutls_pem_base64_decode2("CERTIFICATE", &in, &der) >= 0);
    osw_certpair_get(p, &pc, &n, &k);
    bool same =
        n >= 1 && pc[0].cert.size == der.size && memcmp(pc[0].cert.data, der.data, der.size) == 0;
    gnutls_free(der.data);
    free(pem);
    return same;
}

static double metric(struct osw_metrics *m, const char *series)
{
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_metrics_render(m, &b), OSW_OK);
    size_t sl = strlen(series);
    double v = -1;
    for (const char *p = b.data; p != NULL && *p != '\0';) {
        if (strncmp(p, series, sl) == 0 && p[sl] == ' ') {
            v = strtod(p + sl + 1, NULL);
            break;
        }
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    osw_buf_free(&b);
    return v;
}

#define RELOAD_OK  "osstream_webhook_tls_certificate_reloads_total{result=\"success\"}"
#define RELOAD_ERR "osstream_webhook_tls_certificate_reloads_total{result=\"error\"}"
#define EXPIRY     "osstream_webhook_tls_certificate_expiry_timestamp_seconds"

static struct osw_certstore *open_store(struct fx *f)
{
    struct osw_certstore *st = NULL;
    struct osw_errbuf eb = {{0}};
    enum osw_err rc = osw_certstore_new(f->cert, f->key, &f->log, f->m, &st, &eb);
    if (rc != OSW_OK)
        fail_msg("osw_certstore_new: %s", eb.msg);
    osw_certstore_set_clock(st, fake_clock, &f->now);
    return st;
}

static void assert_load_fails(struct fx *f, enum osw_err want, const char *substr1,
                              const char *substr2)
{
    struct osw_certstore *st = NULL;
    struct osw_errbuf eb = {{0}};
    assert_int_equal(osw_certstore_new(f->cert, f->key, &f->log, f->m, &st, &eb), want);
    assert_null(st);
    assert_non_null(strstr(eb.msg, substr1));
    if (substr2 != NULL)
        assert_non_null(strstr(eb.msg, substr2));
    assert_null(strchr(eb.msg, '\n'));
}

/* ---- loading ------------------------------------------------------------- */

static void test_load_ecdsa(void **state)
{
    struct fx *f = *state;
    char crt[256], key[256];
    gen_pair(f, "a", crt, key, sizeof(crt));
    copy_in_place(crt, f->cert);
    copy_in_place(key, f->key);
    struct osw_certstore *st = open_store(f);
    struct osw_certpair *p = osw_certstore_acquire(st);
    gnutls_pcert_st *pc;
    unsigned n;
    gnutls_privkey_t k;
    osw_certpair_get(p, &pc, &n, &k);
    assert_int_equal(n, 1);
    assert_non_null(k);
    assert_int_equal(gnutls_privkey_get_pk_algorithm(k, NULL), GNUTLS_PK_ECDSA);
    assert_true(leaf_is(p, crt));
    double na = osw_certpair_not_after(p);
    double now = (double)time(NULL);
    assert_true(na > now + 364 * DAY && na < now + 366 * DAY);
    assert_true(metric(f->m, EXPIRY) == na);
    /* Nothing changed: no reload either way. */
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_ptr_equal(osw_certstore_acquire(st), p);
    osw_certpair_unref(p);
    assert_true(metric(f->m, RELOAD_OK) == 0);
    assert_true(metric(f->m, RELOAD_ERR) == 0);
    osw_certpair_unref(p);
    osw_certstore_free(st);
    /* Start-up is silent (serve's stderr stays one line if it fails later). */
    assert_int_equal(count_in_file(f->logpath, "serving certificate"), 0);
}

static void test_load_rsa(void **state)
{
    struct fx *f = *state;
    selfsigned(f->cert, f->key, true, 10, true);
    size_t len;
    char *pem = osw_test_slurp(f->key, &len);
    assert_non_null(strstr(pem, "BEGIN RSA PRIVATE KEY"));
    free(pem);
    struct osw_certstore *st = open_store(f);
    struct osw_certpair *p = osw_certstore_acquire(st);
    gnutls_pcert_st *pc;
    unsigned n;
    gnutls_privkey_t k;
    osw_certpair_get(p, &pc, &n, &k);
    assert_int_equal(gnutls_privkey_get_pk_algorithm(k, NULL), GNUTLS_PK_RSA);
    double na = osw_certpair_not_after(p), now = (double)time(NULL);
    assert_true(na > now + 9 * DAY && na < now + 11 * DAY);
    osw_certpair_unref(p);
    osw_certstore_free(st);
}

static void test_load_ec_traditional_key(void **state)
{
    struct fx *f = *state;
    selfsigned(f->cert, f->key, false, 20, true);
    size_t len;
    char *pem = osw_test_slurp(f->key, &len);
    assert_non_null(strstr(pem, "BEGIN EC PRIVATE KEY"));
    free(pem);
    struct osw_certstore *st = open_store(f);
    struct osw_certpair *p = osw_certstore_acquire(st);
    double na = osw_certpair_not_after(p), now = (double)time(NULL);
    assert_true(na > now + 19 * DAY && na < now + 21 * DAY);
    osw_certpair_unref(p);
    osw_certstore_free(st);
}

static void test_load_chain(void **state)
{
    struct fx *f = *state;
    char crt[256], key[256], ca[256];
    gen_pair(f, "a", crt, key, sizeof(crt));
    osw_test_pathf(ca, sizeof(ca), "%s/a/ca.crt", f->dir);
    size_t l1, l2;
    char *leaf = osw_test_slurp(crt, &l1), *cab = osw_test_slurp(ca, &l2);
    FILE *fp = fopen(f->cert, "w");
    assert_non_null(fp);
    fwrite(leaf, 1, l1, fp);
    fwrite(cab, 1, l2, fp);
    fclose(fp);
    free(leaf);
    free(cab);
    copy_in_place(key, f->key);
    struct osw_certstore *st = open_store(f);
    struct osw_certpair *p = osw_certstore_acquire(st);
    gnutls_pcert_st *pc;
    unsigned n;
    gnutls_privkey_t k;
    osw_certpair_get(p, &pc, &n, &k);
    assert_int_equal(n, 2);
    assert_true(leaf_is(p, crt));
    osw_certpair_unref(p);
    osw_certstore_free(st);
}

static void test_mismatch_refused(void **state)
{
    struct fx *f = *state;
    char c1[256], k1[256], c2[256], k2[256];
    gen_pair(f, "a", c1, k1, sizeof(c1));
    gen_pair(f, "b", c2, k2, sizeof(c2));
    copy_in_place(c1, f->cert);
    copy_in_place(k2, f->key);
    assert_load_fails(f, OSW_ETLS, "does not match", f->cert);
    assert_load_fails(f, OSW_ETLS, "does not match", f->key);
}

static void test_unreadable(void **state)
{
    struct fx *f = *state;
    char c1[256], k1[256];
    gen_pair(f, "a", c1, k1, sizeof(c1));
    /* Certificate missing. */
    copy_in_place(k1, f->key);
    assert_load_fails(f, OSW_EIO, f->cert, "No such file");
    /* Key missing. */
    copy_in_place(c1, f->cert);
    assert_int_equal(unlink(f->key), 0);
    assert_load_fails(f, OSW_EIO, f->key, "No such file");
    /* Key is a directory. */
    assert_int_equal(mkdir(f->key, 0700), 0);
    assert_load_fails(f, OSW_EIO, f->key, "not a regular file");
    assert_int_equal(rmdir(f->key), 0);
    /* Key is a FIFO without a writer: refused at once, never waited on. */
    assert_int_equal(mkfifo(f->key, 0600), 0);
    assert_load_fails(f, OSW_EIO, f->key, "not a regular file");
    assert_int_equal(unlink(f->key), 0);
    /* Certificate too large. */
    copy_in_place(k1, f->key);
    assert_int_equal(truncate(f->cert, 2L * 1024 * 1024), 0);
    assert_load_fails(f, OSW_EIO, f->cert, "larger than");
}

static void test_garbage_pem(void **state)
{
    struct fx *f = *state;
    char c1[256], k1[256];
    gen_pair(f, "a", c1, k1, sizeof(c1));
    copy_in_place(k1, f->key);
    write_bytes(f->cert, "hello\n", 6);
    assert_load_fails(f, OSW_ETLS, f->cert, "no usable PEM certificate");
    write_bytes(f->cert, "", 0);
    assert_load_fails(f, OSW_ETLS, f->cert, "no usable PEM certificate");
    const char *bad = "-----BEGIN CERTIFICATE-----\nAAAA!!!!\n-----END CERTIFICATE-----\n";
    write_bytes(f->cert, bad, strlen(bad));
    assert_load_fails(f, OSW_ETLS, f->cert, "no usable PEM certificate");
    copy_in_place(c1, f->cert);
    const char *badkey = "-----BEGIN PRIVATE KEY-----\nzz\n-----END PRIVATE KEY-----\n";
    write_bytes(f->key, badkey, strlen(badkey));
    assert_load_fails(f, OSW_ETLS, f->key, "no usable PEM private key");
    /* The certificate where the key should be. */
    copy_in_place(c1, f->key);
    assert_load_fails(f, OSW_ETLS, f->key, "no usable PEM private key");
}

/* ---- reloading ----------------------------------------------------------- */

/* Starts with pair "a", returns the store; b's paths in bc/bk. */
static struct osw_certstore *store_ab(struct fx *f, char *ac, char *bc, char *bk, size_t len)
{
    char ak[256];
    gen_pair(f, "a", ac, ak, len);
    gen_pair(f, "b", bc, bk, len);
    copy_in_place(ac, f->cert);
    copy_in_place(ak, f->key);
    return open_store(f);
}

static void assert_serving(struct osw_certstore *st, const char *crt)
{
    struct osw_certpair *p = osw_certstore_acquire(st);
    assert_true(leaf_is(p, crt));
    osw_certpair_unref(p);
}

static void test_reload_in_place(void **state)
{
    struct fx *f = *state;
    char ac[256], bc[256], bk[256];
    struct osw_certstore *st = store_ab(f, ac, bc, bk, sizeof(ac));
    struct osw_certpair *old = osw_certstore_acquire(st);
    copy_in_place(bc, f->cert);
    copy_in_place(bk, f->key);
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_serving(st, bc);
    assert_true(metric(f->m, RELOAD_OK) == 1);
    assert_true(metric(f->m, RELOAD_ERR) == 0);
    assert_int_equal(count_in_file(f->logpath, "reloaded serving certificate"), 1);
    /* The old pair is still whole for the connection holding it. */
    assert_true(leaf_is(old, ac));
    /* A second check finds nothing new. */
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_true(metric(f->m, RELOAD_OK) == 1);
    osw_certstore_free(st);
    assert_true(leaf_is(old, ac)); /* outlives the store too */
    osw_certpair_unref(old);
}

/* The served certificate is logged with its subject, SANs and notAfter: at
 * start-up (osw_certstore_log_current) and at each reload; at warn when it
 * has expired or expires within 30 days. */
static void test_certificate_logged(void **state)
{
    struct fx *f = *state;
    char nc[256], nk[256];

    selfsigned(f->cert, f->key, false, 10, false);
    struct osw_certstore *st = open_store(f);
    assert_int_equal(count_in_file(f->logpath, "serving certificate"), 0); /* silent load */
    osw_certstore_log_current(st);
    assert_int_equal(count_in_file(f->logpath, "WARN serving certificate"), 1);
    assert_int_equal(count_in_file(f->logpath, "expires soon"), 1);
    assert_int_equal(count_in_file(f->logpath, "subject=\"CN=localhost\""), 1);

    /* A one-year gen-certs pair: info, with its SANs. */
    gen_pair(f, "year", nc, nk, sizeof(nc));
    copy_in_place(nc, f->cert);
    copy_in_place(nk, f->key);
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_int_equal(count_in_file(f->logpath, "INFO reloaded serving certificate"), 1);
    assert_int_equal(count_in_file(f->logpath, "sans=\"DNS:localhost, IP:127.0.0.1, IP:::1\""), 1);
    assert_int_equal(count_in_file(f->logpath, "validity=valid"), 1);

    /* An expired one still loads (the old one would be no better), loudly. */
    osw_test_pathf(nc, sizeof(nc), "%s/old.crt", f->dir);
    osw_test_pathf(nk, sizeof(nk), "%s/old.key", f->dir);
    selfsigned(nc, nk, false, -2, false);
    copy_in_place(nc, f->cert);
    copy_in_place(nk, f->key);
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_int_equal(count_in_file(f->logpath, "WARN reloaded serving certificate"), 1);
    assert_int_equal(count_in_file(f->logpath, "validity=expired"), 1);
    osw_certstore_free(st);
}

static void test_reload_rename_over(void **state)
{
    struct fx *f = *state;
    char ac[256], bc[256], bk[256];
    struct osw_certstore *st = store_ab(f, ac, bc, bk, sizeof(ac));
    copy_rename(bk, f->key);
    copy_rename(bc, f->cert);
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_serving(st, bc);
    assert_true(metric(f->m, RELOAD_OK) == 1);
    osw_certstore_free(st);
}

/* kubelet's Secret volume: tls.crt -> ..data/tls.crt, ..data -> ..<ts>. */
static void secret_version(const struct fx *f, const char *ts, const char *crt, const char *key)
{
    char d[300], p[320];
    osw_test_pathf(d, sizeof(d), "%s/vol/%s", f->dir, ts);
    assert_int_equal(mkdir(d, 0755), 0);
    osw_test_pathf(p, sizeof(p), "%s/tls.crt", d);
    copy_in_place(crt, p);
    osw_test_pathf(p, sizeof(p), "%s/tls.key", d);
    copy_in_place(key, p);
}

static void secret_point(const struct fx *f, const char *ts)
{
    char tmp[300], data[300];
    osw_test_pathf(tmp, sizeof(tmp), "%s/vol/..data_tmp", f->dir);
    osw_test_pathf(data, sizeof(data), "%s/vol/..data", f->dir);
    assert_int_equal(symlink(ts, tmp), 0);
    assert_int_equal(rename(tmp, data), 0);
}

static void secret_remove(const struct fx *f, const char *ts)
{
    char p[320];
    osw_test_pathf(p, sizeof(p), "%s/vol/%s/tls.crt", f->dir, ts);
    assert_int_equal(unlink(p), 0);
    osw_test_pathf(p, sizeof(p), "%s/vol/%s/tls.key", f->dir, ts);
    assert_int_equal(unlink(p), 0);
    osw_test_pathf(p, sizeof(p), "%s/vol/%s", f->dir, ts);
    assert_int_equal(rmdir(p), 0);
}

static void test_reload_secret_symlink_swap(void **state)
{
    struct fx *f = *state;
    char ac[256], ak[256], bc[256], bk[256], vol[200];
    gen_pair(f, "a", ac, ak, sizeof(ac));
    gen_pair(f, "b", bc, bk, sizeof(ac));
    osw_test_pathf(vol, sizeof(vol), "%s/vol", f->dir);
    assert_int_equal(mkdir(vol, 0755), 0);
    secret_version(f, "..2024_01_01_00_00_00.1", ac, ak);
    secret_point(f, "..2024_01_01_00_00_00.1");
    osw_test_pathf(f->cert, sizeof(f->cert), "%s/tls.crt", vol);
    osw_test_pathf(f->key, sizeof(f->key), "%s/tls.key", vol);
    assert_int_equal(symlink("..data/tls.crt", f->cert), 0);
    assert_int_equal(symlink("..data/tls.key", f->key), 0);
    struct osw_certstore *st = open_store(f);
    assert_serving(st, ac);

    secret_version(f, "..2024_01_02_00_00_00.2", bc, bk);
    assert_int_equal(osw_certstore_check(st), OSW_OK); /* not visible yet */
    assert_serving(st, ac);
    secret_point(f, "..2024_01_02_00_00_00.2");
    secret_remove(f, "..2024_01_01_00_00_00.1");
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_serving(st, bc);
    assert_true(metric(f->m, RELOAD_OK) == 1);

    /* And back to a's bytes in a third version directory. */
    secret_version(f, "..2024_01_03_00_00_00.3", ac, ak);
    secret_point(f, "..2024_01_03_00_00_00.3");
    secret_remove(f, "..2024_01_02_00_00_00.2");
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_serving(st, ac);
    assert_true(metric(f->m, RELOAD_OK) == 2);
    assert_true(metric(f->m, RELOAD_ERR) == 0);
    osw_certstore_free(st);
}

static void test_bad_update_refused_then_good_pair(void **state)
{
    struct fx *f = *state;
    char gc[256], gk[256];
    selfsigned(f->cert, f->key, false, 10, false);
    struct osw_certstore *st = open_store(f);
    struct osw_certpair *p0 = osw_certstore_acquire(st);
    double na0 = osw_certpair_not_after(p0);

    write_bytes(f->cert, "garbage\n", 8);
    f->now = 1000;
    assert_int_equal(osw_certstore_check(st), OSW_ETLS); /* not yet judged */
    f->now = 1000 + OSW_CERTSTORE_SETTLE_MS - 1;
    assert_int_equal(osw_certstore_check(st), OSW_ETLS);
    assert_true(metric(f->m, RELOAD_ERR) == 0);
    assert_int_equal(count_in_file(f->logpath, "refused"), 0);
    f->now = 1000 + OSW_CERTSTORE_SETTLE_MS;
    assert_int_equal(osw_certstore_check(st), OSW_ETLS);
    assert_true(metric(f->m, RELOAD_ERR) == 1);
    assert_int_equal(count_in_file(f->logpath, "refused"), 1);
    assert_int_equal(count_in_file(f->logpath, "no usable PEM certificate"), 1);
    f->now += 60000; /* the same bytes stay: no second line, no second count */
    assert_int_equal(osw_certstore_check(st), OSW_ETLS);
    assert_true(metric(f->m, RELOAD_ERR) == 1);
    assert_int_equal(count_in_file(f->logpath, "refused"), 1);

    struct osw_certpair *p = osw_certstore_acquire(st);
    assert_ptr_equal(p, p0);
    assert_true(osw_certpair_not_after(p) == na0);
    assert_true(metric(f->m, EXPIRY) == na0);
    osw_certpair_unref(p);

    /* A good pair written later is picked up. */
    gen_pair(f, "good", gc, gk, sizeof(gc));
    copy_in_place(gk, f->key);
    copy_in_place(gc, f->cert);
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_serving(st, gc);
    p = osw_certstore_acquire(st);
    assert_true(osw_certpair_not_after(p) > na0 + 300 * DAY);
    assert_true(metric(f->m, EXPIRY) == osw_certpair_not_after(p));
    assert_true(metric(f->m, RELOAD_OK) == 1);
    osw_certpair_unref(p);
    osw_certpair_unref(p0);
    osw_certstore_free(st);
}

/* Certificate first, key a moment later: the transient mismatch is never an
 * error. */
static void test_two_step_update(void **state)
{
    struct fx *f = *state;
    char ac[256], bc[256], bk[256];
    struct osw_certstore *st = store_ab(f, ac, bc, bk, sizeof(ac));
    copy_rename(bc, f->cert);
    f->now = 10000;
    assert_int_equal(osw_certstore_check(st), OSW_ETLS);
    f->now = 10500;
    assert_int_equal(osw_certstore_check(st), OSW_ETLS);
    assert_serving(st, ac);
    copy_rename(bk, f->key);
    f->now = 11000;
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_serving(st, bc);
    assert_true(metric(f->m, RELOAD_OK) == 1);
    assert_true(metric(f->m, RELOAD_ERR) == 0);
    assert_int_equal(count_in_file(f->logpath, "refused"), 0);
    osw_certstore_free(st);
}

/* A key that never comes: the mismatch is refused once, after the settle
 * period; a different bad content is refused once more. */
static void test_mismatch_reported_once_per_content(void **state)
{
    struct fx *f = *state;
    char ac[256], bc[256], bk[256], cc[256], ck[256];
    struct osw_certstore *st = store_ab(f, ac, bc, bk, sizeof(ac));
    gen_pair(f, "c", cc, ck, sizeof(cc));
    copy_rename(bc, f->cert);
    for (f->now = 0; f->now <= 10000; f->now += 500)
        assert_int_equal(osw_certstore_check(st), OSW_ETLS);
    assert_true(metric(f->m, RELOAD_ERR) == 1);
    assert_int_equal(count_in_file(f->logpath, "does not match"), 1);
    copy_rename(cc, f->cert);
    for (; f->now <= 20000; f->now += 500)
        assert_int_equal(osw_certstore_check(st), OSW_ETLS);
    assert_true(metric(f->m, RELOAD_ERR) == 2);
    assert_int_equal(count_in_file(f->logpath, "does not match"), 2);
    /* Going back to what serves clears it; the same bad bytes again get a
     * fresh settle period and one more report. */
    copy_rename(ac, f->cert);
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    copy_rename(cc, f->cert);
    assert_int_equal(osw_certstore_check(st), OSW_ETLS);
    assert_true(metric(f->m, RELOAD_ERR) == 2);
    f->now += OSW_CERTSTORE_SETTLE_MS;
    assert_int_equal(osw_certstore_check(st), OSW_ETLS);
    assert_true(metric(f->m, RELOAD_ERR) == 3);
    assert_serving(st, ac);
    assert_true(metric(f->m, RELOAD_OK) == 0);
    osw_certstore_free(st);
}

/* A file that disappears is "not yet" too, then one error. */
static void test_missing_file_during_update(void **state)
{
    struct fx *f = *state;
    char ac[256], bc[256], bk[256];
    struct osw_certstore *st = store_ab(f, ac, bc, bk, sizeof(ac));
    assert_int_equal(unlink(f->key), 0);
    assert_int_equal(osw_certstore_check(st), OSW_EIO);
    f->now += OSW_CERTSTORE_SETTLE_MS;
    assert_int_equal(osw_certstore_check(st), OSW_EIO);
    f->now += OSW_CERTSTORE_SETTLE_MS;
    assert_int_equal(osw_certstore_check(st), OSW_EIO);
    assert_true(metric(f->m, RELOAD_ERR) == 1);
    assert_int_equal(count_in_file(f->logpath, "No such file"), 1);
    assert_serving(st, ac);
    copy_rename(bk, f->key);
    copy_rename(bc, f->cert);
    assert_int_equal(osw_certstore_check(st), OSW_OK);
    assert_serving(st, bc);
    osw_certstore_free(st);
}

/* ---- threads ------------------------------------------------------------- */

struct hammer {
    struct osw_certstore *st;
    atomic_bool stop;
    atomic_ulong rounds;
    atomic_ulong bad; /* cmocka's asserts belong to the main thread */
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    while (!atomic_load(&h->stop)) {
        struct osw_certpair *p = osw_certstore_acquire(h->st);
        gnutls_pcert_st *pc;
        unsigned n;
        gnutls_privkey_t k;
        osw_certpair_get(p, &pc, &n, &k);
        if (n != 1 || pc[0].cert.size == 0 || k == NULL)
            atomic_fetch_add(&h->bad, 1);
        osw_certpair_unref(p);
        atomic_fetch_add(&h->rounds, 1);
    }
    return NULL;
}

/* Handshakes acquire while pairs are swapped: no pair is freed under them
 * (ASan/TSan builds make this test meaningful). */
static void test_acquire_during_reloads(void **state)
{
    struct fx *f = *state;
    char ac[256], ak[256], bc[256], bk[256];
    gen_pair(f, "a", ac, ak, sizeof(ac));
    gen_pair(f, "b", bc, bk, sizeof(ac));
    copy_in_place(ac, f->cert);
    copy_in_place(ak, f->key);
    struct osw_certstore *st = open_store(f);
    struct hammer h = {st, false, 0, 0};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h), 0);
    for (int i = 0; i < 20; i++) {
        bool b = i % 2 == 0;
        copy_rename(b ? bk : ak, f->key);
        copy_rename(b ? bc : ac, f->cert);
        assert_int_equal(osw_certstore_check(st), OSW_OK);
    }
    /* Let the threads run at least once (bounded: 10 s). */
    for (int i = 0; i < 1000 && atomic_load(&h.rounds) == 0; i++) {
        struct timespec ts = {0, 10L * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&h.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_true(metric(f->m, RELOAD_OK) == 20);
    assert_int_equal(atomic_load(&h.bad), 0);
    assert_true(atomic_load(&h.rounds) > 0);
    osw_certstore_free(st);
}

/* The watcher thread picks a change up on its own (bounded wait, 20 s). */
static void test_watcher_reloads_and_stops(void **state)
{
    struct fx *f = *state;
    char ac[256], bc[256], bk[256];
    struct osw_certstore *st = store_ab(f, ac, bc, bk, sizeof(ac));
    osw_certstore_set_clock(st, NULL, NULL);
    struct osw_errbuf eb = {{0}};
    assert_int_equal(osw_certstore_start(st, &eb), OSW_OK);
    copy_rename(bk, f->key);
    copy_rename(bc, f->cert);
    bool seen = false;
    for (int i = 0; i < 400 && !seen; i++) {
        struct osw_certpair *p = osw_certstore_acquire(st);
        seen = leaf_is(p, bc);
        osw_certpair_unref(p);
        if (!seen) {
            struct timespec ts = {0, 50L * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(seen);
    osw_certstore_free(st); /* joins the watcher */
}

static void test_free_null_and_unref_null(void **state)
{
    (void)state;
    osw_certstore_free(NULL);
    osw_certpair_unref(NULL);
}

/* ---- priorities ---------------------------------------------------------- */

static size_t suites_of(const char *prio, char names[][64], size_t max)
{
    gnutls_priority_t pc;
    const char *errpos = NULL;
    int rc = gnutls_priority_init(&pc, prio, &errpos);
    if (rc < 0)
        fail_msg("gnutls_priority_init: %s at '%s'", gnutls_strerror(rc), errpos ? errpos : "");
    size_t n = 0;
    for (unsigned i = 0; n < max; i++) {
        unsigned idx;
        rc = gnutls_priority_get_cipher_suite_index(pc, i, &idx);
        if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (rc < 0)
            continue; /* GNUTLS_E_UNKNOWN_CIPHER_SUITE: a gap in the list */
        const char *name = gnutls_cipher_suite_info(idx, NULL, NULL, NULL, NULL, NULL);
        assert_non_null(name);
        snprintf(names[n++], 64, "%s", name);
    }
    gnutls_priority_deinit(pc);
    return n;
}

static bool has(char names[][64], size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], want) == 0)
            return true;
    return false;
}

static void test_priorities(void **state)
{
    (void)state;
    static const char *const tls13[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                        "TLS_CHACHA20_POLY1305_SHA256"};
    static const char *const tls12[] = {
        "TLS_ECDHE_ECDSA_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_CHACHA20_POLY1305",  "TLS_ECDHE_RSA_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_AES_256_GCM_SHA384",   "TLS_ECDHE_RSA_CHACHA20_POLY1305"};
    char names[64][64];
    size_t n = suites_of(osw_tls_priorities(OSW_TLS_MIN_12), names, 64);
    assert_int_equal(n, 9);
    for (size_t i = 0; i < 3; i++)
        assert_true(has(names, n, tls13[i]));
    for (size_t i = 0; i < 6; i++)
        assert_true(has(names, n, tls12[i]));
    n = suites_of(osw_tls_priorities(OSW_TLS_MIN_13), names, 64);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_true(has(names, n, tls13[i]));
    assert_non_null(strstr(osw_tls_priorities(OSW_TLS_MIN_12), "%SERVER_PRECEDENCE"));
    assert_null(strstr(osw_tls_priorities(OSW_TLS_MIN_13), "TLS1.2"));
}

/* The IANA names GnuTLS gives the six suites (it drops "WITH_" and the
 * ChaCha20 suites' "_SHA256"), in osw_priorities_suite_name order. */
static const char *const gnutls_names[OSW_TLS_SUITE_COUNT] = {
    "TLS_ECDHE_ECDSA_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_CHACHA20_POLY1305",  "TLS_ECDHE_RSA_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_AES_256_GCM_SHA384",   "TLS_ECDHE_RSA_CHACHA20_POLY1305"};

static void test_parse_suites(void **state)
{
    (void)state;
    unsigned mask = 0;
    const char *bad = NULL;
    size_t badlen = 0;
    char all[512] = "";
    for (unsigned i = 0; i < OSW_TLS_SUITE_COUNT; i++) {
        const char *name = osw_priorities_suite_name(i);
        assert_non_null(name);
        assert_true(osw_priorities_parse_suites(name, &mask, &bad, &badlen));
        assert_int_equal(mask, 1u << i);
        if (i > 0)
            strncat(all, ",", sizeof(all) - strlen(all) - 1);
        strncat(all, name, sizeof(all) - strlen(all) - 1);
    }
    assert_null(osw_priorities_suite_name(OSW_TLS_SUITE_COUNT));
    assert_true(osw_priorities_parse_suites(all, &mask, &bad, &badlen));
    assert_int_equal(mask, OSW_TLS_SUITES_ALL);
    assert_true(osw_priorities_parse_suites(
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", &mask, &bad,
        &badlen));
    assert_int_equal(mask, 1u << 3);

    /* Refused, with the first bad name pointed at. */
    static const struct {
        const char *list, *bad;
    } cases[] = {
        {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
        {"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"},
        {"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
        {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
        {"tls_ecdhe_rsa_with_aes_128_gcm_sha256", "tls_ecdhe_rsa_with_aes_128_gcm_sha256"},
        {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
        {"TLS_ECDHE_RSA_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_AES_128_GCM_SHA256"},
        {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
         " TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
        {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,", ""},
        {",TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", ""},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mask = 12345;
        bad = NULL;
        assert_false(osw_priorities_parse_suites(cases[i].list, &mask, &bad, &badlen));
        assert_int_equal(mask, 12345);
        assert_non_null(bad);
        assert_int_equal(badlen, strlen(cases[i].bad));
        assert_memory_equal(bad, cases[i].bad, badlen);
    }
}

/* For every subset of the six suites and both kinds of key, the TLS 1.2
 * priorities enable exactly the chosen TLS 1.2 suites that fit the key.
 * (Their TLS 1.3 suites follow the cipher list, which is why the server
 * applies them to TLS 1.2 sessions only; test_tls.py checks that TLS 1.3
 * keeps all three.) */
static void test_priorities_tls12_subsets(void **state)
{
    (void)state;
    char prio[512], names[64][64];
    for (unsigned mask = 1; mask <= OSW_TLS_SUITES_ALL; mask++) {
        for (unsigned k = OSW_TLS_KEY_RSA; k <= OSW_TLS_KEY_ECDSA; k++) {
            unsigned first = k == OSW_TLS_KEY_ECDSA ? 0 : 3; /* table order: ECDSA, then RSA */
            unsigned want = 0;
            for (unsigned i = first; i < first + 3; i++)
                want += (mask >> i) & 1u;
            bool ok =
                osw_priorities_tls12(OSW_TLS_MIN_12, mask, (enum osw_tls_key)k, prio, sizeof(prio));
            if (want == 0) {
                assert_false(ok);
                continue;
            }
            assert_true(ok);
            assert_non_null(strstr(prio, "%SERVER_PRECEDENCE"));
            assert_non_null(strstr(prio, "+VERS-TLS1.2"));
            size_t n = suites_of(prio, names, 64);
            unsigned tls12 = 0;
            for (size_t j = 0; j < n; j++)
                tls12 += strncmp(names[j], "TLS_ECDHE_", 10) == 0;
            assert_int_equal(tls12, want);
            for (unsigned i = 0; i < OSW_TLS_SUITE_COUNT; i++)
                assert_int_equal(has(names, n, gnutls_names[i]),
                                 i >= first && i < first + 3 && ((mask >> i) & 1u));
        }
    }
    assert_false(
        osw_priorities_tls12(OSW_TLS_MIN_12, OSW_TLS_SUITES_ALL, OSW_TLS_KEY_RSA, prio, 16));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_ecdsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_rsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_ec_traditional_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatch_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_pem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_rename_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_secret_symlink_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_update_refused_then_good_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_step_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatch_reported_once_per_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_during_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acquire_during_reloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watcher_reloads_and_stops, setup, teardown),
        cmocka_unit_test(test_free_null_and_unref_null),
        cmocka_unit_test(test_priorities),
        cmocka_unit_test(test_parse_suites),
        cmocka_unit_test(test_priorities_tls12_subsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `gen-certs`: makes a local CA and a serving certificate signed by it with
 * OpenSSL's libcrypto (ECDSA P-256 keys, random 128-bit serials, SHA-256
 * signatures), for `make run`, the integration tests and anyone trying the
 * webhook without cert-manager. Every file goes to a temporary file first and
 * is renamed (or, without --force, hard-linked, which refuses an existing
 * name atomically) into place, so a crash never leaves half a file and an
 * existing file is never silently replaced.
 */
#include "cli/commands.h"
#include "cli/gencerts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli/flags.h"

#define CA_DAYS      3650
#define LEAF_DAYS    365
#define SKEW_SECONDS 3600 /* notBefore an hour back, for clocks that lag */
#define MAX_DNS_NAME 253
#define MAX_CN       64 /* ub-common-name */
#define MAX_LABEL    63 /* RFC 1123 */
#define NFILES       3

/* Always in tls.crt: clients on the same machine connect by address. */
static const char *const loopback_ips[] = {"127.0.0.1", "::1"};

static const char *const file_names[NFILES] = {"ca.crt", "tls.crt", "tls.key"};

/* What one certificate says; the issuer is itself when `issuer` is NULL. */
struct cert_spec {
    const char *cn;
    bool ca;
    long days;
    X509 *issuer;         /* borrowed */
    EVP_PKEY *issuer_key; /* borrowed */
    const char *const *dns;
    size_t ndns;
};

/* One output file in memory, then on disk under a temporary name. */
struct out_file {
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    bool tmp_exists;
    bool committed;
    unsigned char *data; /* owned (OPENSSL_free) */
    size_t len;
    mode_t mode;
};

static enum osw_err crypto_err(struct osw_errbuf *eb, const char *what)
{
    char reason[256] = "unknown error";
    unsigned long e = ERR_get_error();
    if (e != 0)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    return osw_errbuf_set(eb, OSW_ETLS, "%s: %s", what, reason);
}

/* An IPv4 or IPv6 literal ("127.0.0.1", "::1"); brackets are not part of it. */
static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Whether `a` is an IP literal for the same address as `b` ("::1" and
 * "0:0::1" are). */
static bool same_ip(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    if (inet_pton(AF_INET, a, x) == 1)
        return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
    if (inet_pton(AF_INET6, a, x) == 1)
        return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
    return false;
}

/* An RFC 1123 host name: dot-separated labels of letters, digits and '-',
 * 1 to 63 characters each, neither starting nor ending with '-'; at most
 * 253 characters in all. A leading "*." (a wildcard certificate) is allowed. */
static bool valid_dns_name(const char *s)
{
    size_t n = strlen(s), label = 0;
    if (n > 2 && s[0] == '*' && s[1] == '.') {
        s += 2;
        n -= 2;
    }
    if (n == 0 || n > MAX_DNS_NAME)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > MAX_LABEL || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c == '-' && label > 0);
        if (!ok)
            return false;
        label++;
    }
    return true;
}

/* mkdir -p with mode 0755. */
static enum osw_err make_dirs(const char *dir, struct osw_errbuf *eb)
{
    char buf[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(buf))
        return osw_errbuf_set(eb, OSW_EINVAL, "bad directory name");
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return osw_errbuf_set(eb, OSW_EIO, "cannot create %s: %s", buf, strerror(errno));
        buf[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return osw_errbuf_set(eb, OSW_EIO, "%s is not a directory", dir);
    return OSW_OK;
}

static EVP_PKEY *new_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* A random positive 128-bit serial number. */
static bool set_serial(X509 *x)
{
    unsigned char raw[16];
    bool ok = false;
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return false;
    raw[0] &= 0x7f;
    raw[0] |= 0x40; /* keep all 16 bytes significant */
    BIGNUM *bn = BN_bin2bn(raw, sizeof(raw), NULL);
    if (bn != NULL)
        ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return false;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1;
}

static bool push_name(GENERAL_NAMES *gens, int type, ASN1_STRING *value)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    if (g == NULL) {
        ASN1_STRING_free(value);
        return false;
    }
    GENERAL_NAME_set0_value(g, type, value);
    if (sk_GENERAL_NAME_push(gens, g) == 0) {
        GENERAL_NAME_free(g);
        return false;
    }
    return true;
}

static bool push_ip(GENERAL_NAMES *gens, const char *ip)
{
    ASN1_OCTET_STRING *a = a2i_IPADDRESS(ip);
    return a != NULL && push_name(gens, GEN_IPADD, a);
}

/* subjectAltName built from values, not from a config string, so a name can
 * never smuggle in another entry. An IP literal is an IP SAN (clients check
 * addresses against those only); 127.0.0.1 and ::1 are always there. */
static bool add_san(X509 *x, const char *const *names, size_t n)
{
    bool ok = false;
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    if (gens == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (is_ip_literal(names[i])) {
            if (!push_ip(gens, names[i]))
                goto out;
            continue;
        }
        ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
        if (ia5 == NULL || ASN1_STRING_set(ia5, names[i], (int)strlen(names[i])) != 1) {
            ASN1_IA5STRING_free(ia5);
            goto out;
        }
        if (!push_name(gens, GEN_DNS, ia5))
            goto out;
    }
    for (size_t k = 0; k < sizeof(loopback_ips) / sizeof(loopback_ips[0]); k++) {
        bool given = false;
        for (size_t i = 0; i < n && !given; i++)
            given = same_ip(names[i], loopback_ips[k]);
        if (!given && !push_ip(gens, loopback_ips[k]))
            goto out;
    }
    ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
out:
    GENERAL_NAMES_free(gens);
    return ok;
}

static bool add_extensions(X509 *x, X509 *issuer, const struct cert_spec *spec)
{
    if (!add_ext(x, issuer, NID_subject_key_identifier, "hash") ||
        !add_ext(x, issuer, NID_authority_key_identifier, "keyid:always"))
        return false;
    if (spec->ca)
        return add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
               add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    return add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
           add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") &&
           add_ext(x, issuer, NID_ext_key_usage, "serverAuth") && add_san(x, spec->dns, spec->ndns);
}

/* A certificate for `key` as `spec` says, signed by the issuer (or itself). */
static X509 *new_cert(const struct cert_spec *spec, EVP_PKEY *key)
{
    X509 *x = X509_new();
    if (x == NULL)
        return NULL;
    X509 *issuer = spec->issuer != NULL ? spec->issuer : x;
    EVP_PKEY *issuer_key = spec->issuer_key != NULL ? spec->issuer_key : key;
    X509_NAME *name = X509_get_subject_name(x);
    bool ok = X509_set_version(x, X509_VERSION_3) == 1 && set_serial(x) &&
              X509_gmtime_adj(X509_getm_notBefore(x), -SKEW_SECONDS) != NULL &&
              X509_time_adj_ex(X509_getm_notAfter(x), (int)spec->days, 0, NULL) != NULL &&
              X509_set_pubkey(x, key) == 1 &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)spec->cn,
                                         -1, -1, 0) == 1 &&
              X509_set_issuer_name(x, X509_get_subject_name(issuer)) == 1 &&
              add_extensions(x, issuer, spec) && X509_sign(x, issuer_key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* PEM text of a certificate (key NULL) or of a private key (PKCS#8). */
static bool pem_of(X509 *x, EVP_PKEY *key, struct out_file *f)
{
    bool ok = false;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return false;
    int rc = key != NULL ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_bio_X509(bio, x);
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);
    if (rc == 1 && n > 0) {
        f->data = OPENSSL_malloc((size_t)n);
        if (f->data != NULL) {
            memcpy(f->data, p, (size_t)n);
            f->len = (size_t)n;
            ok = true;
        }
    }
    BIO_free(bio); /* BIO_s_mem frees (not wipes) its buffer; keys are throwaway dev keys */
    return ok;
}

/* ca.crt, tls.crt, tls.key as PEM in files[0..2].data. */
static enum osw_err make_pems(const char *const *dns, size_t n, struct out_file *files,
                              struct osw_errbuf *eb)
{
    enum osw_err rc = OSW_OK;
    X509 *ca = NULL, *leaf = NULL;
    EVP_PKEY *ca_key = new_key(), *leaf_key = new_key();
    if (ca_key == NULL || leaf_key == NULL) {
        rc = crypto_err(eb, "cannot generate a P-256 key");
        goto out;
    }
    struct cert_spec ca_spec = {"osstream-webhook local CA", true, CA_DAYS, NULL, NULL, NULL, 0};
    ca = new_cert(&ca_spec, ca_key);
    /* The CN is the first DNS name (clients ignore it when SANs exist, but
     * people read it). */
    const char *cn = "osstream-webhook";
    for (size_t i = 0; i < n; i++) {
        if (!is_ip_literal(dns[i])) {
            if (strlen(dns[i]) <= MAX_CN)
                cn = dns[i];
            break;
        }
    }
    struct cert_spec leaf_spec = {cn, false, LEAF_DAYS, ca, ca_key, dns, n};
    leaf = ca != NULL ? new_cert(&leaf_spec, leaf_key) : NULL;
    if (leaf == NULL) {
        rc = crypto_err(eb, "cannot make the certificates");
        goto out;
    }
    if (!pem_of(ca, NULL, &files[0]) || !pem_of(leaf, NULL, &files[1]) ||
        !pem_of(NULL, leaf_key, &files[2]))
        rc = crypto_err(eb, "cannot encode PEM");
out:
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(leaf_key);
    return rc;
}

static enum osw_err write_all(int fd, const unsigned char *p, size_t len, const char *path,
                              struct osw_errbuf *eb)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return osw_errbuf_set(eb, OSW_EIO, "cannot write %s: %s", path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    return OSW_OK;
}

/* Writes f->data to a fresh temporary file beside f->path. mkstemp creates
 * it with mode 0600, so the key is never readable by others; certificates
 * are opened up to their final mode afterwards. */
static enum osw_err write_temp(const char *dir, const char *name, struct out_file *f,
                               struct osw_errbuf *eb)
{
    int n = snprintf(f->tmp, sizeof(f->tmp), "%s/.%s.tmp-XXXXXX", dir, name);
    if (n < 0 || (size_t)n >= sizeof(f->tmp))
        return osw_errbuf_set(eb, OSW_EINVAL, "directory name too long");
    int fd = mkstemp(f->tmp);
    if (fd < 0)
        return osw_errbuf_set(eb, OSW_EIO, "cannot create a file in %s: %s", dir, strerror(errno));
    f->tmp_exists = true;
    enum osw_err rc = write_all(fd, f->data, f->len, f->tmp, eb);
    if (rc == OSW_OK && (fchmod(fd, f->mode) != 0 || fsync(fd) != 0))
        rc = osw_errbuf_set(eb, OSW_EIO, "cannot write %s: %s", f->tmp, strerror(errno));
    if (close(fd) != 0 && rc == OSW_OK)
        rc = osw_errbuf_set(eb, OSW_EIO, "cannot write %s: %s", f->tmp, strerror(errno));
    return rc;
}

static enum osw_err check_absent(const struct out_file *files, struct osw_errbuf *eb)
{
    for (size_t i = 0; i < NFILES; i++) {
        struct stat st;
        if (lstat(files[i].path, &st) == 0)
            return osw_errbuf_set(eb, OSW_EEXISTS, "%s already exists (use --force to replace it)",
                                  files[i].path);
        if (errno != ENOENT)
            return osw_errbuf_set(eb, OSW_EIO, "cannot check %s: %s", files[i].path,
                                  strerror(errno));
    }
    return OSW_OK;
}

/* Moves the temporary files into place. Without `force`, link(2) refuses a
 * name that appeared since check_absent, and the files already placed are
 * taken back, so nothing is changed. */
static enum osw_err commit(struct out_file *files, bool force, struct osw_errbuf *eb)
{
    for (size_t i = 0; i < NFILES; i++) {
        struct out_file *f = &files[i];
        int r = force ? rename(f->tmp, f->path) : link(f->tmp, f->path);
        if (r != 0) {
            int err = errno;
            for (size_t j = 0; j < i && !force; j++) {
                unlink(files[j].path);
                files[j].committed = false;
            }
            return osw_errbuf_set(eb, err == EEXIST ? OSW_EEXISTS : OSW_EIO, "cannot create %s: %s",
                                  f->path, strerror(err));
        }
        f->committed = true;
        if (force)
            f->tmp_exists = false;
    }
    return OSW_OK;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static enum osw_err prepare_files(const char *dir, struct out_file *files, struct osw_errbuf *eb)
{
    for (size_t i = 0; i < NFILES; i++) {
        int n = snprintf(files[i].path, sizeof(files[i].path), "%s/%s", dir, file_names[i]);
        if (n < 0 || (size_t)n >= sizeof(files[i].path))
            return osw_errbuf_set(eb, OSW_EINVAL, "directory name too long");
        files[i].mode = i == 2 ? 0600 : 0644;
    }
    return OSW_OK;
}

enum osw_err osw_gencerts_write(const char *dir, const char *const *dns_names, size_t n, bool force,
                                struct osw_errbuf *eb)
{
    struct out_file files[NFILES];
    enum osw_err rc;
    memset(files, 0, sizeof(files));
    if (dir == NULL || dir[0] == '\0' || n == 0)
        return osw_errbuf_set(eb, OSW_EINVAL, "a directory and a DNS name are needed");
    for (size_t i = 0; i < n; i++)
        if (!is_ip_literal(dns_names[i]) && !valid_dns_name(dns_names[i]))
            return osw_errbuf_set(
                eb, OSW_EINVAL,
                "--dns-name \"%s\" is not a DNS name: use dot-separated labels of letters, "
                "digits and '-' (1 to 63 characters each, not starting or ending with '-'; at "
                "most 253 in all; a leading *. is allowed), or an IP address",
                dns_names[i]);
    rc = prepare_files(dir, files, eb);
    if (rc != OSW_OK)
        return rc;
    if (!force) {
        /* Before creating anything, the directory included. */
        struct stat st;
        if (stat(dir, &st) == 0 && (rc = check_absent(files, eb)) != OSW_OK)
            return rc;
    }
    rc = make_dirs(dir, eb);
    if (rc == OSW_OK)
        rc = make_pems(dns_names, n, files, eb);
    for (size_t i = 0; i < NFILES && rc == OSW_OK; i++)
        rc = write_temp(dir, file_names[i], &files[i], eb);
    if (rc == OSW_OK)
        rc = commit(files, force, eb);
    if (rc == OSW_OK)
        sync_dir(dir);
    for (size_t i = 0; i < NFILES; i++) {
        if (files[i].tmp_exists)
            unlink(files[i].tmp);
        OPENSSL_clear_free(files[i].data, files[i].len);
    }
    return rc;
}

/* ---- the command --------------------------------------------------------- */

/* Appends `s` (borrowed, like argv's) to `l`. */
static bool strlist_append(struct osw_strlist *l, const char *s)
{
    const char **n = realloc(l->items, (l->len + 1) * sizeof(*n));
    if (n == NULL)
        return false;
    n[l->len++] = s;
    l->items = n;
    return true;
}

static void print_done(const char *dir, const struct osw_strlist *names)
{
    const char *sep = "";
    printf("wrote %s/ca.crt, %s/tls.crt, %s/tls.key (", dir, dir, dir);
    for (size_t i = 0; i < names->len; i++) {
        printf("%s%s: %s", sep, is_ip_literal(names->items[i]) ? "IP" : "DNS", names->items[i]);
        sep = ", ";
    }
    for (size_t k = 0; k < sizeof(loopback_ips) / sizeof(loopback_ips[0]); k++) {
        bool given = false;
        for (size_t i = 0; i < names->len && !given; i++)
            given = same_ip(names->items[i], loopback_ips[k]);
        if (!given) {
            printf("%sIP: %s", sep, loopback_ips[k]);
            sep = ", ";
        }
    }
    printf(")\n");
}

int osw_cmd_gencerts(int argc, char **argv)
{
    const char *dir = NULL;
    struct osw_strlist names = {NULL, 0}, ips = {NULL, 0};
    bool force = false;
    const struct osw_flag flags[] = {
        {"dir", OSW_FLAG_STRING, &dir, "DIR", "directory to write into (created if missing)",
         false},
        {"dns-name", OSW_FLAG_LIST, &names, "NAME",
         "DNS name for tls.crt (repeatable; the first is the CN; an IP literal becomes an IP SAN)",
         false},
        {"ip-address", OSW_FLAG_LIST, &ips, "IP",
         "IP address for tls.crt (repeatable); 127.0.0.1 and ::1 are always added", false},
        {"force", OSW_FLAG_BOOL, &force, NULL, "replace all three existing files (default: refuse)",
         false},
    };
    const struct osw_command_spec spec = {
        "gen-certs",
        "gen-certs --dir DIR --dns-name NAME... [--ip-address IP...] [--force]",
        "Writes a local CA (ca.crt, valid 10 years) and a serving certificate signed by it\n"
        "(tls.crt, valid 365 days, and its key tls.key, mode 0600; ECDSA P-256). The CA's key\n"
        "is discarded, so nothing else can ever be signed with it: run again with --force for\n"
        "new files. For local runs and tests, not for a cluster (there, use the OpenShift\n"
        "service CA or cert-manager; see deploy/).",
        flags,
        sizeof(flags) / sizeof(flags[0]),
        0,
        .exit_codes = "  0  the three files were written\n"
                      "  1  a file exists (without --force) or writing failed\n"
                      "  2  bad or missing flags\n",
    };
    struct osw_strlist positional = {NULL, 0};
    int code = 2;
    enum osw_flags_result fr =
        osw_flags_parse(&spec, argc, argv, &positional, NULL, stdout, stderr);
    if (fr != OSW_FLAGS_OK) {
        code = fr == OSW_FLAGS_HELP ? 0 : 2;
        goto out;
    }
    for (size_t i = 0; i < ips.len; i++) {
        if (!is_ip_literal(ips.items[i])) {
            fprintf(stderr,
                    "osstream-webhook gen-certs: --ip-address \"%s\" is not an IPv4 or IPv6 "
                    "address\n",
                    ips.items[i]);
            goto out;
        }
        /* IP literals are told apart from names by their form. */
        if (!strlist_append(&names, ips.items[i])) {
            fprintf(stderr, "osstream-webhook gen-certs: out of memory\n");
            goto out;
        }
    }
    if (dir == NULL || dir[0] == '\0' || names.len == 0) {
        fprintf(stderr, "osstream-webhook gen-certs: %s is required (see --help)\n",
                dir == NULL || dir[0] == '\0' ? "--dir" : "--dns-name");
        goto out;
    }
    struct osw_errbuf eb = {{0}};
    enum osw_err rc = osw_gencerts_write(dir, names.items, names.len, force, &eb);
    if (rc != OSW_OK) {
        fprintf(stderr, "osstream-webhook gen-certs: %s\n", eb.msg);
        code = rc == OSW_EINVAL ? 2 : 1;
        goto out;
    }
    print_done(dir, &names);
    code = 0;
out:
    osw_strlist_free(&positional);
    osw_strlist_free(&names);
    osw_strlist_free(&ips);
    return code;
}

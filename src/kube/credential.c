/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bytes of credentials a Kubernetes client takes from disk or from a
 * kubeconfig: bounded reads of regular files (never blocking on a FIFO),
 * token text, base64 through OpenSSL's EVP decoder, and PEM checks done once
 * at start-up so a bad certificate or key is reported by name instead of as
 * a failed handshake later. The file reader stands in for the project's
 * shared bounded reader until that exists.
 */
#include "kube/credential.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "yaml/yaml.h"

enum osw_err osw_credential_read_file(const char *path, size_t max, char **data, size_t *len,
                                      struct osw_errbuf *eb)
{
    *data = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then
     * refuses anything that is not a regular file before a read can block. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return osw_errbuf_set(eb, OSW_EIO, "%s", strerror(errno));
    struct stat st;
    enum osw_err err;
    if (fstat(fd, &st) != 0) {
        err = osw_errbuf_set(eb, OSW_EIO, "%s", strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        err = osw_errbuf_set(eb, OSW_EIO, "not a regular file");
    } else if ((uintmax_t)st.st_size > max) {
        err = osw_errbuf_set(eb, OSW_ETOOBIG, "larger than %zu bytes", max);
    } else {
        err = osw_yaml_read_fd(fd, max, data, len, eb);
        if (err == OSW_ETOOBIG)
            osw_errbuf_set(eb, OSW_ETOOBIG, "larger than %zu bytes", max);
        else if (err == OSW_OK && !*data) /* never, but said here for the analyzer */
            err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    close(fd);
    return err;
}

bool osw_credential_token_clean(char *text, size_t *len)
{
    size_t b = 0, e = *len;
    while (b < e && (text[b] == ' ' || text[b] == '\t' || text[b] == '\r' || text[b] == '\n'))
        b++;
    while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r' ||
                     text[e - 1] == '\n'))
        e--;
    memmove(text, text + b, e - b);
    *len = e - b;
    text[*len] = '\0';
    if (*len == 0)
        return false;
    for (size_t i = 0; i < *len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch < 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

/* Standard base64 (whitespace allowed) through OpenSSL's EVP decoder. */
enum osw_err osw_credential_b64_decode(const char *in, size_t inlen, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (inlen > INT_MAX)
        return OSW_EINVAL;
    char *buf = malloc(inlen + 4); /* decoding never grows the data */
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    enum osw_err err = OSW_ENOMEM;
    if (!buf || !ctx)
        goto out;
    err = OSW_EINVAL;
    int n = 0, fin = 0;
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, (unsigned char *)buf, &n, (const unsigned char *)in, (int)inlen) < 0)
        goto out;
    if (EVP_DecodeFinal(ctx, (unsigned char *)buf + n, &fin) != 1)
        goto out;
    *outlen = (size_t)n + (size_t)fin;
    buf[*outlen] = '\0';
    *out = buf;
    buf = NULL;
    err = OSW_OK;
out:
    free(buf);
    EVP_ENCODE_CTX_free(ctx);
    return err;
}

/* Number of X.509 certificates in a PEM blob (0 when none parses). */
int osw_credential_pem_certs(const char *pem, size_t len)
{
    if (len > INT_MAX)
        return 0;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    int n = 0;
    X509 *x;
    while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        X509_free(x);
        n++;
    }
    BIO_free(bio);
    ERR_clear_error();
    return n;
}

/* Checks that `cert` holds a certificate and `key` the private key that
 * matches it. On failure a reason goes into `eb`. */
enum osw_err osw_credential_check_pair(const char *cert, size_t clen, const char *key, size_t klen,
                                       const char *where, struct osw_errbuf *eb)
{
    enum osw_err err = OSW_EINVAL;
    X509 *x = NULL;
    EVP_PKEY *pk = NULL;
    BIO *b1 = clen <= INT_MAX ? BIO_new_mem_buf(cert, (int)clen) : NULL;
    BIO *b2 = klen <= INT_MAX ? BIO_new_mem_buf(key, (int)klen) : NULL;
    if (!b1 || !b2 || !(x = PEM_read_bio_X509(b1, NULL, NULL, NULL))) {
        osw_errbuf_set(eb, err, "%s: client certificate is not a PEM certificate", where);
        goto out;
    }
    if (!(pk = PEM_read_bio_PrivateKey(b2, NULL, NULL, NULL))) {
        osw_errbuf_set(eb, err, "%s: client key is not an unencrypted PEM private key", where);
        goto out;
    }
    if (X509_check_private_key(x, pk) != 1) {
        osw_errbuf_set(eb, err, "%s: client key does not match the client certificate", where);
        goto out;
    }
    err = OSW_OK;
out:
    X509_free(x);
    EVP_PKEY_free(pk);
    BIO_free(b1);
    BIO_free(b2);
    ERR_clear_error();
    return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bytes of credentials a Kubernetes client takes from disk or from a
 * kubeconfig: bounded reads of regular files (never blocking on a FIFO),
 * token text, base64 through OpenSSL's EVP decoder, and PEM checks done once
 * at start-up so a bad certificate or key is reported by name instead of as
 * a failed handshake later. Files are read through the project's shared
 * bounded reader (src/sys/fileio.h).
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

#include "sys/fileio.h"

enum osw_err osw_credential_read_file(const char *path, size_t max, char **data, size_t *len,
                                      struct osw_errbuf *eb)
{
    struct osw_errbuf e2;
    e2.msg[0] = '\0';
    /* The shared bounded reader: O_NONBLOCK, fstat, regular files only. Its
     * messages start with the path, which every caller here names itself. */
    enum osw_err err = osw_fileio_read(path, max, data, len, &e2);
    if (err != OSW_OK) {
        const char *m = e2.msg;
        size_t pl = strlen(path);
        if (strncmp(m, path, pl) == 0 && m[pl] == ':' && m[pl + 1] == ' ')
            m += pl + 2;
        osw_errbuf_set(eb, err, "%s", m);
    }
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

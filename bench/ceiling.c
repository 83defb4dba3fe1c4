/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "ceiling" server for bench/run.sh: libmicrohttpd + GnuTLS configured as
 * the real server is (epoll, a pool of 2 threads, TLS 1.3/1.2 ECDHE AEAD only),
 * that copies every request body into a buffer and answers a fixed response
 * of the size of a real /mutate answer, with no JSON work at all. Whatever it
 * costs per request is the limit of this stack on this machine; the webhook is
 * measured against it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

/* The webhook's own string for --tls-min-version 1.2 (src/tls/priorities.c,
 * OpenShift's Intermediate profile): TLS 1.3, or TLS 1.2 with forward-secret
 * AEAD, server precedence, so both negotiate the same suite with wrk. */
#define CEIL_PRIORITIES                                                                            \
    "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"                                                   \
    ":-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"                     \
    ":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"                                                             \
    ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE"

#define MAX_BODY       (16u * 1024u * 1024u) /* like the webhook's discard limit */
#define MAX_PEM        (1024u * 1024u)
#define CONN_LIMIT     4096u
#define CONN_TIMEOUT_S 60u

/* A request body being read; freed by the completion callback. */
struct req {
    char *data;
    size_t len;
    size_t cap;
    bool too_big;
};

/* The fixed answers, shared read-only by the pool threads. */
struct answers {
    const char *json; /* owned */
    size_t json_len;
};

static const char OK_BODY[] = "ok";

static char *read_file(const char *path, size_t max, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;

    if (f == NULL) {
        fprintf(stderr, "osw-ceiling: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    buf = malloc(max + 1);
    if (buf == NULL)
        goto out;
    len = fread(buf, 1, max + 1, f);
    if (ferror(f) || len > max) {
        fprintf(stderr, "osw-ceiling: %s: unreadable or larger than %zu bytes\n", path, max);
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[len] = '\0';
    *len_out = len;
out:
    fclose(f);
    return buf;
}

/*
 * A response shaped like the webhook's /mutate answer to the 7.5 KB fixture:
 * three annotation `add` operations, base64-encoded, in an AdmissionReview.
 */
static char *builtin_answer(size_t *len_out)
{
    static const char patch[] =
        "[{\"op\":\"add\",\"path\":\"/metadata/annotations/"
        "osimagestream.machineconfiguration.openshift.io~1stream\",\"value\":\"rhel-10\"},"
        "{\"op\":\"add\",\"path\":\"/metadata/annotations/"
        "osimagestream.machineconfiguration.openshift.io~1os-image\",\"value\":\"quay.io/"
        "openshift-release-dev/ocp-v4.0-art-dev@sha256:"
        "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b\"},"
        "{\"op\":\"add\",\"path\":\"/metadata/annotations/"
        "osimagestream.machineconfiguration.openshift.io~1os-extensions-image\",\"value\":"
        "\"quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:"
        "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e\"}]";
    static const char head[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
        "\"response\":{\"uid\":\"0df28fbd-5f5f-4b8a-9b8e-3c7b3f2d6a11\","
        "\"allowed\":true,\"patchType\":\"JSONPatch\",\"patch\":\"";
    static const char tail[] = "\"}}";
    gnutls_datum_t in = {(unsigned char *)(uintptr_t)patch, (unsigned int)(sizeof(patch) - 1)};
    gnutls_datum_t b64 = {NULL, 0};
    char *out = NULL;
    size_t len;

    if (gnutls_base64_encode2(&in, &b64) < 0)
        return NULL;
    len = sizeof(head) - 1 + b64.size + sizeof(tail) - 1;
    out = malloc(len + 1);
    if (out != NULL) {
        memcpy(out, head, sizeof(head) - 1);
        memcpy(out + sizeof(head) - 1, b64.data, b64.size);
        memcpy(out + sizeof(head) - 1 + b64.size, tail, sizeof(tail));
        *len_out = len;
    }
    gnutls_free(b64.data);
    return out;
}

static bool body_append(struct req *r, const char *data, size_t n)
{
    if (r->too_big || n > MAX_BODY - r->len) {
        r->too_big = true; /* keep reading and discarding, answer 413 at the end */
        return true;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 16384;
        char *p;

        while (cap < r->len + n)
            cap *= 2;
        p = realloc(r->data, cap);
        if (p == NULL)
            return false;
        r->data = p;
        r->cap = cap;
    }
    memcpy(r->data + r->len, data, n);
    r->len += n;
    return true;
}

static enum MHD_Result send_fixed(struct MHD_Connection *c, unsigned int status, const char *body,
                                  size_t len, const char *ctype)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/*
 * The first call only allocates the request state (an answer queued here
 * would go out with Connection: close, see STACK.md); body chunks are copied;
 * the final call answers.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    const struct answers *ans = cls;
    struct req *r = *con_cls;

    (void)url;
    (void)version;
    if (r == NULL) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return MHD_NO;
        if (cl != NULL) {
            char *end = NULL;
            unsigned long long n = strtoull(cl, &end, 10);

            if (end != cl && *end == '\0' && n > 0 && n <= MAX_BODY) {
                r->data = malloc((size_t)n);
                r->cap = r->data ? (size_t)n : 0;
            }
        }
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!body_append(r, upload, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") == 0)
        return send_fixed(c, MHD_HTTP_OK, OK_BODY, sizeof(OK_BODY) - 1, "text/plain");
    if (r->too_big)
        return send_fixed(c, MHD_HTTP_CONTENT_TOO_LARGE, OK_BODY, 0, "text/plain");
    return send_fixed(c, MHD_HTTP_OK, ans->json, ans->json_len, "application/json");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (r != NULL) {
        free(r->data);
        free(r);
        *con_cls = NULL;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: osw-ceiling --listen PORT --cert FILE --key FILE [--response FILE]\n"
               "  Serves https://127.0.0.1:PORT/ (any path): POST answers a fixed JSON\n"
               "  (--response FILE, or a built-in /mutate-sized answer), GET answers \"ok\".\n"
               "  Prints \"ready port=PORT response_bytes=N\" when listening; stops on\n"
               "  SIGINT/SIGTERM.\n");
}

int main(int argc, char **argv)
{
    const char *port_s = NULL, *cert_path = NULL, *key_path = NULL, *resp_path = NULL;
    char *cert = NULL, *key = NULL, *json = NULL;
    size_t cert_len = 0, key_len = 0, json_len = 0;
    struct answers ans;
    struct MHD_Daemon *d = NULL;
    struct sockaddr_in sa;
    sigset_t set;
    unsigned long port;
    char *end = NULL;
    int sig = 0, rc = 1;

    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;

        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--listen") == 0)
            dst = &port_s;
        else if (strcmp(argv[i], "--cert") == 0)
            dst = &cert_path;
        else if (strcmp(argv[i], "--key") == 0)
            dst = &key_path;
        else if (strcmp(argv[i], "--response") == 0)
            dst = &resp_path;
        if (dst == NULL || i + 1 >= argc) {
            fprintf(stderr, "osw-ceiling: bad argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        *dst = argv[++i];
    }
    if (port_s == NULL || cert_path == NULL || key_path == NULL) {
        usage(stderr);
        return 2;
    }
    errno = 0;
    port = strtoul(port_s, &end, 10);
    if (errno != 0 || end == port_s || *end != '\0' || port == 0 || port > 65535) {
        fprintf(stderr, "osw-ceiling: bad port '%s'\n", port_s);
        return 2;
    }

    cert = read_file(cert_path, MAX_PEM, &cert_len);
    key = read_file(key_path, MAX_PEM, &key_len);
    if (cert == NULL || key == NULL)
        goto out;
    json = resp_path ? read_file(resp_path, MAX_BODY, &json_len) : builtin_answer(&json_len);
    if (json == NULL)
        goto out;
    ans.json = json;
    ans.json_len = json_len;

    /* Block the stop signals before MHD starts its threads; main waits for them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, (uint16_t)port,
                         NULL, NULL, on_request, &ans, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
                         MHD_OPTION_HTTPS_PRIORITIES, CEIL_PRIORITIES, MHD_OPTION_THREAD_POOL_SIZE,
                         2u, MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                         CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                         MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "osw-ceiling: cannot start on 127.0.0.1:%lu\n", port);
        goto out;
    }
    printf("ready port=%lu response_bytes=%zu\n", port, json_len);
    fflush(stdout);
    if (sigwait(&set, &sig) != 0)
        goto out;
    rc = 0;
out:
    if (d != NULL)
        MHD_stop_daemon(d);
    free(json);
    free(key);
    free(cert);
    return rc;
}

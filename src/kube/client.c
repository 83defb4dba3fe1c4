/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes API client (see client.h). One easy handle carries every
 * request and a private multi handle drives it: the multi handle keeps the
 * connection cache (keep-alive between calls), and curl_multi_wakeup() lets
 * osw_kube_client_abort() end a call from another thread at once instead of
 * at the next progress tick. The token file is checked at the start of each
 * request, the way git decides whether its index may be stale.
 */
#include "kube/client.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "kube/credential.h"

/* What we remember about the token file's last read. */
struct token_cache {
    char *token; /* the file's token as last read, or NULL */
    bool have_stat;
    struct stat st;          /* the stat taken just before that read */
    struct timespec read_at; /* CLOCK_REALTIME when it was read */
};

struct osw_kube_client {
    struct osw_kube_config cfg; /* owned copy */
    struct osw_kube_limits limits;
    CURL *easy;
    CURLM *multi;
    atomic_bool aborted;
    struct token_cache tok;
    char errbuf[CURL_ERROR_SIZE];
};

/* Per-call state shared with libcurl's callbacks. */
struct call {
    struct osw_kube_client *c;
    bool (*on_data)(void *ctx, const char *data, size_t len);
    void *ctx;
    bool collect_all; /* POST: keep every body, up to `max` */
    size_t max;
    char *buf; /* collected body (error bodies, or POST answers) */
    size_t len, cap;
    bool too_big;
    bool stopped; /* on_data asked to stop */
    bool saw_retry_after;
    int status_class; /* 0 until known, then status / 100 */
};

static void token_cache_clear(struct token_cache *t)
{
    if (t->token) {
        OPENSSL_cleanse(t->token, strlen(t->token));
        free(t->token);
    }
    memset(t, 0, sizeof(*t));
}

enum osw_err osw_kube_client_new(const struct osw_kube_config *cfg, struct osw_kube_client **out,
                                 struct osw_errbuf *eb)
{
    *out = NULL;
    struct osw_kube_client *c = calloc(1, sizeof(*c));
    if (!c)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    atomic_init(&c->aborted, false);
    c->limits.connect_timeout_ms = OSW_KUBE_CONNECT_TIMEOUT_MS;
    c->limits.request_timeout_ms = OSW_KUBE_REQUEST_TIMEOUT_MS;
    c->limits.watch_low_speed_s = OSW_KUBE_WATCH_LOW_SPEED_S;
    enum osw_err err = osw_kube_config_copy(&c->cfg, cfg);
    if (err != OSW_OK) {
        free(c);
        return osw_errbuf_set(eb, err, "out of memory");
    }
    if (!c->cfg.server) {
        err = osw_errbuf_set(eb, OSW_EINVAL, "no server configured");
        goto fail;
    }
    c->easy = curl_easy_init();
    c->multi = curl_multi_init();
    if (!c->easy || !c->multi) {
        err = osw_errbuf_set(eb, OSW_ENOMEM, "cannot create a libcurl handle");
        goto fail;
    }
    *out = c;
    return OSW_OK;
fail:
    osw_kube_client_free(c);
    return err;
}

void osw_kube_client_free(struct osw_kube_client *c)
{
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    token_cache_clear(&c->tok);
    osw_kube_config_free(&c->cfg);
    free(c);
}

void osw_kube_client_set_limits(struct osw_kube_client *c, const struct osw_kube_limits *l)
{
    if (l->connect_timeout_ms > 0)
        c->limits.connect_timeout_ms = l->connect_timeout_ms;
    if (l->request_timeout_ms > 0)
        c->limits.request_timeout_ms = l->request_timeout_ms;
    if (l->watch_low_speed_s > 0)
        c->limits.watch_low_speed_s = l->watch_low_speed_s;
}

void osw_kube_client_abort(struct osw_kube_client *c)
{
    atomic_store(&c->aborted, true);
    curl_multi_wakeup(c->multi);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Whether the last read happened less than 1 s after the file's mtime: a
 * same-size rewrite in the same timestamp tick would then look unchanged. */
static bool read_was_racy(const struct token_cache *t)
{
    int64_t read_ns = (int64_t)t->read_at.tv_sec * 1000000000 + t->read_at.tv_nsec;
    int64_t mod_ns = (int64_t)t->st.st_mtim.tv_sec * 1000000000 + t->st.st_mtim.tv_nsec;
    return read_ns - mod_ns < 1000000000;
}

/* The token for the request about to start (borrowed from `c`), or NULL
 * for none; OSW_EIO when a token file is configured and no token can be had. */
static enum osw_err current_token(struct osw_kube_client *c, const char **token,
                                  struct osw_errbuf *eb)
{
    struct token_cache *t = &c->tok;
    *token = c->cfg.token;
    if (!c->cfg.token_file)
        return OSW_OK;
    struct stat st;
    struct osw_errbuf e2;
    enum osw_err err;
    if (stat(c->cfg.token_file, &st) != 0) {
        osw_errbuf_set(&e2, OSW_EIO, "%s", strerror(errno));
        goto unreadable;
    }
    if (t->token && t->have_stat && same_file(&st, &t->st) && !read_was_racy(t)) {
        *token = t->token;
        return OSW_OK;
    }
    char *data = NULL;
    size_t len = 0;
    err = osw_credential_read_file(c->cfg.token_file, OSW_KUBE_TOKEN_MAX_BYTES, &data, &len, &e2);
    if (err != OSW_OK || !data)
        goto unreadable;
    if (!osw_credential_token_clean(data, &len)) {
        OPENSSL_cleanse(data, len);
        free(data);
        osw_errbuf_set(&e2, OSW_EIO, "empty or holds a control character");
        goto unreadable;
    }
    token_cache_clear(t);
    t->token = data;
    t->st = st;
    t->have_stat = true;
    clock_gettime(CLOCK_REALTIME, &t->read_at);
    *token = t->token;
    return OSW_OK;
unreadable:
    /* As client-go: keep the last good token, else the static one. */
    if (t->token) {
        t->have_stat = false; /* try again next time */
        *token = t->token;
        return OSW_OK;
    }
    if (c->cfg.token)
        return OSW_OK;
    return osw_errbuf_set(eb, OSW_EIO, "token file %s: %s", c->cfg.token_file, e2.msg);
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    struct call *k = userp;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
        k->saw_retry_after = false; /* a new response (after a 100, say) */
    else if (len >= sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0)
        k->saw_retry_after = true;
    return len;
}

/* Appends to the call's buffer, up to k->max; false once past it. */
static bool collect(struct call *k, const char *data, size_t len)
{
    if (len > k->max - k->len) {
        k->too_big = true;
        len = k->max - k->len;
    }
    if (k->len + len + 1 > k->cap) {
        size_t ncap = k->cap ? k->cap : 4096;
        while (ncap < k->len + len + 1)
            ncap *= 2;
        char *nb = realloc(k->buf, ncap);
        if (!nb)
            return false;
        k->buf = nb;
        k->cap = ncap;
    }
    memcpy(k->buf + k->len, data, len);
    k->len += len;
    k->buf[k->len] = '\0';
    return !k->too_big;
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    struct call *k = userp;
    size_t len = size * n;
    if (k->status_class == 0) {
        long status = 0;
        curl_easy_getinfo(k->c->easy, CURLINFO_RESPONSE_CODE, &status);
        k->status_class = (int)(status / 100);
    }
    if (k->collect_all)
        return collect(k, data, len) ? len : 0;
    if (k->status_class != 2) {
        /* An error answer: keep its start for the Status message, drop the rest. */
        if (k->len < k->max)
            (void)collect(k, data, len);
        k->too_big = false;
        return len;
    }
    if (k->on_data && !k->on_data(k->ctx, data, len)) {
        k->stopped = true;
        return 0; /* ends the transfer (CURLE_WRITE_ERROR) */
    }
    return len;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    struct call *k = userp;
    return atomic_load(&k->c->aborted) ? 1 : 0;
}

/* A path appended to the server URL: starts with '/', no space or control. */
static bool path_ok(const char *p)
{
    if (!p || p[0] != '/')
        return false;
    for (; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

/* Every option is set again for each request (it costs little), so no
 * request depends on what the previous one left on the reused handle. */
static CURLcode set_common(struct osw_kube_client *c, struct call *k, bool watch)
{
    CURL *e = c->easy;
    CURLcode rc = CURLE_OK;
    const struct osw_kube_config *cfg = &c->cfg;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(e, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "https"); /* never a token in clear text */
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_PROXY, ""); /* never a proxy from the environment */
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_USERAGENT, "osstream-webhook/" OSW_VERSION);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TCP_KEEPIDLE, 30L);
    SET(CURLOPT_TCP_KEEPINTVL, 10L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->limits.connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, watch ? 0L : c->limits.request_timeout_ms);
    SET(CURLOPT_LOW_SPEED_LIMIT, watch ? 1L : 0L);
    SET(CURLOPT_LOW_SPEED_TIME, watch ? c->limits.watch_low_speed_s : 0L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_SSL_VERIFYPEER, cfg->insecure_skip_tls_verify ? 0L : 1L);
    SET(CURLOPT_SSL_VERIFYHOST, cfg->insecure_skip_tls_verify ? 0L : 2L);
    if (cfg->ca_pem) {
        /* Only this CA: the built-in bundle and directory (Debian's curl
         * has both) would otherwise be trusted as well. */
        struct curl_blob blob = {cfg->ca_pem, cfg->ca_len, CURL_BLOB_COPY};
        SET(CURLOPT_CAINFO, (char *)NULL);
        SET(CURLOPT_CAPATH, (char *)NULL);
        SET(CURLOPT_CAINFO_BLOB, &blob);
    }
    if (cfg->client_cert_pem) {
        struct curl_blob cert = {cfg->client_cert_pem, cfg->client_cert_len, CURL_BLOB_COPY};
        struct curl_blob key = {cfg->client_key_pem, cfg->client_key_len, CURL_BLOB_COPY};
        SET(CURLOPT_SSLCERT_BLOB, &cert);
        SET(CURLOPT_SSLCERTTYPE, "PEM");
        SET(CURLOPT_SSLKEY_BLOB, &key);
        SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, k);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, k);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, k);
#undef SET
    return rc;
}

/* Runs the transfer through the multi handle, waking every second at most
 * (and at once on abort). Returns the transfer's result. */
static CURLcode perform(struct osw_kube_client *c)
{
    CURLcode res = CURLE_OK;
    if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK)
        return CURLE_OUT_OF_MEMORY;
    int running = 1;
    while (running) {
        if (atomic_load(&c->aborted)) {
            res = CURLE_ABORTED_BY_CALLBACK;
            goto out;
        }
        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            res = CURLE_FAILED_INIT;
            goto out;
        }
        if (running && curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
            res = CURLE_FAILED_INIT;
            goto out;
        }
    }
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg == CURLMSG_DONE)
            res = m->data.result;
    }
out:
    curl_multi_remove_handle(c->multi, c->easy);
    return res;
}

/* The `message` of a metav1.Status body, else the start of the body. */
static void status_message(const struct call *k, long status, struct osw_errbuf *eb)
{
    json_t *j = k->buf ? json_loadb(k->buf, k->len, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "message"));
    char text[300];
    snprintf(text, sizeof(text), "%s", msg ? msg : (k->buf ? k->buf : ""));
    for (char *p = text; *p; p++) {
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    }
    osw_errbuf_set(eb, OSW_OK, "HTTP %ld%s%s", status, text[0] ? ": " : "", text);
    json_decref(j);
}

/* One request: method set up by the caller; `k` filled with callbacks. */
static enum osw_err run(struct osw_kube_client *c, const char *method, const char *path, bool watch,
                        struct call *k, struct curl_slist **hdrs, struct osw_kube_response *resp,
                        struct osw_errbuf *eb)
{
    const char *token;
    enum osw_err err;
    resp->status = 0;
    resp->retry_after_s = -1;
    if (atomic_load(&c->aborted))
        return osw_errbuf_set(eb, OSW_EIO, "aborted");
    if (!path_ok(path))
        return osw_errbuf_set(eb, OSW_EINVAL, "bad request path");
    if ((err = current_token(c, &token, eb)) != OSW_OK)
        return err;
    size_t ul = strlen(c->cfg.server) + strlen(path) + 1;
    char *url = malloc(ul);
    if (!url)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    snprintf(url, ul, "%s%s", c->cfg.server, path);
    struct curl_slist *h = curl_slist_append(*hdrs, "Accept: application/json");
    if (h)
        *hdrs = h;
    if (h && token) {
        size_t al = strlen("Authorization: Bearer ") + strlen(token) + 1;
        char *auth = malloc(al);
        h = NULL;
        if (auth) {
            snprintf(auth, al, "Authorization: Bearer %s", token);
            h = curl_slist_append(*hdrs, auth);
            OPENSSL_cleanse(auth, al);
            free(auth);
        }
        if (h)
            *hdrs = h;
    }
    c->errbuf[0] = '\0';
    CURLcode rc = h ? set_common(c, k, watch) : CURLE_OUT_OF_MEMORY;
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c->easy, CURLOPT_URL, url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, *hdrs);
    if (rc != CURLE_OK) {
        err = osw_errbuf_set(eb, rc == CURLE_OUT_OF_MEMORY ? OSW_ENOMEM : OSW_EINVAL,
                             "libcurl refused an option: %s", curl_easy_strerror(rc));
        goto out;
    }
    rc = perform(c);
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_off_t ra = 0;
    if (k->saw_retry_after && curl_easy_getinfo(c->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK)
        resp->retry_after_s = (double)ra;
    if (atomic_load(&c->aborted)) {
        err = osw_errbuf_set(eb, OSW_EIO, "aborted");
    } else if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && k->stopped)) {
        err = OSW_OK;
        if (resp->status / 100 != 2 && !k->collect_all)
            status_message(k, resp->status, eb);
    } else if (rc == CURLE_WRITE_ERROR && k->too_big) {
        err = osw_errbuf_set(eb, OSW_ETOOBIG, "%s %s: answer larger than %zu bytes", method, path,
                             k->max);
    } else {
        const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
        bool cert = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE;
        err = osw_errbuf_set(eb, OSW_EIO, "%s %s%s: %s%s", method, c->cfg.server, path,
                             cert ? "certificate verify failed: " : "", why);
        if (!watch)
            resp->status = 0; /* only a watch's answer can break after its status */
    }
out:
    free(url);
    return err;
}

enum osw_err osw_kube_client_get(struct osw_kube_client *c, const char *path_and_query, bool watch,
                                 bool (*on_data)(void *ctx, const char *data, size_t len),
                                 void *ctx, struct osw_kube_response *resp, struct osw_errbuf *eb)
{
    struct call k = {.c = c, .on_data = on_data, .ctx = ctx, .max = OSW_KUBE_ERROR_BODY_MAX};
    struct curl_slist *hdrs = NULL;
    curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
    enum osw_err err = run(c, "GET", path_and_query, watch, &k, &hdrs, resp, eb);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_slist_free_all(hdrs);
    free(k.buf);
    return err;
}

enum osw_err osw_kube_client_post(struct osw_kube_client *c, const char *path, const char *json,
                                  size_t json_len, size_t max_bytes, char **body, size_t *body_len,
                                  struct osw_kube_response *resp, struct osw_errbuf *eb)
{
    struct call k = {.c = c, .collect_all = true, .max = max_bytes};
    /* No "Expect: 100-continue" (libcurl adds it to larger bodies): a
     * server that ignores it would cost a second's wait per review. */
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
    if (h2)
        hdrs = h2;
    *body = NULL;
    *body_len = 0;
    if (!h2) {
        curl_slist_free_all(hdrs);
        resp->status = 0;
        resp->retry_after_s = -1;
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    curl_easy_setopt(c->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)json_len);
    enum osw_err err = run(c, "POST", path, false, &k, &hdrs, resp, eb);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, (char *)NULL);
    curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
    curl_slist_free_all(hdrs);
    if (err == OSW_OK) {
        if (!k.buf && !(k.buf = calloc(1, 1)))
            return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        *body = k.buf;
        *body_len = k.len;
        return OSW_OK;
    }
    free(k.buf);
    return err;
}

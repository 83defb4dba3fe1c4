/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the Kubernetes API client against the kube-apiserver double
 * (tests/integration/kubeapi.py, started as a subprocess in --stdio mode and
 * driven by JSON lines): the headers every request carries, keep-alive,
 * token file rotation (renamed over and rewritten in place), a CA that does
 * not verify (no request reaches the server), insecure skip, client
 * certificates, status and Retry-After reporting, a watch body streamed in
 * pieces, early stop, abort from another thread, silent-watch and request
 * timeouts, POST, and transport failures. Every wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "testutil.h"

#include "cli/gencerts.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

extern char **environ;

#define OSIS "/apis/machineconfiguration.openshift.io/v1/osimagestreams"

/* One running double. */
struct dbl {
    pid_t pid;
    int in, out; /* its stdin (we write), its stdout (we read) */
    char buf[1 << 20];
    size_t have;
    json_t *info; /* the first line it printed */
};

static char g_dir[64];
static char g_certs[128], g_other[128];
static struct dbl g_api;                                  /* token "tok", no client certificates */
static struct dbl g_mtls;                                 /* asks for client certificates */
static pthread_mutex_t g_ctl = PTHREAD_MUTEX_INITIALIZER; /* one command at a time */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One line from the double (bounded wait); the caller frees it. */
static json_t *dbl_read(struct dbl *d)
{
    double deadline = now_s() + 30;
    for (;;) {
        char *nl = memchr(d->buf, '\n', d->have);
        if (nl) {
            size_t n = (size_t)(nl - d->buf);
            json_error_t je;
            json_t *j = json_loadb(d->buf, n, 0, &je);
            memmove(d->buf, nl + 1, d->have - n - 1);
            d->have -= n + 1;
            if (!j)
                fail_msg("double said something that is not JSON: %s", je.text);
            return j;
        }
        struct pollfd p = {d->out, POLLIN, 0};
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0)
            fail_msg("the double did not answer within 30 s");
        if (poll(&p, 1, left) < 0 && errno != EINTR)
            fail_msg("poll: %s", strerror(errno));
        if (!(p.revents & (POLLIN | POLLHUP)))
            continue;
        ssize_t r = read(d->out, d->buf + d->have, sizeof(d->buf) - d->have - 1);
        if (r <= 0)
            fail_msg("the double exited");
        d->have += (size_t)r;
    }
}

/* Sends one command (a JSON object built from `fmt`) and returns "result"
 * (a new reference, NULL for null); fails the test when "ok" is false. */
static json_t *cmd(struct dbl *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_error_t je;
    json_t *c = json_vpack_ex(&je, 0, fmt, ap);
    va_end(ap);
    if (!c)
        fail_msg("bad command: %s", je.text);
    char *text = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    pthread_mutex_lock(&g_ctl);
    size_t len = strlen(text);
    text[len] = '\n';
    assert_int_equal(write(d->in, text, len + 1), (ssize_t)(len + 1));
    free(text);
    json_t *ans = dbl_read(d);
    pthread_mutex_unlock(&g_ctl);
    if (!json_is_true(json_object_get(ans, "ok")))
        fail_msg("double refused a command: %s", json_string_value(json_object_get(ans, "error")));
    json_t *res = json_incref(json_object_get(ans, "result"));
    json_decref(ans);
    return res;
}

static void dbl_start(struct dbl *d, bool mtls)
{
    int in[2], out[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    char script[512], ccdir[160];
    osw_test_pathf(script, sizeof(script), "%s/../integration/kubeapi.py", OSW_TEST_DATA);
    osw_test_pathf(ccdir, sizeof(ccdir), "%s/client", g_dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char a_py[] = "python3", a_stdio[] = "--stdio", a_cd[] = "--certdir", a_tok[] = "--token",
         a_tokv[] = "tok", a_mc[] = "--make-client-cert";
    char *argv[] = {a_py,  script, a_stdio, a_cd, g_certs, a_tok, a_tokv, mtls ? a_mc : NULL,
                    ccdir, NULL};
    if (mtls)
        assert_int_equal(mkdir(ccdir, 0700), 0);
    int rc = posix_spawnp(&d->pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    close(in[0]);
    close(out[1]);
    d->in = in[1];
    d->out = out[0];
    d->have = 0;
    d->info = dbl_read(d);
}

static void dbl_stop(struct dbl *d)
{
    if (!d->pid)
        return;
    close(d->in); /* EOF: the double stops */
    int st;
    double deadline = now_s() + 10;
    while (waitpid(d->pid, &st, WNOHANG) == 0) {
        if (now_s() > deadline) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, &st, 0);
            break;
        }
        sleep_ms(20);
    }
    close(d->out);
    json_decref(d->info);
    d->pid = 0;
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
    snprintf(g_dir, sizeof(g_dir), "/tmp/osw-kclient-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    const char *names[] = {"localhost"};
    struct osw_errbuf eb;
    osw_test_pathf(g_certs, sizeof(g_certs), "%s/certs", g_dir);
    osw_test_pathf(g_other, sizeof(g_other), "%s/other", g_dir);
    assert_int_equal(osw_gencerts_write(g_certs, names, 1, false, &eb), OSW_OK);
    assert_int_equal(osw_gencerts_write(g_other, names, 1, false, &eb), OSW_OK);
    dbl_start(&g_api, false);
    dbl_start(&g_mtls, true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dbl_stop(&g_api);
    dbl_stop(&g_mtls);
    assert_int_equal(osw_test_rmtree(g_dir), 0);
    curl_global_cleanup();
    return 0;
}

/* Before each test: no overrides, no recorded requests, token "tok". */
static int reset(void **state)
{
    (void)state;
    json_decref(cmd(&g_api, "{s:s}", "op", "clear_overrides"));
    json_decref(cmd(&g_api, "{s:s}", "op", "clear_requests"));
    json_decref(cmd(&g_api, "{s:s, s:s}", "op", "set_token", "token", "tok"));
    json_decref(cmd(&g_api, "{s:s}", "op", "close_watches"));
    return 0;
}

/* A config for `d` from the kubeconfig the double writes with `kw` options. */
static void config_for(struct dbl *d, struct osw_kube_config *cfg, const char *name, json_t *kw)
{
    json_object_set_new(kw, "op", json_string("write_kubeconfig"));
    json_object_set_new(kw, "directory", json_string(g_dir));
    json_object_set_new(kw, "name", json_string(name));
    json_t *res = cmd(d, "o", kw);
    struct osw_errbuf eb;
    memset(cfg, 0, sizeof(*cfg));
    if (osw_kubeconfig_load(json_string_value(res), cfg, &eb) != OSW_OK)
        fail_msg("kubeconfig: %s", eb.msg);
    json_decref(res);
}

static struct osw_kube_client *client_for(const struct osw_kube_config *cfg)
{
    struct osw_kube_client *c = NULL;
    struct osw_errbuf eb;
    if (osw_kube_client_new(cfg, &c, &eb) != OSW_OK)
        fail_msg("client: %s", eb.msg);
    return c;
}

/* The body of a GET, collected. */
struct sink {
    char data[1 << 16];
    size_t len;
    int pieces;
    int stop_after; /* >0: return false after this many pieces */
};

static bool on_data(void *ctx, const char *data, size_t len)
{
    struct sink *s = ctx;
    if (len > sizeof(s->data) - 1 - s->len)
        len = sizeof(s->data) - 1 - s->len;
    memcpy(s->data + s->len, data, len);
    s->len += len;
    s->data[s->len] = '\0';
    s->pieces++;
    return s->stop_after == 0 || s->pieces < s->stop_after;
}

/* GET the OSImageStreams into `s`: a list, or (`watch`) a watch from a
 * resourceVersion far ahead, so that nothing is replayed, only what is fed. */
static enum osw_err get_osis(struct osw_kube_client *c, bool watch, struct sink *s,
                             struct osw_kube_response *r, struct osw_errbuf *eb)
{
    return osw_kube_client_get(c, watch ? OSIS "?watch=1&resourceVersion=999999" : OSIS, watch,
                               on_data, s, r, eb);
}

/* The recorded requests (a new reference). */
static json_t *recorded(struct dbl *d)
{
    return cmd(d, "{s:s}", "op", "requests");
}

static const char *hdr(json_t *rec, const char *name)
{
    return json_string_value(json_object_get(json_object_get(rec, "headers"), name));
}

static void test_headers_and_keep_alive(void **state)
{
    (void)state;
    struct osw_kube_config cfg;
    config_for(&g_api, &cfg, "kc-plain", json_object());
    struct osw_kube_client *c = client_for(&cfg);
    struct sink s = {0};
    struct osw_kube_response r;
    struct osw_errbuf eb;
    assert_int_equal(osw_kube_client_get(c, OSIS "?fieldSelector=metadata.name%3Dcluster", false,
                                         on_data, &s, &r, &eb),
                     OSW_OK);
    assert_int_equal(r.status, 200);
    assert_true(r.retry_after_s < 0);
    json_t *list = json_loads(s.data, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(list, "kind")), "OSImageStreamList");
    json_decref(list);
    struct sink s2 = {0};
    assert_int_equal(get_osis(c, false, &s2, &r, &eb), OSW_OK);
    json_t *recs = recorded(&g_api);
    assert_int_equal(json_array_size(recs), 2);
    json_t *a = json_array_get(recs, 0), *b = json_array_get(recs, 1);
    assert_string_equal(hdr(a, "accept"), "application/json");
    assert_string_equal(hdr(a, "authorization"), "Bearer tok");
    assert_non_null(strstr(hdr(a, "user-agent"), "osstream-webhook/"));
    assert_string_equal(json_string_value(json_object_get(a, "rawquery")),
                        "fieldSelector=metadata.name%3Dcluster");
    assert_string_equal(hdr(b, "authorization"), "Bearer tok");
    /* keep-alive: the same client port */
    assert_int_equal(json_integer_value(json_object_get(a, "conn")),
                     json_integer_value(json_object_get(b, "conn")));
    json_decref(recs);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
}

static void test_status_and_retry_after(void **state)
{
    (void)state;
    struct osw_kube_config cfg;
    config_for(&g_api, &cfg, "kc-status", json_object());
    struct osw_kube_client *c = client_for(&cfg);
    struct sink s = {0};
    struct osw_kube_response r;
    struct osw_errbuf eb;
    json_decref(cmd(&g_api, "{s:s, s:i, s:i, s:i, s:s}", "op", "override", "status", 429,
                    "retry_after", 7, "times", 1, "message", "slow down"));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 429);
    assert_true(r.retry_after_s > 6.9 && r.retry_after_s < 7.1);
    assert_string_equal(eb.msg, "HTTP 429: slow down");
    assert_int_equal(s.pieces, 0); /* an error body is not data */
    json_decref(cmd(&g_api, "{s:s, s:i, s:i}", "op", "override", "status", 403, "times", 1));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 403);
    assert_true(r.retry_after_s < 0);
    assert_string_equal(eb.msg, "HTTP 403: forced by the test double");
    /* Retry-After: 0 is reported as 0, not as absent. */
    json_decref(cmd(&g_api, "{s:s, s:i, s:i, s:i}", "op", "override", "status", 503, "retry_after",
                    0, "times", 1));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 503);
    assert_true(r.retry_after_s == 0);
    json_decref(cmd(&g_api, "{s:s, s:s, s:s}", "op", "unserve", "version", "v1", "resource",
                    "osimagestreams"));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 404);
    json_decref(cmd(&g_api, "{s:s, s:s}", "op", "serve_again", "version", "v1"));
    /* A wrong token: 401 (the double's), still OSW_OK. */
    json_decref(cmd(&g_api, "{s:s, s:s}", "op", "set_token", "token", "other"));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 401);
    assert_int_equal(s.pieces, 0);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
}

static void write_token(const char *path, const char *tok, bool in_place)
{
    char tmp[256];
    osw_test_pathf(tmp, sizeof(tmp), "%s.tmp", path);
    const char *target = in_place ? path : tmp;
    int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, tok, strlen(tok)), (ssize_t)strlen(tok));
    close(fd);
    if (!in_place)
        assert_int_equal(rename(tmp, path), 0);
}

static const char *last_auth(json_t **recs)
{
    json_decref(*recs);
    *recs = recorded(&g_api);
    size_t n = json_array_size(*recs);
    assert_true(n > 0);
    return hdr(json_array_get(*recs, n - 1), "authorization");
}

static void test_token_file_rotation(void **state)
{
    (void)state;
    char tf[256];
    osw_test_pathf(tf, sizeof(tf), "%s/token", g_dir);
    write_token(tf, "tok", false);
    struct osw_kube_config cfg;
    config_for(&g_api, &cfg, "kc-tokenfile", json_pack("{s:n, s:s}", "token", "token_file", tf));
    assert_null(cfg.token);
    struct osw_kube_client *c = client_for(&cfg);
    struct sink s = {0};
    struct osw_kube_response r;
    struct osw_errbuf eb;
    json_t *recs = NULL;
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(last_auth(&recs), "Bearer tok");
    /* Renamed over (as kubelet does): the next request carries it. */
    json_decref(
        cmd(&g_api, "{s:s, s:s, s:s}", "op", "rotate_token", "token_file", tf, "token", "tok-2"));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(last_auth(&recs), "Bearer tok-2");
    /* Rewritten in place (same inode, same size): seen through mtime and
     * ctime. (A rewrite within one timestamp tick of the last read is
     * caught by re-reading for a second after each change; no test can
     * force one tick reliably.) */
    write_token(tf, "tok-3", true);
    json_decref(cmd(&g_api, "{s:s, s:s}", "op", "set_token", "token", "tok-3"));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(last_auth(&recs), "Bearer tok-3");
    /* Gone: the last token read is kept (client-go does the same). */
    assert_int_equal(unlink(tf), 0);
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_string_equal(last_auth(&recs), "Bearer tok-3");
    /* Back, more than a second after its last change: read again. */
    write_token(tf, "tok-4\n", false);
    json_decref(cmd(&g_api, "{s:s, s:s}", "op", "set_token", "token", "tok-4"));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(last_auth(&recs), "Bearer tok-4");
    json_decref(recs);
    osw_kube_client_free(c);

    /* Never readable and no static token: nothing is sent. */
    json_decref(cmd(&g_api, "{s:s}", "op", "clear_requests"));
    free(cfg.token_file);
    cfg.token_file = strdup("/nonexistent/osw/token");
    c = client_for(&cfg);
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "token file /nonexistent/osw/token"));
    assert_int_equal(r.status, 0);
    osw_kube_client_free(c);
    /* ... with a static token as well, the static one is used. */
    cfg.token = strdup("tok-4");
    c = client_for(&cfg);
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 200);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
}

static void test_ca_mismatch_sends_nothing(void **state)
{
    (void)state;
    struct osw_kube_config cfg;
    config_for(&g_api, &cfg, "kc-ca", json_object());
    char path[256];
    osw_test_pathf(path, sizeof(path), "%s/ca.crt", g_other);
    free(cfg.ca_pem);
    cfg.ca_pem = osw_test_slurp(path, &cfg.ca_len);
    struct osw_kube_client *c = client_for(&cfg);
    struct sink s = {0};
    struct osw_kube_response r;
    struct osw_errbuf eb;
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "certificate verify failed"));
    assert_null(strstr(eb.msg, "tok"));
    assert_int_equal(r.status, 0);
    json_t *recs = recorded(&g_api);
    assert_int_equal(json_array_size(recs), 0);
    json_decref(recs);
    /* The double records the failed handshake on its own thread: wait for it. */
    json_int_t fails = 0;
    for (double end = now_s() + 10; fails < 1 && now_s() < end; sleep_ms(20)) {
        json_t *hf = cmd(&g_api, "{s:s}", "op", "handshake_failures");
        fails = json_integer_value(hf);
        json_decref(hf);
    }
    assert_true(fails >= 1);
    recs = recorded(&g_api);
    assert_int_equal(json_array_size(recs), 0);
    json_decref(recs);
    osw_kube_client_free(c);
    /* No CA at all: the system's, which do not include the double's CA. */
    free(cfg.ca_pem);
    cfg.ca_pem = NULL;
    cfg.ca_len = 0;
    c = client_for(&cfg);
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_EIO);
    assert_non_null(strstr(eb.msg, "certificate verify failed"));
    osw_kube_client_free(c);
    /* insecure-skip-tls-verify: answered. */
    osw_kube_config_free(&cfg);
    config_for(&g_api, &cfg, "kc-insecure", json_pack("{s:b}", "insecure", 1));
    assert_true(cfg.insecure_skip_tls_verify);
    c = client_for(&cfg);
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 200);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
}

static void test_client_certificate(void **state)
{
    (void)state;
    json_t *cc = json_object_get(g_mtls.info, "client_cert");
    struct osw_kube_config cfg;
    config_for(&g_mtls, &cfg, "kc-mtls",
               json_pack("{s:n, s:s, s:s}", "token", "client_cert",
                         json_string_value(json_object_get(cc, "crt")), "client_key",
                         json_string_value(json_object_get(cc, "key"))));
    assert_null(cfg.token);
    assert_non_null(cfg.client_cert_pem);
    struct osw_kube_client *c = client_for(&cfg);
    struct sink s = {0};
    struct osw_kube_response r;
    struct osw_errbuf eb;
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 401); /* no token: the double wants one */
    json_t *recs = recorded(&g_mtls);
    json_t *last = json_array_get(recs, json_array_size(recs) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "client_cert")), "osw-test-client");
    assert_null(hdr(last, "authorization"));
    json_decref(recs);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
    /* Without a client certificate the double sees none. */
    config_for(&g_mtls, &cfg, "kc-mtls2", json_object());
    c = client_for(&cfg);
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 200);
    recs = recorded(&g_mtls);
    last = json_array_get(recs, json_array_size(recs) - 1);
    assert_true(json_is_null(json_object_get(last, "client_cert")));
    json_decref(recs);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
}

/* A thread that feeds a watch once it is open. */
struct feeder {
    const char *what; /* "pieces", "abort", "silent" */
    struct osw_kube_client *c;
    double aborted_at;
};

static void *feed(void *arg)
{
    struct feeder *f = arg;
    json_decref(cmd(&g_api, "{s:s, s:s, s:f}", "op", "wait_watch", "resource", "osimagestreams",
                    "timeout", 10.0));
    if (strcmp(f->what, "pieces") == 0) {
        json_decref(cmd(&g_api, "{s:s, s:s, s:[s,s,s], s:f}", "op", "send_raw", "resource",
                        "osimagestreams", "pieces", "{\"type\":\"ADD", "ED\",\"object\":{}}\n{",
                        "\"type\":\"BOOKMARK\"}\n", "gap", 0.1));
        json_decref(cmd(&g_api, "{s:s, s:s}", "op", "close_watches", "resource", "osimagestreams"));
    } else if (strcmp(f->what, "abrupt") == 0) {
        json_decref(cmd(&g_api, "{s:s, s:s, s:[s]}", "op", "send_raw", "resource", "osimagestreams",
                        "pieces", "{\"type\":\"ADDED\"}\n"));
        sleep_ms(100);
        json_decref(cmd(&g_api, "{s:s, s:s, s:b}", "op", "close_watches", "resource",
                        "osimagestreams", "abrupt", 1));
    } else if (strcmp(f->what, "abort") == 0) {
        sleep_ms(100);
        f->aborted_at = now_s();
        osw_kube_client_abort(f->c);
    }
    return NULL;
}

/* Starts the feeder once the previous watch is gone on the double's side,
 * or the feeder would mistake that one for the watch about to start. */
static void start_feeder(pthread_t *th, struct feeder *f)
{
    json_decref(cmd(&g_api, "{s:s, s:s, s:f}", "op", "wait_no_watch", "resource", "osimagestreams",
                    "timeout", 10.0));
    assert_int_equal(pthread_create(th, NULL, feed, f), 0);
}

static void test_watch_streams_pieces(void **state)
{
    (void)state;
    struct osw_kube_config cfg;
    config_for(&g_api, &cfg, "kc-watch", json_object());
    struct osw_kube_client *c = client_for(&cfg);
    struct feeder f = {.what = "pieces", .c = c};
    pthread_t th;
    start_feeder(&th, &f);
    struct sink s = {0};
    struct osw_kube_response r;
    struct osw_errbuf eb;
    /* resourceVersion far ahead: nothing is replayed, only what is fed. */
    assert_int_equal(get_osis(c, true, &s, &r, &eb), OSW_OK);
    pthread_join(th, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(s.data, "{\"type\":\"ADDED\",\"object\":{}}\n{\"type\":\"BOOKMARK\"}\n");
    assert_true(s.pieces >= 2); /* 100 ms apart: not one read */
    /* on_data returning false ends the transfer: OSW_OK with the status. */
    struct sink s2 = {.stop_after = 1};
    f.what = "pieces";
    start_feeder(&th, &f);
    assert_int_equal(get_osis(c, true, &s2, &r, &eb), OSW_OK);
    pthread_join(th, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(s2.pieces, 1);
    /* A stream dropped mid-body: OSW_EIO, the status that began it kept. */
    struct sink s3 = {0};
    f.what = "abrupt";
    start_feeder(&th, &f);
    assert_int_equal(get_osis(c, true, &s3, &r, &eb), OSW_EIO);
    pthread_join(th, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(s3.data, "{\"type\":\"ADDED\"}\n");
    /* The client still works afterwards. */
    struct sink s4 = {0};
    assert_int_equal(get_osis(c, false, &s4, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 200);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
}

static void test_abort_from_another_thread(void **state)
{
    (void)state;
    struct osw_kube_config cfg;
    config_for(&g_api, &cfg, "kc-abort", json_object());
    struct osw_kube_client *c = client_for(&cfg);
    struct feeder f = {.what = "abort", .c = c};
    pthread_t th;
    start_feeder(&th, &f);
    struct sink s = {0};
    struct osw_kube_response r;
    struct osw_errbuf eb;
    assert_int_equal(get_osis(c, true, &s, &r, &eb), OSW_EIO);
    double took = now_s() - f.aborted_at;
    pthread_join(th, NULL);
    assert_string_equal(eb.msg, "aborted");
    if (took > 0.5)
        fail_msg("abort took %.3f s", took);
    /* Later calls too, without sending anything. */
    json_decref(cmd(&g_api, "{s:s}", "op", "clear_requests"));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_EIO);
    assert_string_equal(eb.msg, "aborted");
    char *body = NULL;
    size_t blen = 0;
    assert_int_equal(osw_kube_client_post(c, "/x", "{}", 2, 100, &body, &blen, &r, &eb), OSW_EIO);
    assert_null(body);
    json_t *recs = recorded(&g_api);
    assert_int_equal(json_array_size(recs), 0);
    json_decref(recs);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
}

static void test_timeouts(void **state)
{
    (void)state;
    struct osw_kube_config cfg;
    config_for(&g_api, &cfg, "kc-timeouts", json_object());
    struct osw_kube_client *c = client_for(&cfg);
    struct osw_kube_limits lim = {.request_timeout_ms = 300, .watch_low_speed_s = 1};
    osw_kube_client_set_limits(c, &lim);
    struct sink s = {0};
    struct osw_kube_response r;
    struct osw_errbuf eb;
    /* A silent watch ends on the low-speed limit. */
    double t0 = now_s();
    assert_int_equal(get_osis(c, true, &s, &r, &eb), OSW_EIO);
    double took = now_s() - t0;
    assert_true(took >= 0.9 && took < 5);
    assert_int_equal(r.status, 200);
    /* A slow answer ends on the request timeout. */
    json_decref(cmd(&g_api, "{s:s, s:f, s:i}", "op", "override", "delay", 1.0, "times", 1));
    t0 = now_s();
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_EIO);
    took = now_s() - t0;
    assert_true(took < 0.9);
    assert_non_null(strstr(eb.msg, "imed out"));
    assert_int_equal(r.status, 0);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
}

static void test_post(void **state)
{
    (void)state;
    struct osw_kube_config cfg;
    config_for(&g_api, &cfg, "kc-post", json_object());
    struct osw_kube_client *c = client_for(&cfg);
    const char *path = "/apis/authentication.k8s.io/v1/tokenreviews";
    json_decref(cmd(&g_api, "{s:s, s:s, s:i, s:{s:b}}", "op", "post_reply", "path", path, "status",
                    201, "body", "authenticated", 1));
    char *body = NULL;
    size_t blen = 0;
    struct osw_kube_response r;
    struct osw_errbuf eb;
    const char *req = "{\"kind\":\"TokenReview\"}";
    assert_int_equal(osw_kube_client_post(c, path, req, strlen(req), 1024, &body, &blen, &r, &eb),
                     OSW_OK);
    assert_int_equal(r.status, 201);
    assert_string_equal(body, "{\"authenticated\":true}");
    assert_int_equal(blen, strlen(body));
    free(body);
    json_t *recs = recorded(&g_api);
    json_t *last = json_array_get(recs, json_array_size(recs) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(last, "body")), req);
    assert_string_equal(hdr(last, "content-type"), "application/json");
    assert_string_equal(hdr(last, "authorization"), "Bearer tok");
    json_decref(recs);
    /* A larger body goes without "Expect: 100-continue", whole. */
    static char big[8192];
    memset(big, 'x', sizeof(big) - 3);
    big[0] = '"';
    big[sizeof(big) - 3] = '"';
    assert_int_equal(osw_kube_client_post(c, path, big, strlen(big), 1024, &body, &blen, &r, &eb),
                     OSW_OK);
    assert_int_equal(r.status, 201);
    free(body);
    recs = recorded(&g_api);
    last = json_array_get(recs, json_array_size(recs) - 1);
    assert_null(hdr(last, "expect"));
    assert_int_equal(strlen(json_string_value(json_object_get(last, "body"))), strlen(big));
    json_decref(recs);
    /* Too big an answer. */
    assert_int_equal(osw_kube_client_post(c, path, req, strlen(req), 5, &body, &blen, &r, &eb),
                     OSW_ETOOBIG);
    assert_null(body);
    /* An error answer is returned whole too. */
    assert_int_equal(
        osw_kube_client_post(c, "/apis/none", req, strlen(req), 1024, &body, &blen, &r, &eb),
        OSW_OK);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(body, "\"kind\":\"Status\""));
    free(body);
    /* A GET after a POST is a GET again (its body discarded: no on_data). */
    assert_int_equal(osw_kube_client_get(c, OSIS, false, NULL, NULL, &r, &eb), OSW_OK);
    assert_int_equal(r.status, 200);
    recs = recorded(&g_api);
    last = json_array_get(recs, json_array_size(recs) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "method")), "GET");
    json_decref(recs);
    osw_kube_client_free(c);
    osw_kube_config_free(&cfg);
}

static void test_bad_input_and_refused_connection(void **state)
{
    (void)state;
    struct osw_kube_config cfg;
    config_for(&g_api, &cfg, "kc-bad", json_object());
    struct osw_kube_client *c = client_for(&cfg);
    struct sink s = {0};
    struct osw_kube_response r;
    struct osw_errbuf eb;
    assert_int_equal(osw_kube_client_get(c, "apis", false, on_data, &s, &r, &eb), OSW_EINVAL);
    assert_int_equal(osw_kube_client_get(c, "/a b", false, on_data, &s, &r, &eb), OSW_EINVAL);
    assert_int_equal(osw_kube_client_get(c, "/a\r\nX: y", false, on_data, &s, &r, &eb), OSW_EINVAL);
    osw_kube_client_free(c);
    /* Plain HTTP is never spoken, even to a server that listens. */
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%lld",
             (long long)json_integer_value(json_object_get(g_api.info, "port")));
    free(cfg.server);
    cfg.server = strdup(url);
    c = client_for(&cfg);
    json_decref(cmd(&g_api, "{s:s}", "op", "clear_requests"));
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_EIO);
    /* libcurl refuses before connecting (not the TLS server hanging up). */
    assert_non_null(strstr(eb.msg, "\"http\" not supported"));
    json_t *recs = recorded(&g_api);
    assert_int_equal(json_array_size(recs), 0);
    json_decref(recs);
    osw_kube_client_free(c);
    /* Nothing listens there (port 1 on loopback). */
    free(cfg.server);
    cfg.server = strdup("https://127.0.0.1:1");
    c = client_for(&cfg);
    assert_int_equal(get_osis(c, false, &s, &r, &eb), OSW_EIO);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(eb.msg, "GET https://127.0.0.1:1" OSIS ": "));
    osw_kube_client_free(c);
    free(cfg.server);
    cfg.server = NULL;
    assert_int_equal(osw_kube_client_new(&cfg, &c, &eb), OSW_EINVAL);
    assert_null(c);
    osw_kube_client_free(NULL);
    osw_kube_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_headers_and_keep_alive, reset),
        cmocka_unit_test_setup(test_status_and_retry_after, reset),
        cmocka_unit_test_setup(test_token_file_rotation, reset),
        cmocka_unit_test_setup(test_ca_mismatch_sends_nothing, reset),
        cmocka_unit_test_setup(test_client_certificate, reset),
        cmocka_unit_test_setup(test_watch_streams_pieces, reset),
        cmocka_unit_test_setup(test_abort_from_another_thread, reset),
        cmocka_unit_test_setup(test_timeouts, reset),
        cmocka_unit_test_setup(test_post, reset),
        cmocka_unit_test_setup(test_bad_input_and_refused_connection, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

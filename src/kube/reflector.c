/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The list + watch loop (see reflector.h). One thread per reflector: list
 * (following `continue` when paging), hand the set to the sink, watch from
 * the list's resourceVersion and pass events on as they arrive, and when the
 * watch ends or fails for any reason count the restart, back off and list
 * again. Sleeps wait on a condition variable that osw_reflector_stop()
 * signals, and the transport's abort ends a request in flight, so no backoff
 * or open watch ever holds up shutdown.
 */
#include "kube/reflector.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/backoff.h"
#include "kube/listpage.h"
#include "kube/query.h"

#define DEFAULT_MAX_LIST      (256u << 20)
#define DEFAULT_NOT_SERVED_MS 300000LL /* 5 min */
#define DEFAULT_WATCH_TIMEOUT 300u
#define DEFAULT_HEALTHY_MS    10000
#define MAX_PATHS             8
#define ERROR_SNIPPET         400 /* bytes of an error body kept for messages */

struct osw_reflector {
    /* Configuration (owned copies). */
    char *resource;
    char *paths[MAX_PATHS];
    size_t npaths;
    char *field_selector;
    unsigned page_limit;
    size_t max_list_bytes, max_line_bytes;
    int64_t not_served_retry_ms, healthy_watch_ms;
    unsigned watch_timeout_s;

    struct osw_reflector_transport transport;
    const struct osw_reflector_sink_ops *sink;
    void *sink_ctx;
    const struct osw_log *log;
    struct osw_metrics *metrics;

    /* Thread state. */
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    atomic_bool stopping;

    /* Owned by the reflector's thread. */
    struct osw_backoff backoff;
    uint64_t rand_state;
    size_t path_idx;   /* the path in use */
    size_t logged_idx; /* the path the last "using" log line named */
    bool not_served_logged;
    char resource_version[256];
};

/* How one list or watch ended. */
struct outcome {
    const char *reason;   /* watch_restarts_total label; NULL: success */
    double retry_after_s; /* from a 429 or 503, or -1 */
    bool healthy;         /* the watch ran well: reset the backoff */
    bool not_served;      /* every path answered 404 */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool stopping(struct osw_reflector *r)
{
    return atomic_load(&r->stopping);
}

/* Sleeps up to `ms`; false when woken by a stop. */
static bool sleep_ms(struct osw_reflector *r, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (!stopping(r)) {
        if (pthread_cond_timedwait(&r->cond, &r->mu, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&r->mu);
    return !stopping(r);
}

/* ---- status answers ---------------------------------------------------------- */

/* The restart reason for an HTTP status that is not success. */
static const char *status_reason(long status)
{
    if (status == 410)
        return "gone";
    if (status == 429)
        return "throttled";
    if (status == 401 || status == 403)
        return "auth";
    if (status >= 500)
        return "http_5xx";
    if (status == 404)
        return "not_found";
    return "error";
}

/* The `message` of a Status body, or the body's first bytes. */
static void body_message(const char *body, size_t len, char *out, size_t cap)
{
    json_t *j = body && len ? json_loadb(body, len, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (msg)
        snprintf(out, cap, "%s", msg);
    else
        snprintf(out, cap, "%.*s", (int)(len < 200 ? len : 200), body ? body : "");
    for (char *p = out; *p; p++) {
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    }
    json_decref(j);
}

/* Logs a refused request in a way that tells the operator what to grant. */
static void log_http_failure(struct osw_reflector *r, const char *verb, const char *path,
                             long status, const char *body, size_t len)
{
    char msg[300];
    body_message(body, len, msg, sizeof(msg));
    struct osw_log_field f[] = {
        OSW_LOGF_CSTR("resource", r->resource),
        OSW_LOGF_CSTR("verb", verb),
        OSW_LOGF_CSTR("path", path),
        OSW_LOGF_INT("code", status),
        OSW_LOGF_CSTR("error", msg),
    };
    const char *text = "Kubernetes API request failed; retrying with backoff";
    if (status == 401)
        text = "Kubernetes API rejected the credentials (401 Unauthorized); retrying with "
               "backoff";
    else if (status == 403)
        text = "Kubernetes API forbids this request (403 Forbidden): grant the verb on the "
               "resource to the webhook's service account; retrying with backoff";
    osw_log_write(r->log, OSW_LOG_WARN, text, f, sizeof(f) / sizeof(f[0]));
}

/* ---- list -------------------------------------------------------------------- */

/* One list page as it streams in: the items go to the sink one by one (see
 * listpage.h); only the start of the body is kept, for an error's message. */
struct page_ctx {
    struct osw_reflector *r;
    struct osw_listpage lp;
    size_t total, max;
    bool too_big;
    struct osw_errbuf why; /* the first decode failure */
    char snippet[ERROR_SNIPPET];
    size_t snippet_len;
};

static void page_item(void *arg, const json_t *obj)
{
    struct page_ctx *p = arg;
    if (!stopping(p->r))
        p->r->sink->list_item(p->r->sink_ctx, obj);
}

static enum osw_err page_decode(void *arg, const char *data, size_t len, json_t **out,
                                struct osw_errbuf *eb)
{
    struct page_ctx *p = arg;
    return p->r->sink->list_decode(p->r->sink_ctx, data, len, out, eb);
}

static bool page_data(void *arg, const char *data, size_t len)
{
    struct page_ctx *p = arg;
    if (stopping(p->r))
        return false;
    if (len > p->max - p->total) {
        p->too_big = true;
        return false;
    }
    p->total += len;
    if (p->snippet_len < sizeof(p->snippet) - 1) {
        size_t n = sizeof(p->snippet) - 1 - p->snippet_len;
        n = n < len ? n : len;
        memcpy(p->snippet + p->snippet_len, data, n);
        p->snippet_len += n;
        p->snippet[p->snippet_len] = '\0';
    }
    /* A failure ends the transfer: a page that is no list need not arrive. */
    return osw_listpage_feed(&p->lp, data, len, &p->why) == OSW_OK;
}

/* Lists one page; *cont is replaced by the next page's token (or freed). */
static struct outcome list_page(struct osw_reflector *r, const char *path, char **cont,
                                bool *not_found)
{
    struct outcome oc = {NULL, -1, false, false};
    struct page_ctx p;
    struct osw_buf url = OSW_BUF_INIT;
    struct osw_reflector_response resp = {0, -1};
    struct osw_errbuf eb;

    memset(&p, 0, sizeof(p));
    p.r = r;
    p.max = r->max_list_bytes;
    osw_listpage_init(&p.lp, r->max_line_bytes, page_item, &p);
    if (r->sink->list_decode)
        osw_listpage_set_decoder(&p.lp, page_decode);
    *not_found = false;
    eb.msg[0] = '\0';
    if (osw_buf_append_cstr(&url, path) != OSW_OK ||
        osw_query_list(&url, r->field_selector, r->page_limit, *cont) != OSW_OK) {
        oc.reason = "error";
        goto out;
    }
    enum osw_err err =
        r->transport.ops->get(r->transport.impl, url.data, false, page_data, &p, &resp, &eb);
    if (stopping(r))
        goto out;
    if (err != OSW_OK || (p.too_big && resp.status == 200)) {
        osw_log_write(r->log, OSW_LOG_WARN, "Kubernetes API list failed; retrying with backoff",
                      (struct osw_log_field[]){
                          OSW_LOGF_CSTR("resource", r->resource), OSW_LOGF_CSTR("path", url.data),
                          OSW_LOGF_CSTR("error", p.too_big ? "list page too large" : eb.msg)},
                      3);
        oc.reason = p.too_big ? "decode" : "network";
        goto out;
    }
    if (resp.status == 404 && !*cont) {
        *not_found = true;
        goto out;
    }
    if (resp.status != 200) {
        log_http_failure(r, "list", url.data, resp.status, p.snippet, p.snippet_len);
        oc.reason = status_reason(resp.status);
        oc.retry_after_s = resp.retry_after_s;
        goto out;
    }
    err = osw_listpage_finish(&p.lp, &p.why);
    if (err != OSW_OK) {
        osw_log_write(r->log, OSW_LOG_WARN,
                      "Kubernetes API list answer is not a list; retrying with backoff",
                      (struct osw_log_field[]){OSW_LOGF_CSTR("resource", r->resource),
                                               OSW_LOGF_CSTR("path", url.data),
                                               OSW_LOGF_CSTR("error", p.why.msg)},
                      3);
        oc.reason = err == OSW_ENOMEM ? "error" : "decode";
        goto out;
    }
    snprintf(r->resource_version, sizeof(r->resource_version), "%s",
             osw_listpage_resource_version(&p.lp));
    const char *next = osw_listpage_continue(&p.lp);
    free(*cont);
    *cont = next ? strdup(next) : NULL;
    if (next && !*cont)
        oc.reason = "error";
out:
    osw_listpage_free(&p.lp);
    osw_buf_free(&url);
    return oc;
}

/* Lists every page from one path; *not_found when its first page answered 404. */
static struct outcome list_path(struct osw_reflector *r, const char *path, bool *not_found)
{
    struct outcome oc = {NULL, -1, false, false};
    char *cont = NULL;
    size_t pages = 0;

    r->sink->list_begin(r->sink_ctx);
    do {
        oc = list_page(r, path, &cont, not_found);
        pages++;
    } while (!oc.reason && !*not_found && cont && !stopping(r));
    if (oc.reason || *not_found || stopping(r)) {
        r->sink->list_abort(r->sink_ctx);
    } else {
        r->sink->list_commit(r->sink_ctx, r->resource_version);
        osw_log_write(
            r->log, OSW_LOG_DEBUG, "Kubernetes API list complete",
            (struct osw_log_field[]){OSW_LOGF_CSTR("resource", r->resource),
                                     OSW_LOGF_CSTR("path", path), OSW_LOGF_INT("pages", pages),
                                     OSW_LOGF_CSTR("resourceVersion", r->resource_version)},
            4);
    }
    free(cont);
    return oc;
}

/* Lists from the first path that is served (404: the next one). */
static struct outcome list_all(struct osw_reflector *r)
{
    struct outcome oc = {NULL, -1, false, false};

    /* Every list tries the preferred version first, so a cluster that
     * serves it again is followed back (CONTRACT.md: falling back to
     * v1alpha1 when v1 is not served). */
    for (size_t idx = 0; idx < r->npaths; idx++) {
        bool not_found = false;
        oc = list_path(r, r->paths[idx], &not_found);
        if (stopping(r) || !not_found) {
            if (!oc.reason && idx != r->logged_idx) {
                osw_log_write(
                    r->log, OSW_LOG_INFO,
                    "Kubernetes API: preferred version not served (list answered "
                    "404); using another",
                    (struct osw_log_field[]){OSW_LOGF_CSTR("resource", r->resource),
                                             OSW_LOGF_CSTR("not_served", r->paths[r->logged_idx]),
                                             OSW_LOGF_CSTR("using", r->paths[idx])},
                    3);
                r->logged_idx = idx;
            }
            if (!oc.reason)
                r->not_served_logged = false;
            r->path_idx = idx;
            return oc;
        }
    }
    oc.not_served = true;
    r->path_idx = 0;
    return oc;
}

/* ---- watch ------------------------------------------------------------------- */

struct watch_ctx {
    struct osw_reflector *r;
    struct osw_watchline lines;
    const char *reason; /* set when the reflector ended the stream itself */
    struct osw_errbuf why;
    bool got_event;
    size_t unflushed; /* events of this piece not yet followed by events_flushed */
    long long error_code;
    char snippet[ERROR_SNIPPET];
    size_t snippet_len;
};

static bool on_line(void *arg, const char *line, size_t len)
{
    struct watch_ctx *w = arg;
    struct osw_watch_event ev;

    if (stopping(w->r))
        return false;
    const struct osw_reflector_sink_ops *sink = w->r->sink;
    enum osw_err err = sink->event_decode
                           ? sink->event_decode(w->r->sink_ctx, line, len, &ev, &w->why)
                           : osw_watchline_decode(line, len, &ev, &w->why);
    if (err != OSW_OK) {
        w->reason = "decode";
        return false;
    }
    switch (ev.type) {
    case OSW_WATCH_BOOKMARK:
        snprintf(w->r->resource_version, sizeof(w->r->resource_version), "%s", ev.resource_version);
        break;
    case OSW_WATCH_ERROR:
        w->error_code = ev.code;
        w->reason = ev.code == 410 ? "gone" : status_reason(ev.code);
        osw_errbuf_set(&w->why, OSW_EIO, "ERROR event, code %lld: %s", ev.code,
                       ev.message ? ev.message : "(no message)");
        osw_watchline_event_free(&ev);
        return false;
    default:
        snprintf(w->r->resource_version, sizeof(w->r->resource_version), "%s", ev.resource_version);
        w->got_event = true;
        w->unflushed++;
        w->r->sink->event(w->r->sink_ctx, ev.type, ev.object);
        break;
    }
    osw_watchline_event_free(&ev);
    return true;
}

static bool watch_data(void *arg, const char *data, size_t len)
{
    struct watch_ctx *w = arg;

    if (stopping(w->r))
        return false;
    if (w->snippet_len < sizeof(w->snippet) - 1) {
        size_t n = sizeof(w->snippet) - 1 - w->snippet_len;
        n = n < len ? n : len;
        memcpy(w->snippet + w->snippet_len, data, n);
        w->snippet_len += n;
        w->snippet[w->snippet_len] = '\0';
    }
    if (w->reason)
        return false;
    enum osw_err err = osw_watchline_feed(&w->lines, data, len, on_line, w, &w->why);
    /* Whatever ends the feed, the events it delivered are flushed. */
    if (w->unflushed > 0 && w->r->sink->events_flushed)
        w->r->sink->events_flushed(w->r->sink_ctx);
    w->unflushed = 0;
    if (err == OSW_EINVAL)
        return false; /* on_line said why */
    if (err != OSW_OK) {
        w->reason = "decode";
        return false;
    }
    return true;
}

static struct outcome watch(struct osw_reflector *r)
{
    struct outcome oc = {NULL, -1, false, false};
    struct osw_buf url = OSW_BUF_INIT;
    struct osw_reflector_response resp = {0, -1};
    struct watch_ctx w;
    /* client-go's choice: a random server timeout in [t, 2t) spreads the
     * relists of many watchers. */
    unsigned timeout_s = r->watch_timeout_s + (unsigned)(osw_backoff_rand_xorshift(&r->rand_state) *
                                                         (double)r->watch_timeout_s);

    memset(&w, 0, sizeof(w));
    w.r = r;
    osw_watchline_init(&w.lines, r->max_line_bytes);
    if (osw_buf_append_cstr(&url, r->paths[r->path_idx]) != OSW_OK ||
        osw_query_watch(&url, r->field_selector, r->resource_version, timeout_s) != OSW_OK) {
        oc.reason = "error";
        goto out;
    }
    int64_t t0 = mono_ms();
    enum osw_err err =
        r->transport.ops->get(r->transport.impl, url.data, true, watch_data, &w, &resp, &w.why);
    int64_t took = mono_ms() - t0;
    if (stopping(r))
        goto out;
    if (resp.status != 200 && err == OSW_OK) {
        log_http_failure(r, "watch", url.data, resp.status, w.snippet, w.snippet_len);
        oc.reason = status_reason(resp.status);
        oc.retry_after_s = resp.retry_after_s;
        goto out;
    }
    if (w.reason)
        oc.reason = w.reason;
    else if (err != OSW_OK)
        oc.reason = "network";
    else if (took + 1000 >= (int64_t)timeout_s * 1000 && osw_watchline_pending(&w.lines) == 0)
        oc.reason = "timeout";
    else
        oc.reason = "closed";
    oc.healthy = took >= r->healthy_watch_ms || w.got_event || strcmp(oc.reason, "timeout") == 0;
    enum osw_log_level level = strcmp(oc.reason, "timeout") == 0 ? OSW_LOG_DEBUG : OSW_LOG_INFO;
    const char *why = w.reason || err != OSW_OK ? w.why.msg : "stream ended";
    osw_log_write(r->log, level, "Kubernetes API watch ended; listing again",
                  (struct osw_log_field[]){
                      OSW_LOGF_CSTR("resource", r->resource), OSW_LOGF_CSTR("reason", oc.reason),
                      OSW_LOGF_CSTR("error", why), OSW_LOGF_INT("duration_ms", took)},
                  4);
out:
    osw_watchline_free(&w.lines);
    osw_buf_free(&url);
    return oc;
}

/* ---- the loop ---------------------------------------------------------------- */

static void count_restart(struct osw_reflector *r, const char *reason)
{
    if (r->metrics)
        osw_metrics_watch_restart(r->metrics, reason);
}

/* The wait after a failure: the backoff's. A server's Retry-After moves it
 * up, but never past the top of the jitter window (CONTRACT.md: every
 * actual wait within +-50 % of the nominal one), so a server asking for
 * minutes cannot stall the cache beyond the backoff's own schedule. */
static int64_t wait_after(struct osw_reflector *r, const struct outcome *oc)
{
    int64_t ms = osw_backoff_next_ms(&r->backoff);
    if (oc->retry_after_s > 0) {
        double top = osw_backoff_nominal_ms(&r->backoff) * (1.0 + OSW_BACKOFF_JITTER);
        double asked = oc->retry_after_s * 1000.0;
        int64_t ra = (int64_t)(asked < top ? asked : top);
        if (ra > ms)
            ms = ra;
    }
    return ms;
}

static void *reflector_main(void *arg)
{
    struct osw_reflector *r = arg;

    while (!stopping(r)) {
        struct outcome oc = list_all(r);
        if (stopping(r))
            break;
        if (oc.not_served) {
            bool optional = r->sink->not_served != NULL;
            if (!r->not_served_logged) {
                /* A required kind is retried with the backoff: no fixed wait. */
                struct osw_log_field f[] = {OSW_LOGF_CSTR("resource", r->resource),
                                            OSW_LOGF_INT("retry_ms", r->not_served_retry_ms)};
                osw_log_write(r->log, OSW_LOG_WARN,
                              "Kubernetes API does not serve this resource (every version's "
                              "list answered 404); trying again later",
                              f, optional ? 2 : 1);
                r->not_served_logged = true;
            }
            if (!optional) {
                oc.reason = "not_served"; /* a failure: the backoff below */
            } else {
                r->sink->not_served(r->sink_ctx);
                osw_backoff_reset(&r->backoff);
                sleep_ms(r, r->not_served_retry_ms);
                continue;
            }
        }
        if (oc.reason) {
            count_restart(r, oc.reason);
            sleep_ms(r, wait_after(r, &oc));
            continue;
        }
        oc = watch(r);
        if (stopping(r))
            break;
        count_restart(r, oc.reason);
        if (oc.healthy)
            osw_backoff_reset(&r->backoff);
        sleep_ms(r, wait_after(r, &oc));
    }
    return NULL;
}

static void config_free(struct osw_reflector *r)
{
    free(r->resource);
    for (size_t i = 0; i < r->npaths; i++)
        free(r->paths[i]);
    free(r->field_selector);
}

/* The lock and the condition variable the backoff sleep waits on. */
static bool sync_init(struct osw_reflector *r)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return false;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return false;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        pthread_cond_destroy(&r->cond);
        return false;
    }
    return true;
}

static bool config_copy(struct osw_reflector *r, const struct osw_reflector_config *cfg)
{
    r->resource = strdup(cfg->resource);
    bool ok = r->resource != NULL;
    for (size_t i = 0; i < cfg->npaths; i++) {
        r->paths[i] = strdup(cfg->paths[i]);
        r->npaths++;
        ok = ok && r->paths[i];
    }
    if (cfg->field_selector && *cfg->field_selector) {
        r->field_selector = strdup(cfg->field_selector);
        ok = ok && r->field_selector;
    }
    r->page_limit = cfg->page_limit;
    r->max_list_bytes = cfg->max_list_bytes ? cfg->max_list_bytes : DEFAULT_MAX_LIST;
    r->max_line_bytes = cfg->max_line_bytes ? cfg->max_line_bytes : OSW_WATCHLINE_MAX;
    r->not_served_retry_ms =
        cfg->not_served_retry_ms > 0 ? cfg->not_served_retry_ms : DEFAULT_NOT_SERVED_MS;
    r->healthy_watch_ms = cfg->healthy_watch_ms > 0 ? cfg->healthy_watch_ms : DEFAULT_HEALTHY_MS;
    r->watch_timeout_s = cfg->watch_timeout_s ? cfg->watch_timeout_s : DEFAULT_WATCH_TIMEOUT;
    if (r->watch_timeout_s > OSW_REFLECTOR_WATCH_TIMEOUT_MAX_S / 2)
        r->watch_timeout_s = OSW_REFLECTOR_WATCH_TIMEOUT_MAX_S / 2;
    if (cfg->seed) {
        r->rand_state = cfg->seed;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->rand_state =
            ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)r;
    }
    osw_backoff_init(&r->backoff, osw_backoff_rand_xorshift, &r->rand_state);
    osw_backoff_scale(&r->backoff, cfg->backoff_base_ms, cfg->backoff_cap_ms);
    return ok;
}

enum osw_err osw_reflector_new(const struct osw_reflector_config *cfg,
                               struct osw_reflector_transport transport,
                               const struct osw_reflector_sink_ops *sink, void *sink_ctx,
                               const struct osw_log *log, struct osw_metrics *metrics,
                               struct osw_reflector **out, struct osw_errbuf *eb)
{
    enum osw_err err;
    struct osw_reflector *r = NULL;

    *out = NULL;
    if (!cfg || !cfg->resource || !cfg->paths || cfg->npaths == 0 || cfg->npaths > MAX_PATHS ||
        !transport.ops || !sink) {
        err = osw_errbuf_set(eb, OSW_EINVAL, "reflector: incomplete configuration");
        goto fail_transport;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        goto fail_transport;
    }
    if (!sync_init(r)) {
        err = osw_errbuf_set(eb, OSW_ENOMEM, "reflector: cannot create its lock");
        goto fail_free;
    }
    r->transport = transport;
    r->sink = sink;
    r->sink_ctx = sink_ctx;
    r->log = log;
    r->metrics = metrics;
    atomic_init(&r->stopping, false);
    if (!config_copy(r, cfg)) {
        osw_reflector_free(r);
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    *out = r;
    return OSW_OK;

fail_free:
    free(r);
fail_transport:
    if (transport.ops && transport.ops->destroy)
        transport.ops->destroy(transport.impl);
    return err;
}

enum osw_err osw_reflector_start(struct osw_reflector *r, struct osw_errbuf *eb)
{
    if (r->running)
        return osw_errbuf_set(eb, OSW_EINVAL, "reflector for %s already started", r->resource);
    int rc = pthread_create(&r->thread, NULL, reflector_main, r);
    if (rc != 0)
        return osw_errbuf_set(eb, OSW_EIO, "cannot start the reflector for %s: %s", r->resource,
                              strerror(rc));
    r->running = true;
    return OSW_OK;
}

void osw_reflector_stop(struct osw_reflector *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->stopping, true);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    if (r->transport.ops && r->transport.ops->abort)
        r->transport.ops->abort(r->transport.impl);
    if (r->running) {
        pthread_join(r->thread, NULL);
        r->running = false;
    }
}

void osw_reflector_free(struct osw_reflector *r)
{
    if (!r)
        return;
    osw_reflector_stop(r);
    if (r->transport.ops && r->transport.ops->destroy)
        r->transport.ops->destroy(r->transport.impl);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    config_free(r);
    free(r);
}

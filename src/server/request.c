/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP request, from libmicrohttpd's first access-handler call to its
 * completion: routing and the contract's checks in order (path 404, method
 * 405, content type 415, size 413, body 400), body buffering under a
 * per-request and a server-wide cap, the admission call, and the answer with
 * its metrics and log line. Every answer is queued in the handler's final
 * call (after the whole body) because libmicrohttpd 0.9.75 closes the
 * connection after an answer queued earlier (STACK.md); the one exception is
 * a 413 for a client waiting for 100 Continue, which closes anyway.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/addr.h"
#include "server/route.h"
#include "server/server_int.h"

/* Smallest allocation for a body that did not arrive whole; it then doubles
 * as data arrives, never past the announced Content-Length (or the limit). A
 * body that arrives in one piece (the usual case) gets exactly its size.
 * Memory, and the budget it is charged to, follow the bytes that actually
 * arrived (at most twice them, or this), not the bytes announced: clients
 * that announce large bodies and dribble them cannot reserve the budget. */
#define BODY_FIRST (4u << 10)

struct request {
    const struct osw_route *route; /* NULL: unknown path */
    struct timespec t0;            /* first handler call */
    unsigned status;               /* error decided before the body; 0: none */
    const char *reason;            /* its static one-line reason */
    bool close;                    /* answer with Connection: close (413, unframed) */
    bool unframed;                 /* the body's end is unknown: answered at once, then closed */
    bool discard;                  /* drop body bytes instead of buffering them */
    bool counted;                  /* the in-flight gauge was incremented */
    bool reported;                 /* requests_total has this request */
    struct osw_server_conn *sc;    /* borrowed: its connection (NULL: none) */
    unsigned long long seen;       /* body bytes received */
    char *body;                    /* owned; `cap` bytes charged to srv->buffered */
    size_t len, cap;
    size_t announced; /* Content-Length, or 0 when unknown (chunked) */
    /* /metrics with --metrics-auth: the review's verdict, written by the
     * review thread before it resumes the suspended connection. */
    struct MHD_Connection *conn;
    bool auth_asked;
    _Atomic int auth; /* enum osw_mauth_verdict; 0 while pending */
};

static bool is_admission(const struct osw_route *r)
{
    return r != NULL && (r->id == OSW_ROUTE_VALIDATE || r->id == OSW_ROUTE_MUTATE);
}

static enum osw_endpoint endpoint_of(const struct osw_route *r)
{
    return r->id == OSW_ROUTE_MUTATE ? OSW_EP_MUTATE : OSW_EP_VALIDATE;
}

/* Adds the request to requests_total, once: the answer's verdict, or, for a
 * request that ends without one (dropped past the deadline, evicted, or too
 * large to read through), `error` when it completes. */
static void report(struct osw_server *srv, struct request *rq, enum osw_op op, enum osw_verdict v,
                   double seconds)
{
    if (rq->reported || !is_admission(rq->route))
        return;
    rq->reported = true;
    osw_metrics_request(srv->deps.metrics, endpoint_of(rq->route), op, v, seconds);
}

static double elapsed(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Request bodies are the application's memory, not libmicrohttpd's (its
 * connection memory limit covers headers and the read buffer only). Every
 * body allocation is charged to one server-wide counter so that many
 * concurrent large bodies cannot exhaust memory. Past the cap, the stalled
 * uploads holding the most bytes are closed to make room (their bytes come
 * back as their daemons close them, so meanwhile the counter may exceed the
 * cap by what they hold, never past twice the cap): a fresh request is not
 * the one refused. Only when nothing stalled can make room is the request
 * answered 503 "server busy" (after its body is discarded).
 */
static bool charge(struct osw_server *srv, struct request *rq, size_t n)
{
    size_t before = atomic_fetch_add(&srv->buffered, n);
    size_t after = before + n;

    if (after >= before && after <= srv->buffered_cap)
        return true;
    if (after >= before && after - srv->buffered_cap <= srv->buffered_cap &&
        osw_server_evict_bodies(srv, rq->sc, after - srv->buffered_cap))
        return true;
    atomic_fetch_sub(&srv->buffered, n);
    return false;
}

static void release_body(struct osw_server *srv, struct request *rq)
{
    if (rq->cap > 0)
        atomic_fetch_sub(&srv->buffered, rq->cap);
    if (rq->sc != NULL && rq->cap > 0)
        atomic_store_explicit(&rq->sc->held, 0, memory_order_relaxed);
    free(rq->body);
    rq->body = NULL;
    rq->len = rq->cap = 0;
}

/* Decides the answer before the body is read: the rest of the body (if any)
 * is discarded and the answer queued in the final call. */
static void fail(struct osw_server *srv, struct request *rq, unsigned status, const char *reason)
{
    release_body(srv, rq);
    rq->status = status;
    rq->reason = reason;
    rq->discard = true;
    if (status == MHD_HTTP_CONTENT_TOO_LARGE)
        rq->close = true;
}

/* Grows the body buffer to exactly `ncap` bytes (ncap > cap). */
static bool grow(struct osw_server *srv, struct request *rq, size_t ncap)
{
    size_t extra = ncap - rq->cap;
    char *p;

    if (!charge(srv, rq, extra)) {
        fail(srv, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "server busy\n");
        return false;
    }
    p = realloc(rq->body, ncap);
    if (p == NULL) {
        atomic_fetch_sub(&srv->buffered, extra);
        fail(srv, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        return false;
    }
    rq->body = p;
    rq->cap = ncap;
    if (rq->sc != NULL)
        atomic_store_explicit(&rq->sc->held, ncap, memory_order_relaxed);
    return true;
}

/* Counts Content-Length headers and whether their values differ. */
struct clen_scan {
    const char *first;
    bool differ;
    const char *te; /* Transfer-Encoding, if any */
};

static enum MHD_Result clen_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct clen_scan *c = cls;

    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        c->te = value != NULL ? value : "";
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
        return MHD_YES;
    if (c->first == NULL)
        c->first = value != NULL ? value : "";
    else if (value == NULL || strcmp(c->first, value) != 0)
        c->differ = true;
    return MHD_YES;
}

/* The checks that need only the request line and headers, in the contract's
 * order: path, method, then the framing, content type and size. A framing
 * the server cannot follow (an unsupported Transfer-Encoding, or two
 * Content-Length headers that disagree, RFC 9112 section 6.3) leaves the
 * body's end unknown, so whatever the answer the connection is closed after
 * it: nothing more on it can be trusted. */
static void classify(struct osw_server *srv, struct request *rq, struct MHD_Connection *conn,
                     const char *method)
{
    const char *ct, *cl;
    unsigned long long n;
    struct clen_scan cs = {NULL, false, NULL};

    (void)MHD_get_connection_values(conn, MHD_HEADER_KIND, clen_header, &cs);
    bool bad_te = cs.te != NULL && strcasecmp(cs.te, "chunked") != 0;
    rq->unframed = bad_te || cs.differ;
    rq->close = rq->unframed;
    if (rq->route == NULL) {
        fail(srv, rq, MHD_HTTP_NOT_FOUND, "not found\n");
        return;
    }
    if (!osw_route_method_allowed(rq->route, method)) {
        fail(srv, rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
        return;
    }
    if (bad_te) {
        fail(srv, rq, MHD_HTTP_NOT_IMPLEMENTED, "unsupported Transfer-Encoding\n");
        return;
    }
    if (cs.differ) {
        fail(srv, rq, MHD_HTTP_BAD_REQUEST, "conflicting Content-Length headers\n");
        return;
    }
    if (!rq->route->post) {
        rq->discard = true; /* a GET body is never used */
        return;
    }
    ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!osw_route_is_json(ct)) {
        fail(srv, rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "content type must be application/json\n");
        return;
    }
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!osw_route_content_length(cl, &n))
        return; /* chunked (or no body) */
    if (n > srv->max_body) {
        fail(srv, rq, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
        return;
    }
    rq->announced = (size_t)n;
}

/* One piece of the body. False: close the connection (too much to discard). */
static bool take(struct osw_server *srv, struct request *rq, const char *data, size_t n)
{
    rq->seen += n; /* n is bounded by MHD's read buffer: this cannot wrap */
    if (!rq->discard && rq->seen > srv->max_body)
        fail(srv, rq, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
    if (rq->discard) {
        if (rq->seen <= OSW_SERVER_DISCARD_MAX)
            return true;
        /* Too much to read through: the connection is dropped unanswered
         * (counted as an error when the request completes). */
        return false;
    }
    if (n > rq->cap - rq->len) {
        /* Grow geometrically, never past the announced length or the limit
         * (the check above guarantees len + n <= max_body, and MHD never
         * delivers more than Content-Length). */
        size_t need = rq->len + n;
        size_t ncap = rq->cap > 0 ? rq->cap * 2 : BODY_FIRST;
        size_t top = rq->announced > 0 ? rq->announced : (size_t)srv->max_body;
        while (ncap < need)
            ncap *= 2;
        if (ncap > top)
            ncap = top;
        if (ncap < need)
            ncap = need;
        if (!grow(srv, rq, ncap))
            return true; /* answered after discarding the rest */
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    return true;
}

/* Sets headers common to every answer and queues it; takes `resp`. */
static enum MHD_Result queue(struct osw_server *srv, struct MHD_Connection *conn,
                             const struct request *rq, unsigned status, struct MHD_Response *resp,
                             const char *ctype)
{
    enum MHD_Result ret;
    bool close = rq->close || atomic_load(&srv->draining);

    if (resp == NULL)
        return MHD_NO;
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rq->route->allow);
    if (status == MHD_HTTP_UNAUTHORIZED)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (close) {
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    } else {
        /* The connection has completed a request: from now on it is a
         * keep-alive connection of the API server and gets the long idle
         * timeout (see OSW_SERVER_KEEPALIVE_TIMEOUT_S). */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct osw_server_conn *sc = ci != NULL ? ci->socket_context : NULL;
        if (sc != NULL && !sc->keepalive_timeout) {
            sc->keepalive_timeout = true;
            (void)MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                            OSW_SERVER_KEEPALIVE_TIMEOUT_S);
        }
    }
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static struct MHD_Response *static_text(const char *s)
{
    return MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_PERSISTENT);
}

/* Hands an osw_buf's bytes to libmicrohttpd without copying them. */
static struct MHD_Response *buf_response(struct osw_buf *b)
{
    size_t len = 0;
    char *p = osw_buf_steal(b, &len);
    if (p == NULL)
        return static_text("");
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, p, free);
    if (r == NULL)
        free(p);
    return r;
}

/* The client's address for log lines ("unknown" when MHD has none). */
static void peer_of(struct MHD_Connection *conn, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    osw_addr_format(ci != NULL ? ci->client_addr : NULL, buf, cap);
}

/*
 * An answer other than 200. On /validate and /mutate it is a `warn` line an
 * operator can act on (under failurePolicy: Fail the API server refuses the
 * object, and this line is the only trace of why): the peer, the route, the
 * status and the one-line reason, never the body. Elsewhere (404s of
 * scanners, probes) it stays at debug.
 */
static void log_rejection(const struct osw_server *srv, struct MHD_Connection *conn,
                          const struct request *rq, const char *url, const char *method,
                          unsigned status, struct osw_str reason)
{
    bool admission = is_admission(rq->route);
    enum osw_log_level lvl = admission ? OSW_LOG_WARN : OSW_LOG_DEBUG;
    char remote[OSW_ADDR_TEXT_MAX];

    if (!osw_log_enabled(srv->deps.log, lvl))
        return;
    while (reason.len > 0 && reason.ptr[reason.len - 1] == '\n')
        reason.len--;
    peer_of(conn, remote, sizeof(remote));
    const char *route = admission ? rq->route->path : url;
    struct osw_log_field f[] = {
        OSW_LOGF_CSTR("remote", remote), OSW_LOGF_CSTR("route", route),
        OSW_LOGF_CSTR("method", method), OSW_LOGF_INT("code", status),
        OSW_LOGF_STR("reason", reason),  OSW_LOGF_INT("body_bytes", (long long)rq->seen),
    };
    osw_log_write(srv->deps.log, lvl, "request rejected", f, sizeof(f) / sizeof(f[0]));
}

/* An answer decided before the body (404, 405, 413, 415, 500, 503). */
static enum MHD_Result answer_error(struct osw_server *srv, struct MHD_Connection *conn,
                                    struct request *rq, const char *url, const char *method)
{
    report(srv, rq, OSW_OP_UNKNOWN, OSW_VERDICT_ERROR, -1.0);
    log_rejection(srv, conn, rq, url, method, rq->status, osw_str_from_cstr(rq->reason));
    return queue(srv, conn, rq, rq->status, static_text(rq->reason), "text/plain; charset=utf-8");
}

static void log_decision(const struct osw_server *srv, enum osw_endpoint ep,
                         const struct osw_admit *a, enum osw_op op, double secs)
{
    const struct osw_review *r = &a->review;
    const struct osw_decision *d = &a->decision;
    enum osw_log_level lvl = d->verdict == OSW_VERDICT_DENIED ? OSW_LOG_INFO : OSW_LOG_DEBUG;
    char resource[320];
    size_t n = 0;

    if (!osw_log_enabled(srv->deps.log, lvl))
        return;
    /* "group/resource"; a longer value (not a real resource) is cut. */
    if (r->resource_group.type == OSW_JT_STRING) {
        n = r->resource_group.str.len < 200 ? r->resource_group.str.len : 200;
        if (n > 0)
            memcpy(resource, r->resource_group.str.ptr, n);
    }
    resource[n++] = '/';
    if (r->resource_resource.type == OSW_JT_STRING) {
        size_t m = r->resource_resource.str.len;
        if (m > sizeof(resource) - n)
            m = sizeof(resource) - n;
        if (m > 0)
            memcpy(resource + n, r->resource_resource.str.ptr, m);
        n += m;
    }
    const char *first_cause =
        d->has_details && d->ncauses > 0 && d->causes != NULL ? d->causes[0].reason : NULL;
    struct osw_log_field f[] = {
        OSW_LOGF_CSTR("endpoint", osw_endpoint_name(ep)),
        OSW_LOGF_STR("uid", r->uid),
        OSW_LOGF_CSTR("operation", osw_op_name(op)),
        OSW_LOGF_STR("resource", ((struct osw_str){resource, n})),
        OSW_LOGF_STR("name", d->name),
        OSW_LOGF_STR("stream", d->stream),
        OSW_LOGF_CSTR("verdict", osw_verdict_name(d->verdict)),
        OSW_LOGF_INT("code", d->verdict == OSW_VERDICT_DENIED ? d->code : 200),
        OSW_LOGF_DBL("duration_ms", secs * 1000.0),
        /* Denials only (the last three are cut off for an allow): what
         * tells a typo from a missing OSImageStream, and who asked. */
        OSW_LOGF_CSTR("reason", d->reason),
        OSW_LOGF_STR("user", r->username.type == OSW_JT_STRING ? r->username.str : OSW_STR_NULL),
        OSW_LOGF_CSTR("cause", first_cause),
    };
    size_t n_fields = sizeof(f) / sizeof(f[0]);
    if (d->verdict != OSW_VERDICT_DENIED)
        n_fields -= 3;
    else if (first_cause == NULL)
        n_fields -= 1;
    osw_log_write(srv->deps.log, lvl, "admission", f, n_fields);
}

/* /validate and /mutate with a complete body within the limits. */
static enum MHD_Result answer_admit(struct osw_server *srv, struct MHD_Connection *conn,
                                    struct request *rq, const char *url, const char *method)
{
    enum osw_endpoint ep = endpoint_of(rq->route);
    struct osw_osis *snap = osw_snapcell_acquire(srv->deps.cell);
    enum osw_cluster_mode mode = OSW_CLUSTER_OFF;
    struct osw_cluster *cluster =
        srv->deps.clusters ? osw_clustercell_acquire(srv->deps.clusters, &mode) : NULL;
    struct osw_inputs in = {
        .osis = snap,
        .osis_synced = osw_snapcell_synced(srv->deps.cell),
        .cluster_mode = mode,
        .cluster = cluster,
        .policy = srv->policy,
    };
    struct osw_admit a;
    enum osw_err err;
    enum MHD_Result ret;

    osw_admit_init(&a);
    err = osw_admit(rq->body != NULL ? rq->body : "", rq->len, &in, ep, srv->decode, &a);
    osw_osis_unref(snap);
    osw_cluster_unref(cluster);
    if (err != OSW_OK) {
        osw_admit_reset(&a, false);
        rq->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        rq->reason = "out of memory\n";
        return answer_error(srv, conn, rq, url, method);
    }
    /* The operation label is the request's once it has been decoded, even
     * when the answer is a 400 for a field of the wrong type. */
    enum osw_op op = osw_op_from_str(a.decision.operation);
    if (a.http_status != MHD_HTTP_OK) {
        report(srv, rq, op, OSW_VERDICT_ERROR, -1.0);
        log_rejection(srv, conn, rq, url, method, (unsigned)a.http_status,
                      (struct osw_str){a.body.data, a.body.len});
        ret = queue(srv, conn, rq, (unsigned)a.http_status, buf_response(&a.body),
                    "text/plain; charset=utf-8");
        osw_admit_reset(&a, false);
        return ret;
    }
    double secs = elapsed(&rq->t0);
    report(srv, rq, op, a.decision.verdict, secs);
    osw_metrics_rules(srv->deps.metrics, a.decision.rules);
    log_decision(srv, ep, &a, op, secs);
    ret = queue(srv, conn, rq, MHD_HTTP_OK, buf_response(&a.body), "application/json");
    osw_admit_reset(&a, false);
    return ret;
}

static enum MHD_Result answer_readyz(struct osw_server *srv, struct MHD_Connection *conn,
                                     const struct request *rq)
{
    const char *why = NULL;

    if (atomic_load(&srv->shutting_down))
        why = "shutting down\n";
    else if (srv->deps.certs == NULL)
        why = "serving certificate not loaded\n";
    else if (!osw_snapcell_synced(srv->deps.cell))
        why = "OSImageStream not synced yet\n";
    else if (srv->cluster_required &&
             (!srv->deps.clusters || !osw_clustercell_synced_once(srv->deps.clusters)))
        why = "cluster state (MachineConfigPools, MachineConfigs) not synced yet\n";
    if (why != NULL)
        return queue(srv, conn, rq, MHD_HTTP_SERVICE_UNAVAILABLE, static_text(why),
                     "text/plain; charset=utf-8");
    return queue(srv, conn, rq, MHD_HTTP_OK, static_text("ok"), "text/plain; charset=utf-8");
}

/* Called by the review thread: the verdict is in, the handler runs again. */
static void metrics_auth_done(void *ctx, enum osw_mauth_verdict v)
{
    struct request *rq = ctx;
    atomic_store(&rq->auth, (int)v);
    MHD_resume_connection(rq->conn);
}

/* --metrics-auth kubernetes: the scrape's verdict, or 0 after suspending the
 * connection until the review thread has one (the handler then runs again;
 * a review never holds a daemon thread). */
static int metrics_verdict(struct osw_server *srv, struct MHD_Connection *conn, struct request *rq)
{
    if (rq->auth_asked)
        return atomic_load(&rq->auth);
    const char *h =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    enum osw_mauth_verdict v = osw_mauth_cached(srv->deps.mauth, h);
    if (v != OSW_MAUTH_PENDING)
        return (int)v; /* the usual scrape: answered from the cache */
    rq->auth_asked = true;
    rq->conn = conn;
    /* Suspended before the review is queued, since the review thread may
     * resume it at once; after a suspension the answer is always given in
     * the handler's next call. */
    MHD_suspend_connection(conn);
    v = osw_mauth_check(srv->deps.mauth, h, metrics_auth_done, rq);
    if (v != OSW_MAUTH_PENDING)
        metrics_auth_done(rq, v);
    return 0;
}

static enum MHD_Result answer_metrics(struct osw_server *srv, struct MHD_Connection *conn,
                                      struct request *rq)
{
    struct osw_buf b = OSW_BUF_INIT;

    if (srv->deps.mauth != NULL) {
        int v = metrics_verdict(srv, conn, rq);
        if (v == 0)
            return MHD_YES; /* suspended; answered when resumed */
        if (v == OSW_MAUTH_UNAUTHENTICATED)
            return queue(srv, conn, rq, MHD_HTTP_UNAUTHORIZED, static_text("unauthorized\n"),
                         "text/plain; charset=utf-8");
        if (v == OSW_MAUTH_FORBIDDEN)
            return queue(srv, conn, rq, MHD_HTTP_FORBIDDEN,
                         static_text("forbidden: get on /metrics is not allowed\n"),
                         "text/plain; charset=utf-8");
        if (v != OSW_MAUTH_ALLOWED)
            return queue(srv, conn, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
                         static_text("authorization unavailable: the review could not be "
                                     "completed\n"),
                         "text/plain; charset=utf-8");
    }

    if (osw_metrics_render(srv->deps.metrics, &b) != OSW_OK) {
        osw_buf_free(&b);
        return queue(srv, conn, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, static_text("out of memory\n"),
                     "text/plain; charset=utf-8");
    }
    return queue(srv, conn, rq, MHD_HTTP_OK, buf_response(&b),
                 "text/plain; version=0.0.4; charset=utf-8");
}

/* The final handler call: the whole request has arrived. */
static enum MHD_Result answer(struct osw_server *srv, struct MHD_Connection *conn,
                              struct request *rq, const char *url, const char *method)
{
    if (rq->status != 0)
        return answer_error(srv, conn, rq, url, method);
    switch (rq->route->id) {
    case OSW_ROUTE_VALIDATE:
    case OSW_ROUTE_MUTATE:
        return answer_admit(srv, conn, rq, url, method);
    case OSW_ROUTE_HEALTHZ:
        return queue(srv, conn, rq, MHD_HTTP_OK, static_text("ok"), "text/plain; charset=utf-8");
    case OSW_ROUTE_READYZ:
        return answer_readyz(srv, conn, rq);
    case OSW_ROUTE_METRICS:
        return answer_metrics(srv, conn, rq);
    }
    return MHD_NO;
}

static bool expects_continue(struct MHD_Connection *conn)
{
    const char *e = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    return e != NULL && strcasecmp(e, "100-continue") == 0;
}

static enum MHD_Result access_on(struct osw_server *srv, enum osw_listener listener,
                                 struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    struct request *rq = *req_cls;

    (void)version;
    if (rq == NULL) {
        /* First call: headers only. Returning MHD_YES without an answer
         * keeps the connection reusable and lets MHD send 100 Continue. */
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &rq->t0);
        atomic_fetch_add(&srv->inflight, 1);
        *req_cls = rq;
        rq->sc = osw_server_conn_of(conn);
        osw_server_conn_begin(rq->sc, &rq->t0);
        rq->route = osw_route_find_on(url, listener);
        if (is_admission(rq->route)) {
            osw_metrics_inflight_add(srv->deps.metrics, 1);
            rq->counted = true;
        }
        classify(srv, rq, conn, method);
        /* A client that waits for 100 Continue before sending a body that
         * is too large gets its 413 now and sends nothing: the one answer
         * that may be queued early, since it closes the connection anyway. */
        if (rq->status == MHD_HTTP_CONTENT_TOO_LARGE && expects_continue(conn))
            return answer_error(srv, conn, rq, url, method);
        /* A body whose end is unknown cannot be waited for: answer now. */
        if (rq->unframed)
            return answer_error(srv, conn, rq, url, method);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (take(srv, rq, upload_data, n))
            return MHD_YES;
        /* Dropped without an answer: still the operator's one line. */
        log_rejection(srv, conn, rq, url, method, MHD_HTTP_CONTENT_TOO_LARGE,
                      OSW_STR_LIT("request body too large; connection closed without an answer"));
        return MHD_NO;
    }
    return answer(srv, conn, rq, url, method);
}

enum MHD_Result osw_request_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    struct osw_server *srv = cls;
    enum osw_listener l = srv->metrics_separate ? OSW_LISTENER_ADMISSION : OSW_LISTENER_ALL;
    return access_on(srv, l, conn, url, method, version, upload_data, upload_data_size, req_cls);
}

enum MHD_Result osw_request_access_metrics(void *cls, struct MHD_Connection *conn, const char *url,
                                           const char *method, const char *version,
                                           const char *upload_data, size_t *upload_data_size,
                                           void **req_cls)
{
    return access_on(cls, OSW_LISTENER_METRICS, conn, url, method, version, upload_data,
                     upload_data_size, req_cls);
}

void osw_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                           enum MHD_RequestTerminationCode toe)
{
    struct osw_server *srv = cls;
    struct request *rq = *req_cls;

    (void)conn;
    (void)toe;
    if (rq == NULL)
        return;
    *req_cls = NULL;
    if (rq->counted)
        osw_metrics_inflight_add(srv->deps.metrics, -1);
    report(srv, rq, OSW_OP_UNKNOWN, OSW_VERDICT_ERROR, -1.0);
    release_body(srv, rq);
    osw_server_conn_end(rq->sc);
    free(rq);
    atomic_fetch_sub(&srv->inflight, 1);
}

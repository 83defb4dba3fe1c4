/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by server.c (daemon, TLS, lifecycle) and request.c (the
 * per-request state machine). The server state lives in one struct passed to
 * every libmicrohttpd callback as its closure; nothing here is global.
 */
#ifndef OSW_SERVER_INT_H
#define OSW_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "obs/ratelimit.h"
#include "server/server.h"

/* Bodies over the limit are read and dropped up to this many bytes; past it
 * the connection is closed without an answer (CONTRACT.md "HTTP surface"). */
#define OSW_SERVER_DISCARD_MAX (16ull << 20)

/* Connections that never complete a request (stalled handshakes, plain HTTP
 * or random bytes on the TLS port, idle before the first request) are closed
 * after this many idle seconds (the contract wants them gone within 5 s). */
#define OSW_SERVER_FIRST_TIMEOUT_S 4u

/* After a connection has completed a request its idle timeout is raised to
 * this: kube-apiserver keeps idle webhook connections for up to 90 s, and a
 * server that closes an idle connection first races with the client's next
 * POST on it, which the API server does not retry. */
#define OSW_SERVER_KEEPALIVE_TIMEOUT_S 120u

/* libmicrohttpd daemons, one epoll thread each (see server.c for why not
 * MHD's own thread pool). */
#define OSW_SERVER_WORKERS 2u

/* A request still in progress this long after its first byte is dropped
 * (its connection closed): the API server's webhook timeout is at most 30 s,
 * so nobody waits for its answer any more, and a client that dribbles a
 * body must not hold its buffer (or its slot) for ever. Checked once a
 * second by the acceptor. */
#define OSW_SERVER_REQUEST_DEADLINE_MS 30000

/* A connection that has not completed a request's headers this long after
 * it opened (or, once it served one, the keep-alive timeout after its last
 * answer) is closed whatever bytes trickle in: libmicrohttpd's own timeout
 * counts inactivity, so a client sending a header byte a second would keep
 * its slot for ever. A real client sends its headers at once. */
#define OSW_SERVER_FIRST_REQUEST_MS 10000

/* A body still arriving this long after its request began is "stalled" for
 * the body budget: the API server writes a whole request at once. */
#define OSW_SERVER_STALLED_MS 1000

/* One daemon and the connections the acceptor handed to it. */
struct osw_server_worker {
    struct osw_server *srv; /* back pointer: closure of NOTIFY_CONNECTION */
    struct MHD_Daemon *daemon;
    atomic_long conns; /* handed over and not yet closed */
};

struct osw_server {
    struct osw_server_deps deps;     /* borrowed pointers */
    const struct osw_policy *policy; /* borrowed from the config */
    bool cluster_required;           /* --cluster-state required */
    osw_review_decode_fn decode;
    unsigned long long max_body; /* cfg->max_request_bytes */
    size_t buffered_cap;         /* cap on `buffered` (see request.c, charge()) */
    long max_conns;              /* cfg->max_connections */
    long conn_headroom;          /* idle connections are closed above max_conns - this */

    atomic_size_t buffered;    /* request-body bytes allocated across requests */
    atomic_long inflight;      /* requests from first handler call to completion */
    atomic_bool shutting_down; /* /readyz answers 503 */
    atomic_bool draining;      /* answers carry Connection: close */

    /* Shared by every worker: the callbacks above get `struct osw_server`
     * (or a worker that points back to it) whatever daemon runs them. */
    struct osw_server_worker workers[OSW_SERVER_WORKERS];
    unsigned nworkers; /* daemons started */
    long worker_limit; /* connections per daemon */
    int listen_fd;     /* ours, not libmicrohttpd's; -1: closed */
    /* --metrics-listen: a listener of its own, served by one more daemon
     * whose access handler routes /metrics only. -1 / unused without it. */
    enum osw_tls_min tls_min;
    bool metrics_separate; /* set before any daemon starts, never changed */
    int metrics_fd;
    struct osw_server_worker metrics_worker; /* daemon NULL: not started */
    unsigned short metrics_port;
    /* Every open connection, for the acceptor (idle connections near the
     * limit, the request deadline) and the body budget (stalled bodies). */
    pthread_mutex_t conns_mu;
    struct osw_server_conn *conns; /* under conns_mu */
    int wake_fd;                   /* eventfd: tells the acceptor to stop; -1: none */
    pthread_t acceptor;
    bool acceptor_started;
    unsigned short port;
    gnutls_datum_t ticket_key; /* TLS session-ticket key; data NULL: tickets off */
    /* --tls-cipher-suites narrower than all six: the priorities a TLS 1.2
     * session switches to once its version is known, one per kind of
     * certificate key (enum osw_tls_key); NULL where no chosen suite fits
     * that key. `narrowed` false: sessions keep the daemons' priorities. */
    bool narrowed;
    gnutls_priority_t prio12[2];
    struct osw_ratelimit tls_fail_log; /* TLS handshake failure lines */
};

/* Per TCP connection (MHD's socket_context), from NOTIFY_STARTED to CLOSED. */
struct osw_server_conn {
    const struct osw_server *srv; /* back pointer for the TLS callbacks */
    struct osw_certpair *pair;    /* owned reference: what this connection's handshake uses */
    bool keepalive_timeout;       /* timeout already raised to the keep-alive value */
    /* Under srv->conns_mu: the list of open connections, and whether the
     * server shut this one down itself (its fd stays valid until CLOSED,
     * which unlinks it under the same lock first). */
    struct osw_server_conn *prev, *next;
    int fd;
    bool closing;
    /* Written by the connection's own thread, read by others. */
    atomic_llong req_since_ms;  /* monotonic ms of the request in progress; 0: none */
    atomic_llong idle_since_ms; /* when the last request ended (or the connection began) */
    atomic_bool served;         /* has completed a request (a keep-alive connection) */
    atomic_size_t held;         /* body bytes its request has charged to srv->buffered */
    bool tls;                   /* a TLS session was set up (handshake attempted) */
    bool handshake_done;        /* the client's Finished arrived: the handshake succeeded */
};

/* Milliseconds of CLOCK_MONOTONIC in `ts`. */
long long osw_server_ms(const struct timespec *ts);

/* The connection `conn`'s state, or NULL (out of memory at its start). */
struct osw_server_conn *osw_server_conn_of(struct MHD_Connection *conn);

/* Request bookkeeping on the connection (NULL-safe): a request began at
 * `t0`; the request ended (the connection is idle from now on). */
void osw_server_conn_begin(struct osw_server_conn *sc, const struct timespec *t0);
void osw_server_conn_end(struct osw_server_conn *sc);

/*
 * The body budget is `excess` bytes over its cap because of `self`'s
 * request: closes the connections whose bodies are stalled (in progress for
 * OSW_SERVER_STALLED_MS or more) and hold the most bytes, until the bytes
 * that connections being closed still hold cover `excess`. Returns false,
 * closing nothing, when that cannot be done (the over-committed request is
 * then refused). Never closes `self`.
 */
bool osw_server_evict_bodies(struct osw_server *srv, const struct osw_server_conn *self,
                             size_t excess);

/* request.c: libmicrohttpd's access handlers and request-completed callback
 * (closure: struct osw_server). osw_request_access serves the main listener
 * (every route, or every route but /metrics with --metrics-listen);
 * osw_request_access_metrics the metrics listener (/metrics only). */
enum MHD_Result osw_request_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls);
enum MHD_Result osw_request_access_metrics(void *cls, struct MHD_Connection *conn, const char *url,
                                           const char *method, const char *version,
                                           const char *upload_data, size_t *upload_data_size,
                                           void **req_cls);
void osw_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                           enum MHD_RequestTerminationCode toe);

#endif /* OSW_SERVER_INT_H */

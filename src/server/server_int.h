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

#include <gnutls/gnutls.h>
#include <microhttpd.h>

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
    size_t buffered_cap;         /* cap on `buffered` */

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
    int wake_fd;       /* eventfd: tells the acceptor to stop; -1: none */
    pthread_t acceptor;
    bool acceptor_started;
    unsigned short port;
    gnutls_datum_t ticket_key; /* TLS session-ticket key; data NULL: tickets off */
};

/* Per TCP connection (MHD's socket_context), from NOTIFY_STARTED to CLOSED. */
struct osw_server_conn {
    struct osw_certpair *pair; /* owned reference: what this connection's handshake uses */
    bool keepalive_timeout;    /* timeout already raised to the keep-alive value */
};

/* request.c: libmicrohttpd's access handler and request-completed callback
 * (closure: struct osw_server). */
enum MHD_Result osw_request_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls);
void osw_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                           enum MHD_RequestTerminationCode toe);

#endif /* OSW_SERVER_INT_H */

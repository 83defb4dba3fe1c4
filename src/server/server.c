/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libmicrohttpd daemons: the listen socket and the acceptor that spreads
 * connections over them, TLS (per-connection certificate references from the
 * certificate store, priorities, session tickets), connection limits and
 * timeouts, and the two-step graceful shutdown. The per-request work is in
 * request.c; the route table in route.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>

#include "server/addr.h"
#include "server/server_int.h"

/*
 * Thread model: OSW_SERVER_WORKERS (2) libmicrohttpd daemons, each one poll
 * thread with no listen socket of its own, and one acceptor thread that owns
 * the listen socket and hands every new connection to the daemon with the
 * fewest connections (MHD_add_connection). A connection stays on its
 * daemon's thread for life, as in any MHD setup.
 *
 * Why not MHD's thread pool (MHD_OPTION_THREAD_POOL_SIZE 2, used before):
 * each pool thread accepts up to 10 pending connections in one series, so
 * the few keep-alive connections the API server opens usually arrive
 * together and land on one thread while the other core idles. Measured with
 * bench/spread.sh (wrk -t2, /mutate, 7.5 KB body, 10 runs of 3 s per point,
 * 2-core machine, 2026-11-26): one pool thread did >= 99 % of the work in
 * 9 of 10 runs at 2 connections, 6 of 10 at 4 and 7 of 10 at 8. At 2
 * connections that halved throughput (20.7k against 40.7k requests/s with
 * this acceptor); at 4 and 8 the lone thread ran at ~0.9 of a core, i.e. at
 * its limit, with wrk on the other core. With the acceptor every run split
 * 50/50. Spreading costs CPU on a 2-core box shared with the client (more
 * wake-ups per request: 30.4 and 29.5 us/request at 4 and 8 connections
 * against 26.6 and 25.1 when one thread did everything, and the pool's own
 * balanced runs cost the same as the acceptor's), but it is what lets the
 * server use a second core when the client is on another machine.
 *
 * Why poll and not epoll in the daemons: with MHD_USE_EPOLL_INTERNAL_THREAD
 * and connections handed over with MHD_add_connection, keep-alive load at
 * 256 connections stalled: 3 of 6 wrk runs of 3 s (-c256, /validate) served
 * ~6k requests/s with the server idle (0.6 s of CPU in 3 s), so only ~18 of
 * the 256 connections were being served. With level-triggered poll the same
 * runs gave 37-45k requests/s, 6 of 6 (2026-11-26). The mechanism inside
 * libmicrohttpd 0.9.75 was not isolated (a one-shot burst of 200 fresh
 * connections does not reproduce it; sustained keep-alive load does);
 * bench/'s 256-connection points would show a recurrence. poll costs
 * O(open connections) per wake-up, small at the few connections API servers
 * keep; bench/ also measures 1000 idle connections.
 *
 * Why not SO_REUSEPORT with one listening daemon per core: the kernel picks
 * the socket by a hash of the 4-tuple, which is random for a handful of
 * connections: 2 connections landed on the same socket in 146 of 300 tries,
 * 4 connections all on one in 37 of 300 (and 3:1 in 159). It also lets any
 * other process of the same user bind the same port and take a share of the
 * connections. Least-connections assignment is exact (2 connections: 1+1,
 * 4: 2+2) and the listen socket here is an ordinary one: binding the port a
 * second time fails with EADDRINUSE.
 */

/* How often the acceptor checks the request deadline, and how long a new
 * connection may wait for an idle one to make room when every daemon is at
 * its limit. */
#define SWEEP_MS     1000
#define ROOM_WAIT_MS 250

/* A connection that has never completed a request is closed to make room
 * only once it is this old: a fresh client's handshake and first request
 * take far less, and one that has done nothing for this long is no better
 * than an idle keep-alive connection. */
#define FRESH_GRACE_MS 1000

/* The metrics listener's daemon: scrapers are few (one Prometheus per
 * replica of the monitoring stack), so a small limit keeps a flood on that
 * port from costing the admission port anything. */
#define METRICS_CONNECTION_LIMIT 64u

/* TLS handshake failure lines: at most this many per window. */
#define TLS_FAIL_LOG_BURST     10u
#define TLS_FAIL_LOG_WINDOW_MS 60000

/* Body bytes buffered across all requests in flight: at least this, or 16
 * request-size limits, whichever is larger (see request.c, charge()). */
#define BUFFERED_MIN (64ull << 20)

/* Each connection is a descriptor: let the connection limit, not the default
 * soft limit of 1024, decide how many the server holds. */
static void raise_nofile(const struct osw_log *log)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        osw_log_printf(log, OSW_LOG_WARN, "cannot raise the open-files limit: %s", strerror(errno));
}

/* Descriptors the process keeps for itself (listen socket, eventfds, log,
 * watched files, the API source's connections) beside its connections. */
#define NOFILE_RESERVE 64

/* The connection limit, and what follows from it. A limit above what the
 * descriptors allow would never be reached (accept would fail first), so
 * idle connections would never be closed to make room: lower it instead. */
static void set_conn_limit(struct osw_server *srv, unsigned wanted)
{
    struct rlimit rl;
    long limit = (long)(wanted != 0 ? wanted : OSW_SERVER_MAX_CONNECTIONS_DEFAULT);

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)limit + NOFILE_RESERVE) {
        long fit = (long)rl.rlim_cur - NOFILE_RESERVE;
        if (fit < (long)OSW_SERVER_MAX_CONNECTIONS_MIN)
            fit = (long)OSW_SERVER_MAX_CONNECTIONS_MIN;
        osw_log_printf(srv->deps.log, OSW_LOG_WARN,
                       "open-files limit %llu allows %ld connections, not %ld: using %ld",
                       (unsigned long long)rl.rlim_cur, fit, limit, fit);
        limit = fit;
    }
    if (limit < (long)OSW_SERVER_MAX_CONNECTIONS_MIN)
        limit = (long)OSW_SERVER_MAX_CONNECTIONS_MIN;
    srv->max_conns = limit;
    /* Idle connections start to go 1/16 below the limit (256 of 4096), so
     * a burst of new clients finds room while they leave. */
    srv->conn_headroom = limit / 16 > 4 ? limit / 16 : 4;
    srv->worker_limit = limit / (long)OSW_SERVER_WORKERS;
}

/* libmicrohttpd's messages (client errors, handshake failures, ...) are
 * frequent and caused by clients: they go out at debug level only. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    const struct osw_server *srv = cls;
    int saved = errno; /* MHD reads errno after some of its messages */
    char msg[512];
    size_t n;

    if (osw_log_enabled(srv->deps.log, OSW_LOG_DEBUG)) {
        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
            msg[--n] = '\0';
        struct osw_log_field f = OSW_LOGF_CSTR("source", "libmicrohttpd");
        osw_log_write(srv->deps.log, OSW_LOG_DEBUG, msg, &f, 1);
    }
    errno = saved;
}

/*
 * GnuTLS's certificate callback has no closure argument. Each connection
 * took its own reference to the current pair when it started (see
 * notify_connection) and parked its osw_server_conn, which holds it, in the
 * session's DB pointer, which libmicrohttpd never uses (it owns
 * gnutls_session_set_ptr, and sets no session database). A reload therefore
 * never frees a pair under a handshake, and no global is needed.
 */
static int cert_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
                         gnutls_pcert_st **certs, unsigned int *ncerts, gnutls_ocsp_data_st **ocsp,
                         unsigned int *nocsp, gnutls_privkey_t *key, unsigned int *flags)
{
    const struct osw_server_conn *sc = gnutls_db_get_ptr(session);

    (void)info;
    if (sc == NULL || sc->pair == NULL)
        return -1; /* fails this handshake only */
    osw_certpair_get(sc->pair, certs, ncerts, key);
    *ocsp = NULL;
    *nocsp = 0;
    *flags = 0; /* the pair keeps ownership */
    return 0;
}

/* The kind of key a TLS 1.2 suite's key exchange must match: ECDHE_ECDSA
 * suites sign with ECDSA (or EdDSA) keys, ECDHE_RSA suites with RSA ones. */
static enum osw_tls_key key_kind(gnutls_privkey_t key)
{
    switch (gnutls_privkey_get_pk_algorithm(key, NULL)) {
    case GNUTLS_PK_ECDSA:
    case GNUTLS_PK_EDDSA_ED25519:
    case GNUTLS_PK_EDDSA_ED448:
        return OSW_TLS_KEY_ECDSA;
    default:
        return OSW_TLS_KEY_RSA;
    }
}

/*
 * Installed only when --tls-cipher-suites narrows the TLS 1.2 suites.
 * GnuTLS calls it after it has parsed the ClientHello and negotiated the
 * version, before it picks the suite (gnutls_handshake_set_post_client_hello_
 * function: "anything else except for version negotiation"). A TLS 1.2
 * session then switches to the priorities holding exactly the chosen suites
 * that fit its certificate's key; a TLS 1.3 session keeps all three of its
 * suites, which are not configurable.
 */
static int client_hello(gnutls_session_t session)
{
    const struct osw_server_conn *sc = gnutls_db_get_ptr(session);
    gnutls_pcert_st *pcerts;
    unsigned npcerts;
    gnutls_privkey_t key;

    if (gnutls_protocol_get_version(session) != GNUTLS_TLS1_2)
        return 0;
    if (sc == NULL || sc->pair == NULL)
        return GNUTLS_E_INTERNAL_ERROR; /* no certificate: this handshake fails */
    osw_certpair_get(sc->pair, &pcerts, &npcerts, &key);
    gnutls_priority_t prio = sc->srv->prio12[key_kind(key)];
    if (prio == NULL)
        return GNUTLS_E_NO_CIPHER_SUITES; /* no chosen suite fits this key */
    return gnutls_priority_set(session, prio);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

long long osw_server_ms(const struct timespec *ts)
{
    return (long long)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return osw_server_ms(&ts);
}

struct osw_server_conn *osw_server_conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

void osw_server_conn_begin(struct osw_server_conn *sc, const struct timespec *t0)
{
    if (sc != NULL)
        atomic_store_explicit(&sc->req_since_ms, osw_server_ms(t0), memory_order_relaxed);
}

void osw_server_conn_end(struct osw_server_conn *sc)
{
    if (sc == NULL)
        return;
    atomic_store_explicit(&sc->idle_since_ms, now_ms(), memory_order_relaxed);
    atomic_store_explicit(&sc->served, true, memory_order_relaxed);
    atomic_store_explicit(&sc->req_since_ms, 0, memory_order_relaxed);
}

static void conn_link(struct osw_server *srv, struct osw_server_conn *sc,
                      struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    sc->fd = ci != NULL ? ci->connect_fd : -1;
    atomic_init(&sc->req_since_ms, 0);
    atomic_init(&sc->idle_since_ms, now_ms());
    atomic_init(&sc->served, false);
    atomic_init(&sc->held, 0);
    pthread_mutex_lock(&srv->conns_mu);
    sc->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = sc;
    srv->conns = sc;
    pthread_mutex_unlock(&srv->conns_mu);
}

static void conn_unlink(struct osw_server *srv, struct osw_server_conn *sc)
{
    pthread_mutex_lock(&srv->conns_mu);
    if (sc->prev != NULL)
        sc->prev->next = sc->next;
    else
        srv->conns = sc->next;
    if (sc->next != NULL)
        sc->next->prev = sc->prev;
    sc->prev = sc->next = NULL;
    pthread_mutex_unlock(&srv->conns_mu);
}

/* Closes `sc` from any thread (conns_mu held): shutting the socket down
 * makes its daemon see the end of the stream and close the connection
 * itself, which is the only thread allowed to. */
static void conn_close_locked(struct osw_server_conn *sc)
{
    if (sc->closing || sc->fd < 0)
        return;
    sc->closing = true;
    (void)shutdown(sc->fd, SHUT_RDWR);
}

bool osw_server_evict_bodies(struct osw_server *srv, const struct osw_server_conn *self,
                             size_t excess)
{
    long long now = now_ms();
    size_t freeing = 0, more = 0;
    bool ok;

    pthread_mutex_lock(&srv->conns_mu);
    /* What connections already being closed will give back, and what the
     * stalled ones could. */
    for (struct osw_server_conn *c = srv->conns; c != NULL; c = c->next) {
        size_t held = atomic_load_explicit(&c->held, memory_order_relaxed);
        long long since = atomic_load_explicit(&c->req_since_ms, memory_order_relaxed);
        if (c->closing)
            freeing += held;
        else if (c != self && held > 0 && since != 0 && now - since >= OSW_SERVER_STALLED_MS)
            more += held;
    }
    ok = freeing + more >= excess;
    /* Largest stalled holder first, until what is being freed covers it. */
    while (ok && freeing < excess) {
        struct osw_server_conn *victim = NULL;
        size_t most = 0;
        for (struct osw_server_conn *c = srv->conns; c != NULL; c = c->next) {
            size_t held = atomic_load_explicit(&c->held, memory_order_relaxed);
            long long since = atomic_load_explicit(&c->req_since_ms, memory_order_relaxed);
            if (!c->closing && c != self && held > most && since != 0 &&
                now - since >= OSW_SERVER_STALLED_MS) {
                victim = c;
                most = held;
            }
        }
        if (victim == NULL)
            break;
        conn_close_locked(victim);
        freeing += most;
    }
    pthread_mutex_unlock(&srv->conns_mu);
    if (ok)
        osw_log_printf(srv->deps.log, OSW_LOG_DEBUG,
                       "body budget full: closed stalled uploads holding %zu bytes", freeing);
    return ok;
}

/* Connections the server is closing (shut down, not yet gone). */
static long closing_conns(struct osw_server *srv)
{
    long c = 0;
    pthread_mutex_lock(&srv->conns_mu);
    for (struct osw_server_conn *sc = srv->conns; sc != NULL; sc = sc->next)
        c += sc->closing ? 1 : 0;
    pthread_mutex_unlock(&srv->conns_mu);
    return c;
}

/* Connections counted by the daemons and not already being closed. */
static long open_conns(struct osw_server *srv)
{
    long n = 0;
    for (unsigned k = 0; k < OSW_SERVER_WORKERS; k++)
        n += atomic_load(&srv->workers[k].conns);
    return n - closing_conns(srv);
}

/* Closes up to `n` idle connections, the longest idle first: keep-alive
 * connections between requests, and connections that have done nothing for
 * FRESH_GRACE_MS. Returns how many it closed. */
static long close_idle(struct osw_server *srv, long n)
{
    long long now = now_ms();
    long done = 0;

    pthread_mutex_lock(&srv->conns_mu);
    for (; done < n; done++) {
        struct osw_server_conn *oldest = NULL;
        long long oldest_t = 0;
        for (struct osw_server_conn *c = srv->conns; c != NULL; c = c->next) {
            long long t = atomic_load_explicit(&c->idle_since_ms, memory_order_relaxed);
            if (c->closing || atomic_load_explicit(&c->req_since_ms, memory_order_relaxed) != 0)
                continue;
            if (!atomic_load_explicit(&c->served, memory_order_relaxed) && now - t < FRESH_GRACE_MS)
                continue;
            if (oldest == NULL || t < oldest_t) {
                oldest = c;
                oldest_t = t;
            }
        }
        if (oldest == NULL)
            break;
        conn_close_locked(oldest);
    }
    pthread_mutex_unlock(&srv->conns_mu);
    if (done > 0)
        osw_log_printf(srv->deps.log, OSW_LOG_DEBUG,
                       "near the connection limit: closed %ld idle connections", done);
    return done;
}

/* Near the limit, idle connections make room for new ones (as nginx reuses
 * its keep-alive connections): above max_conns - conn_headroom, enough of
 * them are closed to get back under it, counting those already closing. */
static void make_room(struct osw_server *srv)
{
    long high = srv->max_conns - srv->conn_headroom, n = 0;
    for (unsigned k = 0; k < OSW_SERVER_WORKERS; k++)
        n += atomic_load(&srv->workers[k].conns);
    if (n + 1 <= high)
        return; /* the common case: no lock, no walk */
    n = open_conns(srv);
    if (n + 1 > high)
        (void)close_idle(srv, n + 1 - high);
}

/* Whether `c` is past its deadline: a request still in progress
 * OSW_SERVER_REQUEST_DEADLINE_MS after it began (a body dribbled or
 * stalled, an answer nobody reads), or no request begun within
 * OSW_SERVER_FIRST_REQUEST_MS of the connection's start, or the keep-alive
 * timeout after its last answer (headers dribbled). */
static bool past_deadline(const struct osw_server_conn *c, long long now)
{
    long long since = atomic_load_explicit(&c->req_since_ms, memory_order_relaxed);
    if (since != 0)
        return now - since >= OSW_SERVER_REQUEST_DEADLINE_MS;
    long long idle = atomic_load_explicit(&c->idle_since_ms, memory_order_relaxed);
    long long bound = atomic_load_explicit(&c->served, memory_order_relaxed)
                          ? (long long)OSW_SERVER_KEEPALIVE_TIMEOUT_S * 1000
                          : OSW_SERVER_FIRST_REQUEST_MS;
    return now - idle >= bound;
}

/* Closes the connections past their deadline (see past_deadline). */
static void sweep_deadline(struct osw_server *srv)
{
    long long now = now_ms();
    long n = 0;

    pthread_mutex_lock(&srv->conns_mu);
    for (struct osw_server_conn *c = srv->conns; c != NULL; c = c->next) {
        if (!c->closing && past_deadline(c, now)) {
            conn_close_locked(c);
            n++;
        }
    }
    pthread_mutex_unlock(&srv->conns_mu);
    if (n > 0)
        osw_log_printf(srv->deps.log, OSW_LOG_DEBUG,
                       "closed %ld connections past their deadline (request in progress %d s, "
                       "none begun %d s after opening)",
                       n, OSW_SERVER_REQUEST_DEADLINE_MS / 1000,
                       OSW_SERVER_FIRST_REQUEST_MS / 1000);
}

/* Handshake messages after they are processed: the client's Finished means
 * the client accepted the certificate and the handshake is complete (in
 * TLS 1.2 and 1.3, full or resumed). A client that distrusts the
 * certificate sends an alert instead; plain HTTP never gets this far. */
static int handshake_hook(gnutls_session_t session, unsigned int htype, unsigned when,
                          unsigned int incoming, const gnutls_datum_t *msg)
{
    struct osw_server_conn *sc = gnutls_db_get_ptr(session);

    (void)when;
    (void)msg;
    if (sc != NULL && incoming && htype == GNUTLS_HANDSHAKE_FINISHED)
        sc->handshake_done = true;
    return 0;
}

/* A connection closed before its TLS handshake completed: unknown CA on the
 * client's side, plain HTTP or random bytes on the TLS port, a version or
 * cipher mismatch, or a client that went quiet. At info with the peer,
 * rate-limited (a scanner must not flood the log): each line counts the
 * failures left out before it. */
static void log_handshake_failure(struct osw_server *srv, struct MHD_Connection *conn)
{
    unsigned long long suppressed = 0;
    char remote[OSW_ADDR_TEXT_MAX];

    if (!osw_log_enabled(srv->deps.log, OSW_LOG_INFO) ||
        !osw_ratelimit_allow(&srv->tls_fail_log, now_ms(), &suppressed))
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    osw_addr_format(ci != NULL ? ci->client_addr : NULL, remote, sizeof(remote));
    struct osw_log_field f[] = {
        OSW_LOGF_CSTR("remote", remote),
        OSW_LOGF_INT("suppressed", suppressed),
    };
    osw_log_write(srv->deps.log, OSW_LOG_INFO, "TLS handshake failed or not completed", f,
                  suppressed > 0 ? 2 : 1);
}

/* MHD_CONNECTION_NOTIFY_STARTED comes after gnutls_init and before the
 * handshake (libmicrohttpd 0.9.75, new_connection_process_), in the thread
 * that will run the handshake; every STARTED is followed by one CLOSED.
 * Closure: the connection's worker. */
static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    struct osw_server_worker *w = cls;
    struct osw_server *srv = w->srv;
    struct osw_server_conn *sc;

    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        sc = *socket_context;
        *socket_context = NULL;
        if (sc != NULL) {
            /* Unlinked before libmicrohttpd closes the descriptor, so the
             * acceptor never shuts down a descriptor number reused since. */
            conn_unlink(srv, sc);
            if (sc->tls && !sc->handshake_done)
                log_handshake_failure(srv, conn);
            /* No GnuTLS callback can reach `sc` after this: libmicrohttpd
             * 0.9.75 has already freed the session (gnutls_deinit) when it
             * sends CLOSED, so the session must not be touched here either
             * (valgrind: an invalid write through gnutls_db_set_ptr). */
            osw_certpair_unref(sc->pair);
            free(sc);
        }
        atomic_fetch_sub(&w->conns, 1);
        return;
    }
    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    sc = calloc(1, sizeof(*sc));
    if (sc == NULL)
        return; /* no pair: cert_retrieve fails this handshake */
    conn_link(srv, sc, conn);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t session = ci != NULL ? (gnutls_session_t)ci->tls_session : NULL;
    sc->srv = srv;
    if (session != NULL) {
        sc->pair = osw_certstore_acquire(srv->deps.certs);
        sc->tls = true;
        gnutls_db_set_ptr(session, sc);
        if (srv->narrowed)
            gnutls_handshake_set_post_client_hello_function(session, client_hello);
        gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST,
                                           handshake_hook);
        if (srv->ticket_key.data != NULL)
            (void)gnutls_session_ticket_enable_server(session, &srv->ticket_key);
    }
    *socket_context = sc;
}

/* The worker with the fewest connections that is under its limit (ties go
 * round-robin from `*next`); NULL when all are full. The counts include
 * connections handed over but not yet started, so a burst of connections
 * accepted together is spread too. */
static struct osw_server_worker *pick_worker(struct osw_server *srv, unsigned *next)
{
    struct osw_server_worker *best = NULL;
    long best_n = srv->worker_limit;

    /* The acceptor runs only once all OSW_SERVER_WORKERS daemons started. */
    for (unsigned k = 0; k < OSW_SERVER_WORKERS; k++) {
        struct osw_server_worker *w = &srv->workers[(*next + k) % OSW_SERVER_WORKERS];
        long n = atomic_load(&w->conns);
        if (n < best_n) {
            best = w;
            best_n = n;
        }
    }
    *next = (*next + 1) % OSW_SERVER_WORKERS;
    return best;
}

/* The metrics daemon when it is under its limit, else NULL. */
static struct osw_server_worker *metrics_worker(struct osw_server *srv)
{
    struct osw_server_worker *w = &srv->metrics_worker;
    return atomic_load(&w->conns) < (long)METRICS_CONNECTION_LIMIT ? w : NULL;
}

/* Accepts what is pending on `lfd` (at most a bounded batch, so a stop
 * request is seen) and hands each connection to a worker: one of the
 * admission daemons, or the metrics daemon for the metrics listener. */
static void accept_batch(struct osw_server *srv, int lfd, bool metrics, unsigned *next)
{
    for (int k = 0; k < 64; k++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors or memory: the connection waits in the
                 * backlog; retry later instead of spinning on it. */
                osw_log_printf(srv->deps.log, OSW_LOG_DEBUG, "accept: %s", strerror(errno));
                sleep_ms(10);
                return;
            }
            continue; /* ECONNABORTED and the like: that client is gone */
        }
        struct osw_server_worker *w = NULL;
        if (metrics) {
            w = metrics_worker(srv);
        } else {
            make_room(srv);
            w = pick_worker(srv, next);
            /* Every daemon at its limit: close one more idle connection, and
             * wait while connections being closed leave (within a poll round
             * of their daemons). With nothing idle, refuse at once. */
            if (w == NULL)
                (void)close_idle(srv, 1);
            for (int waited = 0; w == NULL && waited < ROOM_WAIT_MS && closing_conns(srv) > 0;
                 waited += 5) {
                sleep_ms(5);
                w = pick_worker(srv, next);
            }
        }
        if (w == NULL) {
            close(fd); /* nothing idle to close: every connection is busy */
            continue;
        }
        /* Counted before the hand-over: the daemon's thread may close it
         * (NOTIFY_CLOSED) before MHD_add_connection returns. A connection
         * that MHD drops before NOTIFY_STARTED (out of memory) stays
         * counted, which only skews the choice. */
        atomic_fetch_add(&w->conns, 1);
        if (MHD_add_connection(w->daemon, fd, (const struct sockaddr *)&ss, len) != MHD_YES)
            atomic_fetch_sub(&w->conns, 1); /* MHD closed fd */
    }
}

static void *acceptor_main(void *arg)
{
    struct osw_server *srv = arg;
    unsigned next = 0;
    long long last_sweep = now_ms();

    for (;;) {
        /* poll skips a negative fd: without --metrics-listen, p[2]. */
        struct pollfd p[3] = {{.fd = srv->wake_fd, .events = POLLIN},
                              {.fd = srv->listen_fd, .events = POLLIN},
                              {.fd = srv->metrics_fd, .events = POLLIN}};
        int r = poll(p, 3, SWEEP_MS);
        if (r < 0 && errno != EINTR)
            sleep_ms(10);
        if (r > 0 && p[0].revents != 0)
            break;
        if (r > 0 && p[1].revents != 0)
            accept_batch(srv, srv->listen_fd, false, &next);
        if (r > 0 && p[2].revents != 0)
            accept_batch(srv, srv->metrics_fd, true, &next);
        long long now = now_ms();
        if (now - last_sweep >= SWEEP_MS) {
            last_sweep = now;
            sweep_deadline(srv);
        }
    }
    return NULL;
}

/* Creates and binds a socket (into `*fd`, closed by the caller even on
 * failure; osw_server_run makes it listen): an ordinary one (no SO_REUSEPORT, so no other socket
 * can bind the same port and share its connections); SO_REUSEADDR as libmicrohttpd set it, so that
 * a restart is not refused while old connections linger in TIME_WAIT. "[::]" is dual-stack. Returns
 * 0 or an errno value. */
static int open_listener(const struct osw_addr *addr, int *fd, unsigned short *port)
{
    int one = 1;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);

    *fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return errno;
    (void)setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (addr->ipv6) {
        int v6only = addr->any6 ? 0 : 1;
        if (setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
            return errno;
    }
    if (bind(*fd, (const struct sockaddr *)&addr->ss, addr->len) != 0)
        return errno;
    memset(&bound, 0, sizeof(bound));
    if (getsockname(*fd, (struct sockaddr *)&bound, &blen) != 0)
        return errno;
    if (addr->ss.ss_family == AF_INET6)
        *port = ntohs(((const struct sockaddr_in6 *)(const void *)&bound)->sin6_port);
    else
        *port = ntohs(((const struct sockaddr_in *)(const void *)&bound)->sin_port);
    return 0;
}

static bool is_wildcard(const struct osw_addr *a)
{
    if (a->ss.ss_family == AF_INET6)
        return a->any6;
    return ((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr.s_addr == INADDR_ANY;
}

/* Whether two addresses on one port would take each other's connections.
 * Two sockets with SO_REUSEADDR may both bind such a pair as long as
 * neither listens yet, so the clash has to be found here, before the
 * listen() of osw_server_run. */
static bool overlaps(const struct osw_addr *a, const struct osw_addr *b)
{
    if (is_wildcard(a) || is_wildcard(b))
        return true;
    if (a->ss.ss_family != b->ss.ss_family)
        return false;
    if (a->ss.ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr,
                      &((const struct sockaddr_in6 *)(const void *)&b->ss)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return ((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)(const void *)&b->ss)->sin_addr.s_addr;
}

/* Binds `host`:`port` for `what` ("" or "--metrics-listen "); OSW_EIO with a
 * one-line reason naming the address when it cannot be bound, or when it
 * takes the same port as `other` (the main listener; NULL for that one). */
static enum osw_err bind_listener(const char *what, const char *host, unsigned short port,
                                  const struct osw_addr *other, unsigned short other_port,
                                  struct osw_addr *addr, int *fd, unsigned short *bound,
                                  struct osw_errbuf *eb)
{
    enum osw_err err = osw_addr_resolve(host, port, addr, eb);
    if (err != OSW_OK)
        return err;
    if (other != NULL && port == other_port && overlaps(addr, other))
        return osw_errbuf_set(
            eb, OSW_EIO, "cannot listen on %s%s%s%s:%u: %s", what, addr->ipv6 ? "[" : "",
            host != NULL && host[0] != '\0' ? host : "0.0.0.0", addr->ipv6 ? "]" : "",
            (unsigned)port, "the port of --listen is on that address already");
    int e = open_listener(addr, fd, bound);
    if (e != 0)
        return osw_errbuf_set(eb, OSW_EIO, "cannot listen on %s%s%s%s:%u: %s", what,
                              addr->ipv6 ? "[" : "",
                              host != NULL && host[0] != '\0' ? host : "0.0.0.0",
                              addr->ipv6 ? "]" : "", (unsigned)port, strerror(e));
    return OSW_OK;
}

/* The TLS 1.2 priorities of --tls-cipher-suites (see client_hello): only
 * when the chosen suites are fewer than all six and TLS 1.2 is offered. */
static enum osw_err narrow_suites(struct osw_server *srv, const struct osw_server_config *cfg,
                                  struct osw_errbuf *eb)
{
    unsigned mask = cfg->tls12_suites & OSW_TLS_SUITES_ALL;
    char prio[512];

    if (mask == 0 || mask == OSW_TLS_SUITES_ALL || cfg->tls_min != OSW_TLS_MIN_12)
        return OSW_OK;
    srv->narrowed = true;
    for (unsigned k = OSW_TLS_KEY_RSA; k <= OSW_TLS_KEY_ECDSA; k++) {
        const char *errpos = NULL;
        if (!osw_priorities_tls12(cfg->tls_min, mask, (enum osw_tls_key)k, prio, sizeof(prio)))
            continue; /* no chosen suite for this key: its TLS 1.2 handshakes fail */
        int rc = gnutls_priority_init(&srv->prio12[k], prio, &errpos);
        if (rc < 0) {
            srv->prio12[k] = NULL;
            return osw_errbuf_set(eb, OSW_ETLS, "TLS priorities \"%s\": %s", prio,
                                  gnutls_strerror(rc));
        }
    }
    return OSW_OK;
}

/* Stops accepting: the acceptor ends and the listen socket is closed, so a
 * new connection is refused rather than left in the backlog. */
static void stop_accepting(struct osw_server *srv)
{
    if (srv->acceptor_started) {
        uint64_t one = 1;
        while (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
            ;
        pthread_join(srv->acceptor, NULL);
        srv->acceptor_started = false;
    }
    if (srv->listen_fd >= 0) {
        close(srv->listen_fd);
        srv->listen_fd = -1;
    }
    if (srv->metrics_fd >= 0) {
        close(srv->metrics_fd);
        srv->metrics_fd = -1;
    }
}

/* Stops everything still running and frees the server. NULL is fine. */
static void free_server(struct osw_server *srv)
{
    if (srv == NULL)
        return;
    stop_accepting(srv);
    for (unsigned i = 0; i < srv->nworkers; i++)
        MHD_stop_daemon(srv->workers[i].daemon);
    if (srv->metrics_worker.daemon != NULL)
        MHD_stop_daemon(srv->metrics_worker.daemon);
    for (unsigned k = 0; k < 2; k++) {
        if (srv->prio12[k] != NULL)
            gnutls_priority_deinit(srv->prio12[k]);
    }
    if (srv->wake_fd >= 0)
        close(srv->wake_fd);
    if (srv->ticket_key.data != NULL) {
        gnutls_memset(srv->ticket_key.data, 0, srv->ticket_key.size);
        gnutls_free(srv->ticket_key.data);
    }
    pthread_mutex_destroy(&srv->conns_mu);
    osw_ratelimit_free(&srv->tls_fail_log);
    free(srv);
}

static struct MHD_Daemon *start_worker(struct osw_server *srv, struct osw_server_worker *w,
                                       MHD_AccessHandlerCallback access, unsigned limit)
{
    /* MHD_USE_ITC: MHD_add_connection from the acceptor wakes the thread.
     * MHD_ALLOW_SUSPEND_RESUME (with --metrics-auth only): a scrape waits
     * for its review suspended, not holding the thread (request.c).
     * Poll, not epoll: see the thread-model comment at the top. */
    unsigned int flags = MHD_USE_TLS | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
                         MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG;
    if (srv->deps.mauth != NULL)
        flags |= MHD_ALLOW_SUSPEND_RESUME;

    w->srv = srv;
    atomic_init(&w->conns, 0);
    /* clang-format off */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, access, srv,
        /* First, so that libmicrohttpd's own start-up messages use it. */
        MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, srv,
        MHD_OPTION_HTTPS_PRIORITIES, osw_tls_priorities(srv->tls_min),
        MHD_OPTION_HTTPS_CERT_CALLBACK2, &cert_retrieve,
        MHD_OPTION_NOTIFY_CONNECTION, &notify_connection, w,
        MHD_OPTION_NOTIFY_COMPLETED, &osw_request_completed, srv,
        /* The acceptor keeps each daemon under worker_limit (its counts are
         * never below MHD's), so this check never refuses first. */
        MHD_OPTION_CONNECTION_LIMIT, limit,
        /* Short until a connection completes a request (request.c raises it
         * then): a connection that never sends a request is gone in < 5 s. */
        MHD_OPTION_CONNECTION_TIMEOUT, OSW_SERVER_FIRST_TIMEOUT_S,
        /* MHD_OPTION_CONNECTION_MEMORY_LIMIT stays at its 32 KiB default:
         * smaller split a typical request body in two (STACK.md). */
        MHD_OPTION_END);
    /* clang-format on */
}

enum osw_err osw_server_new(const struct osw_server_config *cfg, const struct osw_server_deps *deps,
                            struct osw_server **out, struct osw_errbuf *eb)
{
    struct osw_server *srv = NULL;
    struct osw_addr main_addr;
    enum osw_err err;

    *out = NULL;
    if (deps->certs == NULL || deps->cell == NULL)
        return osw_errbuf_set(eb, OSW_EINVAL, "server: certificate store and cache required");
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return osw_errbuf_set(eb, OSW_ENOMEM, "server: out of memory");
    srv->listen_fd = -1;
    srv->metrics_fd = -1;
    srv->wake_fd = -1;
    srv->metrics_separate = cfg->metrics_listen;
    srv->tls_min = cfg->tls_min;
    pthread_mutex_init(&srv->conns_mu, NULL);
    srv->deps = *deps;
    osw_ratelimit_init(&srv->tls_fail_log, TLS_FAIL_LOG_BURST, TLS_FAIL_LOG_WINDOW_MS);
    srv->policy = cfg->policy;
    srv->cluster_required = cfg->cluster_required;
    srv->decode = cfg->decode;
    /* Bounded so that size arithmetic on bodies cannot overflow. */
    srv->max_body =
        cfg->max_request_bytes < (SIZE_MAX >> 5) ? cfg->max_request_bytes : (SIZE_MAX >> 5);
    srv->buffered_cap =
        (size_t)(srv->max_body * 16 > BUFFERED_MIN ? srv->max_body * 16 : BUFFERED_MIN);
    atomic_init(&srv->buffered, 0);
    atomic_init(&srv->inflight, 0);
    atomic_init(&srv->shutting_down, false);
    atomic_init(&srv->draining, false);

    /* TLS session resumption with tickets (libmicrohttpd does not enable
     * it): saves the API server a full handshake when it reconnects. The
     * key is held here and dies with the server. Optional: without it every
     * handshake is a full one. */
    if (gnutls_session_ticket_key_generate(&srv->ticket_key) < 0) {
        srv->ticket_key.data = NULL;
        osw_log_printf(deps->log, OSW_LOG_WARN, "TLS session tickets disabled");
    }
    raise_nofile(deps->log);
    err = narrow_suites(srv, cfg, eb);
    if (err != OSW_OK)
        goto out;
    set_conn_limit(srv, cfg->max_connections);

    err = bind_listener("", cfg->listen_host, cfg->listen_port, NULL, 0, &main_addr,
                        &srv->listen_fd, &srv->port, eb);
    if (err != OSW_OK)
        goto out;
    if (cfg->metrics_listen) {
        struct osw_addr maddr;
        err = bind_listener("--metrics-listen ", cfg->metrics_host, cfg->metrics_port, &main_addr,
                            srv->port, &maddr, &srv->metrics_fd, &srv->metrics_port, eb);
        if (err != OSW_OK)
            goto out;
    }
    *out = srv;
    srv = NULL;
    err = OSW_OK;
out:
    free_server(srv);
    return err;
}

static enum osw_err start_failed(struct osw_errbuf *eb, int e)
{
    return osw_errbuf_set(eb, OSW_EIO, "cannot start the HTTP server: %s",
                          e != 0 ? strerror(e) : "libmicrohttpd failed to start");
}

enum osw_err osw_server_run(struct osw_server *srv, struct osw_errbuf *eb)
{
    int e;

    if (srv == NULL)
        return osw_errbuf_set(eb, OSW_EINVAL, "server: not created");
    if (listen(srv->listen_fd, SOMAXCONN) != 0 ||
        (srv->metrics_fd >= 0 && listen(srv->metrics_fd, SOMAXCONN) != 0))
        return start_failed(eb, errno);
    for (; srv->nworkers < OSW_SERVER_WORKERS; srv->nworkers++) {
        struct osw_server_worker *w = &srv->workers[srv->nworkers];
        errno = 0;
        w->daemon = start_worker(srv, w, &osw_request_access, (unsigned)srv->worker_limit);
        if (w->daemon == NULL)
            return start_failed(eb, errno);
    }
    if (srv->metrics_separate) {
        errno = 0;
        srv->metrics_worker.daemon = start_worker(
            srv, &srv->metrics_worker, &osw_request_access_metrics, METRICS_CONNECTION_LIMIT);
        if (srv->metrics_worker.daemon == NULL)
            return start_failed(eb, errno);
    }
    srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (srv->wake_fd < 0)
        return start_failed(eb, errno);
    e = pthread_create(&srv->acceptor, NULL, acceptor_main, srv);
    if (e != 0)
        return start_failed(eb, e);
    srv->acceptor_started = true;
    (void)pthread_setname_np(srv->acceptor, "osw-accept");
    return OSW_OK;
}

enum osw_err osw_server_start(const struct osw_server_config *cfg,
                              const struct osw_server_deps *deps, struct osw_server **out,
                              struct osw_errbuf *eb)
{
    struct osw_server *srv = NULL;
    enum osw_err err = osw_server_new(cfg, deps, &srv, eb);

    *out = NULL;
    if (err != OSW_OK)
        return err;
    err = osw_server_run(srv, eb);
    if (err != OSW_OK) {
        free_server(srv);
        return err;
    }
    *out = srv;
    return OSW_OK;
}

void osw_server_begin_shutdown(struct osw_server *srv)
{
    if (srv != NULL)
        atomic_store(&srv->shutting_down, true);
}

void osw_server_stop(struct osw_server *srv, long long drain_ms)
{
    if (srv == NULL)
        return;
    atomic_store(&srv->shutting_down, true);
    atomic_store(&srv->draining, true);
    stop_accepting(srv);
    /* Requests in flight (counted from their first handler call to
     * completion, across all daemons; MHD's connection count includes idle
     * keep-alive connections) get up to `drain_ms` to finish and be
     * answered. */
    for (long long waited = 0; atomic_load(&srv->inflight) > 0 && waited < drain_ms; waited += 10)
        sleep_ms(10);
    free_server(srv); /* stops every daemon */
}

unsigned short osw_server_port(const struct osw_server *srv)
{
    return srv != NULL ? srv->port : 0;
}

unsigned short osw_server_metrics_port(const struct osw_server *srv)
{
    return srv != NULL && srv->metrics_separate ? srv->metrics_port : 0;
}

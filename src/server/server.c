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

/* Split evenly across the daemons. Generous: idle connections cost ~30 KiB
 * each and RLIMIT_NOFILE is raised to match. */
#define CONNECTION_LIMIT 4096u

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
 * notify_connection) and parked it in the session's DB pointer, which
 * libmicrohttpd never uses (it owns gnutls_session_set_ptr, and sets no
 * session database). A reload therefore never frees a pair under a
 * handshake, and no global is needed.
 */
static int cert_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
                         gnutls_pcert_st **certs, unsigned int *ncerts, gnutls_ocsp_data_st **ocsp,
                         unsigned int *nocsp, gnutls_privkey_t *key, unsigned int *flags)
{
    const struct osw_certpair *pair = gnutls_db_get_ptr(session);

    (void)info;
    if (pair == NULL)
        return -1; /* fails this handshake only */
    osw_certpair_get(pair, certs, ncerts, key);
    *ocsp = NULL;
    *nocsp = 0;
    *flags = 0; /* the pair keeps ownership */
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
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
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t session = ci != NULL ? (gnutls_session_t)ci->tls_session : NULL;
    if (session != NULL) {
        sc->pair = osw_certstore_acquire(srv->deps.certs);
        gnutls_db_set_ptr(session, sc->pair);
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

/* Accepts what is pending (at most a bounded batch, so a stop request is
 * seen) and hands each connection to a worker. */
static void accept_batch(struct osw_server *srv, unsigned *next)
{
    for (int k = 0; k < 64; k++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd =
            accept4(srv->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
        struct osw_server_worker *w = pick_worker(srv, next);
        if (w == NULL) {
            close(fd); /* every daemon is at its connection limit */
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

    for (;;) {
        struct pollfd p[2] = {{.fd = srv->listen_fd, .events = POLLIN},
                              {.fd = srv->wake_fd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            sleep_ms(10);
            continue;
        }
        if (p[1].revents != 0)
            break;
        if (p[0].revents != 0)
            accept_batch(srv, &next);
    }
    return NULL;
}

/* Creates, binds and listens on the server's socket: an ordinary one (no
 * SO_REUSEPORT, so no other socket can bind the same port and share its
 * connections); SO_REUSEADDR as libmicrohttpd set it, so that a restart is
 * not refused while old connections linger in TIME_WAIT. "[::]" is
 * dual-stack. Returns 0 or an errno value. */
static int open_listener(struct osw_server *srv, const struct osw_addr *addr)
{
    int one = 1;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);

    srv->listen_fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv->listen_fd < 0)
        return errno;
    (void)setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (addr->ipv6) {
        int v6only = addr->any6 ? 0 : 1;
        if (setsockopt(srv->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
            return errno;
    }
    if (bind(srv->listen_fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 ||
        listen(srv->listen_fd, SOMAXCONN) != 0)
        return errno;
    memset(&bound, 0, sizeof(bound));
    if (getsockname(srv->listen_fd, (struct sockaddr *)&bound, &blen) != 0)
        return errno;
    if (addr->ss.ss_family == AF_INET6)
        srv->port = ntohs(((const struct sockaddr_in6 *)(const void *)&bound)->sin6_port);
    else
        srv->port = ntohs(((const struct sockaddr_in *)(const void *)&bound)->sin_port);
    return 0;
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
}

/* Stops everything still running and frees the server. NULL is fine. */
static void free_server(struct osw_server *srv)
{
    if (srv == NULL)
        return;
    stop_accepting(srv);
    for (unsigned i = 0; i < srv->nworkers; i++)
        MHD_stop_daemon(srv->workers[i].daemon);
    if (srv->wake_fd >= 0)
        close(srv->wake_fd);
    if (srv->ticket_key.data != NULL) {
        gnutls_memset(srv->ticket_key.data, 0, srv->ticket_key.size);
        gnutls_free(srv->ticket_key.data);
    }
    free(srv);
}

static struct MHD_Daemon *start_worker(struct osw_server *srv, struct osw_server_worker *w,
                                       const struct osw_server_config *cfg)
{
    /* MHD_USE_ITC: MHD_add_connection from the acceptor wakes the thread.
     * Poll, not epoll: see the thread-model comment at the top. */
    unsigned int flags = MHD_USE_TLS | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
                         MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG;

    w->srv = srv;
    atomic_init(&w->conns, 0);
    /* clang-format off */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, &osw_request_access, srv,
        /* First, so that libmicrohttpd's own start-up messages use it. */
        MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, srv,
        MHD_OPTION_HTTPS_PRIORITIES, osw_tls_priorities(cfg->tls_min),
        MHD_OPTION_HTTPS_CERT_CALLBACK2, &cert_retrieve,
        MHD_OPTION_NOTIFY_CONNECTION, &notify_connection, w,
        MHD_OPTION_NOTIFY_COMPLETED, &osw_request_completed, srv,
        /* The acceptor keeps each daemon under worker_limit (its counts are
         * never below MHD's), so this check never refuses first. */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)srv->worker_limit,
        /* Short until a connection completes a request (request.c raises it
         * then): a connection that never sends a request is gone in < 5 s. */
        MHD_OPTION_CONNECTION_TIMEOUT, OSW_SERVER_FIRST_TIMEOUT_S,
        /* MHD_OPTION_CONNECTION_MEMORY_LIMIT stays at its 32 KiB default:
         * smaller split a typical request body in two (STACK.md). */
        MHD_OPTION_END);
    /* clang-format on */
}

enum osw_err osw_server_start(const struct osw_server_config *cfg,
                              const struct osw_server_deps *deps, struct osw_server **out,
                              struct osw_errbuf *eb)
{
    struct osw_server *srv = NULL;
    struct osw_addr addr;
    enum osw_err err;
    int e;

    *out = NULL;
    if (deps->certs == NULL || deps->cell == NULL)
        return osw_errbuf_set(eb, OSW_EINVAL, "server: certificate store and cache required");
    err = osw_addr_resolve(cfg->listen_host, cfg->listen_port, &addr, eb);
    if (err != OSW_OK)
        return err;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return osw_errbuf_set(eb, OSW_ENOMEM, "server: out of memory");
    srv->listen_fd = -1;
    srv->wake_fd = -1;
    srv->deps = *deps;
    srv->policy = cfg->policy;
    srv->cluster_required = cfg->cluster_required;
    srv->decode = cfg->decode;
    /* Bounded so that size arithmetic on bodies cannot overflow. */
    srv->max_body =
        cfg->max_request_bytes < (SIZE_MAX >> 5) ? cfg->max_request_bytes : (SIZE_MAX >> 5);
    srv->buffered_cap =
        (size_t)(srv->max_body * 16 > BUFFERED_MIN ? srv->max_body * 16 : BUFFERED_MIN);
    srv->worker_limit = (long)(CONNECTION_LIMIT / OSW_SERVER_WORKERS);
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

    e = open_listener(srv, &addr);
    if (e != 0) {
        err = osw_errbuf_set(
            eb, OSW_EIO, "cannot listen on %s%s%s:%u: %s", addr.ipv6 ? "[" : "",
            cfg->listen_host != NULL && cfg->listen_host[0] != '\0' ? cfg->listen_host : "0.0.0.0",
            addr.ipv6 ? "]" : "", (unsigned)cfg->listen_port, strerror(e));
        goto out;
    }
    for (; srv->nworkers < OSW_SERVER_WORKERS; srv->nworkers++) {
        struct osw_server_worker *w = &srv->workers[srv->nworkers];
        errno = 0;
        w->daemon = start_worker(srv, w, cfg);
        if (w->daemon == NULL) {
            e = errno;
            err = osw_errbuf_set(eb, OSW_EIO, "cannot start the HTTP server: %s",
                                 e != 0 ? strerror(e) : "libmicrohttpd failed to start");
            goto out;
        }
    }
    srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (srv->wake_fd < 0) {
        err = osw_errbuf_set(eb, OSW_EIO, "cannot start the HTTP server: %s", strerror(errno));
        goto out;
    }
    e = pthread_create(&srv->acceptor, NULL, acceptor_main, srv);
    if (e != 0) {
        err = osw_errbuf_set(eb, OSW_EIO, "cannot start the HTTP server: %s", strerror(e));
        goto out;
    }
    srv->acceptor_started = true;
    (void)pthread_setname_np(srv->acceptor, "osw-accept");
    *out = srv;
    srv = NULL;
    err = OSW_OK;
out:
    free_server(srv);
    return err;
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

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libmicrohttpd daemon: listen address, TLS (per-connection certificate
 * references from the certificate store, priorities, session tickets),
 * connection limits and timeouts, and the two-step graceful shutdown. The
 * per-request work is in request.c; the route table in route.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>

#include "server/addr.h"
#include "server/server_int.h"

/*
 * Two epoll threads: measured on the project's 2-core machine (STACK.md), a
 * pool of 2 epoll threads served a keep-alive load fastest (one thread leaves
 * a core idle; thread-per-connection was 28 % slower). A connection belongs
 * to one thread for life; neither thread ever blocks on a client.
 */
#define POOL_THREADS 2u

/* Split evenly across the pool's threads by libmicrohttpd. Generous: idle
 * connections cost ~30 KiB each and RLIMIT_NOFILE is raised to match. */
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

/* MHD_CONNECTION_NOTIFY_STARTED comes after gnutls_init and before the
 * handshake (libmicrohttpd 0.9.75, new_connection_process_), in the thread
 * that will run the handshake. */
static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    struct osw_server *srv = cls;
    struct osw_server_conn *sc;

    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        sc = *socket_context;
        *socket_context = NULL;
        if (sc != NULL) {
            osw_certpair_unref(sc->pair);
            free(sc);
        }
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

static void free_server(struct osw_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->ticket_key.data != NULL) {
        gnutls_memset(srv->ticket_key.data, 0, srv->ticket_key.size);
        gnutls_free(srv->ticket_key.data);
    }
    free(srv->osis_name);
    free(srv);
}

enum osw_err osw_server_start(const struct osw_server_config *cfg,
                              const struct osw_server_deps *deps, struct osw_server **out,
                              struct osw_errbuf *eb)
{
    struct osw_server *srv = NULL;
    struct osw_addr addr;
    unsigned int flags;
    enum osw_err err;
    const union MHD_DaemonInfo *di;

    *out = NULL;
    if (deps->certs == NULL || deps->cell == NULL)
        return osw_errbuf_set(eb, OSW_EINVAL, "server: certificate store and cache required");
    err = osw_addr_resolve(cfg->listen_host, cfg->listen_port, &addr, eb);
    if (err != OSW_OK)
        return err;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return osw_errbuf_set(eb, OSW_ENOMEM, "server: out of memory");
    srv->deps = *deps;
    srv->osis_name = strdup(cfg->osimagestream_name != NULL ? cfg->osimagestream_name : "cluster");
    if (srv->osis_name == NULL) {
        err = osw_errbuf_set(eb, OSW_ENOMEM, "server: out of memory");
        goto out;
    }
    srv->reader = cfg->reader;
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

    flags = MHD_USE_TLS | MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (addr.ipv6)
        flags |= addr.any6 ? MHD_USE_DUAL_STACK : MHD_USE_IPv6; /* "[::]" serves IPv4 too */
    errno = 0;
    /* clang-format off */
    srv->daemon = MHD_start_daemon(
        flags, cfg->listen_port, NULL, NULL, &osw_request_access, srv,
        /* First, so that libmicrohttpd's own start-up messages use it. */
        MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr.ss,
        MHD_OPTION_THREAD_POOL_SIZE, POOL_THREADS,
        MHD_OPTION_HTTPS_PRIORITIES, osw_tls_priorities(cfg->tls_min),
        MHD_OPTION_HTTPS_CERT_CALLBACK2, &cert_retrieve,
        MHD_OPTION_NOTIFY_CONNECTION, &notify_connection, srv,
        MHD_OPTION_NOTIFY_COMPLETED, &osw_request_completed, srv,
        MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT,
        /* Short until a connection completes a request (request.c raises it
         * then): a connection that never sends a request is gone in < 5 s. */
        MHD_OPTION_CONNECTION_TIMEOUT, OSW_SERVER_FIRST_TIMEOUT_S,
        /* MHD_OPTION_CONNECTION_MEMORY_LIMIT stays at its 32 KiB default:
         * smaller split a typical request body in two (STACK.md). */
        MHD_OPTION_END);
    /* clang-format on */
    if (srv->daemon == NULL) {
        int e = errno;
        err = osw_errbuf_set(
            eb, OSW_EIO, "cannot listen on %s%s%s:%u: %s", addr.ipv6 ? "[" : "",
            cfg->listen_host != NULL && cfg->listen_host[0] != '\0' ? cfg->listen_host : "0.0.0.0",
            addr.ipv6 ? "]" : "", (unsigned)cfg->listen_port,
            e != 0 ? strerror(e) : "libmicrohttpd failed to start");
        goto out;
    }
    di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di != NULL ? di->port : cfg->listen_port;
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

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void osw_server_stop(struct osw_server *srv, long long drain_ms)
{
    if (srv == NULL)
        return;
    atomic_store(&srv->shutting_down, true);
    atomic_store(&srv->draining, true);
    if (srv->daemon != NULL) {
        /* Stop accepting: the listen socket comes back to us to close, so a
         * new connection is refused rather than left in the backlog. */
        MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        /* Requests in flight (counted from their first handler call to
         * completion; MHD's connection count includes idle keep-alive
         * connections) get up to `drain_ms` to finish and be answered. */
        for (long long waited = 0; atomic_load(&srv->inflight) > 0 && waited < drain_ms;
             waited += 10)
            sleep_ms(10);
        MHD_stop_daemon(srv->daemon);
        srv->daemon = NULL;
    }
    free_server(srv);
}

unsigned short osw_server_port(const struct osw_server *srv)
{
    return srv != NULL ? srv->port : 0;
}

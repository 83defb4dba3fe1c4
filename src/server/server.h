/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTPS server: libmicrohttpd with GnuTLS, routes from CONTRACT.md
 * (/validate, /mutate, /healthz, /readyz, /metrics), request limits,
 * timeouts, and graceful shutdown. It owns no configuration parsing: the
 * `serve` command fills struct osw_server_config and the server acts on it.
 */
#ifndef OSW_SERVER_H
#define OSW_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/admit.h"
#include "osw/clustercell.h"
#include "osw/snapcell.h"

#include "obs/log.h"
#include "obs/metrics.h"
#include "kube/metricsauth.h"
#include "tls/certstore.h"
#include "tls/priorities.h"

/* Default connection limit (`serve --max-connections`): generous, since idle
 * connections cost ~30 KiB each, and idle keep-alive connections are closed
 * to make room near it. */
#define OSW_SERVER_MAX_CONNECTIONS_DEFAULT 4096u
/* Bounds of --max-connections: room for both daemons and some headroom;
 * descriptors (RLIMIT_NOFILE) for the largest. */
#define OSW_SERVER_MAX_CONNECTIONS_MIN 16u
#define OSW_SERVER_MAX_CONNECTIONS_MAX 65536u

struct osw_server_config {
    const char *listen_host; /* numeric IPv4/IPv6 address; "" or NULL = all (0.0.0.0) */
    unsigned short listen_port;
    enum osw_tls_min tls_min;
    unsigned long long max_request_bytes; /* larger bodies get 413 */
    unsigned max_connections;             /* 0: OSW_SERVER_MAX_CONNECTIONS_DEFAULT; near it,
                                             idle keep-alive connections are closed */
    long long shutdown_delay_ms;
    const struct osw_policy *policy; /* borrowed; must outlive the server */
    osw_review_decode_fn decode;     /* the request reader */
    /* TLS 1.2 suites offered (a mask of osw_priorities_suite_name's bits);
     * 0 means all six. TLS 1.3 suites are never narrowed. */
    unsigned tls12_suites;
    /* --metrics-listen: serve /metrics on a second HTTPS listener (same
     * certificate) that serves nothing else, and answer /metrics with 404 on
     * the main one. The host is as for listen_host. */
    bool metrics_listen;
    const char *metrics_host;
    unsigned short metrics_port;
    bool cluster_required; /* --cluster-state required: /readyz waits for it */
};

/* Everything the server borrows; all must outlive the server. */
struct osw_server_deps {
    const struct osw_log *log;
    struct osw_metrics *metrics;
    struct osw_certstore *certs;
    struct osw_snapcell *cell; /* readiness = certs loaded && osw_snapcell_synced() */
    /* --metrics-auth kubernetes: who may scrape /metrics; NULL: anyone. Stop
     * it (osw_mauth_stop) before osw_server_stop, so that scrapes waiting
     * for a review are answered. */
    struct osw_mauth *mauth;
    /* The cluster state (pools, MachineConfigs) the parity rules read;
     * NULL when it is off (file source, --cluster-state off). */
    struct osw_clustercell *clusters;
};

struct osw_server;

/*
 * Start-up in two steps, so that an address that cannot be bound is found
 * before anything else starts (and logs), and nothing listens before every
 * input has been checked:
 *
 * osw_server_new binds the listeners (the main one and, with
 * metrics_listen, the metrics one) without listening yet. OSW_EIO with a
 * one-line reason naming the address when one cannot be bound; OSW_ETLS
 * when the TLS priorities cannot be set up. `deps` is copied (its pointers
 * stay borrowed). On success `*out` is owned by the caller, who ends it with
 * osw_server_stop whether or not it ran.
 *
 * osw_server_run listens and starts serving (threads are internal).
 *
 * osw_server_start is both at once.
 */
enum osw_err osw_server_new(const struct osw_server_config *cfg, const struct osw_server_deps *deps,
                            struct osw_server **out, struct osw_errbuf *eb);
enum osw_err osw_server_run(struct osw_server *srv, struct osw_errbuf *eb);
enum osw_err osw_server_start(const struct osw_server_config *cfg,
                              const struct osw_server_deps *deps, struct osw_server **out,
                              struct osw_errbuf *eb);

/* Shutdown, step 1 (async-signal context not required; call from the main
 * thread after SIGTERM/SIGINT): /readyz answers 503 from now on. */
void osw_server_begin_shutdown(struct osw_server *srv);

/* Step 2, after the shutdown delay: stop accepting, let requests in flight
 * finish (answered with Connection: close) for at most `drain_ms`, then stop
 * and free everything. NULL is fine. */
void osw_server_stop(struct osw_server *srv, long long drain_ms);

/* The bound port (useful with port 0 in tests). */
unsigned short osw_server_port(const struct osw_server *srv);

/* The metrics listener's bound port; 0 without --metrics-listen. */
unsigned short osw_server_metrics_port(const struct osw_server *srv);

#endif /* OSW_SERVER_H */

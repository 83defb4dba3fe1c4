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
#include "tls/certstore.h"

struct osw_server_config {
    const char *listen_host; /* numeric IPv4/IPv6 address; "" or NULL = all (0.0.0.0) */
    unsigned short listen_port;
    enum osw_tls_min tls_min;
    unsigned long long max_request_bytes; /* larger bodies get 413 */
    long long shutdown_delay_ms;
    const struct osw_policy *policy; /* borrowed; must outlive the server */
    osw_review_decode_fn decode;     /* the request reader */
    bool cluster_required;           /* --cluster-state required: /readyz waits for it */
};

/* Everything the server borrows; all must outlive the server. */
struct osw_server_deps {
    const struct osw_log *log;
    struct osw_metrics *metrics;
    struct osw_certstore *certs;
    struct osw_snapcell *cell; /* readiness = certs loaded && osw_snapcell_synced() */
    /* The cluster state (pools, MachineConfigs) the parity rules read;
     * NULL when it is off (file source, --cluster-state off). */
    struct osw_clustercell *clusters;
};

struct osw_server;

/* Binds and starts serving (threads are internal). OSW_EIO with a one-line
 * reason when the address cannot be bound. */
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

#endif /* OSW_SERVER_H */

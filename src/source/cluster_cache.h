/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster-state caches (CONTRACT.md "Cluster state"): two reflectors,
 * cluster-wide and paged (limit=100), over machineconfigpools and
 * machineconfigs, whose objects are kept as extracts (a MachineConfig's
 * Ignition is never held) and published as one struct osw_cluster into a
 * cell the server reads per request. A kind the API does not serve (404)
 * makes the state "not served" (the reflector retries every 5 minutes).
 */
#ifndef OSW_SOURCE_CLUSTER_CACHE_H
#define OSW_SOURCE_CLUSTER_CACHE_H

#include "osw/clustercell.h"

#include "kube/reflector.h"
#include "obs/log.h"
#include "obs/metrics.h"

struct osw_cluster_cache;

/* Optional reflector knobs for tests (NULL: the contract's defaults). */
struct osw_cluster_cache_tuning {
    double backoff_base_ms, backoff_cap_ms;
    int64_t not_served_retry_ms;
    uint64_t seed;
};

/*
 * Creates the caches (not running). Both transports are taken over (also on
 * failure); `cell` (initialised; set to NOT_SYNCED here), `log` and
 * `metrics` (may be NULL) are borrowed and must outlive the cache.
 */
enum osw_err osw_cluster_cache_new(struct osw_reflector_transport pools,
                                   struct osw_reflector_transport machineconfigs,
                                   struct osw_clustercell *cell, const struct osw_log *log,
                                   struct osw_metrics *metrics,
                                   const struct osw_cluster_cache_tuning *tuning,
                                   struct osw_cluster_cache **out, struct osw_errbuf *eb);
/* Starts both reflectors' threads. */
enum osw_err osw_cluster_cache_start(struct osw_cluster_cache *c, struct osw_errbuf *eb);
/* Stops both; nothing is published after it returns. Idempotent. */
void osw_cluster_cache_stop(struct osw_cluster_cache *c);
/* The MachineConfig watch's event decoder (the reflector's event_decode;
 * exposed for the differential tests): osw_watchline_decode's verdicts,
 * errors and fields for every line, but the object of an ADDED, MODIFIED or
 * DELETED event is the reduced tree of objtree.h, which osw_mc_extract
 * reads as it reads the whole object. Free `ev` with
 * osw_watchline_event_free. */
enum osw_err osw_cluster_cache_decode_mc_event(const char *line, size_t len,
                                               struct osw_watch_event *ev, struct osw_errbuf *eb);
/* How many snapshots (of any mode) were published so far: a burst of watch
 * events delivered together is published once (tests, benches). */
unsigned long osw_cluster_cache_publishes(struct osw_cluster_cache *c);
/* Stops and frees. NULL is fine. */
void osw_cluster_cache_free(struct osw_cluster_cache *c);

#endif /* OSW_SOURCE_CLUSTER_CACHE_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Prometheus metrics registry: a fixed set of families (their names are
 * part of CONTRACT.md), updated with atomics from any thread and rendered in
 * the text exposition format. Every family is rendered with its HELP and TYPE
 * lines from the first scrape on.
 */
#ifndef OSW_OBS_METRICS_H
#define OSW_OBS_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "osw/buf.h"
#include "osw/decision.h"

/* Operation label values. */
enum osw_op {
    OSW_OP_UNKNOWN = 0,
    OSW_OP_CREATE,
    OSW_OP_UPDATE,
    OSW_OP_DELETE,
    OSW_OP_CONNECT,
    OSW_OP_COUNT
};

enum osw_op osw_op_from_str(struct osw_str s); /* anything else -> UNKNOWN */
const char *osw_op_name(enum osw_op op);       /* "CREATE", ..., "unknown" */

struct osw_metrics; /* opaque, thread-safe */

struct osw_metrics *osw_metrics_new(void); /* NULL on allocation failure */
void osw_metrics_free(struct osw_metrics *m);

/* One answered request to /validate or /mutate. `seconds` < 0: no duration
 * observation (requests answered before a decision). */
void osw_metrics_request(struct osw_metrics *m, enum osw_endpoint ep, enum osw_op op,
                         enum osw_verdict v, double seconds);
void osw_metrics_inflight_add(struct osw_metrics *m, int delta);

/* OSImageStream cache state. */
void osw_metrics_set_synced(struct osw_metrics *m, bool synced);
void osw_metrics_set_streams(struct osw_metrics *m, size_t n);
void osw_metrics_set_last_update(struct osw_metrics *m, double unix_seconds);
/* result: "success" or "invalid" (any other value is counted as "invalid"). */
void osw_metrics_osis_update(struct osw_metrics *m, const char *result);
/* reason: a short token ("closed", "error", "gone", ...). */
void osw_metrics_watch_restart(struct osw_metrics *m, const char *reason);

/* Cluster-state caches (CONTRACT.md "Metrics additions"). */
enum osw_cache_resource { OSW_CACHE_POOLS = 0, OSW_CACHE_MACHINECONFIGS = 1 };
void osw_metrics_set_cache(struct osw_metrics *m, enum osw_cache_resource r, bool synced,
                           size_t objects);
/* One decided request's rule verdicts (osw_decision.rules). */
void osw_metrics_rules(struct osw_metrics *m, unsigned rules);

/* Serving certificate. */
void osw_metrics_set_cert_expiry(struct osw_metrics *m, double unix_seconds);
void osw_metrics_cert_reload(struct osw_metrics *m, bool success);

/* Appends the exposition text (including process_* from /proc/self). */
enum osw_err osw_metrics_render(struct osw_metrics *m, struct osw_buf *out);

#endif /* OSW_OBS_METRICS_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parity families of the metrics registry: the cluster-state caches
 * (synced, objects per resource) and the rule verdicts. Kept apart from
 * metrics.c, which embeds this struct and calls the renderer, so each file
 * stays one subject. Updated with atomics from any thread.
 */
#ifndef OSW_OBS_RULE_METRICS_H
#define OSW_OBS_RULE_METRICS_H

#include <stdatomic.h>

#include "osw/buf.h"

#define OSW_RULE_METRICS_RULES    3 /* conflict, delete_guard, runc */
#define OSW_RULE_METRICS_VERDICTS 2 /* denied, warned */
#define OSW_CACHE_RESOURCES       2 /* machineconfigpools, machineconfigs */

struct osw_rule_metrics {
    atomic_int cache_synced[OSW_CACHE_RESOURCES];
    atomic_uint_fast64_t cache_objects[OSW_CACHE_RESOURCES];
    atomic_uint_fast64_t verdicts[OSW_RULE_METRICS_RULES][OSW_RULE_METRICS_VERDICTS];
};

/* Adds 1 per verdict bit set in `rules` (enum osw_rule_bit). */
void osw_rule_metrics_count(struct osw_rule_metrics *m, unsigned rules);

/* Appends the three families, with HELP and TYPE, every series present. */
enum osw_err osw_rule_metrics_render(struct osw_rule_metrics *m, struct osw_buf *out);

#endif /* OSW_OBS_RULE_METRICS_H */

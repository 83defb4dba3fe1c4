/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rendering and counting of the parity metrics (CONTRACT.md "Metrics
 * additions"): every series is written from the first scrape on, zeros
 * included, so dashboards and alerts never see a family appear late.
 */
#include "obs/rule_metrics.h"

#include "osw/decision.h"

static const char *const resources[OSW_CACHE_RESOURCES] = {"machineconfigpools", "machineconfigs"};
static const char *const rules[OSW_RULE_METRICS_RULES] = {"conflict", "delete_guard", "runc"};
static const char *const verdicts[OSW_RULE_METRICS_VERDICTS] = {"denied", "warned"};

/* Which (rule, verdict) each bit of osw_decision.rules counts. */
static const struct {
    unsigned bit;
    int rule, verdict;
} bits[] = {
    {OSW_RULE_CONFLICT_DENIED, 0, 0},     {OSW_RULE_CONFLICT_WARNED, 0, 1},
    {OSW_RULE_DELETE_GUARD_DENIED, 1, 0}, {OSW_RULE_RUNC_DENIED, 2, 0},
    {OSW_RULE_RUNC_WARNED, 2, 1},
};

void osw_rule_metrics_count(struct osw_rule_metrics *m, unsigned r)
{
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        if (r & bits[i].bit)
            atomic_fetch_add_explicit(&m->verdicts[bits[i].rule][bits[i].verdict], 1,
                                      memory_order_relaxed);
    }
}

enum osw_err osw_rule_metrics_render(struct osw_rule_metrics *m, struct osw_buf *b)
{
    enum osw_err err = osw_buf_append_cstr(
        b, "# HELP osstream_webhook_cache_synced 1 once the cluster-state cache of the resource "
           "has listed, else 0.\n# TYPE osstream_webhook_cache_synced gauge\n");
    for (int i = 0; i < OSW_CACHE_RESOURCES && err == OSW_OK; i++)
        err = osw_buf_printf(b, "osstream_webhook_cache_synced{resource=\"%s\"} %d\n", resources[i],
                             atomic_load_explicit(&m->cache_synced[i], memory_order_relaxed));
    if (err == OSW_OK)
        err = osw_buf_append_cstr(
            b, "# HELP osstream_webhook_cache_objects Objects in the cluster-state cache of the "
               "resource.\n# TYPE osstream_webhook_cache_objects gauge\n");
    for (int i = 0; i < OSW_CACHE_RESOURCES && err == OSW_OK; i++)
        err = osw_buf_printf(
            b, "osstream_webhook_cache_objects{resource=\"%s\"} %llu\n", resources[i],
            (unsigned long long)atomic_load_explicit(&m->cache_objects[i], memory_order_relaxed));
    if (err == OSW_OK)
        err = osw_buf_append_cstr(
            b, "# HELP osstream_webhook_rule_verdicts_total Requests a parity rule denied or "
               "warned about, by rule and verdict.\n"
               "# TYPE osstream_webhook_rule_verdicts_total counter\n");
    for (int r = 0; r < OSW_RULE_METRICS_RULES && err == OSW_OK; r++) {
        for (int v = 0; v < OSW_RULE_METRICS_VERDICTS && err == OSW_OK; v++)
            err = osw_buf_printf(
                b, "osstream_webhook_rule_verdicts_total{rule=\"%s\",verdict=\"%s\"} %llu\n",
                rules[r], verdicts[v],
                (unsigned long long)atomic_load_explicit(&m->verdicts[r][v], memory_order_relaxed));
    }
    return err;
}

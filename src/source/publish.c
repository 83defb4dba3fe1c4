/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one place a source publishes: the snapshot goes into the cell, and the
 * cache's metrics (synced, stream count, last update, updates by result) and
 * its log line follow from it, the same way for the file and the API source.
 * A refused object is counted and logged here too, so both sources word and
 * count refusals alike.
 */
#include "source/source.h"

#include <time.h>

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void osw_source_publish(const struct osw_source_env *env, struct osw_osis *snap, const char *msg,
                        const struct osw_log_field *origin, size_t norigin)
{
    struct osw_log_field f[8];
    size_t n = 0;

    for (size_t i = 0; i < norigin && n < 3; i++)
        f[n++] = origin[i];
    if (snap) {
        f[n++] = OSW_LOGF_STR("name", osw_osis_name(snap));
        f[n++] = OSW_LOGF_STR("resourceVersion", osw_osis_resource_version(snap));
        f[n++] = OSW_LOGF_INT("streams", osw_osis_count(snap));
        f[n++] = OSW_LOGF_STR("defaultStream", osw_osis_default(snap));
    }
    osw_log_write(env->log, OSW_LOG_INFO, msg, f, n);
    if (env->metrics) {
        if (snap)
            osw_metrics_osis_update(env->metrics, "success");
        osw_metrics_set_streams(env->metrics, snap ? osw_osis_count(snap) : 0);
        osw_metrics_set_last_update(env->metrics, wall_seconds());
        osw_metrics_set_synced(env->metrics, true);
    }
    osw_snapcell_publish(env->cell, snap);
}

void osw_source_refuse(const struct osw_source_env *env, const char *msg,
                       const struct osw_log_field *fields, size_t n)
{
    osw_log_write(env->log, OSW_LOG_WARN, msg, fields, n);
    if (env->metrics)
        osw_metrics_osis_update(env->metrics, "invalid");
}

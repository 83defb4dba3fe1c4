/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Everything a decision reads besides the request: the cached OSImageStream
 * and whether its source has synced, the cluster state (MachineConfigPools and
 * MachineConfigs) and its mode, and the policy set by flags. One value, built
 * by the caller per request from the current snapshots; the core never asks
 * where they came from. Every pointer is borrowed for the decision's duration.
 */
#ifndef OSW_INPUTS_H
#define OSW_INPUTS_H

#include <stdbool.h>

#include "osw/osis.h"
#include "osw/str.h"

/* Where the cluster state stands (CONTRACT.md "Cluster state"). */
enum osw_cluster_mode {
    OSW_CLUSTER_OFF = 0,    /* not watched (file mode, --cluster-state off): rules skipped */
    OSW_CLUSTER_NOT_SERVED, /* the API does not serve the kinds: rules skipped silently */
    OSW_CLUSTER_NOT_SYNCED, /* served, not listed once yet: rules skipped with W-SKIP */
    OSW_CLUSTER_SYNCED,     /* both caches listed: rules run against `cluster` */
};

struct osw_cluster; /* the pools and MachineConfigs snapshot (cluster.h) */

/* The decision's knobs, from flags (osw_policy_default() gives CONTRACT.md's
 * defaults, which `review` and `check` use). */
struct osw_policy {
    struct osw_str osimagestream_name; /* only appears in messages */
    bool annotate_implicit_streams;    /* --annotate-implicit-streams */
    bool deny_osimagestream_delete;    /* --deny-osimagestream-delete */
    struct osw_str exempt_namespace;   /* --exempt-namespace; empty disables */
};

/* The defaults: name "cluster", no implicit annotations, deletion denied,
 * exempt namespace "openshift-machine-config-operator". */
struct osw_policy osw_policy_default(void);

struct osw_inputs {
    /* The OSImageStream, or NULL when none is cached: either the source has
     * not synced yet (`osis_synced` false) or the object does not exist. */
    const struct osw_osis *osis;
    bool osis_synced;
    enum osw_cluster_mode cluster_mode;
    const struct osw_cluster *cluster; /* non-NULL exactly when cluster_mode == SYNCED */
    const struct osw_policy *policy;   /* never NULL */
};

#endif /* OSW_INPUTS_H */

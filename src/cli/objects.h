/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster state of the offline commands: MachineConfigPools and
 * MachineConfigs found among manifests (Lists and <Kind>Lists included)
 * become a cluster snapshot through the same extracts and builder the API
 * cache uses, so `review --objects` and `check` judge as the server would.
 */
#ifndef OSW_CLI_OBJECTS_H
#define OSW_CLI_OBJECTS_H

#include <stdbool.h>

#include <jansson.h>

#include "osw/cluster.h"

/* Adds every MachineConfigPool and MachineConfig in `obj` (an object, or a
 * list of them, nested up to 8 deep) to `b`; items of a <Kind>List without
 * kind take the list's. OSW_EBADOBJ (`eb` says why) for one whose fields
 * have the wrong types, unless `skip_bad` (it is then left out); OSW_ENOMEM.
 * Other objects are ignored. */
enum osw_err osw_objects_add(struct osw_cluster_builder *b, const json_t *obj, bool skip_bad,
                             struct osw_errbuf *eb);

/* Reads `path` (YAML or JSON, multi-document; "-" is stdin) and builds the
 * snapshot from the pools and MachineConfigs in it (one reference, the
 * caller's). A one-line reason naming the file in `eb` on failure. */
enum osw_err osw_objects_load(const char *path, struct osw_cluster **out, struct osw_errbuf *eb);

#endif /* OSW_CLI_OBJECTS_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test support: the differential property of the MachineConfig watch's
 * event decoder (osw_cluster_cache_decode_mc_event, reduced trees) against
 * what the watch did before it, osw_watchline_decode (jansson, the whole
 * line). On the same line both must give the same verdict and message, the
 * same type, resourceVersion, ERROR code and message, the same metadata
 * (DELETED events remove by metadata.name), and osw_mc_extract() the same
 * extract (or refusal) from either object (objtree_diff.h). Header-only,
 * for the unit test and the fuzz driver.
 */
#ifndef OSW_TEST_WATCHEVENT_DIFF_H
#define OSW_TEST_WATCHEVENT_DIFF_H

#include <string.h>

#include "objtree_diff.h"
#include "source/cluster_cache.h"

static inline bool watchevent_cstr_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* json_equal, but two absent values are equal too. */
static inline bool watchevent_json_eq(const json_t *a, const json_t *b)
{
    return (!a && !b) || json_equal(a, b);
}

/* NULL when both decoders agree on the line, else what differs. */
static inline const char *watchevent_diff(const char *line, size_t len)
{
    struct osw_watch_event a, b;
    struct osw_errbuf ea, eb;
    ea.msg[0] = eb.msg[0] = '\0';
    enum osw_err ra = osw_watchline_decode(line, len, &a, &ea);
    enum osw_err rb = osw_cluster_cache_decode_mc_event(line, len, &b, &eb);
    const char *w = NULL;
    if (ra == OSW_ENOMEM || rb == OSW_ENOMEM)
        w = NULL; /* memory is not a difference */
    else if (ra != rb)
        w = "verdict";
    else if (ra != OSW_OK)
        w = strcmp(ea.msg, eb.msg) != 0 ? "error message" : b.root ? "event left on failure" : NULL;
    else if (a.type != b.type)
        w = "type";
    else if (!watchevent_cstr_eq(a.resource_version, b.resource_version))
        w = "resourceVersion";
    else if (a.code != b.code || !watchevent_cstr_eq(a.message, b.message))
        w = "ERROR code or message";
    else if (!b.root || !json_is_object(b.object))
        w = "object";
    else if (!watchevent_json_eq(json_object_get(a.object, "metadata"),
                                 json_object_get(b.object, "metadata")))
        w = "metadata";
    else if (a.type != OSW_WATCH_ERROR && a.type != OSW_WATCH_BOOKMARK)
        w = objtree_extract_diff(a.object, b.object);
    if (ra == OSW_OK)
        osw_watchline_event_free(&a);
    if (rb == OSW_OK)
        osw_watchline_event_free(&b);
    return w;
}

#endif /* OSW_TEST_WATCHEVENT_DIFF_H */

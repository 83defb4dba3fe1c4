/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An immutable, reference-counted, validated copy of the OSImageStream.
 * Decisions read one snapshot for their whole duration; sources publish a new
 * one through an osw_snapcell (snapcell.h). A snapshot never changes after
 * osw_snapshot_parse() returns it, so any number of threads may read it.
 */
#ifndef OSW_SNAPSHOT_H
#define OSW_SNAPSHOT_H

#include <stddef.h>

#include <jansson.h>

#include "osw/error.h"
#include "osw/str.h"

#define OSW_SNAPSHOT_MAX_STREAMS 100
#define OSW_IMAGE_MAX_LEN        447

struct osw_stream {
    struct osw_str name;      /* RFC 1123 subdomain */
    struct osw_str os_image;  /* digest pull spec */
    struct osw_str ext_image; /* digest pull spec */
};

struct osw_snapshot; /* opaque */

/*
 * Validates an OSImageStream object (apiVersion
 * machineconfiguration.openshift.io/v1 or v1alpha1, kind OSImageStream) as
 * CONTRACT.md's cache section says and returns a new snapshot with one
 * reference, owned by the caller. `obj` is only borrowed.
 * OSW_EBADOBJ: `eb` names the bad field, e.g.
 * "status.availableStreams[1].osImage: ...". OSW_ENOMEM on allocation failure.
 */
enum osw_err osw_snapshot_parse(const json_t *obj, struct osw_snapshot **out,
                                struct osw_errbuf *eb);

/* Takes another reference (returns `s`; NULL is fine). */
struct osw_snapshot *osw_snapshot_ref(struct osw_snapshot *s);
/* Drops a reference; the last one frees. NULL is fine. Thread-safe. */
void osw_snapshot_unref(struct osw_snapshot *s);

size_t osw_snapshot_count(const struct osw_snapshot *s);
/* Streams in status.availableStreams order; `i` < count. Borrowed from `s`. */
const struct osw_stream *osw_snapshot_at(const struct osw_snapshot *s, size_t i);
/* The stream called `name`, or NULL. Borrowed from `s`. */
const struct osw_stream *osw_snapshot_find(const struct osw_snapshot *s, struct osw_str name);
struct osw_str osw_snapshot_default(const struct osw_snapshot *s);
struct osw_str osw_snapshot_name(const struct osw_snapshot *s);             /* metadata.name */
struct osw_str osw_snapshot_resource_version(const struct osw_snapshot *s); /* may be empty */

#endif /* OSW_SNAPSHOT_H */

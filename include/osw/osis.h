/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An immutable, reference-counted, validated copy of the OSImageStream.
 * Decisions read one snapshot for their whole duration; sources publish a new
 * one through an osw_snapcell (snapcell.h). A snapshot never changes after
 * osw_osis_parse() returns it, so any number of threads may read it.
 */
#ifndef OSW_OSIS_H
#define OSW_OSIS_H

#include <stddef.h>

#include <jansson.h>

#include "osw/error.h"
#include "osw/str.h"

#define OSW_OSIS_MAX_STREAMS 100
#define OSW_IMAGE_MAX_LEN    447

struct osw_stream {
    struct osw_str name;      /* RFC 1123 subdomain */
    struct osw_str os_image;  /* digest pull spec */
    struct osw_str ext_image; /* digest pull spec */
};

struct osw_osis; /* opaque */

/*
 * Validates an OSImageStream object (apiVersion
 * machineconfiguration.openshift.io/v1 or v1alpha1, kind OSImageStream) as
 * CONTRACT.md's cache section says and returns a new snapshot with one
 * reference, owned by the caller. `obj` is only borrowed.
 * OSW_EBADOBJ: `eb` names the bad field, e.g.
 * "status.availableStreams[1].osImage: ...". OSW_ENOMEM on allocation failure.
 */
enum osw_err osw_osis_parse(const json_t *obj, struct osw_osis **out, struct osw_errbuf *eb);

/* Takes another reference (returns `s`; NULL is fine). */
struct osw_osis *osw_osis_ref(struct osw_osis *s);
/* Drops a reference; the last one frees. NULL is fine. Thread-safe. */
void osw_osis_unref(struct osw_osis *s);

size_t osw_osis_count(const struct osw_osis *s);
/* Streams in status.availableStreams order; `i` < count. Borrowed from `s`. */
const struct osw_stream *osw_osis_at(const struct osw_osis *s, size_t i);
/* The stream called `name`, or NULL. Borrowed from `s`. */
const struct osw_stream *osw_osis_find(const struct osw_osis *s, struct osw_str name);
struct osw_str osw_osis_default(const struct osw_osis *s);
struct osw_str osw_osis_name(const struct osw_osis *s);             /* metadata.name */
struct osw_str osw_osis_resource_version(const struct osw_osis *s); /* may be empty */

#endif /* OSW_OSIS_H */

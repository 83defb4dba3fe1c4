/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The decoded view of an AdmissionReview: exactly the fields the decision
 * reads, and nothing else. A reader (jansson-based reference reader or the
 * fast single-pass reader) fills it; the decision never sees JSON. Keeping
 * the view narrow is what lets the reader be swapped for speed without
 * touching the decision.
 *
 * Every field records the JSON type found at its path (ABSENT when the path
 * does not exist, including when a parent is not an object) so the decision
 * can tell "missing" from "null" from "wrong type". Strings are slices whose
 * bytes belong to the view's storage (or to the body the reader was given,
 * when the reader says so): they live until osw_review_release().
 *
 * Duplicate object keys resolve as jansson resolves them: the last one wins.
 */
#ifndef OSW_REVIEW_H
#define OSW_REVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "osw/crio.h"
#include "osw/error.h"
#include "osw/str.h"

enum osw_jtype {
    OSW_JT_ABSENT = 0,
    OSW_JT_NULL,
    OSW_JT_STRING,
    OSW_JT_OBJECT,
    OSW_JT_ARRAY,
    OSW_JT_NUMBER,
    OSW_JT_BOOL,
};

/* The name of a JSON type as a user reads it ("string", "object", ...). */
const char *osw_jtype_name(enum osw_jtype t);

/* A scalar field: its type, and its value when the type is STRING. */
struct osw_jfield {
    enum osw_jtype type;
    struct osw_str str; /* valid iff type == OSW_JT_STRING */
};

enum osw_api_version {
    OSW_API_V1 = 0,      /* admission.k8s.io/v1 */
    OSW_API_V1BETA1 = 1, /* admission.k8s.io/v1beta1 */
};

/* The annotations the webhook owns, in the order patches list them. */
enum osw_annot {
    OSW_ANNOT_STREAM = 0,
    OSW_ANNOT_OS_IMAGE,
    OSW_ANNOT_EXT_IMAGE,
    OSW_ANNOT_STREAM_SOURCE, /* spec, worker or default (--annotate-implicit-streams) */
    OSW_ANNOT_COUNT
};

#define OSW_ANNOT_PREFIX "osimagestream.machineconfiguration.openshift.io/"

/* Full annotation key ("osimagestream.machineconfiguration.openshift.io/stream"...). */
const char *osw_annot_key(enum osw_annot a);

/* request.object or request.oldObject, reduced to what the decision reads. */
struct osw_object_view {
    enum osw_jtype type;          /* of the object itself */
    enum osw_jtype metadata_type; /* .metadata */
    struct osw_jfield name;       /* .metadata.name */
    /* .metadata.annotations: its type, whether every member value is a
     * string (after duplicate resolution; true when it is not an object),
     * and the values of the webhook's own keys (ABSENT when not present). */
    enum osw_jtype annotations_type;
    bool annotations_string_map;
    struct osw_jfield annotations[OSW_ANNOT_COUNT];
    enum osw_jtype spec_type;      /* .spec */
    enum osw_jtype stream_type;    /* .spec.osImageStream */
    struct osw_jfield stream_name; /* .spec.osImageStream.name */
    /* .spec.machineConfigSelector: its type and, when an object, its JSON
     * text (the body's own bytes for the fast reader, jansson's compact
     * dump for the reference reader: equal as JSON, not as bytes). Parsed
     * only when the cluster-state rules run. */
    enum osw_jtype selector_type;
    struct osw_str selector_json;
    enum osw_jtype paused_type; /* .spec.paused */
    bool paused;                /* valid iff paused_type == OSW_JT_BOOL */
};

struct osw_review {
    enum osw_api_version api_version;
    struct osw_str uid;             /* request.uid, non-empty after a successful decode */
    struct osw_jfield operation;    /* request.operation */
    struct osw_jfield name;         /* request.name */
    struct osw_jfield sub_resource; /* request.subResource */
    /* request.userInfo.username, for the denial log line only (never
     * decided on; userInfo's other members, `extra` above all, are not read). */
    struct osw_jfield username;
    enum osw_jtype kind_type; /* request.kind */
    struct osw_jfield kind_group, kind_version, kind_kind;
    enum osw_jtype resource_type; /* request.resource */
    struct osw_jfield resource_group, resource_version, resource_resource;
    struct osw_object_view object;     /* request.object */
    struct osw_object_view old_object; /* request.oldObject */
    /* request.object and request.oldObject reduced to what the decision of
     * the rare kinds reads (osw_review_wants_trees()): an object holding the
     * original's `metadata` and `spec` members when present, where a `spec`
     * that is an object keeps only the members OSW_REVIEW_TREE_SPEC_KEYS
     * lists. Of spec.config (the Ignition) only what rule R's drop-in
     * extract can look at is kept (osw_review_tree_keeps_path()). NULL
     * otherwise or when the original is not an object. Borrowed from the
     * storage. */
    const json_t *object_tree, *old_object_tree;

    /* Storage behind the slices, released by osw_review_release(). Set by the
     * reader; the decision never touches it. */
    void *storage;
    void (*storage_free)(void *storage);
};

/*
 * Installs jansson allocation hooks so that both readers tell "out of memory"
 * (OSW_ENOMEM, answered 500) from "not JSON" (400). Process-wide: call once
 * at start-up, before any thread parses. Without it an allocation failure
 * inside jansson is reported as OSW_EBADJSON.
 */
void osw_review_install_alloc_hooks(void);

/* The spec members a reduced tree keeps, NULL-terminated. */
extern const char *const osw_review_tree_spec_keys[];
#define OSW_REVIEW_TREE_SPEC_NKEYS 3

/*
 * spec.config in a reduced tree, identical from both readers: what
 * osw_crio_extract_build() reads and nothing else (CONTRACT.md "CRI-O
 * drop-ins of a MachineConfig"), so that a large Ignition costs a scan, not
 * a parse.
 * - `config` that is not an object is kept as it is; an object keeps only
 *   its `storage` member (the last one, as jansson resolves duplicates);
 * - `storage` that is not an object is kept as it is; an object keeps only
 *   `files`;
 * - `files` that is not an array is kept as it is; an array keeps, in
 *   order and whole, every entry that is not an object, has no string
 *   `path`, or whose path osw_review_tree_keeps_path() keeps. The others,
 *   files outside /etc/crio/crio.conf.d/, can neither be a drop-in nor make
 *   the MachineConfig undecodable as a whole, and are dropped.
 */
#define OSW_REVIEW_TREE_PATH_PREFIX     OSW_CRIO_DIR
#define OSW_REVIEW_TREE_PATH_PREFIX_LEN (sizeof(OSW_REVIEW_TREE_PATH_PREFIX) - 1)

/* Whether a files[] entry whose `path` is the `len` bytes at `path` is kept:
 * the path starts with OSW_REVIEW_TREE_PATH_PREFIX (bytes, nothing
 * normalised). Only the first OSW_REVIEW_TREE_PATH_PREFIX_LEN bytes are
 * read, so a caller may pass a path cut to that length. */
bool osw_review_tree_keeps_path(const char *path, size_t len);

/* Whether the reader also fills object_tree/old_object_tree: a request for
 * group machineconfiguration.openshift.io, resource machineconfigs or
 * osimagestreams (the fields read: request.resource.*). */
bool osw_review_wants_trees(const struct osw_review *r);

/* Zeroes `r` (every field ABSENT, no storage). */
void osw_review_init(struct osw_review *r);

/* Frees the storage the reader attached and re-initialises `r`. NULL is fine. */
void osw_review_release(struct osw_review *r);

/*
 * The reference reader: parses `body` with jansson (json_loadb with
 * JSON_ALLOW_NUL) and fills `out`. `body` is only borrowed for the call.
 * Returns OSW_OK, OSW_EBADJSON (not JSON), OSW_EBADREQ (JSON but not an
 * AdmissionReview of admission.k8s.io/v1 or v1beta1 with a non-empty string
 * request.uid) with a one-line reason in `eb`, or OSW_ENOMEM.
 * On failure `out` holds no storage.
 */
enum osw_err osw_review_decode_jansson(const char *body, size_t len, struct osw_review *out,
                                       struct osw_errbuf *eb);

/*
 * The fast reader (src/json/): same contract, same verdicts, same extracted
 * values as osw_review_decode_jansson, proven by a differential fuzz target.
 * The slices may point into `body`, which must then outlive `out`.
 */
enum osw_err osw_review_decode_fast(const char *body, size_t len, struct osw_review *out,
                                    struct osw_errbuf *eb);

#endif /* OSW_REVIEW_H */

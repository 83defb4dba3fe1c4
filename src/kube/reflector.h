/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A reflector keeps a local copy of one Kubernetes resource, as client-go's
 * does: it lists (paged when asked), then watches from the list's
 * resourceVersion, and on any end or failure of the watch lists again after
 * a capped, jittered exponential backoff. It runs in its own thread and hands
 * what it sees to a sink (list results, then events) on that thread. It
 * speaks HTTP through a small transport table (the libcurl client in
 * production, a script in the unit tests) and never touches the network
 * itself.
 */
#ifndef OSW_KUBE_REFLECTOR_H
#define OSW_KUBE_REFLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "osw/buf.h"
#include "osw/error.h"

#include "kube/listpage.h"
#include "kube/watchline.h"
#include "obs/log.h"
#include "obs/metrics.h"

/* The longest timeoutSeconds a watch asks for (2 x the default 300 s): a
 * transport must not cut a quiet watch before it. */
#define OSW_REFLECTOR_WATCH_TIMEOUT_MAX_S 600

/* What one GET brought back. */
struct osw_reflector_response {
    long status;          /* HTTP status; 0 when no answer arrived */
    double retry_after_s; /* Retry-After in seconds, or -1 */
};

/* How the reflector speaks HTTP. One transport per reflector. */
struct osw_reflector_transport_ops {
    /* GET `path_and_query`, streaming the body to `on_data` in arbitrary
     * pieces (on_data returning false ends the transfer: OSW_OK with the
     * status seen). watch=true: a long-lived stream. OSW_OK: an HTTP answer
     * arrived (any status); OSW_EIO: transport failure or abort (eb says why). */
    enum osw_err (*get)(void *impl, const char *path_and_query, bool watch,
                        bool (*on_data)(void *ctx, const char *data, size_t len), void *ctx,
                        struct osw_reflector_response *resp, struct osw_errbuf *eb);
    /* From any thread: the running get and every later one fail promptly. */
    void (*abort)(void *impl);
    /* Frees `impl` (no get running). */
    void (*destroy)(void *impl);
};

struct osw_reflector_transport {
    const struct osw_reflector_transport_ops *ops;
    void *impl;
};

/* What the reflector tells its owner; every call comes from the reflector's
 * thread, objects are borrowed for the call only. */
struct osw_reflector_sink_ops {
    /* A list begins: the items that follow replace the whole set... */
    void (*list_begin)(void *ctx);
    void (*list_item)(void *ctx, const json_t *obj);
    /* ...once it completes (all pages listed); or it failed midway and the
     * set stays as it was. */
    void (*list_commit)(void *ctx, const char *resource_version);
    void (*list_abort)(void *ctx);
    /* One watch event: ADDED, MODIFIED or DELETED. */
    void (*event)(void *ctx, enum osw_watch_type type, const json_t *obj);
    /* Every path answered 404: the kind is not served (retried after
     * not_served_retry_ms). NULL: a kind that must be served (the
     * OSImageStream); every path answering 404 is then a failure like any
     * other, retried with the backoff and counted as a watch restart. */
    void (*not_served)(void *ctx);
    /* Optional (NULL: jansson parses each list element whole): decodes
     * one list element for list_item, as listpage.h's
     * osw_listpage_decode_fn says (the same verdicts as jansson; what it
     * builds is the sink's choice, e.g. only the members it reads). Watch
     * events have their own decoder, event_decode. */
    osw_listpage_decode_fn list_decode;
    /* Optional: called once after every piece of the watch stream whose
     * complete lines carried at least one `event`, right after the last of
     * them (also when a later line of the piece ends the watch), before the
     * reflector waits for more. A sink may defer work per event to here
     * (e.g. publish one snapshot for the lot): no further event is known
     * to be buffered. */
    void (*events_flushed)(void *ctx);
    /* Optional (NULL: osw_watchline_decode): decodes one watch line for
     * `event`, as osw_watchline_decode does, with its verdicts, errors and
     * event fields for every line; only what ev->object is (ev->root owns
     * it, freed by osw_watchline_event_free) is the sink's choice, e.g. only
     * the members it reads. */
    enum osw_err (*event_decode)(void *ctx, const char *line, size_t len,
                                 struct osw_watch_event *ev, struct osw_errbuf *eb);
};

struct osw_reflector_config {
    const char *resource; /* "osimagestreams.machineconfiguration.openshift.io", for logs */
    /* Collection paths in order of preference ("/apis/G/v1/osimagestreams", ...); a path
     * whose list answers 404 is not served and the next one is tried. */
    const char *const *paths;
    size_t npaths;
    const char *field_selector; /* "metadata.name=cluster", or NULL */
    unsigned page_limit;        /* list with limit + continue; 0: one page */
    size_t max_list_bytes;      /* a larger list page is a failure (it streams: only one
                                   element is held at a time); 0: 256 MiB */
    size_t max_line_bytes;      /* a longer watch line ends the watch, a longer list
                                   element fails the list; 0: 16 MiB */
    /* Timing knobs; 0 means the contract's and client-go's values. */
    double backoff_base_ms, backoff_cap_ms; /* 250 ms, 30 s */
    int64_t not_served_retry_ms;            /* 5 min */
    unsigned watch_timeout_s;               /* timeoutSeconds in [t, 2t): 300 */
    int64_t healthy_watch_ms;               /* a watch this long resets the backoff: 10 s */
    uint64_t seed;                          /* jitter seed; 0: from the clock */
};

struct osw_reflector;

/*
 * Creates a reflector (not running). `cfg` and its strings are copied;
 * `transport` is taken over (destroyed by osw_reflector_free, also when this
 * fails); `sink`, `sink_ctx`, `log` and `metrics` (may be NULL) are borrowed
 * and must outlive the reflector.
 */
enum osw_err osw_reflector_new(const struct osw_reflector_config *cfg,
                               struct osw_reflector_transport transport,
                               const struct osw_reflector_sink_ops *sink, void *sink_ctx,
                               const struct osw_log *log, struct osw_metrics *metrics,
                               struct osw_reflector **out, struct osw_errbuf *eb);

/* Starts the reflector's thread. */
enum osw_err osw_reflector_start(struct osw_reflector *r, struct osw_errbuf *eb);

/* Stops promptly: wakes a backoff sleep, aborts the request in flight and
 * joins the thread. After it returns the sink is called no more. Idempotent. */
void osw_reflector_stop(struct osw_reflector *r);

/* Stops and frees (the transport too). NULL is fine. */
void osw_reflector_free(struct osw_reflector *r);

#endif /* OSW_KUBE_REFLECTOR_H */

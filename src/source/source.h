/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OSImageStream sources behind one small ops table, as curl's TLS backends
 * sit behind struct Curl_ssl. A source only publishes validated snapshots
 * into the snapcell; nothing in the core knows where a snapshot came from.
 * Implementations: file (source_file.c) and the Kubernetes API (list +
 * watch, source_kube.c); both publish through osw_source_publish.
 */
#ifndef OSW_SOURCE_H
#define OSW_SOURCE_H

#include "osw/error.h"
#include "osw/snapcell.h"

#include "kube/reflector.h"
#include "obs/log.h"
#include "obs/metrics.h"

/* What every source is given; all borrowed, and must outlive the source. */
struct osw_source_env {
    struct osw_snapcell *cell;
    const struct osw_log *log;
    struct osw_metrics *metrics; /* may be NULL (CLI use) */
};

struct osw_source;

struct osw_source_ops {
    const char *name; /* "file", "kubernetes" */
    /* Begins serving: may do the first sync synchronously (the file source
     * does, so an invalid file fails start-up with exit 2) and starts any
     * background watcher. */
    enum osw_err (*start)(struct osw_source *src, struct osw_errbuf *eb);
    /* Stops the watcher; after it returns the source publishes nothing more. */
    void (*stop)(struct osw_source *src);
    /* Frees the source (stopping it first if needed). */
    void (*destroy)(struct osw_source *src);
};

struct osw_source {
    const struct osw_source_ops *ops;
    struct osw_source_env env;
};

/* Convenience wrappers (NULL-safe where it makes sense). */
enum osw_err osw_source_start(struct osw_source *src, struct osw_errbuf *eb);
void osw_source_stop(struct osw_source *src);
void osw_source_destroy(struct osw_source *src);

/*
 * The file source: reads `path` (JSON or YAML OSImageStream), validates it,
 * publishes it, then watches it (inotify on the directory, catching in-place
 * writes, rename-over and Kubernetes ConfigMap `..data` symlink swaps, plus a
 * periodic stat fallback) and publishes every valid change within 2 s. An
 * invalid change is logged and counted and the last good snapshot stays.
 * `path` is copied.
 */
enum osw_err osw_source_file_new(const char *path, const struct osw_source_env *env,
                                 struct osw_source **out, struct osw_errbuf *eb);

/*
 * The Kubernetes API source: a reflector lists and watches the OSImageStream
 * called `name` (field selector metadata.name=<name>) at
 * /apis/machineconfiguration.openshift.io/v1/osimagestreams, falling back to
 * v1alpha1 when v1's list answers 404. ADDED and MODIFIED objects are
 * validated (an invalid one is refused, logged and counted; the last good
 * snapshot stays); DELETED, or a list without the object, empties the cache;
 * every successful list marks it synced. `name` is copied; `transport` is
 * taken over (also on failure); start() returns at once, before the first
 * list (readiness follows the cell's synced flag).
 */
enum osw_err osw_source_kube_new(const char *name, struct osw_reflector_transport transport,
                                 const struct osw_source_env *env, struct osw_source **out,
                                 struct osw_errbuf *eb);

/*
 * Publishes `snap` (the caller's reference is taken over; NULL empties the
 * cache) into env->cell and updates the cache metrics: synced, stream count,
 * last-update time, and updates_total{result="success"} for a snapshot. Logs
 * `msg` at info with up to three `origin` fields and the snapshot's name,
 * resourceVersion, stream count and default.
 */
void osw_source_publish(const struct osw_source_env *env, struct osw_osis *snap, const char *msg,
                        const struct osw_log_field *origin, size_t norigin);

/* Logs a refused update (`msg` at warn with `fields`) and counts it as
 * updates_total{result="invalid"}; the cell is left alone. */
void osw_source_refuse(const struct osw_source_env *env, const char *msg,
                       const struct osw_log_field *fields, size_t n);

/*
 * Loads and validates one OSImageStream file (JSON, or YAML when it does not
 * start with '{'). Used by the file source, `review` and `check`.
 * OSW_EIO: unreadable (eb says why); OSW_EBADOBJ: invalid (eb names the field).
 */
enum osw_err osw_source_load_file(const char *path, struct osw_osis **out, struct osw_errbuf *eb);

#endif /* OSW_SOURCE_H */

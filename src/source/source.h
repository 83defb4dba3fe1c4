/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OSImageStream sources behind one small ops table, as curl's TLS backends
 * sit behind struct Curl_ssl. A source only publishes validated snapshots
 * into the snapcell; nothing in the core knows where a snapshot came from.
 * Implementations: file (source_file.c) and, later, the Kubernetes API
 * (list + watch).
 */
#ifndef OSW_SOURCE_H
#define OSW_SOURCE_H

#include "osw/error.h"
#include "osw/snapcell.h"

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
 * Loads and validates one OSImageStream file (JSON, or YAML when it does not
 * start with '{'). Used by the file source, `review` and `check`.
 * OSW_EIO: unreadable (eb says why); OSW_EBADOBJ: invalid (eb names the field).
 */
enum osw_err osw_source_load_file(const char *path, struct osw_osis **out, struct osw_errbuf *eb);

#endif /* OSW_SOURCE_H */

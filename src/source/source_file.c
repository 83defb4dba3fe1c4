/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file source: an OSImageStream read from a local JSON or YAML file,
 * typically a ConfigMap volume. A watcher thread wakes when the file may
 * have changed (sys/filewatch.h: inotify on its directory, which sees
 * rename-over and `..data` symlink swaps, plus a stat() poll) and reads the
 * bytes (sys/fileio.h, which refuses anything but a regular file without
 * blocking) to compare them with what was seen last, so only a real change
 * of content does anything.
 */
#include "source/source.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sys/fileio.h"
#include "sys/filewatch.h"
#include "yaml/yaml.h"

/* An OSImageStream is a few KiB; anything past this is not one. */
#define FILE_MAX_BYTES (4u << 20)
/* Content that does not parse is read again after this long before it is
 * refused, because an in-place rewrite may have been caught half-written. */
#define RECHECK_MS 150

/* What one read of the file gave: its bytes, or the reason it failed. */
struct seen {
    bool have;
    bool unreadable; /* `data` is then the error message */
    char *data;      /* owned */
    size_t len;
};

struct file_source {
    struct osw_source base;      /* first member: ops receive &base */
    char *path;                  /* owned */
    struct osw_filewatch *watch; /* owned; NULL until started */
    pthread_t thread;
    bool started;
    bool thread_running;
    /* Owned by the watcher thread once it runs. */
    struct seen good;     /* the content of the published snapshot */
    struct seen suspect;  /* bad content seen once, awaiting a re-read */
    struct seen rejected; /* bad content already refused and logged */
};

static void seen_clear(struct seen *s)
{
    free(s->data);
    memset(s, 0, sizeof(*s));
}

static bool seen_eq(const struct seen *a, const struct seen *b)
{
    return a->have && b->have && a->unreadable == b->unreadable && a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Moves `from` into `to` (freeing what `to` held). */
static void seen_move(struct seen *to, struct seen *from)
{
    seen_clear(to);
    *to = *from;
    memset(from, 0, sizeof(*from));
}

/* `oc get osimagestream -o yaml` prints a List (or the API an
 * OSImageStreamList, whose items lack kind and apiVersion) around the one
 * object: that object, given the list's kind and apiVersion when it has
 * none. `*out` is a new reference; OSW_EBADOBJ when the list does not hold
 * exactly one item. `doc` is borrowed. */
static enum osw_err unwrap_list(const char *path, json_t *doc, json_t **out, struct osw_errbuf *eb)
{
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    json_t *items = json_object_get(doc, "items");
    size_t n = kind ? strlen(kind) : 0;

    *out = NULL;
    if (n < 4 || strcmp(kind + n - 4, "List") != 0 || !json_is_array(items)) {
        *out = json_incref(doc);
        return OSW_OK;
    }
    if (json_array_size(items) != 1)
        return osw_errbuf_set(eb, OSW_EBADOBJ, "%s: %s holds %zu items; expected one OSImageStream",
                              path, kind, json_array_size(items));
    json_t *item = json_copy(json_array_get(items, 0));
    if (!item)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    if (strcmp(kind, "OSImageStreamList") == 0) {
        json_t *av = json_object_get(doc, "apiVersion");
        if (!json_object_get(item, "kind") &&
            json_object_set_new(item, "kind", json_string("OSImageStream")) != 0)
            goto oom;
        if (!json_object_get(item, "apiVersion") && av &&
            json_object_set(item, "apiVersion", av) != 0)
            goto oom;
    }
    *out = item;
    return OSW_OK;
oom:
    json_decref(item);
    return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
}

/* Parses the bytes of the file at `path` into a snapshot; `eb` then starts
 * with the path ("PATH: field: reason" or "PATH:LINE:COL: reason"). */
static enum osw_err parse_bytes(const char *path, const char *data, size_t len,
                                struct osw_osis **out, struct osw_errbuf *eb)
{
    struct osw_errbuf inner;
    json_t *docs = NULL;
    enum osw_err err;

    *out = NULL;
    inner.msg[0] = '\0';
    err = osw_yaml_parse_any(data, len, &docs, &inner);
    if (err != OSW_OK) {
        return osw_errbuf_set(eb, err == OSW_ENOMEM ? OSW_ENOMEM : OSW_EBADOBJ, "%s:%s", path,
                              inner.msg);
    }
    if (json_array_size(docs) != 1) {
        err = osw_errbuf_set(eb, OSW_EBADOBJ, "%s: expected one OSImageStream document, found %zu",
                             path, json_array_size(docs));
        goto out;
    }
    json_t *obj = NULL;
    err = unwrap_list(path, json_array_get(docs, 0), &obj, eb);
    if (err != OSW_OK)
        goto out;
    err = osw_osis_parse(obj, out, &inner);
    if (err == OSW_EBADOBJ && json_object_get(obj, "status") == NULL &&
        osw_str_eq_cstr(osw_str_from_cstr(json_string_value(json_object_get(obj, "kind"))),
                        "OSImageStream"))
        /* A GitOps manifest (spec only): the streams are in the status the
         * Machine Config Operator writes. */
        osw_errbuf_set(eb, err,
                       "%s: %s; the streams are in status, which a manifest does not have: "
                       "export the cluster's object with oc get osimagestream cluster -o yaml",
                       path, inner.msg);
    else if (err != OSW_OK)
        osw_errbuf_set(eb, err, "%s: %s", path, inner.msg);
    json_decref(obj);
out:
    json_decref(docs);
    return err;
}

/* Reads the file into `s`; a failure is recorded in `s` as its reason. A
 * path that is not a regular file (a FIFO renamed over it, say) is such a
 * failure, found without blocking (osw_fileio_read). */
static enum osw_err read_seen(const char *path, struct seen *s, struct osw_errbuf *eb)
{
    enum osw_err err;

    memset(s, 0, sizeof(*s));
    err = osw_fileio_read(path, FILE_MAX_BYTES, &s->data, &s->len, eb);
    if (err == OSW_ENOMEM)
        return osw_errbuf_set(eb, err, "out of memory");
    s->have = true;
    if (err != OSW_OK) {
        s->unreadable = true;
        s->data = strdup(eb->msg);
        s->len = s->data ? strlen(s->data) : 0;
        return err == OSW_ETOOBIG ? OSW_EBADOBJ : OSW_EIO;
    }
    return OSW_OK;
}

enum osw_err osw_source_load_file(const char *path, struct osw_osis **out, struct osw_errbuf *eb)
{
    struct seen s;
    enum osw_err err = read_seen(path, &s, eb);
    if (err == OSW_OK)
        err = parse_bytes(path, s.data, s.len, out, eb);
    else
        *out = NULL;
    seen_clear(&s);
    return err;
}

static void note_success(struct file_source *fs, struct osw_osis *snap, const char *msg)
{
    struct osw_log_field f[] = {OSW_LOGF_CSTR("file", fs->path)};
    osw_source_publish(&fs->base.env, snap, msg, f, 1);
}

/*
 * Reads the file and acts on a change of content. Returns true when the
 * content is bad but was seen for the first time, so the caller re-reads it
 * shortly before refusing it (it may be a rewrite caught half-way).
 */
static bool check_content(struct file_source *fs)
{
    struct osw_errbuf eb;
    struct seen now;
    struct osw_osis *snap = NULL;
    bool recheck = false;

    eb.msg[0] = '\0';
    if (read_seen(fs->path, &now, &eb) == OSW_ENOMEM) {
        osw_log_printf(fs->base.env.log, OSW_LOG_ERROR, "OSImageStream file: out of memory");
        return true;
    }
    if (seen_eq(&now, &fs->good)) {
        /* Back to (or still at) the content in use: forget bad versions, so
         * that the same bad content written again is reported again. */
        seen_clear(&fs->suspect);
        seen_clear(&fs->rejected);
        goto out;
    }
    if (seen_eq(&now, &fs->rejected))
        goto out; /* already refused and logged once */

    enum osw_err err =
        now.unreadable ? OSW_EIO : parse_bytes(fs->path, now.data, now.len, &snap, &eb);
    if (err == OSW_OK) {
        note_success(fs, snap, "OSImageStream file changed: new snapshot in use");
        seen_move(&fs->good, &now);
        seen_clear(&fs->suspect);
        seen_clear(&fs->rejected);
        goto out;
    }
    if (err == OSW_ENOMEM) {
        osw_log_printf(fs->base.env.log, OSW_LOG_ERROR, "OSImageStream file: out of memory");
        recheck = true;
        goto out;
    }
    if (!seen_eq(&now, &fs->suspect)) {
        seen_move(&fs->suspect, &now);
        recheck = true;
        goto out;
    }
    /* The same bad content twice, RECHECK_MS apart: refuse it. */
    struct osw_log_field f[] = {
        OSW_LOGF_CSTR("file", fs->path),
        OSW_LOGF_CSTR("error", eb.msg),
    };
    osw_source_refuse(&fs->base.env,
                      "OSImageStream file change refused; the last good snapshot stays in use", f,
                      sizeof(f) / sizeof(f[0]));
    seen_move(&fs->rejected, &now);
    seen_clear(&fs->suspect);
out:
    seen_clear(&now);
    return recheck;
}

static void *watch_main(void *arg)
{
    struct file_source *fs = arg;
    int recheck = 0;

    while (osw_filewatch_wait(fs->watch, recheck) == OSW_FILEWATCH_CHECK)
        recheck = check_content(fs) ? RECHECK_MS : 0;
    return NULL;
}

static enum osw_err file_start(struct osw_source *src, struct osw_errbuf *eb)
{
    struct file_source *fs = (struct file_source *)src;
    struct osw_osis *snap = NULL;
    struct seen s;
    enum osw_err err;

    if (fs->started)
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: source already started", fs->path);
    err = read_seen(fs->path, &s, eb);
    if (err != OSW_OK) {
        seen_clear(&s);
        return err;
    }
    err = parse_bytes(fs->path, s.data, s.len, &snap, eb);
    if (err != OSW_OK) {
        seen_clear(&s);
        return err;
    }
    fs->started = true;
    seen_move(&fs->good, &s);
    note_success(fs, snap, "OSImageStream file loaded");

    bool inotify = false;
    err = osw_filewatch_new((const char *const[]){fs->path}, 1, &inotify, &fs->watch, eb);
    if (err != OSW_OK)
        return err;
    if (!inotify)
        osw_log_printf(fs->base.env.log, OSW_LOG_WARN,
                       "OSImageStream file %s: inotify unavailable; polling every %d ms", fs->path,
                       OSW_FILEWATCH_POLL_MS);
    int rc = pthread_create(&fs->thread, NULL, watch_main, fs);
    if (rc != 0)
        return osw_errbuf_set(eb, OSW_EIO, "%s: cannot start the watcher: %s", fs->path,
                              strerror(rc));
    fs->thread_running = true;
    return OSW_OK;
}

static void file_stop(struct osw_source *src)
{
    struct file_source *fs = (struct file_source *)src;

    if (fs->thread_running) {
        osw_filewatch_stop(fs->watch);
        pthread_join(fs->thread, NULL);
        fs->thread_running = false;
    }
    osw_filewatch_free(fs->watch);
    fs->watch = NULL;
}

static void file_destroy(struct osw_source *src)
{
    struct file_source *fs = (struct file_source *)src;

    if (!fs)
        return;
    file_stop(src);
    seen_clear(&fs->good);
    seen_clear(&fs->suspect);
    seen_clear(&fs->rejected);
    free(fs->path);
    free(fs);
}

static const struct osw_source_ops file_ops = {
    .name = "file",
    .start = file_start,
    .stop = file_stop,
    .destroy = file_destroy,
};

enum osw_err osw_source_file_new(const char *path, const struct osw_source_env *env,
                                 struct osw_source **out, struct osw_errbuf *eb)
{
    *out = NULL;
    if (!path || !*path || !env || !env->cell)
        return osw_errbuf_set(eb, OSW_EINVAL, "OSImageStream file: no path or snapshot cell");
    struct file_source *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    fs->base.ops = &file_ops;
    fs->base.env = *env;
    fs->path = strdup(path);
    if (!fs->path) {
        file_destroy(&fs->base);
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    *out = &fs->base;
    return OSW_OK;
}

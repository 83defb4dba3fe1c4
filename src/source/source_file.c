/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file source: an OSImageStream read from a local JSON or YAML file,
 * typically a ConfigMap volume. A watcher thread combines inotify on the
 * file's directory (fast, and it sees rename-over and `..data` symlink swaps
 * because those are renames in that directory) with a stat() poll every
 * 500 ms (which follows the symlinks, and is all there is when inotify is
 * unavailable or the target lives elsewhere). Any hint of change leads to
 * reading the bytes and comparing them with what was seen last, so only a
 * real change of content does anything.
 */
#include "source/source.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "yaml/yaml.h"

/* An OSImageStream is a few KiB; anything past this is not one. */
#define FILE_MAX_BYTES (4u << 20)
/* The stat() poll interval. */
#define POLL_MS 500
/* Quiet time after an inotify event before reading: a writer's burst of
 * events (truncate, write, close) then costs one read. */
#define DEBOUNCE_MS 75
/* Content that does not parse is read again after this long before it is
 * refused, because an in-place rewrite may have been caught half-written. */
#define RECHECK_MS 150
/* Every this many poll ticks the content is compared even when stat() saw no
 * change (file systems with coarse timestamps can hide a same-size rewrite). */
#define FULL_CHECK_TICKS 4

#define WATCH_MASK                                                                                 \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |            \
     IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF)

/* What one read of the file gave: its bytes, or the reason it failed. */
struct seen {
    bool have;
    bool unreadable; /* `data` is then the error message */
    char *data;      /* owned */
    size_t len;
};

struct file_source {
    struct osw_source base; /* first member: ops receive &base */
    char *path;             /* owned */
    char *dir;              /* owned: the directory inotify watches */
    int wake_fd;            /* eventfd that stop() signals; -1 */
    int ino_fd;             /* inotify, or -1 (poll only) */
    pthread_t thread;
    bool started;
    bool thread_running;
    /* Owned by the watcher thread once it runs. */
    struct seen good;     /* the content of the published snapshot */
    struct seen suspect;  /* bad content seen once, awaiting a re-read */
    struct seen rejected; /* bad content already refused and logged */
    struct stat last_st;
    bool have_st;
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

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
    err = osw_osis_parse(json_array_get(docs, 0), out, &inner);
    if (err != OSW_OK)
        osw_errbuf_set(eb, err, "%s: %s", path, inner.msg);
out:
    json_decref(docs);
    return err;
}

/* Reads the file into `s`; a failure is recorded in `s` as its reason. */
static enum osw_err read_seen(const char *path, struct seen *s, struct osw_errbuf *eb)
{
    struct osw_errbuf inner;
    enum osw_err err;

    memset(s, 0, sizeof(*s));
    inner.msg[0] = '\0';
    err = osw_yaml_read_file(path, FILE_MAX_BYTES, &s->data, &s->len, &inner);
    if (err == OSW_ENOMEM)
        return osw_errbuf_set(eb, err, "out of memory");
    s->have = true;
    if (err != OSW_OK) {
        osw_errbuf_set(eb, err == OSW_ETOOBIG ? OSW_EBADOBJ : OSW_EIO, "%s: %s", path, inner.msg);
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

/* Whether stat() (following symlinks) sees a different file than last time. */
static bool stat_changed(struct file_source *fs)
{
    struct stat st;
    if (stat(fs->path, &st) != 0) {
        bool changed = fs->have_st;
        fs->have_st = false;
        return changed;
    }
    bool changed = !fs->have_st || st.st_dev != fs->last_st.st_dev ||
                   st.st_ino != fs->last_st.st_ino || st.st_size != fs->last_st.st_size ||
                   st.st_mtim.tv_sec != fs->last_st.st_mtim.tv_sec ||
                   st.st_mtim.tv_nsec != fs->last_st.st_mtim.tv_nsec ||
                   st.st_ctim.tv_sec != fs->last_st.st_ctim.tv_sec ||
                   st.st_ctim.tv_nsec != fs->last_st.st_ctim.tv_nsec;
    fs->last_st = st;
    fs->have_st = true;
    return changed;
}

static void drain(int fd)
{
    /* Aligned as inotify requires; the events themselves do not matter:
     * any activity in the directory leads to a content check. */
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int i = 0; i < 64; i++) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r <= 0 && !(r < 0 && errno == EINTR))
            return;
    }
}

static void *watch_main(void *arg)
{
    struct file_source *fs = arg;
    int64_t next_poll = mono_ms() + POLL_MS;
    int64_t due = -1; /* when a content check is scheduled, or -1 */
    unsigned ticks = 0;

    for (;;) {
        struct pollfd pfd[2] = {{fs->wake_fd, POLLIN, 0}, {fs->ino_fd, POLLIN, 0}};
        nfds_t nfds = fs->ino_fd >= 0 ? 2 : 1;
        int64_t now = mono_ms();
        int64_t wait = next_poll - now;
        if (due >= 0 && due - now < wait)
            wait = due - now;
        if (wait < 0)
            wait = 0;
        int r = poll(pfd, nfds, (int)wait);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)))
            break;
        now = mono_ms();
        if (r > 0 && nfds == 2 && (pfd[1].revents & POLLIN)) {
            drain(fs->ino_fd);
            if (due < 0)
                due = now + DEBOUNCE_MS;
        }
        bool run = false;
        if (due >= 0 && now >= due) {
            run = true;
            due = -1;
        }
        if (now >= next_poll) {
            next_poll = now + POLL_MS;
            ticks++;
            if (stat_changed(fs) || ticks % FULL_CHECK_TICKS == 0)
                run = true;
        }
        if (run && check_content(fs) && due < 0)
            due = mono_ms() + RECHECK_MS;
    }
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
    stat_changed(fs); /* remember the file as it is now */
    note_success(fs, snap, "OSImageStream file loaded");

    fs->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fs->wake_fd < 0)
        return osw_errbuf_set(eb, OSW_EIO, "%s: eventfd: %s", fs->path, strerror(errno));
    fs->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fs->ino_fd >= 0 && inotify_add_watch(fs->ino_fd, fs->dir, WATCH_MASK) < 0) {
        close(fs->ino_fd);
        fs->ino_fd = -1;
    }
    if (fs->ino_fd < 0) {
        osw_log_printf(fs->base.env.log, OSW_LOG_WARN,
                       "OSImageStream file %s: inotify unavailable (%s); polling every %d ms",
                       fs->path, strerror(errno), POLL_MS);
    }
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
        uint64_t one = 1;
        while (write(fs->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
            ;
        pthread_join(fs->thread, NULL);
        fs->thread_running = false;
    }
    if (fs->ino_fd >= 0) {
        close(fs->ino_fd);
        fs->ino_fd = -1;
    }
    if (fs->wake_fd >= 0) {
        close(fs->wake_fd);
        fs->wake_fd = -1;
    }
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
    free(fs->dir);
    free(fs);
}

static const struct osw_source_ops file_ops = {
    .name = "file",
    .start = file_start,
    .stop = file_stop,
    .destroy = file_destroy,
};

/* The directory part of `path` ("." when there is none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

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
    fs->wake_fd = -1;
    fs->ino_fd = -1;
    fs->path = strdup(path);
    fs->dir = dir_of(path);
    if (!fs->path || !fs->dir) {
        file_destroy(&fs->base);
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    *out = &fs->base;
    return OSW_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `check`: reads manifests (YAML or JSON, multi-document, `-` for stdin,
 * directories as `kubectl apply -f DIR` reads them), finds every
 * MachineConfigPool, builds the AdmissionReview its CREATE would send and
 * runs it through osw_admit() for /validate, the server's own path, so a
 * verdict here is the verdict the cluster would give. All manifests are read
 * and parsed before any verdict is printed, so a broken file yields one error
 * and no partial report; an argument without a pool says so on stderr, so a
 * check never passes silently.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "osw/admit.h"
#include "osw/buf.h"

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/input.h"
#include "cli/objects.h"
#include "source/source.h"
#include "yaml/yaml.h"

#define CHECK_MAX_INPUT ((size_t)64 * 1024 * 1024) /* per manifest file */
#define MCP_GROUP       "machineconfiguration.openshift.io"
#define MCP_KIND        "MachineConfigPool"
/* Lists nested in lists are unusual; this bounds the recursion anyway. */
#define MAX_LIST_NESTING 8
/* Directory levels -R descends (symbolic links to directories are not
 * followed, so this only bounds very deep trees). */
#define MAX_DIR_DEPTH 32

#define PROG "osstream-webhook check: "

/* One file to judge: a MANIFEST argument, or a file found in a directory
 * argument. */
struct manifest {
    char *path;   /* owned: as shown in lines ("-" for stdin) */
    size_t arg;   /* index of the argument it came from */
    json_t *docs; /* owned once loaded: the array of documents */
};

struct manifests {
    struct manifest *items; /* owned */
    size_t len, cap;
};

struct verdicts {
    unsigned long pools;
    bool denied;
    bool failed; /* out of memory */
};

/* "-" is shown as "<stdin>" in error messages. */
static const char *display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/* Prints `s` (length-delimited) with control bytes replaced, so a verdict
 * stays one line whatever a manifest's name holds. */
static void put_clean(const char *s, size_t len, FILE *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c < 0x20 || c == 0x7f ? '?' : (int)c, out);
    }
}

/* The defaults that a `<Kind>List` gives its items: the API returns a
 * MachineConfigPoolList's items without `kind` and `apiVersion`. */
struct item_defaults {
    const char *kind; /* NULL: none */
    size_t kind_len;
    const char *api_version; /* NULL: none */
};

static bool is_mcp(const json_t *obj, const struct item_defaults *dflt)
{
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    const json_t *kind = json_object_get(obj, "kind");
    size_t glen = sizeof(MCP_GROUP) - 1;
    bool kind_ok;

    if (json_is_string(kind))
        kind_ok = strcmp(json_string_value(kind), MCP_KIND) == 0;
    else
        kind_ok = kind == NULL && dflt->kind != NULL && dflt->kind_len == sizeof(MCP_KIND) - 1 &&
                  memcmp(dflt->kind, MCP_KIND, dflt->kind_len) == 0;
    if (av == NULL && json_object_get(obj, "apiVersion") == NULL)
        av = dflt->api_version;
    return av && kind_ok && strncmp(av, MCP_GROUP, glen) == 0 && av[glen] == '/';
}

/* A `List` or `<Something>List` with an items array; fills the defaults
 * its items get (a plain List gives none). */
static const json_t *list_items(const json_t *obj, struct item_defaults *dflt)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const json_t *items = json_object_get(obj, "items");
    size_t n = kind ? strlen(kind) : 0;
    if (n < 4 || strcmp(kind + n - 4, "List") != 0 || !json_is_array(items))
        return NULL;
    dflt->kind = n > 4 ? kind : NULL;
    dflt->kind_len = n - 4;
    dflt->api_version = n > 4 ? json_string_value(json_object_get(obj, "apiVersion")) : NULL;
    return items;
}

/* The AdmissionReview that `kubectl create` of `pool` would make the API
 * server send (the object with its kind and apiVersion, as the API server
 * always fills them in); NULL on allocation failure. */
static json_t *build_review(json_t *pool, const char *api_version, unsigned long n)
{
    char uid[32];
    snprintf(uid, sizeof(uid), "check-%lu", n);
    json_t *obj = json_copy(pool);
    if (!obj || json_object_set_new(obj, "kind", json_string(MCP_KIND)) != 0 ||
        json_object_set_new(obj, "apiVersion", json_string(api_version)) != 0) {
        json_decref(obj);
        return NULL;
    }
    json_t *req = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:o}", "uid", uid,
                            "kind", "group", MCP_GROUP, "version", "v1", "kind", MCP_KIND,
                            "resource", "group", MCP_GROUP, "version", "v1", "resource",
                            "machineconfigpools", "operation", "CREATE", "object", obj);
    if (!req)
        return NULL;
    json_t *name = json_object_get(json_object_get(pool, "metadata"), "name");
    if (json_is_string(name) && json_object_set(req, "name", name) != 0) {
        json_decref(req);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o}", "apiVersion", "admission.k8s.io/v1", "kind",
                     "AdmissionReview", "request", req);
}

static void judge_pool(json_t *pool, const char *api_version, const char *file,
                       const struct osw_inputs *inputs, struct verdicts *v)
{
    struct osw_admit a;
    json_t *review = build_review(pool, api_version, ++v->pools);
    char *body = review ? json_dumps(review, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    osw_admit_init(&a);
    json_decref(review);
    if (!body || osw_admit(body, strlen(body), inputs, OSW_EP_VALIDATE, osw_review_decode_fast,
                           &a) != OSW_OK) {
        fprintf(stderr, PROG "out of memory\n");
        v->failed = true;
        goto out;
    }
    /* The line names the file, then the pool and its verdict, before
     * anything else (CONTRACT.md); a denial then carries the server's
     * message. */
    put_clean(file, strlen(file), stdout);
    fputs(": ", stdout);
    json_t *name = json_object_get(json_object_get(pool, "metadata"), "name");
    if (json_is_string(name) && json_string_length(name) > 0)
        put_clean(json_string_value(name), json_string_length(name), stdout);
    else
        fputs("(unnamed)", stdout);
    if (a.http_status != 200) {
        /* The server would answer 400: the pool cannot be admitted as
         * written. The body is a one-line reason with a trailing newline. */
        size_t len = a.body.len;
        while (len > 0 && (a.body.data[len - 1] == '\n' || a.body.data[len - 1] == '\r'))
            len--;
        fputs(": denied: ", stdout);
        put_clean(a.body.data, len, stdout);
        fputc('\n', stdout);
        v->denied = true;
    } else if (a.decision.verdict == OSW_VERDICT_DENIED) {
        const char *msg = a.decision.message ? a.decision.message : "denied";
        fputs(": denied: ", stdout);
        put_clean(msg, strlen(msg), stdout);
        fputc('\n', stdout);
        v->denied = true;
    } else {
        fputs(": allowed\n", stdout);
    }
out:
    free(body);
    osw_admit_reset(&a, false);
}

static void judge_object(json_t *obj, const struct item_defaults *dflt, const char *file,
                         const struct osw_inputs *inputs, unsigned depth, struct verdicts *v)
{
    struct item_defaults inner = {NULL, 0, NULL};

    if (!json_is_object(obj) || v->failed)
        return;
    const json_t *items = list_items(obj, &inner);
    if (items && depth < MAX_LIST_NESTING) {
        for (size_t i = 0; i < json_array_size(items) && !v->failed; i++)
            judge_object(json_array_get(items, i), &inner, file, inputs, depth + 1, v);
        return;
    }
    if (is_mcp(obj, dflt)) {
        const char *av = json_string_value(json_object_get(obj, "apiVersion"));
        judge_pool(obj, av != NULL ? av : dflt->api_version, file, inputs, v);
    }
}

/* ---- collecting the files ------------------------------------------------ */

static bool manifests_add(struct manifests *m, const char *path, size_t arg)
{
    if (!osw_grow(&m->items, &m->cap, m->len, sizeof(*m->items), 8))
        return false;
    struct manifest *mf = &m->items[m->len];
    mf->path = strdup(path);
    if (!mf->path)
        return false;
    mf->arg = arg;
    mf->docs = NULL;
    m->len++;
    return true;
}

static void manifests_free(struct manifests *m)
{
    for (size_t i = 0; i < m->len; i++) {
        free(m->items[i].path);
        json_decref(m->items[i].docs);
    }
    free(m->items);
    m->items = NULL;
    m->len = m->cap = 0;
}

/* What kubectl apply -f DIR reads. */
static bool manifest_name(const char *name)
{
    static const char *const ext[] = {".yaml", ".yml", ".json"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcmp(name + n - e, ext[i]) == 0)
            return true;
    }
    return false;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entry names of `dir` (without . and ..), sorted bytewise; the caller
 * frees each and the array. False with a message on stderr. */
static bool list_dir(const char *dir, char ***names, size_t *count)
{
    DIR *d = opendir(dir);
    char **v = NULL;
    size_t n = 0, cap = 0;
    bool ok = false;

    *names = NULL;
    *count = 0;
    if (!d) {
        fprintf(stderr, PROG "%s: %s\n", dir, strerror(errno));
        return false;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0) {
                fprintf(stderr, PROG "%s: %s\n", dir, strerror(errno));
                goto out;
            }
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!osw_grow(&v, &cap, n, sizeof(*v), 16))
            goto oom;
        v[n] = strdup(e->d_name);
        if (!v[n])
            goto oom;
        n++;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), by_name);
    *names = v;
    *count = n;
    v = NULL;
    ok = true;
    goto out;
oom:
    fprintf(stderr, PROG "out of memory\n");
out:
    if (v) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
    }
    closedir(d);
    return ok;
}

/* Adds the manifests of directory `dir` in name order: its *.yaml, *.yml
 * and *.json files and, with `recursive`, those of its subdirectories where
 * they sort. False with a message on stderr. */
static bool add_dir(struct manifests *m, const char *dir, size_t arg, bool recursive,
                    unsigned depth)
{
    char **names = NULL;
    size_t count = 0;
    bool ok = true;

    if (depth > MAX_DIR_DEPTH) {
        fprintf(stderr, PROG "%s: directories nested too deep\n", dir);
        return false;
    }
    if (!list_dir(dir, &names, &count))
        return false;
    size_t dlen = strlen(dir);
    bool slash = dlen > 0 && dir[dlen - 1] == '/';
    for (size_t i = 0; i < count && ok; i++) {
        size_t plen = dlen + 1 + strlen(names[i]) + 1;
        char *path = malloc(plen);
        struct stat lst, st;
        if (!path) {
            fprintf(stderr, PROG "out of memory\n");
            ok = false;
            break;
        }
        snprintf(path, plen, "%s%s%s", dir, slash ? "" : "/", names[i]);
        if (lstat(path, &lst) != 0) {
            fprintf(stderr, PROG "%s: %s\n", path, strerror(errno));
            ok = false;
        } else if (S_ISDIR(lst.st_mode)) {
            if (recursive)
                ok = add_dir(m, path, arg, recursive, depth + 1);
        } else if (manifest_name(names[i])) {
            /* A manifest that cannot be read (a dangling link) is an error,
             * as for a file named on the command line; a link to a
             * directory or a device is not a manifest. */
            if (stat(path, &st) != 0) {
                fprintf(stderr, PROG "%s: %s\n", path, strerror(errno));
                ok = false;
            } else if (S_ISREG(st.st_mode) && !manifests_add(m, path, arg)) {
                fprintf(stderr, PROG "out of memory\n");
                ok = false;
            }
        }
        free(path);
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return ok;
}

/* Turns the MANIFEST arguments into files. False with a message on stderr. */
static bool collect(const struct osw_strlist *args, bool recursive, struct manifests *m)
{
    for (size_t i = 0; i < args->len; i++) {
        const char *a = args->items[i];
        struct stat st;
        if (strcmp(a, "-") != 0 && stat(a, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (!add_dir(m, a, i, recursive, 0))
                return false;
        } else if (!manifests_add(m, a, i)) {
            fprintf(stderr, PROG "out of memory\n");
            return false;
        }
    }
    return true;
}

/* Reads and parses one manifest into `*docs`; prints the error and returns
 * false when it cannot. */
static bool load_manifest(const char *path, json_t **docs)
{
    struct osw_buf in = OSW_BUF_INIT;
    struct osw_errbuf eb;
    bool ok = false;

    eb.msg[0] = '\0';
    *docs = NULL;
    if (osw_input_read(path, CHECK_MAX_INPUT, &in, &eb) != OSW_OK) {
        fprintf(stderr, PROG "%s\n", eb.msg);
        goto out;
    }
    if (osw_yaml_parse_any(in.data ? in.data : "", in.len, docs, &eb) != OSW_OK) {
        fprintf(stderr, PROG "%s:%s\n", display_name(path), eb.msg);
        goto out;
    }
    ok = true;
out:
    osw_buf_free(&in);
    return ok;
}

int osw_cmd_check(int argc, char **argv)
{
    const char *osis_file = NULL;
    bool recursive = false;
    const struct osw_flag flags[] = {
        {"osimagestream-file", OSW_FLAG_STRING, &osis_file, "FILE",
         "OSImageStream (JSON or YAML) to check the pools against (required)", false},
        {"recursive", OSW_FLAG_BOOL, &recursive, NULL,
         "also read the subdirectories of a directory MANIFEST", false},
    };
    const struct osw_command_spec spec = {
        "check",
        "check --osimagestream-file F [-R] MANIFEST...",
        "Judges every MachineConfigPool in the manifests (YAML or JSON, multi-document; - is\n"
        "stdin; a directory is its *.yaml, *.yml and *.json files in name order, as\n"
        "kubectl apply -f DIR reads it; a List or <Kind>List counts as its items) as\n"
        "/validate judges its CREATE. Prints one line per pool, FILE: POOL: allowed or\n"
        "FILE: POOL: denied: <message>; a MANIFEST without any pool says so on stderr.",
        flags,
        sizeof(flags) / sizeof(flags[0]),
        SIZE_MAX,
        .exit_codes = "  0  every pool would be allowed (or there was none)\n"
                      "  1  a pool would be denied\n"
                      "  2  bad flags, an invalid OSImageStream file, or a manifest that\n"
                      "     cannot be read or parsed (nothing is judged then)\n",
        .short_aliases = "R=recursive"};
    struct osw_strlist pos = {NULL, 0};
    struct osw_osis *snap = NULL;
    struct osw_errbuf eb;
    struct verdicts v = {0, false, false};
    struct manifests m = {NULL, 0, 0};
    struct osw_cluster_builder *builder = NULL;
    struct osw_cluster *cluster = NULL;
    int rc = 2;

    enum osw_flags_result fr = osw_flags_parse(&spec, argc, argv, &pos, NULL, stdout, stderr);
    if (fr != OSW_FLAGS_OK) {
        rc = fr == OSW_FLAGS_HELP ? 0 : 2;
        goto out;
    }
    if (!osis_file || !*osis_file) {
        fprintf(stderr, PROG "--osimagestream-file is required\n");
        goto out;
    }
    if (pos.len == 0) {
        fprintf(stderr, PROG "at least one MANIFEST (a file, a directory, or - for stdin) is "
                             "required\n");
        goto out;
    }
    if (osw_source_load_file(osis_file, &snap, &eb) != OSW_OK) {
        fprintf(stderr, PROG "%s\n", eb.msg);
        goto out;
    }
    /* All files are read and parsed before the first verdict. */
    if (!collect(&pos, recursive, &m))
        goto out;
    for (size_t i = 0; i < m.len; i++) {
        if (!load_manifest(m.items[i].path, &m.items[i].docs))
            goto out;
    }
    /* The manifests' pools and MachineConfigs are the cluster state each
     * pool is judged in (Decision 9); an object of the wrong shape is left
     * out of it (a pool's own line then says why it is denied). */
    builder = osw_cluster_builder_new();
    bool nomem = !builder;
    for (size_t i = 0; i < m.len && !nomem; i++) {
        for (size_t j = 0; j < json_array_size(m.items[i].docs) && !nomem; j++)
            nomem =
                osw_objects_add(builder, json_array_get(m.items[i].docs, j), true, &eb) != OSW_OK;
    }
    if (nomem || osw_cluster_build(builder, &cluster) != OSW_OK) {
        fprintf(stderr, PROG "out of memory\n");
        goto out;
    }
    struct osw_policy policy = osw_policy_default();
    struct osw_inputs inputs = {snap, true, OSW_CLUSTER_SYNCED, cluster, &policy};
    size_t next = 0;
    for (size_t arg = 0; arg < pos.len && !v.failed; arg++) {
        unsigned long before = v.pools;
        for (; next < m.len && m.items[next].arg == arg && !v.failed; next++) {
            const struct manifest *mf = &m.items[next];
            const struct item_defaults none = {NULL, 0, NULL};
            for (size_t j = 0; j < json_array_size(mf->docs) && !v.failed; j++)
                judge_object(json_array_get(mf->docs, j), &none, mf->path, &inputs, 0, &v);
        }
        /* A check that found nothing to judge must not look like a pass. */
        if (!v.failed && v.pools == before)
            fprintf(stderr, PROG "%s: no MachineConfigPools found\n", pos.items[arg]);
    }
    if (fflush(stdout) != 0 || v.failed) {
        if (!v.failed)
            fprintf(stderr, PROG "cannot write the report\n");
        goto out;
    }
    rc = v.denied ? 1 : 0;
out:
    osw_cluster_unref(cluster);
    osw_cluster_builder_free(builder);
    manifests_free(&m);
    osw_osis_unref(snap);
    osw_strlist_free(&pos);
    return rc;
}

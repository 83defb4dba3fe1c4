/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `check`: reads manifests (YAML or JSON, multi-document, `-` for stdin),
 * finds every MachineConfigPool, builds the AdmissionReview its CREATE would
 * send and runs it through osw_admit() for /validate, the server's own path,
 * so a verdict here is the verdict the cluster would give. All manifests are
 * read and parsed before any verdict is printed, so a broken file yields one
 * error and no partial report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "osw/admit.h"

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/input.h"
#include "cli/objects.h"
#include "source/source.h"
#include "yaml/yaml.h"

#define CHECK_MAX_INPUT ((size_t)64 * 1024 * 1024) /* per manifest file */
#define MCP_GROUP       "machineconfiguration.openshift.io"
/* Lists nested in lists are unusual; this bounds the recursion anyway. */
#define MAX_LIST_NESTING 8

#define PROG "osstream-webhook check: "

struct verdicts {
    unsigned long pools;
    bool denied;
    bool failed; /* out of memory */
};

/* "-" is shown as "<stdin>" in messages. */
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

static bool is_mcp(const json_t *obj)
{
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    size_t glen = sizeof(MCP_GROUP) - 1;
    return av && kind && strcmp(kind, "MachineConfigPool") == 0 &&
           strncmp(av, MCP_GROUP, glen) == 0 && av[glen] == '/';
}

/* A `List` or `<Something>List` with an items array. */
static const json_t *list_items(const json_t *obj)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const json_t *items = json_object_get(obj, "items");
    size_t n = kind ? strlen(kind) : 0;
    if (n >= 4 && strcmp(kind + n - 4, "List") == 0 && json_is_array(items))
        return items;
    return NULL;
}

/* The AdmissionReview that `kubectl create` of `pool` would make the API
 * server send; NULL on allocation failure. */
static json_t *build_review(json_t *pool, unsigned long n)
{
    char uid[32];
    snprintf(uid, sizeof(uid), "check-%lu", n);
    json_t *req = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:O}", "uid", uid, "kind", "group",
        MCP_GROUP, "version", "v1", "kind", "MachineConfigPool", "resource", "group", MCP_GROUP,
        "version", "v1", "resource", "machineconfigpools", "operation", "CREATE", "object", pool);
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

static void judge_pool(json_t *pool, const struct osw_inputs *inputs, struct verdicts *v)
{
    struct osw_admit a;
    json_t *review = build_review(pool, ++v->pools);
    char *body = review ? json_dumps(review, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    osw_admit_init(&a);
    json_decref(review);
    if (!body || osw_admit(body, strlen(body), inputs, OSW_EP_VALIDATE, osw_review_decode_fast,
                           &a) != OSW_OK) {
        fprintf(stderr, PROG "out of memory\n");
        v->failed = true;
        goto out;
    }
    /* The line starts with the pool's name and its verdict, before anything
     * else (CONTRACT.md); a denial then carries the server's message. */
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

static void judge_object(json_t *obj, const struct osw_inputs *inputs, unsigned depth,
                         struct verdicts *v)
{
    if (!json_is_object(obj) || v->failed)
        return;
    const json_t *items = list_items(obj);
    if (items && depth < MAX_LIST_NESTING) {
        for (size_t i = 0; i < json_array_size(items) && !v->failed; i++)
            judge_object(json_array_get(items, i), inputs, depth + 1, v);
        return;
    }
    if (is_mcp(obj))
        judge_pool(obj, inputs, v);
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
    const struct osw_flag flags[] = {
        {"osimagestream-file", OSW_FLAG_STRING, &osis_file, "FILE",
         "OSImageStream (JSON or YAML) to check the pools against (required)", false},
    };
    const struct osw_command_spec spec = {
        "check",
        "check --osimagestream-file F MANIFEST...",
        "Judges every MachineConfigPool in the manifests (YAML or JSON, multi-document; - is\n"
        "stdin) as /validate judges its CREATE; prints one line per pool; exits 1 if any\n"
        "would be denied.",
        flags,
        sizeof(flags) / sizeof(flags[0]),
        SIZE_MAX};
    struct osw_strlist pos = {NULL, 0};
    struct osw_osis *snap = NULL;
    struct osw_errbuf eb;
    struct verdicts v = {0, false, false};
    json_t *files = NULL; /* one array of documents per manifest */
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
        fprintf(stderr, PROG "at least one MANIFEST (a file, or - for stdin) is required\n");
        goto out;
    }
    if (osw_source_load_file(osis_file, &snap, &eb) != OSW_OK) {
        fprintf(stderr, PROG "%s\n", eb.msg);
        goto out;
    }
    /* All files are read and parsed before the first verdict. */
    files = json_array();
    if (!files) {
        fprintf(stderr, PROG "out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < pos.len; i++) {
        json_t *docs = NULL;
        if (!load_manifest(pos.items[i], &docs))
            goto out;
        if (json_array_append_new(files, docs) != 0) {
            fprintf(stderr, PROG "out of memory\n");
            goto out;
        }
    }
    /* The manifests' pools and MachineConfigs are the cluster state each
     * pool is judged in (Decision 9); an object of the wrong shape is left
     * out of it (a pool's own line then says why it is denied). */
    builder = osw_cluster_builder_new();
    bool nomem = !builder;
    for (size_t i = 0; i < pos.len && !nomem; i++) {
        json_t *docs = json_array_get(files, i);
        for (size_t j = 0; j < json_array_size(docs) && !nomem; j++)
            nomem = osw_objects_add(builder, json_array_get(docs, j), true, &eb) != OSW_OK;
    }
    if (nomem || osw_cluster_build(builder, &cluster) != OSW_OK) {
        fprintf(stderr, PROG "out of memory\n");
        goto out;
    }
    struct osw_policy policy = osw_policy_default();
    struct osw_inputs inputs = {snap, true, OSW_CLUSTER_SYNCED, cluster, &policy};
    for (size_t i = 0; i < pos.len && !v.failed; i++) {
        json_t *docs = json_array_get(files, i);
        for (size_t j = 0; j < json_array_size(docs) && !v.failed; j++)
            judge_object(json_array_get(docs, j), &inputs, 0, &v);
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
    json_decref(files);
    osw_osis_unref(snap);
    osw_strlist_free(&pos);
    return rc;
}

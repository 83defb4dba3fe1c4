/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden cases as data: every file tests/golden/<case>.json is one AdmissionReview
 * in and the exact answer out, so a new case needs no C. Each case runs
 * through osw_admit() with both readers (they must agree byte for byte), and
 * every mutation that patches is applied and mutated again, which must then
 * yield no patch (idempotency). The rule R cases (r*.json) are written by
 * tests/golden/gen_runc.py, which spells their answers from CONTRACT.md.
 *
 * Case format:
 *   "endpoint": "validate" | "mutate"
 *   "snapshot": fixture file name in tests/data, or null (nothing cached)
 *   one of: "body" (raw string), "review" (a whole AdmissionReview), or the
 *           shorthand "operation" + "object" [+ "oldObject"] for a
 *           MachineConfigPool request with uid "golden-uid"
 *   "cluster" (optional): {"mode": "off" | "not_served" | "not_synced" | "synced",
 *             "pools": [MachineConfigPool...], "machineconfigs": [MachineConfig...]}
 *             (absent: mode off; the lists make the snapshot when synced)
 *   "policy" (optional): {"annotate_implicit_streams": bool,
 *             "deny_osimagestream_delete": bool, "exempt_namespace": "ns"}
 *   shorthand extras: "resource" (default "machineconfigpools"; the kind
 *           follows), "username" (request.userInfo.username)
 *   "expect": {"http_status": N, "response": {...}} where the response's
 *             "patch" is the decoded RFC 6902 array, or {"http_status": 400,
 *             "reason_contains": "..."}
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "osw/admit.h"
#include "osw/cluster.h"
#include "../support/admit_util.h"

#define GOLDEN_DIR OSW_TEST_DATA "/../golden"

static struct osw_osis *load_snapshot(const char *file)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", OSW_TEST_DATA, file);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    struct osw_osis *s = NULL;
    struct osw_errbuf eb;
    assert_int_equal(osw_osis_parse(j, &s, &eb), OSW_OK);
    json_decref(j);
    return s;
}

static const char *kind_for(const char *resource)
{
    if (strcmp(resource, "machineconfigs") == 0)
        return "MachineConfig";
    if (strcmp(resource, "osimagestreams") == 0)
        return "OSImageStream";
    return "MachineConfigPool";
}

static json_t *pool_review(json_t *c)
{
    const char *res = json_string_value(json_object_get(c, "resource"));
    res = res ? res : "machineconfigpools";
    json_t *req =
        json_pack("{s:s, s:{s:s,s:s,s:s}, s:{s:s,s:s,s:s}, s:O}", "uid", "golden-uid", "kind",
                  "group", "machineconfiguration.openshift.io", "version", "v1", "kind",
                  kind_for(res), "resource", "group", "machineconfiguration.openshift.io",
                  "version", "v1", "resource", res, "operation", json_object_get(c, "operation"));
    json_t *user = json_object_get(c, "username");
    if (user)
        json_object_set_new(req, "userInfo", json_pack("{s:O}", "username", user));
    json_t *obj = json_object_get(c, "object");
    if (obj)
        json_object_set(req, "object", obj);
    json_t *old = json_object_get(c, "oldObject");
    if (old)
        json_object_set(req, "oldObject", old);
    json_t *name = json_object_get(json_object_get(obj, "metadata"), "name");
    if (name)
        json_object_set(req, "name", name);
    return json_pack("{s:s,s:s,s:o}", "apiVersion", "admission.k8s.io/v1", "kind",
                     "AdmissionReview", "request", req);
}

/* The request body for a case (malloc'd). */
static char *case_body(json_t *c, size_t *len)
{
    json_t *raw = json_object_get(c, "body");
    if (raw) {
        *len = json_string_length(raw);
        char *b = malloc(*len + 1);
        memcpy(b, json_string_value(raw), *len + 1);
        return b;
    }
    json_t *review = json_object_get(c, "review");
    json_t *built = review ? json_incref(review) : pool_review(c);
    /* json_dumpb: the body may hold \u0000, which a C string would cut. */
    size_t n = json_dumpb(built, NULL, 0, JSON_COMPACT);
    char *b = malloc(n + 1);
    *len = json_dumpb(built, b, n, JSON_COMPACT);
    b[*len] = '\0';
    json_decref(built);
    return b;
}

static json_t *decode_patch(const char *b64)
{
    size_t n = strlen(b64);
    unsigned char *out = malloc(n);
    int m = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    assert_true(m >= 0);
    while (m > 0 && n > 0 && b64[n - 1] == '=') { /* DecodeBlock keeps padding bytes */
        m--;
        n--;
    }
    json_t *p = json_loadb((const char *)out, (size_t)m, 0, NULL);
    free(out);
    assert_non_null(p);
    return p;
}

/* Minimal RFC 6902 for object members: add, replace, remove. */
static void apply_patch(json_t *doc, json_t *patch)
{
    size_t i;
    json_t *op;
    json_array_foreach(patch, i, op)
    {
        const char *path = json_string_value(json_object_get(op, "path"));
        const char *kind = json_string_value(json_object_get(op, "op"));
        char buf[512];
        snprintf(buf, sizeof(buf), "%s", path + 1);
        json_t *parent = doc;
        char *tok = buf, *slash;
        while ((slash = strchr(tok, '/')) != NULL) {
            *slash = '\0';
            parent = json_object_get(parent, tok);
            assert_non_null(parent);
            tok = slash + 1;
        }
        char key[512];
        size_t k = 0;
        for (char *p = tok; *p; p++) /* unescape ~1 and ~0 */
            key[k++] = (p[0] == '~' && p[1] == '1')   ? (p++, '/')
                       : (p[0] == '~' && p[1] == '0') ? (p++, '~')
                                                      : *p;
        key[k] = '\0';
        if (strcmp(kind, "remove") == 0) {
            assert_int_equal(json_object_del(parent, key), 0);
        } else {
            if (strcmp(kind, "replace") == 0)
                assert_non_null(json_object_get(parent, key));
            json_object_set(parent, key, json_object_get(op, "value"));
        }
    }
}

/* The inputs of a case: its OSImageStream, cluster state and policy. */
struct case_inputs {
    struct osw_inputs in;
    struct osw_policy policy;
    struct osw_cluster *cluster;
};

static struct osw_cluster *load_cluster(json_t *cl)
{
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    struct osw_errbuf eb;
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(cl, "pools"), i, o)
    {
        struct osw_pool *p = NULL;
        if (osw_pool_extract(o, &p, &eb) != OSW_OK)
            fail_msg("cluster pool %zu: %s", i, eb.msg);
        assert_int_equal(osw_cluster_builder_add_pool(b, p), OSW_OK);
        osw_pool_unref(p);
    }
    json_array_foreach(json_object_get(cl, "machineconfigs"), i, o)
    {
        struct osw_mc *m = NULL;
        if (osw_mc_extract(o, &m, &eb) != OSW_OK)
            fail_msg("cluster machineconfig %zu: %s", i, eb.msg);
        assert_int_equal(osw_cluster_builder_add_mc(b, m), OSW_OK);
        osw_mc_unref(m);
    }
    struct osw_cluster *c = NULL;
    assert_int_equal(osw_cluster_build(b, &c), OSW_OK);
    osw_cluster_builder_free(b);
    return c;
}

static void case_inputs_init(struct case_inputs *ci, json_t *c, struct osw_osis *snap)
{
    memset(ci, 0, sizeof(*ci));
    ci->policy = osw_policy_default();
    json_t *pol = json_object_get(c, "policy");
    json_t *v;
    if ((v = json_object_get(pol, "annotate_implicit_streams")) != NULL)
        ci->policy.annotate_implicit_streams = json_is_true(v);
    if ((v = json_object_get(pol, "deny_osimagestream_delete")) != NULL)
        ci->policy.deny_osimagestream_delete = json_is_true(v);
    if ((v = json_object_get(pol, "exempt_namespace")) != NULL)
        ci->policy.exempt_namespace = (struct osw_str){json_string_value(v), json_string_length(v)};
    json_t *cl = json_object_get(c, "cluster");
    const char *mode = json_string_value(json_object_get(cl, "mode"));
    enum osw_cluster_mode m = OSW_CLUSTER_OFF;
    if (mode && strcmp(mode, "synced") == 0)
        m = OSW_CLUSTER_SYNCED;
    else if (mode && strcmp(mode, "not_synced") == 0)
        m = OSW_CLUSTER_NOT_SYNCED;
    else if (mode && strcmp(mode, "not_served") == 0)
        m = OSW_CLUSTER_NOT_SERVED;
    else if (mode && strcmp(mode, "off") != 0)
        fail_msg("unknown cluster mode %s", mode);
    if (m == OSW_CLUSTER_SYNCED)
        ci->cluster = load_cluster(cl);
    struct osw_inputs in = {snap, true, m, ci->cluster, &ci->policy};
    ci->in = in;
}

static json_t *run_case(const char *body, size_t len, const struct osw_inputs *in,
                        enum osw_endpoint ep, int *status, char **raw)
{
    struct osw_admit a[2];
    int readers[2] = {TEST_READER_JANSSON, TEST_READER_FAST};
    for (int i = 0; i < 2; i++) {
        osw_admit_init(&a[i]);
        assert_int_equal(test_admit_in(body, len, in, ep, readers[i], &a[i]), OSW_OK);
    }
    /* Both readers must give the very same answer (a 400's one-line reason
     * may be worded differently by each reader; its status may not). */
    assert_int_equal(a[0].http_status, a[1].http_status);
    if (a[0].http_status == 200) {
        assert_int_equal(a[0].body.len, a[1].body.len);
        assert_memory_equal(a[0].body.data, a[1].body.data, a[0].body.len);
    }
    *status = a[0].http_status;
    json_t *resp =
        *status == 200 ? json_loadb(a[0].body.data, a[0].body.len, JSON_ALLOW_NUL, NULL) : NULL;
    *raw = strndup(a[0].body.data, a[0].body.len);
    for (int i = 0; i < 2; i++)
        osw_admit_reset(&a[i], false);
    return resp;
}

static void check_idempotent(json_t *c, json_t *patch, const struct osw_inputs *in)
{
    if (json_object_get(c, "body") || json_object_get(c, "review"))
        return;
    json_t *obj = json_deep_copy(json_object_get(c, "object"));
    apply_patch(obj, patch);
    json_t *again = json_deep_copy(c);
    json_object_set_new(again, "object", obj);
    size_t len;
    char *body = case_body(again, &len);
    int status;
    char *raw;
    json_t *resp = run_case(body, len, in, OSW_EP_MUTATE, &status, &raw);
    assert_int_equal(status, 200);
    if (json_object_get(json_object_get(resp, "response"), "patch"))
        fail_msg("mutation is not idempotent, second patch: %s", raw);
    json_decref(resp);
    json_decref(again);
    free(body);
    free(raw);
}

static void run_golden(const char *file)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, file);
    json_error_t je;
    json_t *c = json_load_file(path, JSON_ALLOW_NUL, &je);
    if (!c)
        fail_msg("%s: %s line %d", file, je.text, je.line);
    json_t *snapname = json_object_get(c, "snapshot");
    struct osw_osis *snap =
        json_is_string(snapname) ? load_snapshot(json_string_value(snapname)) : NULL;
    enum osw_endpoint ep = strcmp(json_string_value(json_object_get(c, "endpoint")), "mutate") == 0
                               ? OSW_EP_MUTATE
                               : OSW_EP_VALIDATE;
    json_t *expect = json_object_get(c, "expect");
    struct case_inputs ci;
    case_inputs_init(&ci, c, snap);
    size_t len;
    char *body = case_body(c, &len);
    int status;
    char *raw;
    json_t *resp = run_case(body, len, &ci.in, ep, &status, &raw);
    int want = (int)json_integer_value(json_object_get(expect, "http_status"));
    if (status != want)
        fail_msg("%s: status %d, want %d (%s)", file, status, want, raw);
    if (status == 200) {
        json_t *r = json_object_get(resp, "response");
        json_t *p = json_object_get(r, "patch");
        json_t *decoded = p ? decode_patch(json_string_value(p)) : NULL;
        if (decoded)
            json_object_set(r, "patch", decoded);
        json_t *want_resp = json_object_get(expect, "response");
        if (!json_equal(resp, want_resp)) {
            char *w = json_dumps(want_resp, JSON_INDENT(1) | JSON_SORT_KEYS);
            char *g = json_dumps(resp, JSON_INDENT(1) | JSON_SORT_KEYS);
            fail_msg("%s: response differs\nwant: %s\ngot:  %s", file, w, g);
        }
        if (decoded && ep == OSW_EP_MUTATE)
            check_idempotent(c, decoded, &ci.in);
        json_decref(decoded);
    } else {
        const char *needle = json_string_value(json_object_get(expect, "reason_contains"));
        assert_non_null(needle);
        if (!strstr(raw, needle))
            fail_msg("%s: 400 reason \"%s\" lacks \"%s\"", file, raw, needle);
        char *nl = strchr(raw, '\n'); /* one line, newline-terminated */
        assert_true(nl != NULL && nl[1] == '\0');
    }
    json_decref(resp);
    json_decref(c);
    free(body);
    free(raw);
    osw_osis_unref(snap);
    osw_cluster_unref(ci.cluster);
}

static int is_case(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

static void test_golden_cases(void **state)
{
    (void)state;
    struct dirent **list;
    int n = scandir(GOLDEN_DIR, &list, is_case, alphasort);
    assert_true(n >= 20); /* the suite exists and was found */
    for (int i = 0; i < n; i++) {
        print_message("golden: %s\n", list[i]->d_name);
        run_golden(list[i]->d_name);
        free(list[i]);
    }
    free(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_golden_cases)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

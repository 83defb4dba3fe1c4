/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cost of the cluster state on the decision path: osw_admit() of the
 * fixture pool UPDATE in file mode (state off) and with a synced snapshot of
 * 2,000 MachineConfigs and 200 pools (its selector unchanged, so the cached
 * selection is reused; and changed, so the label index is searched), a
 * 200 KB MachineConfig CREATE in both modes (files under spec.config, and a
 * real Ignition 3 shape with one CRI-O drop-in among 200 files), and one
 * snapshot rebuild (what every watch event costs). Prints ns/op per case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "osw/admit.h"
#include "osw/cluster.h"

#ifndef OSW_BENCH_DATA
#define OSW_BENCH_DATA "tests/data"
#endif

#define G      "machineconfiguration.openshift.io"
#define NMCS   2000
#define NPOOLS 200

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct osw_cluster_builder *builder(void)
{
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    char buf[512];
    for (int i = 0; i < NMCS && b; i++) {
        snprintf(buf, sizeof(buf),
                 "{\"metadata\":{\"name\":\"%02d-mc-%04d\",\"labels\":{\"" G
                 "/role\":\"%s\"}},\"spec\":{\"osImageURL\":\"%s\"}}",
                 i % 100, i, i % 10 == 0 ? "worker" : (i % 2 ? "infra" : "gpu"),
                 i % 97 == 0 ? "quay.io/x/os@sha256:1" : "");
        json_t *j = json_loads(buf, 0, NULL);
        struct osw_mc *m = NULL;
        if (j && osw_mc_extract(j, &m, NULL) == OSW_OK)
            osw_cluster_builder_add_mc(b, m);
        osw_mc_unref(m);
        json_decref(j);
    }
    for (int i = 0; i < NPOOLS && b; i++) {
        snprintf(buf, sizeof(buf),
                 "{\"metadata\":{\"name\":\"%s-%d\"},\"spec\":{\"machineConfigSelector\":{"
                 "\"matchExpressions\":[{\"key\":\"" G "/role\",\"operator\":\"In\",\"values\":["
                 "\"worker\",\"pool-%d\"]}]}}}",
                 i == 0 ? "worker" : "pool", i, i);
        if (i == 0)
            snprintf(buf, sizeof(buf),
                     "{\"metadata\":{\"name\":\"worker\"},\"spec\":{\"machineConfigSelector\":{"
                     "\"matchLabels\":{\"" G "/role\":\"worker\"}}}}");
        json_t *j = json_loads(buf, 0, NULL);
        struct osw_pool *p = NULL;
        if (j && osw_pool_extract(j, &p, NULL) == OSW_OK)
            osw_cluster_builder_add_pool(b, p);
        osw_pool_unref(p);
        json_decref(j);
    }
    return b;
}

static char *dump(json_t *j, size_t *len)
{
    char *s = json_dumps(j, JSON_COMPACT);
    *len = s ? strlen(s) : 0;
    return s;
}

static double per_op(const char *body, size_t len, const struct osw_inputs *in)
{
    unsigned long n = 0;
    double t0 = now_s(), t;
    struct osw_admit a;
    osw_admit_init(&a);
    do {
        for (int k = 0; k < 64; k++) {
            if (osw_admit(body, len, in, OSW_EP_VALIDATE, osw_review_decode_fast, &a) != OSW_OK)
                return -1;
            osw_admit_reset(&a, true);
        }
        n += 64;
        t = now_s();
    } while (t - t0 < 0.5);
    osw_admit_reset(&a, false);
    return (t - t0) / (double)n * 1e9;
}

int main(void)
{
    json_t *fx =
        json_load_file(OSW_BENCH_DATA "/admissionreview-update-worker-rhel10.json", 0, NULL);
    json_t *oj = json_load_file(OSW_BENCH_DATA "/osimagestream.json", 0, NULL);
    struct osw_osis *osis = NULL;
    if (!fx || !oj || osw_osis_parse(oj, &osis, NULL) != OSW_OK)
        return 2;
    struct osw_cluster_builder *b = builder();
    struct osw_cluster *c = NULL;
    double t0 = now_s();
    for (int k = 0; k < 10; k++) {
        osw_cluster_unref(c);
        if (osw_cluster_build(b, &c) != OSW_OK)
            return 2;
    }
    double rebuild = (now_s() - t0) / 10 * 1e9;

    /* The fixture names the worker; give it the cached worker's selector. */
    json_t *req = json_object_get(fx, "request");
    json_t *sel = json_pack("{s:{s:s}}", "matchLabels", G "/role", "worker");
    json_object_set(json_object_get(json_object_get(req, "object"), "spec"),
                    "machineConfigSelector", sel);
    size_t len_same, len_changed, len_mc;
    char *same = dump(fx, &len_same);
    json_object_set_new(json_object_get(sel, "matchLabels"), "extra", json_string("x"));
    char *changed = dump(fx, &len_changed);
    json_decref(sel);

    /* A 200 KB MachineConfig CREATE. */
    json_t *mc =
        json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:{s:s,s:{s:[]}}}", "apiVersion", G "/v1", "kind",
                  "MachineConfig", "metadata", "name", "99-big", "labels", G "/role", "worker",
                  "spec", "osImageURL", "quay.io/x/os:tag", "config", "files");
    json_t *files = json_object_get(json_object_get(mc, "spec"), "config");
    files = json_object_get(files, "files");
    char blob[1024];
    memset(blob, 'a', sizeof(blob) - 1);
    blob[sizeof(blob) - 1] = '\0';
    for (int i = 0; i < 200; i++)
        json_array_append_new(files, json_pack("{s:s}", "source", blob));
    json_t *mrev = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s,s:s},s:o}}", "apiVersion",
                             "admission.k8s.io/v1", "kind", "AdmissionReview", "request", "uid",
                             "u", "operation", "CREATE", "resource", "group", G, "version", "v1",
                             "resource", "machineconfigs", "object", mc);
    char *mcbody = dump(mrev, &len_mc);

    /* The same size as an Ignition 3 config: 200 files of 1 KB under
     * storage.files, one of them a CRI-O drop-in (rule R decodes it). */
    size_t len_ign;
    json_t *ign = json_deep_copy(mrev);
    json_t *ispec =
        json_object_get(json_object_get(json_object_get(ign, "request"), "object"), "spec");
    json_t *ifiles = json_array();
    for (int i = 0; i < 200; i++) {
        char path[64], src[1100];
        snprintf(path, sizeof(path), i == 100 ? "/etc/crio/crio.conf.d/99-runtime" : "/etc/f-%03d",
                 i);
        snprintf(src, sizeof(src), "data:,%s",
                 i == 100 ? "%5Bcrio.runtime%5D%0Adefault_runtime"
                            "%20%3D%20%22crun%22%0A"
                          : blob);
        json_array_append_new(ifiles, json_pack("{s:s,s:i,s:b,s:{s:s}}", "path", path, "mode", 420,
                                                "overwrite", 1, "contents", "source", src));
    }
    json_object_set_new(
        ispec, "config",
        json_pack("{s:{s:s},s:{s:o}}", "ignition", "version", "3.4.0", "storage", "files", ifiles));
    char *ignbody = dump(ign, &len_ign);

    struct osw_policy policy = osw_policy_default();
    struct osw_inputs off = {osis, true, OSW_CLUSTER_OFF, NULL, &policy};
    struct osw_inputs on = {osis, true, OSW_CLUSTER_SYNCED, c, &policy};
    printf("snapshot rebuild (%d MachineConfigs, %d pools): %.0f ns\n", NMCS, NPOOLS, rebuild);
    printf("pool UPDATE, state off:                 %.0f ns/op\n", per_op(same, len_same, &off));
    printf("pool UPDATE, synced, selector unchanged: %.0f ns/op\n", per_op(same, len_same, &on));
    printf("pool UPDATE, synced, selector changed:   %.0f ns/op\n",
           per_op(changed, len_changed, &on));
    printf("MachineConfig CREATE %zu B, state off:  %.0f ns/op\n", len_mc,
           per_op(mcbody, len_mc, &off));
    printf("MachineConfig CREATE %zu B, synced:     %.0f ns/op\n", len_mc,
           per_op(mcbody, len_mc, &on));
    printf("MachineConfig CREATE %zu B Ignition, off: %.0f ns/op\n", len_ign,
           per_op(ignbody, len_ign, &off));
    printf("MachineConfig CREATE %zu B Ignition, synced: %.0f ns/op\n", len_ign,
           per_op(ignbody, len_ign, &on));
    free(ignbody);
    json_decref(ign);
    free(same);
    free(changed);
    free(mcbody);
    json_decref(mrev);
    json_decref(fx);
    json_decref(oj);
    osw_cluster_unref(c);
    osw_cluster_builder_free(b);
    osw_osis_unref(osis);
    return 0;
}

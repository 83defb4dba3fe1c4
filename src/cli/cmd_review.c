/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `review`: evaluates one AdmissionReview offline through osw_admit(), the
 * very function the server calls, and prints the response bytes the server
 * would send. Useful to debug a denial without a cluster.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osw/admit.h"

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/input.h"
#include "cli/objects.h"
#include "source/source.h"

#define REVIEW_MAX_INPUT ((size_t)4 * 1024 * 1024) /* the server's default --max-request-bytes */

/* Whether the first byte that is not whitespace opens a JSON object. */
static bool looks_like_json(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' && data[i] != '\n')
            return data[i] == '{';
    }
    return false;
}

int osw_cmd_review(int argc, char **argv)
{
    const char *osis_file = NULL, *endpoint = "validate", *objects = NULL;
    const struct osw_flag flags[] = {
        {"osimagestream-file", OSW_FLAG_STRING, &osis_file, "FILE",
         "OSImageStream (JSON or YAML) to decide against; without it nothing is cached", false},
        {"endpoint", OSW_FLAG_STRING, &endpoint, "validate|mutate",
         "which webhook to evaluate (default validate)", false},
        {"objects", OSW_FLAG_STRING, &objects, "FILE",
         "MachineConfigPools and MachineConfigs (YAML or JSON, multi-document) as a synced "
         "cluster state; without it the cluster state is off",
         false},
    };
    const struct osw_command_spec spec = {
        "review",
        "review [--osimagestream-file F] [--objects F] [--endpoint validate|mutate] [FILE|-]",
        "Evaluates one AdmissionReview (FILE, or stdin when FILE is - or absent) and prints the\n"
        "response AdmissionReview, byte for byte what the server would send.",
        flags,
        sizeof(flags) / sizeof(flags[0]),
        1,
        .exit_codes = "  0  the response was printed (allowed, denied or patched)\n"
                      "  1  input the server would answer 400, or an unreadable FILE\n"
                      "  2  bad flags or an invalid OSImageStream file\n"};
    struct osw_strlist pos = {NULL, 0};
    struct osw_osis *snap = NULL;
    struct osw_cluster *cluster = NULL;
    struct osw_buf in = OSW_BUF_INIT;
    struct osw_admit a;
    struct osw_errbuf eb;
    int rc = 2;
    osw_admit_init(&a);

    enum osw_flags_result fr = osw_flags_parse(&spec, argc, argv, &pos, NULL, stdout, stderr);
    if (fr != OSW_FLAGS_OK) {
        rc = fr == OSW_FLAGS_HELP ? 0 : 2;
        goto out;
    }
    enum osw_endpoint ep;
    if (strcmp(endpoint, "validate") == 0 || strcmp(endpoint, "/validate") == 0) {
        ep = OSW_EP_VALIDATE;
    } else if (strcmp(endpoint, "mutate") == 0 || strcmp(endpoint, "/mutate") == 0) {
        ep = OSW_EP_MUTATE;
    } else {
        fprintf(stderr,
                "osstream-webhook review: --endpoint must be validate or mutate, not \"%s\"\n",
                endpoint);
        goto out;
    }
    if (osis_file && osw_source_load_file(osis_file, &snap, &eb) != OSW_OK) {
        fprintf(stderr, "osstream-webhook review: %s\n", eb.msg);
        goto out;
    }
    if (objects && osw_objects_load(objects, &cluster, &eb) != OSW_OK) {
        fprintf(stderr, "osstream-webhook review: %s\n", eb.msg);
        goto out;
    }
    rc = 1;
    if (osw_input_read(pos.len ? pos.items[0] : NULL, REVIEW_MAX_INPUT, &in, &eb) != OSW_OK) {
        fprintf(stderr, "osstream-webhook review: %s\n", eb.msg);
        goto out;
    }
    /* The server's defaults (--osimagestream-name cluster, ...), so messages
     * match it; the file, when given, is a synced OSImageStream source. */
    struct osw_policy policy = osw_policy_default();
    struct osw_inputs inputs = {snap, osis_file != NULL,
                                cluster ? OSW_CLUSTER_SYNCED : OSW_CLUSTER_OFF, cluster, &policy};
    if (osw_admit(in.data, in.len, &inputs, ep, osw_review_decode_fast, &a) != OSW_OK) {
        fprintf(stderr, "osstream-webhook review: out of memory\n");
        goto out;
    }
    if (a.http_status != 200) {
        /* The server would answer 400 with this one-line reason. People
         * often hand review the pool's YAML: say what it reads instead. */
        size_t len = a.body.len;
        while (len > 0 && a.body.data[len - 1] == '\n')
            len--;
        fprintf(stderr, "osstream-webhook review: %.*s%s\n", (int)len, a.body.data,
                looks_like_json(in.data, in.len)
                    ? ""
                    : " (review reads the JSON AdmissionReview the API server sends to the "
                      "webhook, not YAML)");
        goto out;
    }
    fwrite(a.body.data, 1, a.body.len, stdout);
    rc = fflush(stdout) == 0 ? 0 : 1;
    if (!osis_file)
        /* The bytes stay the server's; the reason they may surprise goes
         * to stderr. */
        fprintf(stderr, "osstream-webhook review: no --osimagestream-file given: decided as a "
                        "server that has no OSImageStream yet\n");
out:
    osw_admit_reset(&a, false);
    osw_buf_free(&in);
    osw_osis_unref(snap);
    osw_cluster_unref(cluster);
    osw_strlist_free(&pos);
    return rc;
}

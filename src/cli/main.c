/* SPDX-License-Identifier: Apache-2.0 */
/*
 * osstream-webhook: an admission webhook that validates and resolves
 * MachineConfigPool OS image streams. main() only dispatches: the commands
 * are a table, one file per command (as git's commands[] and curl's
 * src/tool_*.c).
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "osw/review.h"

#include "cli/commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"serve", osw_cmd_serve, "run the HTTPS admission webhook server"},
    {"review", osw_cmd_review, "evaluate one AdmissionReview offline and print the response"},
    {"check", osw_cmd_check, "pre-flight check MachineConfigPool manifests (GitOps)"},
    {"gen-certs", osw_cmd_gencerts, "write a CA and a serving certificate for local runs"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: osstream-webhook COMMAND [flags]\n\n"
                 "Validates MachineConfigPool spec.osImageStream.name against the cluster's\n"
                 "OSImageStream and injects the resolved OS image pull specs.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nFlags:\n  --help     show this help\n  --version  print the version\n"
                 "\nRun 'osstream-webhook COMMAND --help' for a command's flags.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "osstream-webhook: missing command (see --help)\n");
        return 2;
    }
    /* Process configuration: jansson allocation failures become 500s, never
     * 400s (before any thread starts). */
    osw_review_install_alloc_hooks();
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("osstream-webhook %s\n", OSW_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(cmd, commands[i].name) != 0)
            continue;
        /* libcurl (the Kubernetes API client) once, before any thread. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "osstream-webhook: cannot initialise libcurl\n");
            return 1;
        }
        int rc = commands[i].run(argc - 1, argv + 1);
        curl_global_cleanup();
        return rc;
    }
    fprintf(stderr, "osstream-webhook: unknown command \"%s\" (see --help)\n", cmd);
    return 2;
}

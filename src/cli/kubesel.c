/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Source selection for the Kubernetes API (see kubesel.h). Only the order
 * of precedence and $KUBECONFIG's list syntax live here; reading and
 * resolving the configuration is src/kube/kubeconfig.c's job.
 */
#include "cli/kubesel.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* $KUBECONFIG split on ':' into `paths` (pointers into the copy `*buf`,
 * which the caller frees), empty entries and repeats dropped as kubectl
 * drops them. Returns the count, or -1 when out of memory. */
static long split_list(const char *env, char **buf, const char ***paths)
{
    *buf = strdup(env);
    size_t cap = 1;
    for (const char *p = env; *p; p++)
        cap += *p == ':';
    *paths = calloc(cap, sizeof(**paths));
    if (!*buf || !*paths)
        return -1;
    size_t n = 0;
    char *save = *buf;
    for (char *p = *buf;; p++) {
        if (*p != ':' && *p != '\0')
            continue;
        bool end = *p == '\0';
        *p = '\0';
        bool seen = save[0] == '\0';
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp((*paths)[i], save) == 0;
        if (!seen)
            (*paths)[n++] = save;
        if (end)
            break;
        save = p + 1;
    }
    return (long)n;
}

enum osw_err osw_cli_kube_select(const char *kubeconfig_flag, const char *env_kubeconfig,
                                 const char *host, const char *port, const char *sa_dir,
                                 struct osw_kube_config *out, struct osw_errbuf *eb)
{
    memset(out, 0, sizeof(*out));
    if (kubeconfig_flag && kubeconfig_flag[0])
        return osw_kubeconfig_load(kubeconfig_flag, out, eb);
    if (env_kubeconfig && env_kubeconfig[0]) {
        char *buf = NULL;
        const char **paths = NULL;
        long n = split_list(env_kubeconfig, &buf, &paths);
        enum osw_err err = OSW_OK;
        if (n < 0)
            err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        else if (n > 0)
            err = osw_kubeconfig_load_list(paths, (size_t)n, out, eb);
        free(buf);
        free(paths);
        if (n != 0)
            return err;
        /* Only separators: as if unset. */
    }
    return osw_kube_config_incluster(host, port, sa_dir ? sa_dir : OSW_CLI_SA_DIR_DEFAULT, out, eb);
}

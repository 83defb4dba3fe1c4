/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract's choice of Kubernetes API configuration for `serve` when no
 * --osimagestream-file is given: --kubeconfig, else $KUBECONFIG (a list of
 * files merged as kubectl merges them), else the in-cluster service account.
 * The environment is read by the caller (src/cli is the only place that
 * reads it) and handed in as plain strings.
 */
#ifndef OSW_CLI_KUBESEL_H
#define OSW_CLI_KUBESEL_H

#include "osw/error.h"

#include "kube/kubeconfig.h"

/* The --serviceaccount-dir default (where kubelet mounts the token). */
#define OSW_CLI_SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

/*
 * Fills `out` (owned by the caller then; osw_kube_config_free) from, in this
 * order: `kubeconfig_flag` (--kubeconfig) when non-empty; `env_kubeconfig`
 * ($KUBECONFIG, ':'-separated, empty entries ignored, as kubectl) when it
 * names at least one file; otherwise the in-cluster configuration from
 * `host`/`port` (KUBERNETES_SERVICE_HOST/_PORT) and `sa_dir` (NULL: the
 * default above). All arguments are borrowed and may be NULL.
 * Fails with a one-line reason that says which source was tried: an
 * unreadable kubeconfig, no current-context, an exec plugin or
 * auth-provider (named), not running in a cluster, a missing token or CA.
 * OSW_EINVAL, OSW_EIO or OSW_ENOMEM as the loaders return them.
 */
enum osw_err osw_cli_kube_select(const char *kubeconfig_flag, const char *env_kubeconfig,
                                 const char *host, const char *port, const char *sa_dir,
                                 struct osw_kube_config *out, struct osw_errbuf *eb);

#endif /* OSW_CLI_KUBESEL_H */

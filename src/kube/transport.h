/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reflector's transport over the libcurl Kubernetes client: the table in
 * reflector.h filled with osw_kube_client_get and _abort. Each transport owns
 * one client, so each reflector keeps its own keep-alive connection and can
 * be aborted on its own.
 */
#ifndef OSW_KUBE_TRANSPORT_H
#define OSW_KUBE_TRANSPORT_H

#include "kube/kubeconfig.h"
#include "kube/reflector.h"

/* Creates a client for `cfg` (copied) and a transport that owns it (the
 * reflector frees it through the table). */
enum osw_err osw_transport_new(const struct osw_kube_config *cfg,
                               struct osw_reflector_transport *out, struct osw_errbuf *eb);

#endif /* OSW_KUBE_TRANSPORT_H */

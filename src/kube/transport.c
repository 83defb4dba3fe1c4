/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fills the reflector's transport table with the libcurl client (see
 * transport.h). The two response structs are the same two fields; keeping
 * the reflector's own type lets it be built and tested without libcurl.
 */
#include "kube/transport.h"

#include "kube/client.h"

static enum osw_err client_get(void *impl, const char *path_and_query, bool watch,
                               bool (*on_data)(void *ctx, const char *data, size_t len), void *ctx,
                               struct osw_reflector_response *resp, struct osw_errbuf *eb)
{
    struct osw_kube_response r = {0, -1};
    enum osw_err err = osw_kube_client_get(impl, path_and_query, watch, on_data, ctx, &r, eb);
    resp->status = r.status;
    resp->retry_after_s = r.retry_after_s;
    return err;
}

static void client_abort(void *impl)
{
    osw_kube_client_abort(impl);
}

static void client_destroy(void *impl)
{
    osw_kube_client_free(impl);
}

static const struct osw_reflector_transport_ops client_ops = {client_get, client_abort,
                                                              client_destroy};

enum osw_err osw_transport_new(const struct osw_kube_config *cfg,
                               struct osw_reflector_transport *out, struct osw_errbuf *eb)
{
    struct osw_kube_client *c = NULL;
    enum osw_err err = osw_kube_client_new(cfg, &c, eb);
    if (err != OSW_OK)
        return err;
    /* A quiet watch may last up to the longest timeoutSeconds the reflector
     * asks for; the low-speed limit must not cut it first. */
    struct osw_kube_limits lim = {0, 0, OSW_REFLECTOR_WATCH_TIMEOUT_MAX_S + 30};
    osw_kube_client_set_limits(c, &lim);
    out->ops = &client_ops;
    out->impl = c;
    return OSW_OK;
}

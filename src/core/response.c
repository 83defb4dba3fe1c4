/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encodes the response AdmissionReview without building a JSON tree: the
 * shape is fixed and small, so it is written directly, with every string
 * escaped by osw_buf_append_json_string. The key order is stable, which is
 * what makes `review` output byte-identical to the server's.
 */
#include "core_internal.h"

static const char *api_version_str(enum osw_api_version v)
{
    return v == OSW_API_V1BETA1 ? "admission.k8s.io/v1beta1" : "admission.k8s.io/v1";
}

static enum osw_err encode_causes(const struct osw_decision *d, struct osw_buf *out)
{
    enum osw_err err = osw_buf_append_cstr(out, ",\"causes\":[");
    for (size_t i = 0; i < d->ncauses && err == OSW_OK; i++) {
        const struct osw_cause *c = &d->causes[i];
        err = osw_buf_printf(out, "%s{\"reason\":\"%s\",\"message\":", i > 0 ? "," : "", c->reason);
        if (err == OSW_OK)
            err = osw_buf_append_json_string(out, osw_str_from_cstr(c->message));
        if (err == OSW_OK)
            err = osw_buf_printf(out, ",\"field\":\"%s\"}", c->field);
    }
    if (err == OSW_OK)
        err = osw_buf_append_cstr(out, "]");
    return err;
}

static enum osw_err encode_status(const struct osw_decision *d, struct osw_buf *out)
{
    enum osw_err err = osw_buf_append_cstr(out, ",\"status\":{\"metadata\":{},\"status\":"
                                                "\"Failure\",\"message\":");
    if (err == OSW_OK)
        err = osw_buf_append_json_string(out, osw_str_from_cstr(d->message));
    if (err == OSW_OK)
        err = osw_buf_printf(out, ",\"reason\":\"%s\"", d->reason);
    if (err == OSW_OK && d->has_details) {
        err = osw_buf_append_cstr(out, ",\"details\":{\"name\":");
        if (err == OSW_OK)
            err = osw_buf_append_json_string(out, d->details_name);
        if (err == OSW_OK)
            err = osw_buf_printf(out, ",\"group\":\"" OSW_MCP_GROUP "\",\"kind\":\"%s\"",
                                 d->details_kind ? d->details_kind : OSW_MCP_KIND);
        if (err == OSW_OK && d->ncauses > 0)
            err = encode_causes(d, out);
        if (err == OSW_OK)
            err = osw_buf_append_cstr(out, "}");
    }
    if (err == OSW_OK)
        err = osw_buf_printf(out, ",\"code\":%d}", d->code);
    return err;
}

static enum osw_err encode_warnings(const struct osw_decision *d, struct osw_buf *out)
{
    enum osw_err err = osw_buf_append_cstr(out, ",\"warnings\":[");
    for (size_t i = 0; i < d->nwarnings && err == OSW_OK; i++) {
        if (i > 0)
            err = osw_buf_append_cstr(out, ",");
        if (err == OSW_OK)
            err = osw_buf_append_json_string(out, osw_str_from_cstr(d->warnings[i]));
    }
    if (err == OSW_OK)
        err = osw_buf_append_cstr(out, "]");
    return err;
}

enum osw_err osw_response_encode(const struct osw_review *r, const struct osw_decision *d,
                                 struct osw_buf *out)
{
    enum osw_err err = osw_buf_printf(out,
                                      "{\"apiVersion\":\"%s\",\"kind\":\"AdmissionReview\","
                                      "\"response\":{\"uid\":",
                                      api_version_str(r->api_version));
    if (err == OSW_OK)
        err = osw_buf_append_json_string(out, r->uid);
    bool denied = d->verdict == OSW_VERDICT_DENIED;
    if (err == OSW_OK)
        err = osw_buf_append_cstr(out, denied ? ",\"allowed\":false" : ",\"allowed\":true");
    if (err == OSW_OK && denied)
        err = encode_status(d, out);
    if (err == OSW_OK && d->patch.len > 0) {
        err = osw_buf_append_cstr(out, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
        if (err == OSW_OK)
            err = osw_buf_append_base64(out, d->patch.data, d->patch.len);
        if (err == OSW_OK)
            err = osw_buf_append_cstr(out, "\"");
    }
    if (err == OSW_OK && d->nwarnings > 0)
        err = encode_warnings(d, out);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(out, "}}");
    return err;
}

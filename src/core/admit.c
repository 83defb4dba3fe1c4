/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One request from body to answer: decode (fast or reference reader),
 * decide, encode. Shared by the HTTPS server and the `review` command so the
 * two can never answer differently.
 */
#include "osw/admit.h"

void osw_admit_init(struct osw_admit *a)
{
    a->http_status = 0;
    osw_buf_init(&a->body);
    osw_review_init(&a->review);
    osw_decision_init(&a->decision);
}

void osw_admit_reset(struct osw_admit *a, bool keep_buffer)
{
    osw_review_release(&a->review);
    osw_decision_free(&a->decision);
    if (keep_buffer)
        osw_buf_reset(&a->body);
    else
        osw_buf_free(&a->body);
    a->http_status = 0;
}

static enum osw_err answer_400(struct osw_admit *a, const struct osw_errbuf *eb)
{
    a->http_status = 400;
    a->decision.verdict = OSW_VERDICT_ERROR;
    osw_buf_reset(&a->body);
    enum osw_err err = osw_buf_append_cstr(&a->body, eb->msg);
    if (err == OSW_OK)
        err = osw_buf_append_cstr(&a->body, "\n");
    return err;
}

enum osw_err osw_admit(const char *body, size_t len, const struct osw_inputs *in,
                       enum osw_endpoint ep, osw_review_decode_fn decode, struct osw_admit *a)
{
    struct osw_errbuf eb;
    eb.msg[0] = '\0';
    enum osw_err err = decode(body, len, &a->review, &eb);
    if (err == OSW_EBADJSON || err == OSW_EBADREQ)
        return answer_400(a, &eb);
    if (err != OSW_OK)
        return err;
    err = osw_decide(&a->review, in, ep, &a->decision, &eb);
    if (err == OSW_EBADREQ)
        return answer_400(a, &eb);
    if (err != OSW_OK)
        return err;
    a->http_status = 200;
    osw_buf_reset(&a->body);
    err = osw_response_encode(&a->review, &a->decision, &a->body);
    /* One trailing newline, as Go's json.Encoder writes: readable when
     * `review` prints it, and identical in both places. */
    if (err == OSW_OK)
        err = osw_buf_append(&a->body, "\n", 1);
    return err;
}

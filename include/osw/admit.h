/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One AdmissionReview request, body to answer: decode, decide, encode. The
 * HTTPS server and the `review` command both call osw_admit(), which is why
 * `review` prints byte for byte what the server would send.
 */
#ifndef OSW_ADMIT_H
#define OSW_ADMIT_H

#include "osw/decision.h"

/* A reader: fills the review view from a body (osw_review_decode_fast from
 * src/json/, or the reference osw_review_decode_jansson). The caller picks
 * it, so the core does not depend on the fast reader's layer. */
typedef enum osw_err (*osw_review_decode_fn)(const char *body, size_t len, struct osw_review *out,
                                             struct osw_errbuf *eb);

struct osw_admit {
    int http_status;              /* 200, or 400 for a body that cannot be decided */
    struct osw_buf body;          /* 200: the response AdmissionReview JSON; 400: one-line reason */
    struct osw_review review;     /* for logs: uid, operation, names (valid until free) */
    struct osw_decision decision; /* verdict etc.; verdict ERROR when http_status != 200 */
};

void osw_admit_init(struct osw_admit *a);
/* Frees everything `a` holds and re-initialises it (the body allocation is
 * kept when `keep_buffer`, so a worker can reuse it for the next request). */
void osw_admit_reset(struct osw_admit *a, bool keep_buffer);

/*
 * Runs one request. `body` is borrowed and must outlive `a` (the fast reader
 * may point into it). `in` (borrowed for the call) is the cached state and
 * policy the decision reads; `decode` is the reader.
 * Returns OSW_OK whenever `a` holds an answer to send (200 or 400);
 * OSW_ENOMEM otherwise (answer 500).
 */
enum osw_err osw_admit(const char *body, size_t len, const struct osw_inputs *in,
                       enum osw_endpoint ep, osw_review_decode_fn decode, struct osw_admit *a);

#endif /* OSW_ADMIT_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One AdmissionReview request, body to answer: decode, decide, encode. The
 * HTTPS server and the `review` command both call osw_admit(), which is why
 * `review` prints byte for byte what the server would send.
 */
#ifndef OSW_ADMIT_H
#define OSW_ADMIT_H

#include "osw/decision.h"

enum osw_reader {
    OSW_READER_FAST = 0, /* src/json/ single-pass reader (default) */
    OSW_READER_JANSSON,  /* reference reader */
};

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
 * may point into it). `snap` may be NULL (nothing cached).
 * Returns OSW_OK whenever `a` holds an answer to send (200 or 400);
 * OSW_ENOMEM otherwise (answer 500).
 */
enum osw_err osw_admit(const char *body, size_t len, const struct osw_osis *snap,
                       enum osw_endpoint ep, struct osw_str osimagestream_name,
                       enum osw_reader reader, struct osw_admit *a);

#endif /* OSW_ADMIT_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure admission decision: a decoded review and a snapshot in; a verdict,
 * a metav1.Status, warnings and a JSON patch out. No I/O, no clock, no global
 * state: the same inputs always give the same decision.
 */
#ifndef OSW_DECISION_H
#define OSW_DECISION_H

#include <stdbool.h>

#include "osw/buf.h"
#include "osw/error.h"
#include "osw/inputs.h"
#include "osw/review.h"

enum osw_endpoint {
    OSW_EP_VALIDATE = 0,
    OSW_EP_MUTATE = 1,
};

const char *osw_endpoint_name(enum osw_endpoint ep); /* "validate" / "mutate" */

enum osw_verdict {
    OSW_VERDICT_ALLOWED = 0,
    OSW_VERDICT_DENIED,
    OSW_VERDICT_PATCHED,
    OSW_VERDICT_ERROR, /* answered 4xx before a decision (metrics only) */
};

const char *osw_verdict_name(enum osw_verdict v); /* metric label values */

/* One entry of status.details.causes[]; all strings owned by the decision. */
struct osw_cause {
    const char *reason; /* static: "FieldValueRequired", "FieldValueInvalid", ... */
    const char *field;  /* static: "spec.osImageStream.name", "spec.osImageStream", ... */
    char *message;      /* owned */
};

/* What the parity rules did, for osstream_webhook_rule_verdicts_total
 * (bits of osw_decision.rules; a request counts at most 1 per bit). */
enum osw_rule_bit {
    OSW_RULE_CONFLICT_DENIED = 1u << 0,
    OSW_RULE_CONFLICT_WARNED = 1u << 1, /* the answer carries a W-CONFLICT */
    OSW_RULE_DELETE_GUARD_DENIED = 1u << 2,
    OSW_RULE_RUNC_DENIED = 1u << 3, /* rule R denied the request */
    OSW_RULE_RUNC_WARNED = 1u << 4, /* the answer carries a W-RUNC */
};

/* CONTRACT.md: at most 8 warnings per answer. */
#define OSW_DECISION_MAX_WARNINGS 8

struct osw_decision {
    enum osw_verdict verdict;
    bool handled;   /* a request the rules apply to (pool, MachineConfig, OSImageStream) */
    unsigned rules; /* enum osw_rule_bit */

    /* Denial (verdict == DENIED): the metav1.Status. */
    int code;                    /* 422 or 503 */
    const char *reason;          /* static: "Invalid", "ServiceUnavailable" */
    char *message;               /* owned: status.message */
    bool has_details;            /* status.details present (field errors) */
    struct osw_str details_name; /* borrowed from the review */
    const char *details_kind;    /* static: "MachineConfigPool", "MachineConfig", ... */
    struct osw_cause *causes;    /* owned array of `ncauses`, valid when has_details */
    size_t ncauses;

    char *warnings[OSW_DECISION_MAX_WARNINGS]; /* owned, each < 120 bytes, printable UTF-8 */
    size_t nwarnings;

    struct osw_buf patch; /* RFC 6902 array text; len == 0 means no patch */

    /* For logs and metrics, so adapters need not re-derive them; borrowed
     * from the review. */
    struct osw_str stream;    /* spec.osImageStream.name when a string */
    struct osw_str operation; /* request.operation when a string, else empty */
    struct osw_str name;      /* the object's metadata.name, else request.name, else empty */
};

void osw_decision_init(struct osw_decision *d);
void osw_decision_free(struct osw_decision *d); /* frees owned strings; NULL is fine */

/*
 * Decides `r` against `in` (the cached state and the policy; borrowed for the
 * call) for endpoint `ep`, following CONTRACT.md's AdmissionReview rules.
 * Returns OSW_OK with `out` filled; OSW_EBADREQ when a field the decision
 * reads has the wrong JSON type (answered 400; `eb` says which); OSW_ENOMEM.
 * `out` must be initialised; on error it holds nothing to free but is safe to free.
 */
enum osw_err osw_decide(const struct osw_review *r, const struct osw_inputs *in,
                        enum osw_endpoint ep, struct osw_decision *out, struct osw_errbuf *eb);

/* Appends a cause to `d` (taking ownership of `message`, which is freed even
 * on failure); OSW_ENOMEM when `message` is NULL or the array cannot grow. */
enum osw_err osw_decision_add_cause(struct osw_decision *d, const char *reason, const char *field,
                                    char *message);

/* Appends the response AdmissionReview (in the request's apiVersion) for
 * decision `d` about review `r` to `out`. */
enum osw_err osw_response_encode(const struct osw_review *r, const struct osw_decision *d,
                                 struct osw_buf *out);

#endif /* OSW_DECISION_H */

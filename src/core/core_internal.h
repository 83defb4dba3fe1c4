/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Functions shared between the core's own files (not part of the public API):
 * the message builders used by the decision, and the patch builder.
 */
#ifndef OSW_CORE_INTERNAL_H
#define OSW_CORE_INTERNAL_H

#include "osw/buf.h"
#include "osw/decision.h"
#include "osw/tri.h"

#define OSW_MCP_GROUP     "machineconfiguration.openshift.io"
#define OSW_MCP_KIND      "MachineConfigPool"
#define OSW_MCP_RESOURCE  "machineconfigpools"
#define OSW_MC_KIND       "MachineConfig"
#define OSW_MC_RESOURCE   "machineconfigs"
#define OSW_OSIS_KIND     "OSImageStream"
#define OSW_OSIS_RESOURCE "osimagestreams"
#define OSW_FIELD_URL     "spec.osImageURL"
#define OSW_FIELD_CONFIG  "spec.config"
#define OSW_FIELD_STREAM  "spec.osImageStream"
#define OSW_FIELD_NAME    "spec.osImageStream.name"
#define OSW_SENTENCE_UNSUPPORTED                                                                   \
    "The specified osImageStream name must reference a valid stream from the cluster "             \
    "OSImageStream resource"

/* Appends `s` quoted exactly as Go's strconv.Quote (%q) does, as Kubernetes
 * quotes values in its messages: `"`, `\`, control characters, C1 controls,
 * U+2028/2029 and every other rune Go does not print are escaped
 * (\a..\r, \xHH, \uHHHH, \UHHHHHHHH); invalid UTF-8 bytes become \xHH. */
enum osw_err osw_message_quote(struct osw_buf *b, struct osw_str s);

/* Fills d->cause and d->message/code/reason for a 422 Invalid denial.
 * `cause_msg` is taken over (freed by the decision). */
enum osw_err osw_message_invalid(struct osw_decision *d, struct osw_str pool, const char *reason,
                                 const char *field, char *cause_msg);

/* Cause messages. Each returns a malloc'd string or NULL on OOM. */
char *osw_message_required(void);
char *osw_message_wrong_type(enum osw_jtype got, const char *field, const char *want);
char *osw_message_bad_name(struct osw_str name);
char *osw_message_unsupported(struct osw_str name, const struct osw_osis *snap);

/* The 503 denial when nothing is cached. */
enum osw_err osw_message_unavailable(struct osw_decision *d, struct osw_str pool,
                                     struct osw_str stream, struct osw_str osis_name);

/* Row 5's warning: kept stream gone (snap != NULL) or not checkable. */
enum osw_err osw_message_kept_warning(struct osw_decision *d, struct osw_str stream,
                                      struct osw_str osis_name, bool have_snapshot);

/* What mutation wants of each annotation the webhook owns: set to `value`,
 * or absent. */
struct osw_annot_want {
    bool set[OSW_ANNOT_COUNT];
    struct osw_str value[OSW_ANNOT_COUNT];
};

/* `w` sets stream, os-image and os-extensions-image to `st`'s values (all
 * absent when `st` is NULL); stream-source absent. */
void osw_annot_want_stream(struct osw_annot_want *w, const struct osw_stream *st);

/* Mutation: the minimal patch making the annotations what `want` says.
 * Leaves `patch` empty when nothing changes. */
enum osw_err osw_patch_build(const struct osw_object_view *obj, const struct osw_annot_want *want,
                             struct osw_buf *patch);

/* A 422 Invalid denial of `kind` "<name>" from the causes already added to
 * `d` (at least one), worded as apierrors.NewInvalid words a field.ErrorList:
 * one cause `<field>: <message>`, several `[<c1>, <c2>]`. */
enum osw_err osw_message_invalid_causes(struct osw_decision *d, const char *kind,
                                        struct osw_str name);

/* The parity warnings (warning.c), each with CONTRACT.md's exact text; names
 * clipped to 24 bytes; duplicates dropped; at most 8 kept. */
enum osw_err osw_warn_inherited_gone(struct osw_decision *d, struct osw_str stream);
enum osw_err osw_warn_conflict(struct osw_decision *d, struct osw_str mc, struct osw_str pool);
enum osw_err osw_warn_runc(struct osw_decision *d, struct osw_str pool);
enum osw_err osw_warn_url_equal(struct osw_decision *d, struct osw_str mc, struct osw_str pool);
enum osw_err osw_warn_tag(struct osw_decision *d, struct osw_str mc);
enum osw_err osw_warn_downgrade(struct osw_decision *d, struct osw_str from, struct osw_str to);
enum osw_err osw_warn_paused(struct osw_decision *d, struct osw_str pool);
enum osw_err osw_warn_inherit(struct osw_decision *d, size_t n);
enum osw_err osw_warn_default(struct osw_decision *d, struct osw_str from, struct osw_str to,
                              size_t n);
enum osw_err osw_warn_skip(struct osw_decision *d);
/* Drops every warning (a denial carries none). */
void osw_warn_clear(struct osw_decision *d);

/* The parity rules (parity.c). `in` as for osw_decide. */
/* A pool CREATE/UPDATE that the contract rows allowed: rule C and the pool
 * warnings. */
enum osw_err osw_parity_pool_validate(const struct osw_review *r, const struct osw_inputs *in,
                                      struct osw_decision *d);
/* Mutation of a pool naming no stream with --annotate-implicit-streams:
 * fills `want` and returns true, or false for "no patch". */
bool osw_parity_pool_implicit(const struct osw_review *r, const struct osw_inputs *in,
                              struct osw_annot_want *want);
/* MachineConfig CREATE/UPDATE (/validate): OSW_EBADREQ for a field of the
 * wrong type (`eb` says which). */
enum osw_err osw_parity_mc_validate(const struct osw_review *r, const struct osw_inputs *in,
                                    struct osw_decision *d, struct osw_errbuf *eb);
/* OSImageStream UPDATE (/validate): W-DOWNGRADE and W-DEFAULT. */
enum osw_err osw_parity_osis_validate(const struct osw_review *r, const struct osw_inputs *in,
                                      struct osw_decision *d, struct osw_errbuf *eb);

/* Rule R (runc.c). A request's judged pools, each with viol_runc before and
 * after the request, in the order causes and W-RUNC list them. Pool names
 * are borrowed from the review or the cluster snapshot. */
struct osw_cluster;
struct osw_mc;
struct osw_runc_pool {
    struct osw_str name;
    enum osw_tri before, after;
};
struct osw_runc_judged {
    struct osw_runc_pool *v; /* owned */
    size_t n, cap;
};
void osw_runc_judged_free(struct osw_runc_judged *j); /* NULL is fine; reusable after */
/* Appends pool `pool` (a pool false on both sides is left out). OSW_ENOMEM. */
enum osw_err osw_runc_judged_add(struct osw_runc_judged *j, struct osw_str pool,
                                 enum osw_tri before, enum osw_tri after);
/* viol_runc: `runc` when `e` is a RHEL 10 stream available in `osis` (may be
 * NULL) and `winner` (effURL's MachineConfig, may be NULL) does not override
 * its image; else false. */
enum osw_tri osw_runc_viol(const struct osw_osis *osis, struct osw_str e,
                           const struct osw_mc *winner, enum osw_tri runc);
/* The cached custom pools naming no stream, following the worker whose
 * stream goes from `w_before` to `w_after` (empty: none, the default). */
enum osw_err osw_runc_judge_followers(struct osw_runc_judged *j, const struct osw_inputs *in,
                                      struct osw_str w_before, struct osw_str w_after);
/* Every cached pool, with the cached MachineConfig called like `mc` replaced
 * by `old` (NULL: left out, as for CREATE) and then by `mc`. */
enum osw_err osw_runc_judge_mc(struct osw_runc_judged *j, const struct osw_inputs *in,
                               const struct osw_mc *mc, const struct osw_mc *old);
/* Every cached pool following the default stream, which goes `from` -> `to`. */
enum osw_err osw_runc_judge_default(struct osw_runc_judged *j, const struct osw_inputs *in,
                                    struct osw_str from, struct osw_str to);
/* Denies `d` (422 Invalid of `kind` "<name>", warnings dropped) with one
 * Forbidden cause on `field` per pool newly in violation, when there is one;
 * leaves `d` as it is otherwise. */
enum osw_err osw_runc_deny(const struct osw_runc_judged *j, struct osw_decision *d,
                           const char *field, const char *kind, struct osw_str name);
/* W-RUNC for each pool in violation after the request (`newly_only`: only
 * those newly in violation). */
enum osw_err osw_runc_warn(const struct osw_runc_judged *j, struct osw_decision *d,
                           bool newly_only);

/* Returns from the enclosing function with the error of `x`, if any. */
#define OSW_TRY(x)                                                                                 \
    do {                                                                                           \
        enum osw_err err_ = (x);                                                                   \
        if (err_ != OSW_OK)                                                                        \
            return err_;                                                                           \
    } while (0)

#endif /* OSW_CORE_INTERNAL_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One Kubernetes object read as the reduced tree of review.h (the
 * `object_tree` the fast reader makes of request.object), for callers that
 * hold an object alone rather than inside an AdmissionReview: the cluster
 * cache's MachineConfig list elements. The bytes are validated whole by the
 * fast reader's lexer, but only `metadata` and the spec members the rules
 * read are built, so a MachineConfig's megabytes of Ignition cost a scan,
 * not a parse. osw_mc_extract() gives the same extract from this tree as
 * from the whole object (tests/unit/test_json_objtree.c and
 * tests/fuzz/fuzz_objtree_diff.c hold it to that).
 */
#ifndef OSW_OBJTREE_H
#define OSW_OBJTREE_H

#include <stddef.h>

#include <jansson.h>

#include "osw/error.h"
#include "osw/str.h"

/*
 * Reads the `len` bytes at `data` (borrowed for the call only: the tree
 * holds copies) as one JSON value, accepting and refusing what
 * json_loadb(data, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL |
 * JSON_DECODE_ANY) does, but for one thing: a raw NUL byte is refused
 * wherever it is, as the fast reader refuses it, where json_loadb lets one
 * through right after a number or a literal (the List page reader hands
 * such an element to jansson, see listpage.h). On OSW_OK *out is the
 * reduced tree (review.h: the object's `metadata` and `spec`, a spec object
 * keeping only osw_review_tree_spec_keys, its `config` pruned to the CRI-O
 * drop-in files), a new reference the caller owns, when the value is an
 * object; NULL when it is any other JSON value. OSW_EBADJSON when the bytes
 * are not JSON (`eb`, which may be NULL, says at which byte); OSW_ENOMEM
 * (jansson's allocation failures are seen only with
 * osw_review_install_alloc_hooks()). On failure *out is NULL.
 */
enum osw_err osw_objtree_decode(const char *data, size_t len, json_t **out, struct osw_errbuf *eb);

/*
 * Reads the `len` bytes at `data` (borrowed for the call) as a Kubernetes
 * watch event line, {"type":T,"object":O}, for the cluster cache's
 * MachineConfig watch: the whole line is validated as json_loadb (the flags
 * above) validates it, duplicate keys resolved as jansson does (the last
 * one wins), and only O is built, as the reduced tree osw_objtree_decode
 * makes of it. OSW_OK only for the plain case: the line is an object whose
 * last `type` is a string without escapes (*type: its bytes, borrowed from
 * `data`, not checked against the event types) and whose last `object` is
 * an object (*object: its reduced tree, a new reference the caller owns).
 * Anything else fails and leaves the verdict to the caller (who parses the
 * line whole): OSW_EBADJSON when the line is not JSON (or O holds a raw
 * NUL, see above), OSW_EBADOBJ when it is not that case (a line that is
 * not an object is not read further, JSON or not), OSW_ENOMEM.
 * On failure *object is NULL.
 */
enum osw_err osw_objtree_decode_event(const char *data, size_t len, struct osw_str *type,
                                      json_t **object, struct osw_errbuf *eb);

#endif /* OSW_OBJTREE_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The query strings of the reflector's requests: a list (field selector,
 * page limit, continue token) and a watch (watch=1, the same selector, the
 * list's resourceVersion, bookmarks, a server timeout), every value
 * percent-encoded, as kube-apiserver expects them.
 */
#ifndef OSW_KUBE_QUERY_H
#define OSW_KUBE_QUERY_H

#include "osw/buf.h"

/* Appends "?fieldSelector=..&limit=..&continue=.." (each only when given:
 * NULL or "" selector/token, limit 0) to `out`; nothing when none is. */
enum osw_err osw_query_list(struct osw_buf *out, const char *field_selector, unsigned limit,
                            const char *cont);

/* Appends "?watch=1&fieldSelector=..&resourceVersion=..&allowWatchBookmarks=true
 * &timeoutSeconds=N" (selector and version only when given). */
enum osw_err osw_query_watch(struct osw_buf *out, const char *field_selector,
                             const char *resource_version, unsigned timeout_s);

#endif /* OSW_KUBE_QUERY_H */

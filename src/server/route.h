/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server's route table and the pure checks the access handler makes
 * before it reads a body: which route a path names, whether a method is
 * allowed on it, and whether a Content-Type is JSON. Nothing here touches
 * libmicrohttpd, so the checks are unit-tested on their own
 * (tests/unit/test_server_route.c).
 */
#ifndef OSW_SERVER_ROUTE_H
#define OSW_SERVER_ROUTE_H

#include <stdbool.h>

enum osw_route_id {
    OSW_ROUTE_VALIDATE = 0,
    OSW_ROUTE_MUTATE,
    OSW_ROUTE_HEALTHZ,
    OSW_ROUTE_READYZ,
    OSW_ROUTE_METRICS,
};

struct osw_route {
    const char *path; /* exact path, e.g. "/validate" */
    enum osw_route_id id;
    bool post;         /* POST with a JSON body; otherwise GET (and HEAD) */
    const char *allow; /* the `Allow` header value for a 405 */
};

/* The route for `path` (MHD's url: no query string), or NULL (404). The
 * result is static. */
const struct osw_route *osw_route_find(const char *path);

/* Which routes a listener serves: all of them (one listener), all but
 * /metrics (the admission listener when --metrics-listen is given), or
 * /metrics only (the metrics listener). */
enum osw_listener { OSW_LISTENER_ALL = 0, OSW_LISTENER_ADMISSION, OSW_LISTENER_METRICS };

/* As osw_route_find, for the routes listener `l` serves (NULL: 404). */
const struct osw_route *osw_route_find_on(const char *path, enum osw_listener l);

/* Whether `method` is allowed on `r`: POST routes take only "POST", GET routes
 * "GET" and "HEAD" (methods are case-sensitive, RFC 9110 9.1). */
bool osw_route_method_allowed(const struct osw_route *r, const char *method);

/* Whether a Content-Type header value names application/json: the media type
 * compared case-insensitively, optional whitespace around it, parameters
 * (after ';') allowed and not inspected. NULL (no header) is false. */
bool osw_route_is_json(const char *content_type);

/* Parses a Content-Length value (decimal digits only, surrounding whitespace
 * allowed). False when absent (NULL), malformed or beyond 2^64-1. */
bool osw_route_content_length(const char *value, unsigned long long *out);

#endif /* OSW_SERVER_ROUTE_H */

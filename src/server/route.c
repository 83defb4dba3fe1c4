/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The route table (CONTRACT.md "HTTP surface") and the header checks made
 * before a body is read. Kept free of libmicrohttpd so they are tested as
 * plain functions; request.c applies them in the contract's order: path,
 * method, content type, size.
 */
#include "server/route.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

static const struct osw_route routes[] = {
    {"/validate", OSW_ROUTE_VALIDATE, true, "POST"},
    {"/mutate", OSW_ROUTE_MUTATE, true, "POST"},
    {"/healthz", OSW_ROUTE_HEALTHZ, false, "GET, HEAD"},
    {"/readyz", OSW_ROUTE_READYZ, false, "GET, HEAD"},
    {"/metrics", OSW_ROUTE_METRICS, false, "GET, HEAD"},
};

const struct osw_route *osw_route_find(const char *path)
{
    if (path == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(path, routes[i].path) == 0)
            return &routes[i];
    }
    return NULL;
}

const struct osw_route *osw_route_find_on(const char *path, enum osw_listener l)
{
    const struct osw_route *r = osw_route_find(path);

    if (r == NULL)
        return NULL;
    if (l == OSW_LISTENER_ADMISSION && r->id == OSW_ROUTE_METRICS)
        return NULL;
    if (l == OSW_LISTENER_METRICS && r->id != OSW_ROUTE_METRICS)
        return NULL;
    return r;
}

bool osw_route_method_allowed(const struct osw_route *r, const char *method)
{
    if (r == NULL || method == NULL)
        return false;
    if (r->post)
        return strcmp(method, "POST") == 0;
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool osw_route_is_json(const char *ct)
{
    static const char want[] = "application/json";

    if (ct == NULL)
        return false;
    while (is_ows(*ct))
        ct++;
    for (size_t i = 0; i < sizeof(want) - 1; i++, ct++) {
        /* A NUL in `ct` stops here too: it never equals a letter of `want`. */
        if (lower(*ct) != want[i])
            return false;
    }
    while (is_ows(*ct))
        ct++;
    /* The media type must end here: "application/jsonx" and
     * "application/json-patch+json" are other types. */
    return *ct == '\0' || *ct == ';';
}

bool osw_route_content_length(const char *v, unsigned long long *out)
{
    unsigned long long n = 0;
    bool digits = false;

    if (v == NULL)
        return false;
    while (is_ows(*v))
        v++;
    for (; *v >= '0' && *v <= '9'; v++) {
        unsigned d = (unsigned)(*v - '0');
        if (n > (ULLONG_MAX - d) / 10)
            return false;
        n = n * 10 + d;
        digits = true;
    }
    while (is_ows(*v))
        v++;
    if (!digits || *v != '\0')
        return false;
    *out = n;
    return true;
}

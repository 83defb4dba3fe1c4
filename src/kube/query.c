/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Query strings for list and watch requests (see query.h). Values are
 * percent-encoded except RFC 3986's unreserved characters, so a field
 * selector's '=' and a continue token's '/' or '+' reach the API server
 * unchanged.
 */
#include "kube/query.h"

#include <stdbool.h>
#include <stdio.h>

static enum osw_err append_param(struct osw_buf *b, bool *first, const char *key, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    enum osw_err err = osw_buf_printf(b, "%c%s=", *first ? '?' : '&', key);
    *first = false;
    for (const unsigned char *p = (const unsigned char *)value; err == OSW_OK && *p; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~';
        if (plain) {
            err = osw_buf_append(b, p, 1);
        } else {
            char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
            err = osw_buf_append(b, enc, 3);
        }
    }
    return err;
}

enum osw_err osw_query_list(struct osw_buf *out, const char *field_selector, unsigned limit,
                            const char *cont)
{
    bool first = true;
    char num[24];
    enum osw_err err = OSW_OK;

    if (field_selector && *field_selector)
        err = append_param(out, &first, "fieldSelector", field_selector);
    if (err == OSW_OK && limit > 0) {
        snprintf(num, sizeof(num), "%u", limit);
        err = append_param(out, &first, "limit", num);
    }
    if (err == OSW_OK && cont && *cont)
        err = append_param(out, &first, "continue", cont);
    return err;
}

enum osw_err osw_query_watch(struct osw_buf *out, const char *field_selector,
                             const char *resource_version, unsigned timeout_s)
{
    bool first = true;
    char num[24];
    enum osw_err err = append_param(out, &first, "watch", "1");

    if (err == OSW_OK && field_selector && *field_selector)
        err = append_param(out, &first, "fieldSelector", field_selector);
    if (err == OSW_OK && resource_version && *resource_version)
        err = append_param(out, &first, "resourceVersion", resource_version);
    if (err == OSW_OK)
        err = append_param(out, &first, "allowWatchBookmarks", "true");
    snprintf(num, sizeof(num), "%u", timeout_s);
    if (err == OSW_OK)
        err = append_param(out, &first, "timeoutSeconds", num);
    return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slice helpers and the two syntax checks the contract names: Kubernetes'
 * IsDNS1123Subdomain for stream names, and the digest-pinned image pull spec
 * for OSImageStream images. Both are small hand matchers rather than
 * regcomp(3): POSIX bracket ranges depend on the locale, these do not.
 */
#include <string.h>

#include "osw/str.h"

struct osw_str osw_str_from_cstr(const char *s)
{
    struct osw_str r = {s, s ? strlen(s) : 0};
    return r;
}

bool osw_str_eq(struct osw_str a, struct osw_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool osw_str_eq_cstr(struct osw_str a, const char *c)
{
    return osw_str_eq(a, osw_str_from_cstr(c));
}

int osw_str_cmp(struct osw_str a, struct osw_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c != 0)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

int osw_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex_lower(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

bool osw_str_is_dns1123_subdomain(struct osw_str s)
{
    if (s.len == 0 || s.len > 253)
        return false;
    size_t label_start = 0;
    for (size_t i = 0; i <= s.len; i++) {
        if (i == s.len || s.ptr[i] == '.') {
            /* a label: non-empty, [a-z0-9] at both ends, [-a-z0-9] inside */
            if (i == label_start)
                return false;
            if (!is_lower_alnum(s.ptr[label_start]) || !is_lower_alnum(s.ptr[i - 1]))
                return false;
            label_start = i + 1;
            continue;
        }
        if (!is_lower_alnum(s.ptr[i]) && s.ptr[i] != '-')
            return false;
    }
    return true;
}

/*
 * Host: [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.<same>)* then (:[0-9]+)?.
 * Returns the index after the host and port, or 0 when it does not match.
 */
static size_t match_host_port(const char *p, size_t n)
{
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < n && (is_alnum(p[i]) || p[i] == '-'))
            i++;
        if (i == start || !is_alnum(p[start]) || !is_alnum(p[i - 1]))
            return 0;
        if (i < n && p[i] == '.') {
            i++;
            continue;
        }
        break;
    }
    if (i < n && p[i] == ':') {
        size_t start = ++i;
        while (i < n && is_digit(p[i]))
            i++;
        if (i == start)
            return 0;
    }
    return i;
}

/*
 * Path components: (/[a-z0-9]+([._-]+[a-z0-9]+)*)+ up to the '@'.
 * Returns true when p[0..n) is exactly that.
 */
static bool match_path(const char *p, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return false;
    while (i < n) {
        if (p[i] != '/')
            return false;
        i++;
        /* [a-z0-9]+ */
        if (i >= n || !is_lower_alnum(p[i]))
            return false;
        while (i < n && is_lower_alnum(p[i]))
            i++;
        /* ([._-]+[a-z0-9]+)* */
        while (i < n && (p[i] == '.' || p[i] == '_' || p[i] == '-')) {
            while (i < n && (p[i] == '.' || p[i] == '_' || p[i] == '-'))
                i++;
            if (i >= n || !is_lower_alnum(p[i]))
                return false;
            while (i < n && is_lower_alnum(p[i]))
                i++;
        }
    }
    return true;
}

bool osw_str_is_digest_image(struct osw_str s)
{
    static const char digest[] = "@sha256:";
    const size_t dlen = sizeof(digest) - 1, hexlen = 64;
    if (s.len > 447 || s.len < dlen + hexlen + 3)
        return false;
    const char *p = s.ptr;
    size_t at = s.len - hexlen - dlen;
    if (memcmp(p + at, digest, dlen) != 0)
        return false;
    for (size_t i = at + dlen; i < s.len; i++) {
        if (!is_hex_lower(p[i]))
            return false;
    }
    size_t host_end = match_host_port(p, at);
    if (host_end == 0)
        return false;
    return match_path(p + host_end, at - host_end);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --listen parsing. Only numeric addresses are accepted (plus "localhost"),
 * so that start-up never depends on name resolution.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/listen.h"

static bool parse_port(const char *p, unsigned short *port)
{
    if (*p < '0' || *p > '9' || strlen(p) > 5)
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(p, &end, 10);
    if (errno || *end || v > 65535)
        return false;
    *port = (unsigned short)v;
    return true;
}

bool osw_listen_parse(const char *s, char *host, size_t hostcap, unsigned short *port)
{
    const char *colon;
    size_t hlen;
    const char *h = s;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return false;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen))
            return false; /* an IPv6 address needs brackets */
    }
    if (hlen + 1 > hostcap || !parse_port(colon + 1, port))
        return false;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0) {
        if (hostcap < sizeof("127.0.0.1"))
            return false;
        memcpy(host, "127.0.0.1", sizeof("127.0.0.1"));
    }
    if (hlen == 0)
        return s[0] != '['; /* "[]:1" is not an address */
    unsigned char tmp[16];
    int fam = s[0] == '[' ? AF_INET6 : AF_INET;
    return inet_pton(fam, host, tmp) == 1;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listen-address resolution for the server: numeric hosts only (no DNS at
 * start-up), through getaddrinfo with AI_NUMERICHOST so IPv6 zone indexes
 * work, plus a dotted-quad check that getaddrinfo's inet_aton heritage
 * ("10.1" = 10.0.0.1) would otherwise skip.
 */
#include "server/addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

enum osw_err osw_addr_resolve(const char *host, unsigned short port, struct osw_addr *out,
                              struct osw_errbuf *eb)
{
    struct addrinfo hints, *res = NULL;
    struct in_addr v4;
    char service[8];
    int rc;

    if (host == NULL || host[0] == '\0')
        host = "0.0.0.0";
    if (strchr(host, ':') == NULL && inet_pton(AF_INET, host, &v4) != 1)
        return osw_errbuf_set(eb, OSW_EINVAL, "listen address \"%.200s\" is not an IP address",
                              host);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0 || res == NULL)
        return osw_errbuf_set(eb, OSW_EINVAL, "listen address \"%.200s\" is not an IP address",
                              host);
    if (res->ai_addrlen > sizeof(out->ss) ||
        (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
        freeaddrinfo(res);
        return osw_errbuf_set(eb, OSW_EINVAL, "listen address \"%.200s\": unsupported family",
                              host);
    }
    memset(out, 0, sizeof(*out));
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    out->ipv6 = res->ai_family == AF_INET6;
    if (out->ipv6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)&out->ss;
        out->any6 = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
    }
    freeaddrinfo(res);
    return OSW_OK;
}

void osw_addr_format(const struct sockaddr *sa, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN];

    if (cap == 0)
        return;
    if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host)) != NULL) {
            snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(in->sin_port));
            return;
        }
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host)) != NULL) {
            snprintf(buf, cap, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
            return;
        }
    }
    snprintf(buf, cap, "unknown");
}

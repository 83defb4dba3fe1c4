/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server's listen address: a numeric IPv4 or IPv6 literal (as the
 * `serve` command's --listen parser leaves it) and a port, turned into the
 * socket address the server binds. Kept apart from the daemon so it is
 * unit-tested on its own (tests/unit/test_server_addr.c).
 */
#ifndef OSW_SERVER_ADDR_H
#define OSW_SERVER_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "osw/error.h"

struct osw_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    bool ipv6; /* an IPv6 address */
    bool any6; /* "::": served dual-stack, IPv4 clients included */
};

/*
 * Fills `out` for `host` and `port`. `host` NULL or "" means 0.0.0.0; an
 * IPv4 address must be in dotted-quad form ("1.2.3" is refused, although
 * getaddrinfo would take it); an IPv6 address comes without brackets (a
 * "%zone" suffix is allowed). OSW_EINVAL with a one-line reason in `eb`
 * when `host` is not a numeric address.
 */
enum osw_err osw_addr_resolve(const char *host, unsigned short port, struct osw_addr *out,
                              struct osw_errbuf *eb);

/*
 * Writes a peer address for log lines into `buf` (NUL-terminated, cut to
 * `cap`): "192.0.2.1:50000", "[2001:db8::1]:50000", or "unknown" for a NULL
 * or non-IP address. `cap` of at least OSW_ADDR_TEXT_MAX is never cut.
 */
#define OSW_ADDR_TEXT_MAX 64
void osw_addr_format(const struct sockaddr *sa, char *buf, size_t cap);

#endif /* OSW_SERVER_ADDR_H */

/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of --listen values: HOST:PORT, [IPv6]:PORT or :PORT. */
#ifndef OSW_CLI_LISTEN_H
#define OSW_CLI_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

/* Splits `s` into a numeric host (copied into `host`, "" for all addresses)
 * and a port (0..65535). The host must be an IPv4 or IPv6 literal, or
 * "localhost" (taken as 127.0.0.1). False when malformed. */
bool osw_listen_parse(const char *s, char *host, size_t hostcap, unsigned short *port);

#endif /* OSW_CLI_LISTEN_H */

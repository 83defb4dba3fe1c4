/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a whole input (a file, or stdin for "-") with a size bound, for
 * the offline commands.
 */
#ifndef OSW_CLI_INPUT_H
#define OSW_CLI_INPUT_H

#include "osw/buf.h"
#include "osw/error.h"

/* Reads all of `path` ("-" or NULL: stdin) into `out` (appended). More than
 * `max` bytes: OSW_ETOOBIG. Unreadable: OSW_EIO. `eb` names the file. */
enum osw_err osw_input_read(const char *path, size_t max, struct osw_buf *out,
                            struct osw_errbuf *eb);

#endif /* OSW_CLI_INPUT_H */

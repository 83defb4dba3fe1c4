/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-input reader for the offline commands: a file, or stdin for "-",
 * bounded so a runaway input cannot exhaust memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/input.h"

enum osw_err osw_input_read(const char *path, size_t max, struct osw_buf *out,
                            struct osw_errbuf *eb)
{
    bool is_stdin = !path || strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return osw_errbuf_set(eb, OSW_EIO, "%s: %s", name, strerror(errno));
    enum osw_err err = OSW_OK;
    size_t total = 0;
    errno = 0;
    for (;;) {
        err = osw_buf_reserve(out, 65536);
        if (err != OSW_OK) {
            osw_errbuf_set(eb, err, "%s: out of memory", name);
            break;
        }
        size_t n = fread(out->data + out->len, 1, 65536, f);
        out->len += n;
        out->data[out->len] = '\0';
        total += n;
        if (total > max) {
            err = osw_errbuf_set(eb, OSW_ETOOBIG, "%s: larger than %zu bytes", name, max);
            break;
        }
        if (n == 0) {
            /* fopen() opens a directory; reading it fails with EISDIR. */
            if (ferror(f))
                err = osw_errbuf_set(eb, OSW_EIO, "%s: %s", name,
                                     errno == EISDIR ? "is a directory" : strerror(errno));
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    return err;
}

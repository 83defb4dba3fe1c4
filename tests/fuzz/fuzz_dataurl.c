/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz driver for the data URL decoder and, on what it decodes, gunzip.
 * Besides memory errors it checks the bounds: decoded data is never longer
 * than its encoding, a bound of exactly the decoded length succeeds and one
 * byte less is refused as too big; gunzip never returns more than its bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osw/dataurl.h"
#include "osw/gzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct osw_buf out = OSW_BUF_INIT, again = OSW_BUF_INIT, gz = OSW_BUF_INIT;
    const char *src = (const char *)data;
    enum osw_err err = osw_dataurl_decode(src, size, 1u << 20, &out);
    if (err != OSW_OK && err != OSW_EINVAL)
        abort();
    if (err == OSW_OK) {
        if (out.len > size)
            abort();
        if (osw_dataurl_decode(src, size, out.len, &again) != OSW_OK || again.len != out.len ||
            (out.len && memcmp(again.data, out.data, out.len) != 0))
            abort();
        osw_buf_reset(&again);
        if (out.len > 0 && osw_dataurl_decode(src, size, out.len - 1, &again) != OSW_ETOOBIG)
            abort();
        /* The decoded bytes as a gzip stream, with a small bound. */
        err = osw_gzip_decode(out.data, out.len, 65536, &gz);
        if (err != OSW_OK && err != OSW_EINVAL && err != OSW_ETOOBIG)
            abort();
        if (gz.len > 65537 || (err == OSW_OK && gz.len > 65536))
            abort();
    }
    osw_buf_free(&out);
    osw_buf_free(&again);
    osw_buf_free(&gz);
    return 0;
}

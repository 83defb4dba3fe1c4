/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gunzip as the MCO's decoder (Go's compress/gzip in its default multistream
 * mode) does it, with a hard bound on the output so that a gzip bomb is cut
 * off while it inflates, never after. Pure: zlib's raw inflate does the
 * DEFLATE work; the member framing is read here.
 */
#ifndef OSW_GZIP_H
#define OSW_GZIP_H

#include <stddef.h>

#include "osw/buf.h"
#include "osw/error.h"

/* Gunzips `in` (`len` bytes: one or more whole gzip members and nothing
 * after the last) and appends the data to `out` (owned by the caller, who
 * frees it whatever the result). Each member's CRC-32 and length are
 * checked. Returns:
 *   OSW_OK       all members decoded,
 *   OSW_EINVAL   empty input, a bad header, corrupt data, a checksum or
 *                length mismatch, a truncated member or trailing bytes,
 *   OSW_ETOOBIG  the output would exceed `max` bytes (at most `max` + 1
 *                bytes are ever produced),
 *   OSW_ENOMEM   allocation failure (zlib's included).
 * On an error `out` may hold a partial result the caller must ignore. */
enum osw_err osw_gzip_decode(const void *in, size_t len, size_t max, struct osw_buf *out);

#endif /* OSW_GZIP_H */

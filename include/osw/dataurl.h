/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 2397 data URLs, read exactly as the Machine Config Operator's decoder
 * (vincent-petithory/dataurl) reads an Ignition file's `contents.source`:
 * `data:`, an optional media type with token parameters, an optional
 * `;base64`, a comma, then base64 or percent-encoded data. Pure: no I/O.
 */
#ifndef OSW_DATAURL_H
#define OSW_DATAURL_H

#include <stddef.h>

#include "osw/buf.h"
#include "osw/error.h"

/* Decodes the data URL `src` (`len` bytes, NUL bytes allowed and rejected)
 * and appends its data to `out` (owned by the caller, who frees it with
 * osw_buf_free whatever the result). Returns:
 *   OSW_OK       decoded; out holds the data (possibly zero bytes),
 *   OSW_EINVAL   not a data URL, or one the decoder refuses (a quoted
 *                parameter value included: the contract fails open there),
 *   OSW_ETOOBIG  the data is longer than `max` bytes (checked before it is
 *                written, so at most `max` bytes are ever held),
 *   OSW_ENOMEM   allocation failure.
 * On an error `out` may hold a partial result the caller must ignore. */
enum osw_err osw_dataurl_decode(const char *src, size_t len, size_t max, struct osw_buf *out);

#endif /* OSW_DATAURL_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gunzip for Ignition file contents. The member headers are parsed here, as
 * Go's compress/gzip parses them, because zlib's own gzip wrapper differs:
 * Go ignores the reserved flag bits, caps the name and comment at 511 bytes
 * and checks the optional header CRC over the first ten bytes only. zlib's
 * raw inflate decodes each member, writing straight into the output buffer
 * with never more room than the bound leaves, so a bomb stops at the bound.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <zlib.h>

#include "osw/gzip.h"

#define FLAG_HCRC    0x02u
#define FLAG_EXTRA   0x04u
#define FLAG_NAME    0x08u
#define FLAG_COMMENT 0x10u
/* Go reads a header string into a 512-byte buffer, NUL included. */
#define HEADER_STRING_MAX 512u

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Skips a NUL-terminated header string at *pos. */
static bool skip_string(const unsigned char *s, size_t len, size_t *pos)
{
    for (size_t i = 0; i < HEADER_STRING_MAX; i++) {
        if (*pos + i >= len)
            return false;
        if (s[*pos + i] == 0) {
            *pos += i + 1;
            return true;
        }
    }
    return false;
}

/* Reads the member header at *pos and leaves *pos on the DEFLATE data. */
static bool read_header(const unsigned char *s, size_t len, size_t *pos)
{
    size_t p = *pos;
    if (len - p < 10 || s[p] != 0x1f || s[p + 1] != 0x8b || s[p + 2] != 8)
        return false;
    unsigned flags = s[p + 3];
    uLong hcrc = crc32(0L, s + p, 10);
    p += 10;
    if (flags & FLAG_EXTRA) {
        if (len - p < 2)
            return false;
        size_t xlen = (size_t)s[p] | (size_t)s[p + 1] << 8;
        p += 2;
        if (len - p < xlen)
            return false;
        p += xlen;
    }
    if ((flags & FLAG_NAME) && !skip_string(s, len, &p))
        return false;
    if ((flags & FLAG_COMMENT) && !skip_string(s, len, &p))
        return false;
    if (flags & FLAG_HCRC) {
        if (len - p < 2)
            return false;
        if (((unsigned)s[p] | (unsigned)s[p + 1] << 8) != (hcrc & 0xffffu))
            return false;
        p += 2;
    }
    *pos = p;
    return true;
}

/* Grows `out` so that it has room for more output, never beyond max + 1
 * bytes in all (plus the buffer's NUL): one byte past the bound is how a
 * bomb is detected, and the allocation itself stays within the bound. */
static enum osw_err make_room(struct osw_buf *out, size_t max, size_t in_left)
{
    if (out->len > max)
        return OSW_ETOOBIG;
    if (out->cap > out->len + 1)
        return OSW_OK;
    /* Start near the input size (text compresses ~4x), then double. */
    size_t want = out->cap ? out->cap * 2 : (in_left < SIZE_MAX / 4 ? in_left * 4 : in_left);
    if (want < 4096 || want < out->cap)
        want = want < out->cap ? max + 2 : 4096; /* doubling overflowed */
    if (want > max + 2)
        want = max + 2;
    if (want <= out->cap)
        return OSW_ETOOBIG;
    char *d = realloc(out->data, want);
    if (!d)
        return OSW_ENOMEM;
    out->data = d;
    out->cap = want;
    return OSW_OK;
}

static enum osw_err inflate_member(z_stream *zs, const unsigned char *s, size_t len, size_t *pos,
                                   size_t max, struct osw_buf *out)
{
    size_t start = out->len;
    if (inflateReset(zs) != Z_OK)
        return OSW_EINVAL;
    zs->next_in = (Bytef *)(uintptr_t)(s + *pos);
    size_t in_left = len - *pos;
    for (;;) {
        enum osw_err err = make_room(out, max, in_left);
        if (err != OSW_OK)
            return err;
        size_t room = out->cap - out->len - 1;
        if (room > max + 1 - out->len)
            room = max + 1 - out->len;
        uInt in_chunk = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        uInt out_chunk = room > UINT_MAX ? UINT_MAX : (uInt)room;
        zs->avail_in = in_chunk;
        zs->next_out = (Bytef *)out->data + out->len;
        zs->avail_out = out_chunk;
        int rc = inflate(zs, Z_NO_FLUSH);
        in_left -= in_chunk - zs->avail_in;
        out->len += out_chunk - zs->avail_out;
        out->data[out->len] = '\0';
        if (out->len > max)
            return OSW_ETOOBIG;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_MEM_ERROR)
            return OSW_ENOMEM;
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs->avail_out == 0))
            return OSW_EINVAL; /* corrupt, or truncated (no progress possible) */
    }
    *pos = len - in_left;
    /* Trailer: CRC-32 and length (mod 2^32) of this member's data. */
    if (len - *pos < 8)
        return OSW_EINVAL;
    size_t n = out->len - start;
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t done = 0; done < n;) {
        uInt chunk = n - done > UINT_MAX ? UINT_MAX : (uInt)(n - done);
        crc = crc32(crc, (const Bytef *)out->data + start + done, chunk);
        done += chunk;
    }
    if (le32(s + *pos) != (uint32_t)crc || le32(s + *pos + 4) != (uint32_t)n)
        return OSW_EINVAL;
    *pos += 8;
    return OSW_OK;
}

/* zlib allocates through the project's malloc, so that the failing-allocator
 * tests reach its failures too (a shared libz calls libc's directly). */
static voidpf zalloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    if (items == 0 || size == 0 || items > SIZE_MAX / size)
        return Z_NULL; /* zlib never asks for nothing */
    return malloc((size_t)items * size);
}

static void zfree(voidpf opaque, voidpf p)
{
    (void)opaque;
    free(p);
}

enum osw_err osw_gzip_decode(const void *in, size_t len, size_t max, struct osw_buf *out)
{
    const unsigned char *s = in;
    z_stream zs = {0};
    if (max >= SIZE_MAX - 2)
        max = SIZE_MAX - 3; /* keep max + 2 representable */
    /* Go's NewReader fails on an empty input (io.EOF). */
    if (!s || len == 0)
        return OSW_EINVAL;
    zs.zalloc = zalloc;
    zs.zfree = zfree;
    int rc = inflateInit2(&zs, -MAX_WBITS);
    if (rc != Z_OK)
        return rc == Z_MEM_ERROR ? OSW_ENOMEM : OSW_EINVAL;
    enum osw_err err = OSW_OK;
    size_t pos = 0;
    /* Members follow each other until the input ends exactly after one. */
    while (pos < len) {
        if (!read_header(s, len, &pos)) {
            err = OSW_EINVAL;
            goto out;
        }
        err = inflate_member(&zs, s, len, &pos, max, out);
        if (err != OSW_OK)
            goto out;
    }
out:
    inflateEnd(&zs);
    return err;
}

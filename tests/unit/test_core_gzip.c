/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gunzip as Go's compress/gzip reads Ignition contents: members made with
 * zlib here, then broken on purpose (CRC, length, truncation at every byte,
 * trailing bytes, corrupt DEFLATE data), the header fields Go reads in its
 * own way (reserved flags ignored, 511-byte names, header CRC over the first
 * ten bytes), concatenated members, and bombs cut off at the bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "osw/gzip.h"

#define MIB (1u << 20)

/* Compresses `len` bytes of `data` (or `len` zero bytes when data is NULL)
 * with zlib: windowBits 31 is a whole gzip member, -15 raw DEFLATE. */
static void deflate_to(const void *data, size_t len, int wbits, struct osw_buf *out)
{
    z_stream zs = {0};
    static const unsigned char zeros[65536];
    unsigned char chunk[65536];
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t done = 0;
    int flush;
    do {
        size_t n = len - done > sizeof zeros ? sizeof zeros : len - done;
        zs.next_in = (Bytef *)(uintptr_t)(data ? (const unsigned char *)data + done : zeros);
        zs.avail_in = (uInt)n;
        done += n;
        flush = done == len ? Z_FINISH : Z_NO_FLUSH;
        do {
            zs.next_out = chunk;
            zs.avail_out = sizeof chunk;
            assert_int_not_equal(deflate(&zs, flush), Z_STREAM_ERROR);
            assert_int_equal(osw_buf_append(out, chunk, sizeof chunk - zs.avail_out), OSW_OK);
        } while (zs.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&zs);
}

static void put32(struct osw_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    assert_int_equal(osw_buf_append(b, x, 4), OSW_OK);
}

/* A member with a hand-made header `hdr` (the 10 fixed bytes and any
 * optional fields), raw DEFLATE of `text`, and a correct trailer. */
static void member(const unsigned char *hdr, size_t hlen, const char *text, struct osw_buf *out)
{
    assert_int_equal(osw_buf_append(out, hdr, hlen), OSW_OK);
    deflate_to(text, strlen(text), -15, out);
    put32(out, (uint32_t)crc32(0, (const Bytef *)text, (uInt)strlen(text)));
    put32(out, (uint32_t)strlen(text));
}

static enum osw_err gunzip(const struct osw_buf *in, size_t max, struct osw_buf *out)
{
    osw_buf_reset(out);
    return osw_gzip_decode(in->data, in->len, max, out);
}

static void test_members(void **state)
{
    (void)state;
    struct osw_buf in = OSW_BUF_INIT, out = OSW_BUF_INIT;
    deflate_to("hello", 5, 31, &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_OK);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.data, "hello", 5);

    /* Concatenated members read as the concatenation. */
    deflate_to(" world", 6, 31, &in);
    deflate_to("", 0, 31, &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_OK);
    assert_int_equal(out.len, 11);
    assert_memory_equal(out.data, "hello world", 11);

    /* One empty member is zero bytes. */
    osw_buf_reset(&in);
    deflate_to("", 0, 31, &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_OK);
    assert_int_equal(out.len, 0);
    osw_buf_free(&in);
    osw_buf_free(&out);
}

static void test_broken(void **state)
{
    (void)state;
    struct osw_buf good = OSW_BUF_INIT, in = OSW_BUF_INIT, out = OSW_BUF_INIT;
    const char *text = "[crio.runtime]\ndefault_runtime = \"runc\"\n";
    deflate_to(text, strlen(text), 31, &good);

    /* Every proper prefix is truncated: header, data or trailer. */
    for (size_t n = 0; n < good.len; n++) {
        osw_buf_reset(&out);
        if (osw_gzip_decode(good.data, n, MIB, &out) != OSW_EINVAL)
            fail_msg("prefix of %zu bytes accepted", n);
    }
    /* CRC and length each checked. */
    for (size_t k = 8; k >= 1; k--) {
        osw_buf_reset(&in);
        assert_int_equal(osw_buf_append(&in, good.data, good.len), OSW_OK);
        in.data[in.len - k] ^= 0x01;
        assert_int_equal(gunzip(&in, MIB, &out), OSW_EINVAL);
    }
    /* Nothing after the last member: garbage, zeros, half a header. */
    static const char *const tails[] = {"x", "\0", "\0\0\0\0\0\0\0\0\0\0\0\0", "\x1f",
                                        "\x1f\x8b\x08\0"};
    static const size_t tail_len[] = {1, 1, 12, 1, 4};
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        osw_buf_reset(&in);
        assert_int_equal(osw_buf_append(&in, good.data, good.len), OSW_OK);
        assert_int_equal(osw_buf_append(&in, tails[t], tail_len[t]), OSW_OK);
        assert_int_equal(gunzip(&in, MIB, &out), OSW_EINVAL);
    }
    /* Not gzip at all; a method other than DEFLATE; empty input. */
    osw_buf_reset(&in);
    assert_int_equal(osw_buf_append_cstr(&in, text), OSW_OK);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_EINVAL);
    osw_buf_reset(&in);
    assert_int_equal(osw_buf_append(&in, good.data, good.len), OSW_OK);
    in.data[2] = 7;
    assert_int_equal(gunzip(&in, MIB, &out), OSW_EINVAL);
    assert_int_equal(osw_gzip_decode("", 0, MIB, &out), OSW_EINVAL);
    assert_int_equal(osw_gzip_decode(NULL, 0, MIB, &out), OSW_EINVAL);

    /* Corrupt DEFLATE: a block of the reserved type 3. */
    static const unsigned char bad_block[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
                                              0x07, 0,    0, 0, 0, 0, 0, 0, 0, 0};
    osw_buf_reset(&in);
    assert_int_equal(osw_buf_append(&in, bad_block, sizeof bad_block), OSW_OK);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_EINVAL);
    osw_buf_free(&good);
    osw_buf_free(&in);
    osw_buf_free(&out);
}

/* The optional header fields, read as Go reads them. */
static void test_header_fields(void **state)
{
    (void)state;
    struct osw_buf in = OSW_BUF_INIT, out = OSW_BUF_INIT;
    unsigned char h[1024] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

    h[3] = 0xe0; /* reserved flags: Go ignores them */
    member(h, 10, "a", &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_OK);
    assert_memory_equal(out.data, "a", 1);

    /* FEXTRA + FNAME + FCOMMENT. */
    h[3] = 0x04 | 0x08 | 0x10;
    size_t n = 10;
    h[n++] = 3;
    h[n++] = 0;
    memcpy(h + n, "xyz", 3);
    n += 3;
    memcpy(h + n, "name\0comment\0", 13);
    n += 13;
    osw_buf_reset(&in);
    member(h, n, "b", &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_OK);
    assert_memory_equal(out.data, "b", 1);

    /* A name of 511 bytes fits Go's 512-byte buffer; 512 do not. */
    for (size_t len = 511; len <= 512; len++) {
        h[3] = 0x08;
        memset(h + 10, 'n', len);
        h[10 + len] = 0;
        osw_buf_reset(&in);
        member(h, 10 + len + 1, "c", &in);
        assert_int_equal(gunzip(&in, MIB, &out), len == 511 ? OSW_OK : OSW_EINVAL);
    }

    /* FHCRC: Go checks the CRC of the ten fixed bytes only. */
    h[3] = 0x02 | 0x08;
    memcpy(h + 10, "nm\0", 3);
    uint32_t fixed = (uint32_t)crc32(0, h, 10), whole = (uint32_t)crc32(0, h, 13);
    assert_int_not_equal(fixed & 0xffff, whole & 0xffff);
    h[13] = (unsigned char)fixed;
    h[14] = (unsigned char)(fixed >> 8);
    osw_buf_reset(&in);
    member(h, 15, "d", &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_OK);
    h[13] = (unsigned char)whole;
    h[14] = (unsigned char)(whole >> 8);
    osw_buf_reset(&in);
    member(h, 15, "d", &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_EINVAL);
    /* A header that ends inside its optional fields. */
    h[3] = 0x04;
    h[10] = 0xff;
    h[11] = 0xff;
    assert_int_equal(osw_gzip_decode(h, 20, MIB, &out), OSW_EINVAL);
    osw_buf_free(&in);
    osw_buf_free(&out);
}

/* The bound: exactly max is fine, one more byte is not, over one member or
 * several; a 64 MiB bomb stops at the bound without growing past it. */
static void test_bound_and_bomb(void **state)
{
    (void)state;
    struct osw_buf in = OSW_BUF_INIT, out = OSW_BUF_INIT;
    deflate_to(NULL, MIB, 31, &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_OK);
    assert_int_equal(out.len, MIB);
    osw_buf_reset(&in);
    deflate_to(NULL, MIB + 1, 31, &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_ETOOBIG);
    assert_true(out.len <= MIB + 1);

    osw_buf_reset(&in);
    deflate_to(NULL, MIB / 2, 31, &in);
    deflate_to(NULL, MIB / 2 + 1, 31, &in);
    assert_int_equal(gunzip(&in, MIB, &out), OSW_ETOOBIG);

    osw_buf_reset(&in);
    deflate_to(NULL, 64 * MIB, 31, &in);
    assert_true(in.len < 128 * 1024);
    osw_buf_free(&out);
    assert_int_equal(osw_gzip_decode(in.data, in.len, MIB, &out), OSW_ETOOBIG);
    assert_true(out.cap <= MIB + 2);
    osw_buf_free(&in);
    osw_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_bound_and_bomb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

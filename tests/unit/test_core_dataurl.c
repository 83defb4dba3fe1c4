/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data URL decoder against a table of every header and data form the
 * contract's step 1 names (and the quirks of vincent-petithory/dataurl it
 * inherits), each failure included, then the 1 MiB bound at its edge and a
 * round trip of every byte value through both encodings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "osw/dataurl.h"

struct dcase {
    const char *in;
    size_t in_len; /* 0: strlen(in) */
    enum osw_err want;
    const char *out; /* expected data when want == OSW_OK */
    size_t out_len;  /* 0: strlen(out) */
};

#define OK(in, out)                                                                                \
    {                                                                                              \
        in, 0, OSW_OK, out, 0                                                                      \
    }
#define BAD(in)                                                                                    \
    {                                                                                              \
        in, 0, OSW_EINVAL, NULL, 0                                                                 \
    }
#define BADN(in, n)                                                                                \
    {                                                                                              \
        in, n, OSW_EINVAL, NULL, 0                                                                 \
    }
#define OKN(in, out, n)                                                                            \
    {                                                                                              \
        in, 0, OSW_OK, out, n                                                                      \
    }

static const struct dcase cases[] = {
    /* headers */
    OK("data:,", ""),
    OK("data:,hello", "hello"),
    OK("data:text/plain,x", "x"),
    OK("data:text/plain;charset=utf-8,x", "x"),
    OK("data:text/plain;charset=utf-8;base64,aGVsbG8=", "hello"),
    OK("data:;base64,aGVsbG8=", "hello"),
    OK("data:;charset=utf-8,x", "x"),
    OK("data:;a=1;b=2,x", "x"),
    OK("data:application/octet-stream;base64,aGk=", "hi"),
    OK("data:image/png,x", "x"),
    OK("data:audio/x,x", "x"),
    OK("data:video/x,x", "x"),
    OK("data:message/rfc822,x", "x"),
    OK("data:multipart/mixed,x", "x"),
    OK("data:textual/plain,x", "x"), /* a prefix is enough */
    OK("data:x-foo/bar,x", "x"),
    OK("data:X-foo/bar,x", "x"),
    OK("data:x-/bar,x", "x"),
    OK("data:text/,x", "x"), /* the subtype may be empty */
    OK("data:text/plain;a=%41,x", "x"),
    OK("data:text/plain;base64=yes,x", "x"), /* a parameter named base64 */
    BAD(""),
    BAD("data"),
    BAD("data:"),
    BAD("data:text/plain"),
    BAD("data:text/plain;charset=utf-8"),
    BAD("https://example.com/x"),
    BAD("s3://bucket/key"),
    BAD("DATA:,x"),
    BAD(" data:,x"),
    BAD("data:foo/bar,x"),
    BAD("data:/plain,x"),
    BAD("data:text,x"),
    BAD("data:x/y,x"),
    BAD("data:xfoo/bar,x"),
    BAD("data:text/pl ain,x"),
    BAD("data:text/plain/x,x"),
    BAD("data:t\xc3\xa9xt/plain,x"),
    BAD("data:text/plain;,x"),
    BAD("data:text/plain;=a,x"),
    BAD("data:text/plain;a,x"),
    BAD("data:text/plain;a=,x"),
    BAD("data:text/plain;a=;b=c,x"),
    BAD("data:text/plain;a=\"b\",x"), /* quoted: Decision 9 */
    BAD("data:text/plain;a=%4,x"),
    BAD("data:text/plain;a=%zz,x"),
    BAD("data:text/plain;a=b"),
    BAD("data:text/plain;a=b c,x"),
    BAD("data:text/plain;base64;charset=x,aGk="),
    BAD("data:;base64x,aGk="),
    BAD("data:;BASE64,aGk="),
    BAD("data:;"),
    BAD("data:;base64"),
    /* percent-encoded data */
    OK("data:,a%20b", "a b"),
    OK("data:,%41%6a%6A", "Ajj"),
    OK("data:,a+b", "a+b"),
    OK("data:,%25", "%"),
    OK("data:,~!$&'()*+,;=:@/?-._", "~!$&'()*+,;=:@/?-._"),
    OKN("data:,%00x", "\0x", 2),
    OK("data:,%0A%ff", "\n\xff"),
    BAD("data:,a b"),
    BAD("data:,\""),
    BAD("data:,#"),
    BAD("data:,<"),
    BAD("data:,>"),
    BAD("data:,["),
    BAD("data:,\\"),
    BAD("data:,]"),
    BAD("data:,^"),
    BAD("data:,`"),
    BAD("data:,{"),
    BAD("data:,|"),
    BAD("data:,}"),
    BAD("data:,%"),
    BAD("data:,%4"),
    BAD("data:,%4g"),
    BAD("data:,%g4"),
    BAD("data:,\x7f"),
    BAD("data:,\x01"),
    BAD("data:,a\nb"),
    BAD("data:,a\tb"),
    BAD("data:,\xc3\xa9"),
    BADN("data:,a\0b", 9),
    /* base64 data */
    OK("data:;base64,", ""),
    OK("data:;base64,aGk=", "hi"),
    OK("data:;base64,aA==", "h"),
    OK("data:;base64,aA=\n=", "h"),
    OK("data:;base64,\naGVs\nbG8=\n", "hello"),
    OK("data:;base64,QR==", "A"), /* non-zero trailing bits: not Strict */
    OK("data:;base64,+/+/", "\xfb\xff\xbf"),
    BAD("data:;base64,aGk"),
    BAD("data:;base64,aA="),
    BAD("data:;base64,a"),
    BAD("data:;base64,a==="),
    BAD("data:;base64,===="),
    BAD("data:;base64,=aGk"),
    BAD("data:;base64,aGk=a"),
    BAD("data:;base64,aA==aA=="),
    BAD("data:;base64,aA=b"),
    BAD("data:;base64,aGk=\r"),
    BAD("data:;base64,aG k="),
    BAD("data:;base64,aGk%3D"),
    BAD("data:;base64,aGk-"),
    BAD("data:;base64,aGk_"),
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct dcase *c = &cases[i];
        struct osw_buf out = OSW_BUF_INIT;
        size_t len = c->in_len ? c->in_len : strlen(c->in);
        enum osw_err err = osw_dataurl_decode(c->in, len, 1 << 20, &out);
        if (err != c->want)
            fail_msg("case %zu \"%s\": got %s, want %s", i, c->in, osw_err_str(err),
                     osw_err_str(c->want));
        if (c->want == OSW_OK) {
            size_t olen = c->out_len ? c->out_len : strlen(c->out);
            if (out.len != olen || (olen && memcmp(out.data, c->out, olen) != 0))
                fail_msg("case %zu \"%s\": wrong data (%zu bytes)", i, c->in, out.len);
        }
        osw_buf_free(&out);
    }
}

static void test_null_source(void **state)
{
    (void)state;
    struct osw_buf out = OSW_BUF_INIT;
    assert_int_equal(osw_dataurl_decode(NULL, 0, 10, &out), OSW_EINVAL);
    osw_buf_free(&out);
}

/* The bound applies to the decoded data, for both encodings, at its edge. */
static void test_bound(void **state)
{
    (void)state;
    const size_t max = 1000;
    struct osw_buf in = OSW_BUF_INIT, out = OSW_BUF_INIT;
    for (size_t n = max - 1; n <= max + 1; n++) {
        osw_buf_reset(&in);
        assert_int_equal(osw_buf_append_cstr(&in, "data:,"), OSW_OK);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(osw_buf_append_cstr(&in, i % 2 ? "a" : "%41"), OSW_OK);
        osw_buf_reset(&out);
        assert_int_equal(osw_dataurl_decode(in.data, in.len, max, &out),
                         n <= max ? OSW_OK : OSW_ETOOBIG);
        if (n <= max)
            assert_int_equal(out.len, n);

        char *raw = malloc(n);
        assert_non_null(raw);
        memset(raw, 'z', n);
        osw_buf_reset(&in);
        assert_int_equal(osw_buf_append_cstr(&in, "data:;base64,"), OSW_OK);
        assert_int_equal(osw_buf_append_base64(&in, raw, n), OSW_OK);
        free(raw);
        osw_buf_reset(&out);
        assert_int_equal(osw_dataurl_decode(in.data, in.len, max, &out),
                         n <= max ? OSW_OK : OSW_ETOOBIG);
        assert_true(out.len <= max);
    }
    osw_buf_free(&in);
    osw_buf_free(&out);
}

/* Every byte value survives both encodings (base64 with line feeds every
 * 76 characters, as `base64` writes it). */
static void test_all_bytes_roundtrip(void **state)
{
    (void)state;
    unsigned char raw[256];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (unsigned char)i;
    struct osw_buf in = OSW_BUF_INIT, b64 = OSW_BUF_INIT, out = OSW_BUF_INIT;
    assert_int_equal(osw_buf_append_cstr(&in, "data:text/plain;charset=utf-8,"), OSW_OK);
    for (size_t i = 0; i < sizeof raw; i++) {
        char e[4];
        snprintf(e, sizeof e, "%%%02X", (unsigned)i);
        assert_int_equal(osw_buf_append_cstr(&in, e), OSW_OK);
    }
    assert_int_equal(osw_dataurl_decode(in.data, in.len, 1 << 20, &out), OSW_OK);
    assert_int_equal(out.len, sizeof raw);
    assert_memory_equal(out.data, raw, sizeof raw);

    assert_int_equal(osw_buf_append_base64(&b64, raw, sizeof raw), OSW_OK);
    osw_buf_reset(&in);
    assert_int_equal(osw_buf_append_cstr(&in, "data:;base64,"), OSW_OK);
    for (size_t i = 0; i < b64.len; i += 76) {
        size_t n = b64.len - i < 76 ? b64.len - i : 76;
        assert_int_equal(osw_buf_append(&in, b64.data + i, n), OSW_OK);
        assert_int_equal(osw_buf_append_cstr(&in, "\n"), OSW_OK);
    }
    osw_buf_reset(&out);
    assert_int_equal(osw_dataurl_decode(in.data, in.len, 1 << 20, &out), OSW_OK);
    assert_int_equal(out.len, sizeof raw);
    assert_memory_equal(out.data, raw, sizeof raw);
    osw_buf_free(&in);
    osw_buf_free(&b64);
    osw_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_null_source),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_all_bytes_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

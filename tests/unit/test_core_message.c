/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quoting of values in messages against Go's strconv.Quote: the expected
 * strings are Go's own documented outputs (strconv's quote tests and the
 * examples in its documentation), plus the escapes the issue names (C1
 * controls, U+2028/2029, invalid UTF-8), and the UTF-8 decoder's edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "core/rune.h"

static void test_quote_like_go(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want;
    } t[] = {
        /* strconv quote tests */
        {"\a\b\f\r\n\t\v", "\"\\a\\b\\f\\r\\n\\t\\v\""},
        {"\\", "\"\\\\\""},
        {"abc\xff"
         "def",
         "\"abc\\xffdef\""},
        {"\xe2\x98\xba", "\"\xe2\x98\xba\""},    /* U+263A is printed */
        {"\xf4\x8f\xbf\xbf", "\"\\U0010ffff\""}, /* U+10FFFF */
        {"\x04", "\"\\x04\""},
        {"!\xc2\xa0!\xe2\x80\x80!\xe3\x80\x80!", "\"!\\u00a0!\\u2000!\\u3000!\""},
        {"\x7f", "\"\\x7f\""},
        /* the strconv.Quote documentation example */
        {"\"Fran & Freddie's Diner\t\xe2\x98\xba\"",
         "\"\\\"Fran & Freddie's Diner\\t\xe2\x98\xba\\\"\""},
        /* what the issue names */
        {"rhel\xc2\x85"
         "10",
         "\"rhel\\u008510\""}, /* C1 control NEL */
        {"\xc2\x80\xc2\x9f", "\"\\u0080\\u009f\""},
        {"a\xe2\x80\xa8"
         "b\xe2\x80\xa9",
         "\"a\\u2028b\\u2029\""},
        {"\xc3\xa9t\xc3\xa9", "\"\xc3\xa9t\xc3\xa9\""}, /* printable non-ASCII kept */
        {"\xef\xbb\xbf", "\"\\ufeff\""},                /* BOM: format, not printed */
        {"\xc2\xad", "\"\\u00ad\""},                    /* soft hyphen */
        {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},   /* emoji printed */
        {"\xf3\xa0\x80\x81", "\"\\U000e0001\""},        /* language tag (Cf) */
        /* invalid UTF-8, byte by byte */
        {"\xc0\xaf", "\"\\xc0\\xaf\""},                   /* overlong */
        {"\xed\xa0\x80", "\"\\xed\\xa0\\x80\""},          /* surrogate */
        {"\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\""}, /* past U+10FFFF */
        {"\xe2\x98", "\"\\xe2\\x98\""},                   /* truncated */
        {"\xef\xbf\xbd", "\"\xef\xbf\xbd\""},             /* a real U+FFFD is printed */
        {"", "\"\""},
        {" ", "\" \""},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct osw_buf b = OSW_BUF_INIT;
        assert_int_equal(osw_message_quote(&b, osw_str_from_cstr(t[i].in)), OSW_OK);
        assert_int_equal(osw_buf_append(&b, "", 1), OSW_OK);
        if (strcmp(b.data, t[i].want) != 0)
            fail_msg("case %zu: got %s, want %s", i, b.data, t[i].want);
        osw_buf_free(&b);
    }
}

static void test_quote_nul(void **state)
{
    (void)state;
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_message_quote(&b, (struct osw_str){"a\0b", 3}), OSW_OK);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "\"a\\x00b\"", 8);
    osw_buf_free(&b);
}

static void test_rune_decode(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(osw_rune_decode((const unsigned char *)"\xdf\xbf", 2, &cp), 2);
    assert_int_equal(cp, 0x7ff);
    assert_int_equal(osw_rune_decode((const unsigned char *)"\xe0\x9f\xbf", 3, &cp), 1);
    assert_int_equal(cp, OSW_RUNE_ERROR);
    assert_int_equal(osw_rune_decode((const unsigned char *)"\xf0\x90\x80\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x10000);
    assert_int_equal(osw_rune_decode((const unsigned char *)"\xf0\x90\x80", 3, &cp), 1);
    assert_int_equal(osw_rune_decode((const unsigned char *)"\x80", 1, &cp), 1);
    assert_int_equal(cp, OSW_RUNE_ERROR);
    assert_true(osw_rune_printable('a'));
    assert_true(osw_rune_printable(' '));
    assert_false(osw_rune_printable(0x1f));
    assert_false(osw_rune_printable(0x85));
    assert_false(osw_rune_printable(0x2028));
    assert_true(osw_rune_printable(0x263a));
    assert_false(osw_rune_printable(0x10ffff));
    assert_false(osw_rune_printable(0x110000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_like_go),
        cmocka_unit_test(test_quote_nul),
        cmocka_unit_test(test_rune_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

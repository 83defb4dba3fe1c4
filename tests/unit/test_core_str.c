/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syntax checks and the buffer: IsDNS1123Subdomain by table; the digest
 * image matcher against POSIX regexec with the contract's exact regular
 * expression (C locale) over a table plus many mutated inputs; JSON string
 * escaping round-tripped through jansson; base64 against libcrypto.
 */
#include <locale.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "osw/buf.h"
#include "osw/str.h"

#define IMAGE_RE                                                                                   \
    "^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]+)" \
    "?"                                                                                            \
    "(/[a-z0-9]+([._-]+[a-z0-9]+)*)+@sha256:[a-f0-9]{64}$"
#define HEX64 "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2"

static void test_dns1123(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } t[] = {
        {"rhel-9", true},    {"rhel-10", true},   {"a", true},        {"0", true},
        {"a.b-c.d", true},   {"rhel.10", true},   {"", false},        {"RHEL-10", false},
        {"rhel..10", false}, {"rhel-.10", false}, {"-rhel", false},   {"rhel-", false},
        {".rhel", false},    {"rhel.", false},    {"rhel_10", false}, {"rhel 10", false},
        {"rhél", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (osw_str_is_dns1123_subdomain(osw_str_from_cstr(t[i].s)) != t[i].ok)
            fail_msg("dns1123 \"%s\" should be %d", t[i].s, t[i].ok);
    }
    char buf[300];
    memset(buf, 'a', sizeof buf);
    assert_true(osw_str_is_dns1123_subdomain((struct osw_str){buf, 253}));
    assert_false(osw_str_is_dns1123_subdomain((struct osw_str){buf, 254}));
    assert_false(osw_str_is_dns1123_subdomain((struct osw_str){"a\0b", 3}));
}

static bool regex_says(regex_t *re, const char *s)
{
    return regexec(re, s, 0, NULL, 0) == 0 && strlen(s) <= 447;
}

static void check_image(regex_t *re, const char *s)
{
    bool want = regex_says(re, s);
    bool got = osw_str_is_digest_image(osw_str_from_cstr(s));
    if (want != got)
        fail_msg("image \"%s\": matcher %d, regex %d", s, got, want);
}

static void test_digest_image_matches_regex(void **state)
{
    (void)state;
    setlocale(LC_ALL, "C");
    regex_t re;
    assert_int_equal(regcomp(&re, IMAGE_RE, REG_EXTENDED | REG_NOSUB), 0);
    static const char *const t[] = {
        "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" HEX64,
        "registry:5000/a/b@sha256:" HEX64,
        "localhost/x@sha256:" HEX64,
        "Quay.IO/x@sha256:" HEX64,
        "quay.io/X@sha256:" HEX64,
        "quay.io@sha256:" HEX64,
        "quay.io/x:tag@sha256:" HEX64,
        "quay.io/x@sha256:" HEX64 "0",
        "quay.io/x@sha256:A1B2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2",
        "quay.io/x@sha512:" HEX64,
        "quay.io/a__b/c..d/e-_.f@sha256:" HEX64,
        "quay.io/a_/b@sha256:" HEX64,
        "-quay.io/x@sha256:" HEX64,
        "quay-.io/x@sha256:" HEX64,
        "quay..io/x@sha256:" HEX64,
        "quay.io:/x@sha256:" HEX64,
        "quay.io//x@sha256:" HEX64,
        "quay.io/x/@sha256:" HEX64,
        "@sha256:" HEX64,
        "",
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        check_image(&re, t[i]);
    /* Mutations of a valid spec: every single-byte substitution from a small
     * alphabet of interesting characters, at every position. */
    const char *base = "q.io:5/a-b_c/d@sha256:" HEX64;
    const char alphabet[] = "aZ0-._:/@Q ";
    char s[256];
    for (size_t pos = 0; pos < strlen(base); pos++) {
        for (size_t k = 0; k < sizeof alphabet - 1; k++) {
            snprintf(s, sizeof s, "%s", base);
            s[pos] = alphabet[k];
            check_image(&re, s);
        }
    }
    /* length limit: 447 accepted, 448 refused */
    char longs[512];
    size_t tail = strlen("/x@sha256:" HEX64);
    for (size_t total = 440; total <= 450; total++) {
        memset(longs, 'a', total - tail);
        snprintf(longs + (total - tail), sizeof longs - (total - tail), "/x@sha256:%s", HEX64);
        assert_int_equal(osw_str_is_digest_image(osw_str_from_cstr(longs)), total <= 447);
    }
    regfree(&re);
}

static void test_json_string_roundtrip(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
    } t[] = {
        {"plain", 5},    {"q\"b\\s", 5},      {"\n\r\t\b\f", 5},
        {"nul\0mid", 7}, {"\x01\x1f\x7f", 3}, {"caf\xc3\xa9 \xe2\x82\xac", 9},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct osw_buf b = OSW_BUF_INIT;
        assert_int_equal(osw_buf_append_json_string(&b, (struct osw_str){t[i].s, t[i].len}),
                         OSW_OK);
        for (size_t k = 0; k < b.len; k++)
            assert_true((unsigned char)b.data[k] >= 0x20); /* no raw control bytes */
        json_error_t je;
        json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!v)
            fail_msg("case %zu: %s: %s", i, b.data, je.text);
        assert_int_equal(json_string_length(v), t[i].len);
        assert_memory_equal(json_string_value(v), t[i].s, t[i].len);
        json_decref(v);
        osw_buf_free(&b);
    }
}

static void test_base64_matches_libcrypto(void **state)
{
    (void)state;
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n < sizeof data; n += 7) {
        struct osw_buf b = OSW_BUF_INIT;
        assert_int_equal(osw_buf_append_base64(&b, data, n), OSW_OK);
        unsigned char dec[400];
        int m = EVP_DecodeBlock(dec, (const unsigned char *)b.data, (int)b.len);
        assert_true(m >= (int)n);
        assert_memory_equal(dec, data, n);
        assert_int_equal(b.len, (n + 2) / 3 * 4);
        osw_buf_free(&b);
    }
}

static void test_buf_growth_and_steal(void **state)
{
    (void)state;
    struct osw_buf b = OSW_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        assert_int_equal(osw_buf_printf(&b, "%d,", i), OSW_OK);
    assert_int_equal(b.data[b.len], '\0');
    assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
    size_t len;
    char *s = osw_buf_steal(&b, &len);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(strlen(s), len);
    free(s);
    assert_int_equal(osw_buf_reserve(&b, SIZE_MAX), OSW_ENOMEM); /* overflow is refused */
    osw_buf_free(&b);
    osw_buf_free(NULL);
}

/* osw_str_cmp: byte order, a shorter prefix first, empty and NULL slices. */
static void test_str_cmp(void **state)
{
    (void)state;
    assert_int_equal(osw_str_cmp(OSW_STR_LIT("abc"), OSW_STR_LIT("abc")), 0);
    assert_true(osw_str_cmp(OSW_STR_LIT("ab"), OSW_STR_LIT("abc")) < 0);
    assert_true(osw_str_cmp(OSW_STR_LIT("abd"), OSW_STR_LIT("abc")) > 0);
    assert_true(osw_str_cmp(OSW_STR_LIT("a\xff"), OSW_STR_LIT("a\x01")) > 0); /* unsigned */
    assert_int_equal(osw_str_cmp(OSW_STR_NULL, OSW_STR_LIT("")), 0);
    assert_true(osw_str_cmp(OSW_STR_NULL, OSW_STR_LIT("a")) < 0);
}

static void test_hex_digit(void **state)
{
    (void)state;
    const char *digits = "0123456789abcdefABCDEF";
    const int want[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                        11, 12, 13, 14, 15, 10, 11, 12, 13, 14, 15};
    for (size_t i = 0; digits[i]; i++)
        assert_int_equal(osw_hex_digit((unsigned char)digits[i]), want[i]);
    const char *bad = "gG/:@`xz \xff";
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(osw_hex_digit((unsigned char)bad[i]), -1);
}

/* osw_grow: room for element n, doubling from `first`; false (array kept)
 * on overflow. */
static void test_grow(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    assert_true(osw_grow(&v, &cap, 0, sizeof(*v), 4));
    assert_int_equal(cap, 4);
    for (int i = 0; i < 4; i++)
        v[i] = i;
    assert_true(osw_grow(&v, &cap, 3, sizeof(*v), 4)); /* room already */
    assert_int_equal(cap, 4);
    assert_true(osw_grow(&v, &cap, 4, sizeof(*v), 4));
    assert_int_equal(cap, 8);
    assert_int_equal(v[3], 3);                           /* kept across the move */
    assert_true(osw_grow(&v, &cap, 100, sizeof(*v), 4)); /* doubling is not enough */
    assert_int_equal(cap, 101);
    int *keep = v;
    size_t big = SIZE_MAX / 2;
    assert_false(osw_grow(&v, &big, SIZE_MAX / 2, sizeof(*v), 4)); /* would overflow */
    assert_ptr_equal(v, keep);
    assert_false(osw_grow(&v, &cap, cap, 0, 4)); /* no element size */
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns1123),
        cmocka_unit_test(test_str_cmp),
        cmocka_unit_test(test_hex_digit),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_digest_image_matches_regex),
        cmocka_unit_test(test_json_string_roundtrip),
        cmocka_unit_test(test_base64_matches_libcrypto),
        cmocka_unit_test(test_buf_growth_and_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

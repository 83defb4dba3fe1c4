/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the server's listen-address resolution (src/server/addr.c):
 * IPv4, IPv6 (specific and unspecified), the empty host, and the strings
 * that are not numeric addresses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/addr.h"

static void test_addr_ipv4(void **state)
{
    struct osw_addr a;
    struct osw_errbuf eb;
    char text[INET_ADDRSTRLEN];

    (void)state;
    assert_int_equal(osw_addr_resolve("127.0.0.1", 8443, &a, &eb), OSW_OK);
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)&a.ss;
    assert_int_equal(s4->sin_family, AF_INET);
    assert_int_equal(ntohs(s4->sin_port), 8443);
    assert_non_null(inet_ntop(AF_INET, &s4->sin_addr, text, sizeof(text)));
    assert_string_equal(text, "127.0.0.1");
    assert_int_equal(a.len, sizeof(struct sockaddr_in));
    assert_false(a.ipv6);
    assert_false(a.any6);
}

static void test_addr_empty_means_all_ipv4(void **state)
{
    struct osw_addr a;
    struct osw_errbuf eb;

    (void)state;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(osw_addr_resolve(i == 0 ? "" : NULL, 0, &a, &eb), OSW_OK);
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)&a.ss;
        assert_int_equal(s4->sin_family, AF_INET);
        assert_int_equal(s4->sin_addr.s_addr, htonl(INADDR_ANY));
        assert_int_equal(s4->sin_port, 0);
        assert_false(a.ipv6);
    }
}

static void test_addr_ipv6(void **state)
{
    struct osw_addr a;
    struct osw_errbuf eb;

    (void)state;
    assert_int_equal(osw_addr_resolve("::1", 9443, &a, &eb), OSW_OK);
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)&a.ss;
    assert_int_equal(s6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(s6->sin6_port), 9443);
    assert_true(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
    assert_int_equal(a.len, sizeof(struct sockaddr_in6));
    assert_true(a.ipv6);
    assert_false(a.any6);

    assert_int_equal(osw_addr_resolve("::", 8443, &a, &eb), OSW_OK);
    assert_true(a.ipv6);
    assert_true(a.any6);
}

static void test_addr_not_numeric(void **state)
{
    static const char *const bad[] = {
        "localhost", "example.com", "1.2.3",    "10.1",     "256.1.1.1",  "1.2.3.4.5",
        "[::1]",     "::g",         "1.2.3.4 ", " 1.2.3.4", "0x7f.0.0.1",
    };
    struct osw_addr a;
    struct osw_errbuf eb;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        eb.msg[0] = '\0';
        assert_int_equal(osw_addr_resolve(bad[i], 8443, &a, &eb), OSW_EINVAL);
        assert_non_null(strstr(eb.msg, "is not an IP address"));
    }
}

/* Peer addresses as log lines show them, and the fallbacks. */
static void test_addr_format(void **state)
{
    struct osw_addr a;
    struct osw_errbuf eb;
    char text[OSW_ADDR_TEXT_MAX];
    char tiny[5];
    struct sockaddr unix_like = {.sa_family = AF_UNIX};

    (void)state;
    assert_int_equal(osw_addr_resolve("192.0.2.7", 50000, &a, &eb), OSW_OK);
    osw_addr_format((const struct sockaddr *)&a.ss, text, sizeof(text));
    assert_string_equal(text, "192.0.2.7:50000");
    assert_int_equal(osw_addr_resolve("2001:db8::1", 443, &a, &eb), OSW_OK);
    osw_addr_format((const struct sockaddr *)&a.ss, text, sizeof(text));
    assert_string_equal(text, "[2001:db8::1]:443");
    osw_addr_format(NULL, text, sizeof(text));
    assert_string_equal(text, "unknown");
    osw_addr_format(&unix_like, text, sizeof(text));
    assert_string_equal(text, "unknown");
    osw_addr_format((const struct sockaddr *)&a.ss, tiny, sizeof(tiny));
    assert_string_equal(tiny, "[200"); /* cut, still terminated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_ipv4),   cmocka_unit_test(test_addr_empty_means_all_ipv4),
        cmocka_unit_test(test_addr_ipv6),   cmocka_unit_test(test_addr_not_numeric),
        cmocka_unit_test(test_addr_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

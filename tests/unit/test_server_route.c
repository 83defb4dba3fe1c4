/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the server's pure checks (src/server/route.c): the route
 * table, the methods each route allows, the Content-Type matcher and the
 * Content-Length parser.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/route.h"

static void test_route_find_known_paths(void **state)
{
    (void)state;
    assert_int_equal(osw_route_find("/validate")->id, OSW_ROUTE_VALIDATE);
    assert_int_equal(osw_route_find("/mutate")->id, OSW_ROUTE_MUTATE);
    assert_int_equal(osw_route_find("/healthz")->id, OSW_ROUTE_HEALTHZ);
    assert_int_equal(osw_route_find("/readyz")->id, OSW_ROUTE_READYZ);
    assert_int_equal(osw_route_find("/metrics")->id, OSW_ROUTE_METRICS);
    assert_true(osw_route_find("/validate")->post);
    assert_true(osw_route_find("/mutate")->post);
    assert_false(osw_route_find("/metrics")->post);
}

static void test_route_find_unknown_paths(void **state)
{
    (void)state;
    assert_null(osw_route_find(NULL));
    assert_null(osw_route_find(""));
    assert_null(osw_route_find("/"));
    assert_null(osw_route_find("/validate/"));
    assert_null(osw_route_find("/Validate"));
    assert_null(osw_route_find("/validatex"));
    assert_null(osw_route_find("validate"));
    assert_null(osw_route_find("/healthz/x"));
    /* libmicrohttpd strips the query before routing; a raw one is no route */
    assert_null(osw_route_find("/validate?timeout=10s"));
}

static void test_route_find_on_listeners(void **state)
{
    (void)state;
    static const char *const all[] = {"/validate", "/mutate", "/healthz", "/readyz", "/metrics"};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        const struct osw_route *r = osw_route_find_on(all[i], OSW_LISTENER_ALL);
        assert_non_null(r);
        assert_ptr_equal(r, osw_route_find(all[i]));
        bool metrics = r->id == OSW_ROUTE_METRICS;
        /* --metrics-listen: the admission listener serves all but /metrics,
         * the metrics listener /metrics only. */
        if (metrics)
            assert_null(osw_route_find_on(all[i], OSW_LISTENER_ADMISSION));
        else
            assert_ptr_equal(osw_route_find_on(all[i], OSW_LISTENER_ADMISSION), r);
        if (metrics)
            assert_ptr_equal(osw_route_find_on(all[i], OSW_LISTENER_METRICS), r);
        else
            assert_null(osw_route_find_on(all[i], OSW_LISTENER_METRICS));
    }
    assert_null(osw_route_find_on("/metrics/", OSW_LISTENER_METRICS));
    assert_null(osw_route_find_on("/nope", OSW_LISTENER_ALL));
    assert_null(osw_route_find_on(NULL, OSW_LISTENER_METRICS));
}

static void test_route_methods(void **state)
{
    const struct osw_route *v = osw_route_find("/validate");
    const struct osw_route *h = osw_route_find("/healthz");

    (void)state;
    assert_true(osw_route_method_allowed(v, "POST"));
    assert_false(osw_route_method_allowed(v, "GET"));
    assert_false(osw_route_method_allowed(v, "HEAD"));
    assert_false(osw_route_method_allowed(v, "post"));
    assert_false(osw_route_method_allowed(v, "PUT"));
    assert_false(osw_route_method_allowed(v, NULL));
    assert_string_equal(v->allow, "POST");

    assert_true(osw_route_method_allowed(h, "GET"));
    assert_true(osw_route_method_allowed(h, "HEAD"));
    assert_false(osw_route_method_allowed(h, "POST"));
    assert_false(osw_route_method_allowed(h, "get"));
    assert_false(osw_route_method_allowed(h, "DELETE"));
    assert_string_equal(h->allow, "GET, HEAD");
    assert_false(osw_route_method_allowed(NULL, "GET"));
}

static void test_route_json_content_types(void **state)
{
    (void)state;
    assert_true(osw_route_is_json("application/json"));
    assert_true(osw_route_is_json("Application/JSON"));
    assert_true(osw_route_is_json("APPLICATION/JSON"));
    assert_true(osw_route_is_json("application/json; charset=utf-8"));
    assert_true(osw_route_is_json("application/json;charset=UTF-8"));
    assert_true(osw_route_is_json("  application/json  "));
    assert_true(osw_route_is_json("\tapplication/json\t; x=y"));
    assert_true(osw_route_is_json("application/json;"));
}

static void test_route_other_content_types(void **state)
{
    (void)state;
    assert_false(osw_route_is_json(NULL));
    assert_false(osw_route_is_json(""));
    assert_false(osw_route_is_json("   "));
    assert_false(osw_route_is_json("text/plain"));
    assert_false(osw_route_is_json("application/jso"));
    assert_false(osw_route_is_json("application/jsonx"));
    assert_false(osw_route_is_json("application/json-patch+json"));
    assert_false(osw_route_is_json("application/json x"));
    assert_false(osw_route_is_json("application/x-www-form-urlencoded"));
    assert_false(osw_route_is_json("application/yaml"));
    assert_false(osw_route_is_json("application /json"));
    assert_false(osw_route_is_json("application/json,text/plain"));
}

static void test_route_content_length_valid(void **state)
{
    unsigned long long n = 1;

    (void)state;
    assert_true(osw_route_content_length("0", &n));
    assert_int_equal(n, 0);
    assert_true(osw_route_content_length("4194304", &n));
    assert_int_equal(n, 4194304);
    assert_true(osw_route_content_length(" 12 ", &n));
    assert_int_equal(n, 12);
    assert_true(osw_route_content_length("18446744073709551615", &n));
    assert_true(n == ULLONG_MAX);
}

static void test_route_content_length_invalid(void **state)
{
    unsigned long long n = 7;

    (void)state;
    assert_false(osw_route_content_length(NULL, &n));
    assert_false(osw_route_content_length("", &n));
    assert_false(osw_route_content_length(" ", &n));
    assert_false(osw_route_content_length("-1", &n));
    assert_false(osw_route_content_length("+1", &n));
    assert_false(osw_route_content_length("12a", &n));
    assert_false(osw_route_content_length("1 2", &n));
    assert_false(osw_route_content_length("0x10", &n));
    assert_false(osw_route_content_length("18446744073709551616", &n));
    assert_false(osw_route_content_length("99999999999999999999999", &n));
    assert_int_equal(n, 7); /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_find_known_paths),
        cmocka_unit_test(test_route_find_unknown_paths),
        cmocka_unit_test(test_route_find_on_listeners),
        cmocka_unit_test(test_route_methods),
        cmocka_unit_test(test_route_json_content_types),
        cmocka_unit_test(test_route_other_content_types),
        cmocka_unit_test(test_route_content_length_valid),
        cmocka_unit_test(test_route_content_length_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the list and watch query strings: parameters appear only when
 * given, in a fixed order, with values percent-encoded (a selector's '=' and
 * '&', a continue token's '=').
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kube/query.h"

static void query_encoding(void **state)
{
    (void)state;
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_query_list(&b, NULL, 0, NULL), OSW_OK);
    assert_null(b.data);
    assert_int_equal(osw_query_list(&b, "metadata.name=a&b", 100, "x=y"), OSW_OK);
    assert_string_equal(b.data, "?fieldSelector=metadata.name%3Da%26b&limit=100&continue=x%3Dy");
    osw_buf_reset(&b);
    assert_int_equal(osw_query_watch(&b, NULL, "12", 7), OSW_OK);
    assert_string_equal(b.data,
                        "?watch=1&resourceVersion=12&allowWatchBookmarks=true&timeoutSeconds=7");
    osw_buf_free(&b);
}

static void watch_with_selector(void **state)
{
    (void)state;
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_query_list(&b, "metadata.name=cluster", 0, ""), OSW_OK);
    assert_string_equal(b.data, "?fieldSelector=metadata.name%3Dcluster");
    osw_buf_reset(&b);
    assert_int_equal(osw_query_watch(&b, "metadata.name=cluster", "", 300), OSW_OK);
    assert_string_equal(b.data, "?watch=1&fieldSelector=metadata.name%3Dcluster"
                                "&allowWatchBookmarks=true&timeoutSeconds=300");
    osw_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_encoding),
        cmocka_unit_test(watch_with_selector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

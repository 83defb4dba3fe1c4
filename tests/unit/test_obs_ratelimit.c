/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the log rate limiter (src/obs/ratelimit.c): the burst per
 * window, the count of refused events reported with the next one let
 * through, a new window after the old one ends, and a clock that goes back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "obs/ratelimit.h"

static void test_ratelimit_burst_then_refuse(void **state)
{
    struct osw_ratelimit rl;
    unsigned long long sup = 99;

    (void)state;
    osw_ratelimit_init(&rl, 3, 1000);
    for (int i = 0; i < 3; i++) {
        assert_true(osw_ratelimit_allow(&rl, 5000 + i, &sup));
        assert_int_equal(sup, 0);
    }
    assert_false(osw_ratelimit_allow(&rl, 5010, &sup));
    assert_false(osw_ratelimit_allow(&rl, 5999, &sup));
    /* The next window lets events through again and reports the two lost. */
    assert_true(osw_ratelimit_allow(&rl, 6000, &sup));
    assert_int_equal(sup, 2);
    assert_true(osw_ratelimit_allow(&rl, 6001, &sup));
    assert_int_equal(sup, 0);
    osw_ratelimit_free(&rl);
}

static void test_ratelimit_zero_burst_refuses_all(void **state)
{
    struct osw_ratelimit rl;
    unsigned long long sup = 0;

    (void)state;
    osw_ratelimit_init(&rl, 0, 10);
    assert_false(osw_ratelimit_allow(&rl, 0, &sup));
    assert_false(osw_ratelimit_allow(&rl, 100, &sup));
    osw_ratelimit_free(&rl);
}

static void test_ratelimit_clock_backwards(void **state)
{
    struct osw_ratelimit rl;
    unsigned long long sup = 0;

    (void)state;
    osw_ratelimit_init(&rl, 1, 60000);
    assert_true(osw_ratelimit_allow(&rl, 100000, &sup));
    assert_false(osw_ratelimit_allow(&rl, 100001, &sup));
    assert_true(osw_ratelimit_allow(&rl, 50, &sup));
    assert_int_equal(sup, 1);
    osw_ratelimit_free(&rl);
    osw_ratelimit_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_burst_then_refuse),
        cmocka_unit_test(test_ratelimit_zero_burst_refuses_all),
        cmocka_unit_test(test_ratelimit_clock_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the reflector backoff against the contract's numbers: the first
 * nominal wait lies in [100 ms, 1 s], each consecutive failure multiplies it
 * by 1.5 to 2, it is capped at 30 s, every actual wait stays within +-50 % of
 * its nominal wait whatever the random source says (its extremes included),
 * and a reset starts again from the first wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kube/backoff.h"

/* A scripted "random" source cycling through fixed values. */
struct script {
    const double *v;
    size_t n, i;
};

static double scripted(void *ctx)
{
    struct script *s = ctx;
    return s->v[s->i++ % s->n];
}

static void nominal_sequence_follows_the_contract(void **state)
{
    (void)state;
    static const double mid[] = {0.5};
    struct script s = {mid, 1, 0};
    struct osw_backoff b;
    osw_backoff_init(&b, scripted, &s);

    osw_backoff_next_ms(&b);
    double prev = osw_backoff_nominal_ms(&b);
    assert_true(prev >= 100.0 && prev <= 1000.0);
    bool capped = false;
    for (int i = 0; i < 40; i++) {
        osw_backoff_next_ms(&b);
        double nom = osw_backoff_nominal_ms(&b);
        if (prev < 30000.0) {
            double f = nom / prev;
            /* Growth is 1.5-2x until the cap cuts it short. */
            assert_true((f >= 1.5 && f <= 2.0) || nom == 30000.0);
        } else {
            assert_true(nom == 30000.0);
            capped = true;
        }
        assert_true(nom <= 30000.0);
        prev = nom;
    }
    assert_true(capped);
}

static void every_wait_is_within_half_of_nominal(void **state)
{
    (void)state;
    /* Extremes and a value the generator should never give (>= 1). */
    static const double vals[] = {0.0, 0.999999, 0.25, 1.0, 0.75, -0.1, 2.0};
    struct script s = {vals, sizeof(vals) / sizeof(vals[0]), 0};
    struct osw_backoff b;
    osw_backoff_init(&b, scripted, &s);
    for (int i = 0; i < 60; i++) {
        int64_t w = osw_backoff_next_ms(&b);
        double nom = osw_backoff_nominal_ms(&b);
        assert_true((double)w >= 0.5 * nom - 1.0);
        assert_true((double)w <= 1.5 * nom + 1.0);
    }
}

static void jitter_actually_varies(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    struct osw_backoff b;
    osw_backoff_init(&b, osw_backoff_rand_xorshift, &seed);
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 100; i++) {
        osw_backoff_reset(&b);
        int64_t w = osw_backoff_next_ms(&b);
        lo = w < lo ? w : lo;
        hi = w > hi ? w : hi;
    }
    assert_true(hi > lo); /* not a constant wait: jitter is applied */
    double nom = osw_backoff_nominal_ms(&b);
    assert_true((double)lo >= 0.5 * nom && (double)hi <= 1.5 * nom);
}

static void reset_starts_over(void **state)
{
    (void)state;
    static const double mid[] = {0.5};
    struct script s = {mid, 1, 0};
    struct osw_backoff b;
    osw_backoff_init(&b, scripted, &s);
    int64_t first = osw_backoff_next_ms(&b);
    for (int i = 0; i < 10; i++)
        osw_backoff_next_ms(&b);
    assert_true(osw_backoff_nominal_ms(&b) > 1000.0);
    osw_backoff_reset(&b);
    assert_true(osw_backoff_nominal_ms(&b) == 0.0);
    assert_int_equal(osw_backoff_next_ms(&b), first);
}

static void scale_for_tests_keeps_the_shape(void **state)
{
    (void)state;
    static const double mid[] = {0.5};
    struct script s = {mid, 1, 0};
    struct osw_backoff b;
    osw_backoff_init(&b, scripted, &s);
    osw_backoff_scale(&b, 10, 40);
    assert_int_equal(osw_backoff_next_ms(&b), 10);
    assert_int_equal(osw_backoff_next_ms(&b), 20);
    assert_int_equal(osw_backoff_next_ms(&b), 40);
    assert_int_equal(osw_backoff_next_ms(&b), 40);
    /* A cap below the base is ignored. */
    osw_backoff_init(&b, scripted, &s);
    osw_backoff_scale(&b, 10, 5);
    assert_true(b.cap_ms == OSW_BACKOFF_CAP_MS);
}

static void xorshift_stays_in_unit_interval(void **state)
{
    (void)state;
    uint64_t st = 0; /* a zero state must not stick at zero */
    for (int i = 0; i < 10000; i++) {
        double r = osw_backoff_rand_xorshift(&st);
        assert_true(r >= 0.0 && r < 1.0);
    }
    assert_true(st != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nominal_sequence_follows_the_contract),
        cmocka_unit_test(every_wait_is_within_half_of_nominal),
        cmocka_unit_test(jitter_actually_varies),
        cmocka_unit_test(reset_starts_over),
        cmocka_unit_test(scale_for_tests_keeps_the_shape),
        cmocka_unit_test(xorshift_stays_in_unit_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

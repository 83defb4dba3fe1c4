/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test support: runs osw_admit() the way the tests have always called it,
 * with an OSImageStream snapshot (NULL: none cached), the default policy, no
 * cluster state, and a reader picked by index (0 fast, 1 reference), so
 * table-driven tests can loop over both readers.
 */
#ifndef OSW_TEST_ADMIT_UTIL_H
#define OSW_TEST_ADMIT_UTIL_H

#include "osw/admit.h"

enum test_reader { TEST_READER_FAST = 0, TEST_READER_JANSSON = 1 };

static inline osw_review_decode_fn test_reader_fn(int rd)
{
    return rd == TEST_READER_JANSSON ? osw_review_decode_jansson : osw_review_decode_fast;
}

static inline enum osw_err test_admit(const char *body, size_t len, const struct osw_osis *snap,
                                      enum osw_endpoint ep, int rd, struct osw_admit *a)
{
    struct osw_policy policy = osw_policy_default();
    struct osw_inputs in = {snap, true, OSW_CLUSTER_OFF, NULL, &policy};
    return osw_admit(body, len, &in, ep, test_reader_fn(rd), a);
}

/* The same with the caller's inputs (cluster state, policy). */
static inline enum osw_err test_admit_in(const char *body, size_t len, const struct osw_inputs *in,
                                         enum osw_endpoint ep, int rd, struct osw_admit *a)
{
    return osw_admit(body, len, in, ep, test_reader_fn(rd), a);
}

#endif /* OSW_TEST_ADMIT_UTIL_H */

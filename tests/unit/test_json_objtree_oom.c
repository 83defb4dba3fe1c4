/* SPDX-License-Identifier: Apache-2.0 */
/*
 * osw_objtree_decode under a failing allocator: the 1st, 2nd, ... Nth
 * allocation of a read fails in turn (a decoded key or string, the growth
 * of the kept files[] entries, every jansson allocation of the reduced
 * tree), until a read completes. Every failing read must answer OSW_ENOMEM
 * with no tree, never a tree with a member missing, and (under ASan) leak
 * nothing; the read that meets no failure gives the tree a clean read does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "osw/buf.h"
#include "osw/objtree.h"
#include "osw/review.h"
#include "../support/oom.h"

#define DIR "/etc/crio/crio.conf.d/"

/* Escaped keys and values (decoded into the reader's store), and 20 kept
 * drop-ins (the kept-entry array grows twice) among files that are not. */
static char *machineconfig(size_t *len)
{
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(osw_buf_append_cstr(&b,
                                         "{\"metadata\":{\"n\\u0061me\":\"a\\u00e9\",\"labels\":"
                                         "{\"k\":\"v\"}},\"\\u0073pec\":{\"osImageURL\":\"u\","
                                         "\"config\":{\"storage\":{\"files\":["),
                     OSW_OK);
    for (int i = 0; i < 20; i++)
        assert_int_equal(osw_buf_printf(&b,
                                        "{\"path\":\"/etc/x%d\"},{\"path\":\"\\/etc\\/crio\\/crio."
                                        "conf.d\\/%02d\",\"contents\":{\"source\":\"data:,\"}},",
                                        i, i),
                         OSW_OK);
    assert_int_equal(osw_buf_append_cstr(&b, "{\"path\":\"" DIR "z\"}]}}}}"), OSW_OK);
    *len = b.len;
    return b.data;
}

static void test_every_allocation_fails_cleanly(void **state)
{
    (void)state;
    osw_review_install_alloc_hooks();
    size_t len;
    char *mc = machineconfig(&len);
    json_t *want = NULL;
    assert_int_equal(osw_objtree_decode(mc, len, &want, NULL), OSW_OK);
    assert_int_equal(
        json_array_size(json_object_get(
            json_object_get(json_object_get(json_object_get(want, "spec"), "config"), "storage"),
            "files")),
        21);
    long n = 0;
    for (;; n++) {
        json_t *t = (json_t *)1;
        struct osw_errbuf eb;
        failed = false;
        countdown = n;
        enum osw_err err = osw_objtree_decode(mc, len, &t, &eb);
        countdown = -1;
        if (!failed) {
            assert_int_equal(err, OSW_OK);
            assert_true(json_equal(t, want));
            json_decref(t);
            break;
        }
        if (err != OSW_ENOMEM)
            fail_msg("allocation %ld failed: got %d (%s)", n, (int)err, eb.msg);
        assert_null(t);
        assert_string_equal(eb.msg, "out of memory reading an object");
    }
    print_message("%ld allocations failed in turn\n", n);
    assert_true(n > 40);
    json_decref(want);
    free(mc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

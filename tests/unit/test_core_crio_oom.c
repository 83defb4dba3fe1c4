/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runc guard's decoders under a failing allocator: the 1st, 2nd, ...
 * Nth allocation of a whole extract build (data URL, gzip with zlib's own
 * allocations, TOML with its arena and hash growth) and of runc(P) fails in
 * turn, until a run completes. Every failing run must answer OSW_ENOMEM,
 * never a wrong extract, and (under ASan) leak nothing.
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
#include "osw/crio.h"
#include "../support/oom.h"

#define DIR "/etc/crio/crio.conf.d/"
/* gzip of "[crio.runtime]\ndefault_runtime=\"runc\"" (mtime 0) */
#define RUNC_GZ "data:;base64,H4sIAAAAAAACA4tOLsrM1ysqzSvJzE2N5UpJTUsszSmJhwrYKgEZyUoABQ+A8SUAAAA="

/* A MachineConfig whose drop-ins take every allocating path: gzip, a TOML
 * document with enough keys to grow the hash and the arena, and 40 more
 * drop-ins so that runc(P) needs its heap array. */
static json_t *machineconfig(void)
{
    struct osw_buf b = OSW_BUF_INIT;
    assert_int_equal(
        osw_buf_append_cstr(&b, "{\"spec\":{\"config\":{\"storage\":{\"files\":["
                                "{\"path\":\"" DIR "a\",\"contents\":{\"source\":\"" RUNC_GZ
                                "\",\"compression\":\"gzip\"}},"
                                "{\"path\":\"" DIR "b\",\"contents\":{\"source\":\"data:,"),
        OSW_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(osw_buf_printf(&b, "k%d.x%d%%3D'v'%%0A", i, i), OSW_OK);
    assert_int_equal(osw_buf_append_cstr(&b, "%5Bcrio.runtime%5D%0Adefault_runtime%3D'crun'\"}}"),
                     OSW_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(
            osw_buf_printf(&b, ",{\"path\":\"" DIR "c%02d\",\"contents\":{\"source\":\"data:,\"}}",
                           i),
            OSW_OK);
    assert_int_equal(osw_buf_append_cstr(&b, "]}}}}"), OSW_OK);
    json_error_t jerr;
    json_t *mc = json_loads(b.data, 0, &jerr);
    if (!mc)
        fail_msg("%s", jerr.text);
    osw_buf_free(&b);
    return mc;
}

static void test_every_allocation_fails_cleanly(void **state)
{
    (void)state;
    json_t *mc = machineconfig();
    long n = 0;
    for (;; n++) {
        struct osw_crio_extract *x = NULL;
        enum osw_tri r = (enum osw_tri)77;
        failed = false;
        countdown = n;
        enum osw_err err = osw_crio_extract_build(mc, &x);
        if (err == OSW_OK) {
            const struct osw_crio_extract *two[] = {x, x};
            err = osw_crio_runc(two, 2, &r);
        }
        countdown = -1;
        if (!failed) {
            /* The run that met no failure: the real answer. */
            assert_int_equal(err, OSW_OK);
            assert_int_equal(x->count, 42);
            assert_int_equal(x->dropins[1].state, OSW_CRIO_VALUE);
            assert_memory_equal(x->dropins[1].value, "crun", 4);
            assert_int_equal(r, OSW_TRI_FALSE);
            osw_crio_extract_free(x);
            break;
        }
        if (err != OSW_ENOMEM)
            fail_msg("allocation %ld failed but the answer was %s", n, osw_err_str(err));
        if (x) /* runc(P) failed after a good build */
            assert_int_equal(r, (enum osw_tri)77);
        osw_crio_extract_free(x);
    }
    assert_true(n > 10);
    json_decref(mc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

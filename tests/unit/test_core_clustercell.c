/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster-state cell: a snapshot is handed out only with the mode
 * SYNCED, the mode travels with it, "synced once" sticks for readiness, and
 * a reader's reference outlives a later publish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "osw/clustercell.h"

static struct osw_cluster *empty_cluster(void)
{
    struct osw_cluster_builder *b = osw_cluster_builder_new();
    struct osw_cluster *c = NULL;
    assert_int_equal(osw_cluster_build(b, &c), OSW_OK);
    osw_cluster_builder_free(b);
    return c;
}

static void test_modes(void **state)
{
    (void)state;
    struct osw_clustercell cell;
    enum osw_cluster_mode m;
    osw_clustercell_init(&cell, OSW_CLUSTER_OFF);
    assert_null(osw_clustercell_acquire(&cell, &m));
    assert_int_equal(m, OSW_CLUSTER_OFF);
    osw_clustercell_publish(&cell, NULL, OSW_CLUSTER_NOT_SYNCED);
    assert_null(osw_clustercell_acquire(&cell, &m));
    assert_int_equal(m, OSW_CLUSTER_NOT_SYNCED);
    assert_false(osw_clustercell_synced_once(&cell));
    /* SYNCED without a snapshot is never handed out as SYNCED. */
    osw_clustercell_publish(&cell, NULL, OSW_CLUSTER_SYNCED);
    assert_null(osw_clustercell_acquire(&cell, &m));
    assert_int_equal(m, OSW_CLUSTER_NOT_SYNCED);
    assert_false(osw_clustercell_synced_once(&cell));

    struct osw_cluster *a = empty_cluster();
    osw_clustercell_publish(&cell, a, OSW_CLUSTER_SYNCED);
    struct osw_cluster *got = osw_clustercell_acquire(&cell, &m);
    assert_ptr_equal(got, a);
    assert_int_equal(m, OSW_CLUSTER_SYNCED);
    assert_true(osw_clustercell_synced_once(&cell));
    /* A later publish (not served) does not free what a reader holds. */
    osw_clustercell_publish(&cell, NULL, OSW_CLUSTER_NOT_SERVED);
    assert_int_equal(osw_cluster_pool_count(got), 0);
    osw_cluster_unref(got);
    assert_null(osw_clustercell_acquire(&cell, &m));
    assert_int_equal(m, OSW_CLUSTER_NOT_SERVED);
    assert_true(osw_clustercell_synced_once(&cell)); /* sticks */
    osw_clustercell_publish(&cell, empty_cluster(), OSW_CLUSTER_SYNCED);
    osw_clustercell_destroy(&cell);
    osw_clustercell_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_modes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

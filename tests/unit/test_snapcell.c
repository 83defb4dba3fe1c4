/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the snapshot cell: the single-threaded contract (empty, synced,
 * publish, empty again) and a multi-threaded stress run in which readers
 * acquire and drop snapshots while a writer publishes many. The stress test
 * asserts nothing about timing; it exists so that ASan (use after free, and
 * leaks at exit) and TSan (data races) can see the reclamation at work.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "osw/snapcell.h"

#define READERS       4
#define READ_ITERS    100000UL /* acquisitions per reader */
#define MAX_PUBLISHES 1000000  /* a bound on the writer */
#define MIN_PUBLISHES                                                                              \
    200 /* readers run at least until this many (a loaded machine                                  \
           may not schedule the writer before they finish) */

static json_t *fixture(void)
{
    json_error_t jerr;
    json_t *j = json_load_file(OSW_TEST_DATA "/osimagestream.json", 0, &jerr);
    assert_non_null(j);
    return j;
}

static struct osw_osis *make(const json_t *obj)
{
    struct osw_osis *s = NULL;
    struct osw_errbuf eb;
    assert_int_equal(osw_osis_parse(obj, &s, &eb), OSW_OK);
    return s;
}

static void test_single_thread(void **state)
{
    (void)state;
    struct osw_snapcell c;
    json_t *obj = fixture();

    osw_snapcell_init(&c);
    assert_false(osw_snapcell_synced(&c));
    assert_null(osw_snapcell_acquire(&c));

    struct osw_osis *a = make(obj);
    osw_snapcell_publish(&c, a); /* the cell owns a now */
    assert_true(osw_snapcell_synced(&c));
    struct osw_osis *got = osw_snapcell_acquire(&c);
    assert_ptr_equal(got, a);

    /* A reader's reference survives the cell moving on (ASan checks it). */
    struct osw_osis *b = make(obj);
    osw_snapcell_publish(&c, b);
    assert_int_equal(osw_osis_count(got), 2);
    assert_true(osw_str_eq_cstr(osw_osis_name(got), "cluster"));
    osw_osis_unref(got);
    got = osw_snapcell_acquire(&c);
    assert_ptr_equal(got, b);
    osw_osis_unref(got);

    /* Emptying the cache (a DELETED event) keeps it synced. */
    osw_snapcell_publish(&c, NULL);
    assert_null(osw_snapcell_acquire(&c));
    assert_true(osw_snapcell_synced(&c));

    osw_snapcell_publish(&c, make(obj));
    osw_snapcell_destroy(&c); /* drops the last snapshot: LSan checks it */
    assert_null(osw_snapcell_acquire(&c));
    osw_snapcell_destroy(NULL);
    json_decref(obj);
}

struct stress {
    struct osw_snapcell cell;
    atomic_int done;      /* readers finished */
    atomic_ulong seen;    /* non-NULL snapshots read, over all readers */
    atomic_int published; /* by the writer: readers keep going until enough overlap */
};

static void *reader(void *arg)
{
    struct stress *st = arg;
    unsigned long local = 0;
    for (unsigned long n = 0; n < READ_ITERS || atomic_load(&st->published) < MIN_PUBLISHES; n++) {
        struct osw_osis *s = osw_snapcell_acquire(&st->cell);
        if (!s)
            continue;
        /* Touch the snapshot's memory, so a premature free shows. */
        const struct osw_stream *first = osw_osis_at(s, 0);
        if (osw_osis_count(s) != 2 || !first || first->name.len != 6 ||
            memcmp(first->name.ptr, "rhel-9", 6) != 0)
            abort();
        local++;
        osw_osis_unref(s);
    }
    atomic_fetch_add(&st->seen, local);
    atomic_fetch_add(&st->done, 1);
    return NULL;
}

static void test_stress(void **state)
{
    (void)state;
    static struct stress st; /* large enough to keep off the stack */
    pthread_t th[READERS];
    json_t *obj = fixture();

    osw_snapcell_init(&st.cell);
    atomic_init(&st.done, 0);
    atomic_init(&st.seen, 0);
    atomic_init(&st.published, 0);
    osw_snapcell_publish(&st.cell, make(obj));
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, &st), 0);
    /* Publish for as long as any reader runs, so the two always overlap. */
    int published = 0;
    while (atomic_load(&st.done) < READERS && published < MAX_PUBLISHES) {
        /* Every 100th publish empties the cache, as a DELETED event does. */
        osw_snapcell_publish(&st.cell, published % 100 == 99 ? NULL : make(obj));
        published++;
        atomic_store(&st.published, published);
    }
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_true(osw_snapcell_synced(&st.cell));
    assert_true(atomic_load(&st.seen) > 0);
    assert_true(published >= MIN_PUBLISHES);
    print_message("published %d snapshots, readers held %lu\n", published,
                  (unsigned long)atomic_load(&st.seen));
    osw_snapcell_destroy(&st.cell);
    json_decref(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_thread),
        cmocka_unit_test(test_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

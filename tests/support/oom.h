/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test support: a failing allocator for the *_oom unit tests. CMakeLists.txt
 * links every test named *_oom with -Wl,--wrap=malloc,--wrap=realloc,
 * --wrap=calloc, so every allocation (the core's, and jansson's and zlib's
 * through the project's hooks) goes through the countdown below: set
 * countdown = n to fail the (n+1)th allocation from now; failed tells whether
 * one did. __real_malloc() and friends allocate past the countdown.
 * Header-only, and to be included by exactly one translation unit per test
 * executable, since it defines the __wrap_ symbols the linker wants.
 */
#ifndef OSW_TEST_OOM_H
#define OSW_TEST_OOM_H

#include <stdbool.h>
#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_calloc(size_t a, size_t b);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_calloc(size_t a, size_t b);

static long countdown = -1; /* fail when it reaches 0; -1 = never */
static bool failed;

static bool should_fail(void)
{
    if (countdown < 0)
        return false;
    if (countdown-- == 0) {
        failed = true;
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}

void *__wrap_calloc(size_t a, size_t b)
{
    return should_fail() ? NULL : __real_calloc(a, b);
}

#endif /* OSW_TEST_OOM_H */

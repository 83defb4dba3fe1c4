/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jansson allocation hooks. jansson does not tell an allocation failure from
 * a syntax error (a failed string allocation surfaces as "string or '}'
 * expected"), yet a webhook must never answer a client 400 because the
 * server ran out of memory. These hooks note the failure in a thread-local
 * flag that the readers consult when a parse fails. They are process
 * configuration, installed once at start-up by osw_review_install_alloc_hooks.
 */
#include <stdlib.h>

#include <jansson.h>

#include "osw/jalloc.h"

static _Thread_local bool alloc_failed;

static void *hooked_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        alloc_failed = true;
    return p;
}

void osw_review_install_alloc_hooks(void)
{
    json_set_alloc_funcs(hooked_malloc, free);
}

void osw_jalloc_begin(void)
{
    alloc_failed = false;
}

bool osw_jalloc_failed(void)
{
    return alloc_failed;
}

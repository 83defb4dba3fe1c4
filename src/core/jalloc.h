/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: per-thread record of jansson allocation failures (jalloc.c). */
#ifndef OSW_CORE_JALLOC_H
#define OSW_CORE_JALLOC_H

#include <stdbool.h>

#include "osw/review.h"

/* Clears this thread's failure flag before a jansson call. */
void osw_jalloc_begin(void);
/* Whether a jansson allocation failed on this thread since osw_jalloc_begin. */
bool osw_jalloc_failed(void);

#endif /* OSW_CORE_JALLOC_H */

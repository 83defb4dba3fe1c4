/* SPDX-License-Identifier: Apache-2.0 */
/* Per-thread record of jansson allocation failures (jalloc.c). */
#ifndef OSW_JALLOC_H
#define OSW_JALLOC_H

#include <stdbool.h>

#include "osw/review.h"

/* Clears this thread's failure flag before a jansson call. */
void osw_jalloc_begin(void);
/* Whether a jansson allocation failed on this thread since osw_jalloc_begin. */
bool osw_jalloc_failed(void);

#endif /* OSW_JALLOC_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz driver for the MachineConfig drop-in extract and runc(P): bytes ->
 * JSON -> extract. Besides memory errors it checks the extract's invariants
 * (paths sorted and unique under the directory, at most 256, values only
 * with VALUE and within the cut) and that merging a MachineConfig after
 * itself gives the same runc(P) as the MachineConfig alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osw/crio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct osw_crio_extract *x)
{
    if (x->count > OSW_CRIO_MAX_DROPINS || (x->undecodable && x->count))
        abort();
    for (size_t i = 0; i < x->count; i++) {
        const struct osw_crio_dropin *d = &x->dropins[i];
        if (d->path_len < strlen(OSW_CRIO_DIR) ||
            memcmp(d->path, OSW_CRIO_DIR, strlen(OSW_CRIO_DIR)) != 0)
            abort();
        if ((d->state == OSW_CRIO_VALUE) != (d->value != NULL) ||
            d->value_len > OSW_CRIO_VALUE_MAX || (d->state == OSW_CRIO_VALUE && !d->value_len))
            abort();
        if (i > 0) {
            const struct osw_crio_dropin *p = &x->dropins[i - 1];
            size_t n = p->path_len < d->path_len ? p->path_len : d->path_len;
            int c = memcmp(p->path, d->path, n);
            if (c > 0 || (c == 0 && p->path_len >= d->path_len))
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *mc = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &jerr);
    if (!mc)
        return 0;
    struct osw_crio_extract *x = NULL;
    if (osw_crio_extract_build(mc, &x) != OSW_OK || !x)
        abort();
    check(x);
    const struct osw_crio_extract *one[] = {x}, *two[] = {x, x};
    enum osw_tri a, b;
    if (osw_crio_runc(one, 1, &a) != OSW_OK || osw_crio_runc(two, 2, &b) != OSW_OK || a != b)
        abort();
    if (x->undecodable && a != OSW_TRI_UNKNOWN)
        abort();
    osw_crio_extract_free(x);
    json_decref(mc);
    return 0;
}

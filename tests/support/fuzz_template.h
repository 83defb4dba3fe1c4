/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test support for the differential fuzz drivers: runs `run` on the raw
 * input, then on the input minus its first byte spliced into one of
 * `templates` (chosen by that first byte; every '@' of the template gets the
 * payload), so that mutations reach the paths a reader extracts instead of
 * dying at the envelope. Both buffers are private copies of exactly the
 * bytes given to `run`, so ASan sees any over-read. Header-only.
 */
#ifndef OSW_TEST_FUZZ_TEMPLATE_H
#define OSW_TEST_FUZZ_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void osw_fuzz_raw_and_templates(const uint8_t *data, size_t size,
                                       const char *const *templates, size_t ntemplates,
                                       void (*run)(const char *body, size_t len))
{
    char *raw = malloc(size ? size : 1);
    if (!raw)
        return;
    raw[0] = '\0';
    if (size)
        memcpy(raw, data, size);
    run(raw, size);
    free(raw);

    if (size < 1 || size > 65536)
        return;
    const char *t = templates[data[0] % ntemplates];
    const char *payload = (const char *)data + 1;
    size_t plen = size - 1, tlen = strlen(t), n = 0;
    for (size_t i = 0; i < tlen; i++)
        n += t[i] == '@' ? plen : 1;
    char *body = malloc(n ? n : 1);
    if (!body)
        return;
    size_t o = 0;
    for (size_t i = 0; i < tlen; i++) {
        if (t[i] == '@') {
            memcpy(body + o, payload, plen);
            o += plen;
        } else {
            body[o++] = t[i];
        }
    }
    run(body, n);
    free(body);
}

#endif /* OSW_TEST_FUZZ_TEMPLATE_H */

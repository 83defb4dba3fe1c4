/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz driver for the OSImageStream path a file takes: bytes -> JSON or YAML
 * documents -> validated snapshot. Besides memory errors it checks the
 * snapshot's invariants: every stream is found by its name, the default is
 * one of them, and the count is within the contract's limit.
 */
#include <stdint.h>
#include <stdlib.h>

#include "osw/osis.h"
#include "yaml/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_invariants(const struct osw_osis *s)
{
    size_t n = osw_osis_count(s);
    if (n == 0 || n > OSW_OSIS_MAX_STREAMS)
        abort();
    for (size_t i = 0; i < n; i++) {
        const struct osw_stream *st = osw_osis_at(s, i);
        if (!st || osw_osis_find(s, st->name) != st)
            abort();
        if (!osw_str_is_dns1123_subdomain(st->name) || !osw_str_is_digest_image(st->os_image) ||
            !osw_str_is_digest_image(st->ext_image))
            abort();
    }
    if (!osw_osis_find(s, osw_osis_default(s)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct osw_errbuf eb;
    json_t *docs = NULL;

    if (osw_yaml_parse_any((const char *)data, size, &docs, &eb) != OSW_OK)
        return 0;
    for (size_t i = 0; i < json_array_size(docs); i++) {
        struct osw_osis *s = NULL;
        if (osw_osis_parse(json_array_get(docs, i), &s, &eb) == OSW_OK) {
            check_invariants(s);
            osw_osis_unref(osw_osis_ref(s));
            osw_osis_unref(s);
        }
    }
    json_decref(docs);
    return 0;
}

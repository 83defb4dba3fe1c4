/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz driver for YAML (and JSON-or-YAML) input. A modest node budget keeps
 * each run fast while still exercising the alias budget; every converted
 * document must serialise as JSON, which jansson refuses for invalid UTF-8
 * or non-finite numbers, so this also checks the conversion's output.
 */
#include <stdint.h>
#include <stdlib.h>

#include "yaml/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_docs(json_t *docs)
{
    if (!json_is_array(docs))
        abort();
    for (size_t i = 0; i < json_array_size(docs); i++) {
        json_t *d = json_array_get(docs, i);
        if (json_is_null(d))
            abort(); /* null documents are skipped */
        char *text = json_dumps(d, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!text)
            abort();
        free(text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct osw_yaml_limits lim = {20000, 64};
    struct osw_errbuf eb;
    json_t *docs = NULL;

    if (osw_yaml_parse((const char *)data, size, &lim, &docs, &eb) == OSW_OK) {
        check_docs(docs);
        json_decref(docs);
    } else if (docs) {
        abort(); /* nothing is returned on error */
    }
    if (size < 4096 && osw_yaml_parse_any((const char *)data, size, &docs, &eb) == OSW_OK) {
        /* JSON documents keep a null top level only when the input is JSON
         * `null`, which parse_any never takes as JSON. */
        json_decref(docs);
    }
    return 0;
}

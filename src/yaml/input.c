/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The choice between JSON and YAML for the bytes of people's files (reading
 * them is src/sys/fileio.c's job). JSON goes through jansson directly,
 * both because it is stricter about JSON than a YAML parser would be and so
 * that `\u0000` in strings survives (JSON_ALLOW_NUL).
 */
#include "yaml/yaml.h"

#include <stdbool.h>
#include <string.h>

/* Whether the first byte that is not whitespace starts a JSON container. */
static bool looks_like_json(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            continue;
        return ch == '{' || ch == '[';
    }
    return false;
}

enum osw_err osw_yaml_parse_any(const char *data, size_t len, json_t **docs, struct osw_errbuf *eb)
{
    *docs = NULL;
    if (!looks_like_json(data, len))
        return osw_yaml_parse(data, len, NULL, docs, eb);

    json_error_t jerr;
    json_t *doc = json_loadb(data, len, JSON_ALLOW_NUL, &jerr);
    if (!doc) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        /* YAML flow style ({kind: OSImageStream, ...}) also starts with '{'
         * but is not JSON: give YAML its turn before reporting JSON's error,
         * which is the more useful one for a file meant to be JSON. */
        if (osw_yaml_parse(data, len, NULL, docs, NULL) == OSW_OK)
            return OSW_OK;
        *docs = NULL;
        return osw_errbuf_set(eb, OSW_EINVAL, "%d:%d: %s", jerr.line, jerr.column, jerr.text);
    }
    json_t *arr = json_array();
    if (!arr || json_array_append_new(arr, doc) != 0) {
        if (!arr)
            json_decref(doc);
        json_decref(arr);
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    }
    *docs = arr;
    return OSW_OK;
}

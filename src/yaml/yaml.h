/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML and JSON input for files written by people: the OSImageStream file and
 * `check`'s manifests. YAML is parsed by libyaml (event API) and converted to
 * jansson values as Kubernetes' YAML-to-JSON conversion would, with a budget
 * against alias bombs. JSON is parsed by jansson. The result is always an
 * array of documents, so a multi-document YAML stream and a JSON file look
 * the same to callers.
 */
#ifndef OSW_YAML_YAML_H
#define OSW_YAML_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "osw/error.h"

/* Default budget: nodes produced per document (aliases count every node
 * they expand to), nodes copied by aliases over the whole stream, and
 * nesting depth (aliases included). */
#define OSW_YAML_MAX_NODES 1000000
#define OSW_YAML_MAX_DEPTH 256

struct osw_yaml_limits {
    size_t max_nodes;
    size_t max_depth;
};

/*
 * Parses a YAML stream into a new JSON array (caller owns `*docs`) holding one
 * value per document, in order. Documents that are empty or null (`---` with
 * nothing after it, only comments, `~`) are skipped, as kubectl skips them.
 *
 * Conversion rules (YAML 1.2 core schema):
 * - plain scalars: empty, `~`, null/Null/NULL -> null; true/True/TRUE,
 *   false/False/FALSE -> bool; [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+ ->
 *   integer (a real when it does not fit 64 bits); decimal floats -> real;
 *   `.inf`, `.nan` and their variants, and floats that overflow a double, are
 *   errors, because JSON has no such numbers (kubectl refuses them too);
 *   anything else -> string.
 * - quoted and block scalars are strings; an explicit `!!str` or `!` tag makes
 *   a plain scalar a string; `!!int`, `!!float`, `!!bool`, `!!null` resolve
 *   the text as a plain scalar; other tags are ignored.
 * - mapping keys must be scalars (their text becomes the key, whatever its
 *   type); a duplicate key, a collection key or an alias key is an error.
 *   `<<` is an ordinary key (YAML 1.2 has no merge keys).
 * - aliases are expanded into copies; every expanded node counts against
 *   `limits->max_nodes` (for its document, and for all alias copies of the
 *   stream together) and the depth it reaches against `max_depth`.
 *
 * `limits` may be NULL (defaults above). `data` need not be NUL-terminated.
 * Errors: OSW_EINVAL for a syntax or conversion error, OSW_ETOOBIG when a
 * limit is exceeded, OSW_ENOMEM; `eb` then reads "LINE:COLUMN: reason"
 * (1-based), so callers prefix the file name.
 */
enum osw_err osw_yaml_parse(const char *data, size_t len, const struct osw_yaml_limits *limits,
                            json_t **docs, struct osw_errbuf *eb);

/*
 * Parses `data` as JSON when its first byte that is not whitespace is `{` or
 * `[` (jansson, `\u0000` allowed in strings; one document), else as YAML with
 * osw_yaml_parse() and default limits. Returns the array of documents as
 * osw_yaml_parse() does (a JSON `null` gives an empty array). Errors as above
 * (a JSON syntax error is OSW_EINVAL, "LINE:COLUMN: reason").
 */
enum osw_err osw_yaml_parse_any(const char *data, size_t len, json_t **docs, struct osw_errbuf *eb);

#endif /* OSW_YAML_YAML_H */

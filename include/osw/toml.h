/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict reader of TOML v1.0.0 documents that answers one question: the
 * string at a key path, with keys matched ASCII-case-insensitively as the
 * MCO's decoder (BurntSushi/toml) matches struct fields. The whole document
 * is checked against the TOML grammar and its definition rules; anything
 * else makes it undecodable, never a guess. Pure: no I/O.
 */
#ifndef OSW_TOML_H
#define OSW_TOML_H

#include <stddef.h>

#include "osw/buf.h"
#include "osw/error.h"

enum osw_toml_found {
    OSW_TOML_MISSING = 0, /* a valid document without the key */
    OSW_TOML_STRING,      /* the key is a string (possibly empty) */
    OSW_TOML_UNDECODABLE, /* not TOML v1.0.0, or the path is not as required */
};

/* Deepest array or inline-table nesting accepted (the webhook's bound). */
#define OSW_TOML_MAX_DEPTH 128

/* Reads `doc` (`len` bytes of UTF-8; a leading byte-order mark is ignored)
 * and looks up `path` (`npath` >= 1 NUL-terminated ASCII keys). Every key of
 * the document that equals path[0] ignoring ASCII case, at the root, must be
 * a table; within those, every key matching path[1] likewise, and so on; a
 * key matching the last element must be a string. All such strings must be
 * equal (two spellings with different values are undecodable). Folding is
 * ASCII only; Go's EqualFold also folds U+212A to k and U+017F to s, so keep
 * those two letters out of `path` (crio.runtime.default_runtime has none).
 * *found receives the answer; on OSW_TOML_STRING the string is appended to
 * `value` (owned by the caller, freed with osw_buf_free whatever happens; it
 * may contain NUL from a \u0000 escape: use value->len).
 * Returns OSW_OK (see *found) or OSW_ENOMEM. */
enum osw_err osw_toml_lookup(const char *doc, size_t len, const char *const *path, size_t npath,
                             enum osw_toml_found *found, struct osw_buf *value);

#endif /* OSW_TOML_H */

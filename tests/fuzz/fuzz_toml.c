/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz driver for the TOML reader. Besides memory errors and stack depth it
 * checks that a found string is valid UTF-8 (decoded escapes included), that
 * a leading byte-order mark changes nothing, and that a trailing newline
 * keeps a decodable document decodable with the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osw/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const PATH[] = {"crio", "runtime", "default_runtime"};

static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], k = c < 0x80 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 9;
        if (k == 9 || n - i <= k)
            return false;
        for (unsigned j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
        }
        i += k + 1;
    }
    return true;
}

static enum osw_toml_found run(const char *doc, size_t len, struct osw_buf *v)
{
    enum osw_toml_found found;
    osw_buf_reset(v);
    if (osw_toml_lookup(doc, len, PATH, 3, &found, v) != OSW_OK)
        abort();
    if (found == OSW_TOML_STRING && !utf8_ok((const unsigned char *)v->data, v->len))
        abort();
    if (found != OSW_TOML_STRING && v->len != 0)
        abort();
    return found;
}

static bool same(const struct osw_buf *a, const struct osw_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct osw_buf v = OSW_BUF_INIT, w = OSW_BUF_INIT, doc = OSW_BUF_INIT;
    enum osw_toml_found f = run((const char *)data, size, &v);

    bool bom = size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0;
    if (!bom && osw_buf_append(&doc, "\xef\xbb\xbf", 3) == OSW_OK &&
        osw_buf_append(&doc, data, size) == OSW_OK) {
        if (run(doc.data, doc.len, &w) != f || !same(&v, &w))
            abort();
    }
    osw_buf_reset(&doc);
    if (f != OSW_TOML_UNDECODABLE && osw_buf_append(&doc, data, size) == OSW_OK &&
        osw_buf_append(&doc, "\n", 1) == OSW_OK) {
        if (run(doc.data, doc.len, &w) != f || !same(&v, &w))
            abort();
    }
    osw_buf_free(&v);
    osw_buf_free(&w);
    osw_buf_free(&doc);
    return 0;
}

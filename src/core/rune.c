/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict UTF-8 decoding and Go's notion of a printable rune. Kubernetes
 * quotes values in its messages with Go's %q; reproducing that needs the
 * same decoder (which bytes are "invalid UTF-8") and the same printable set
 * (which runes are escaped), both defined here from the Unicode tables that
 * rune_table.h holds.
 */
#include "core/rune.h"
#include "core/rune_table.h"

size_t osw_rune_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    uint32_t r, min;
    size_t n;

    *cp = OSW_RUNE_ERROR;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        r = c & 0x1Fu;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        r = c & 0x0Fu;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        r = c & 0x07u;
        min = 0x10000;
    } else {
        return 1; /* a continuation byte, C0/C1 (overlong) or F5..FF */
    }
    if (len < n)
        return 1;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0u) != 0x80u)
            return 1;
        r = (r << 6) | (s[i] & 0x3Fu);
    }
    if (r < min || r > 0x10FFFFu || (r >= 0xD800u && r <= 0xDFFFu))
        return 1;
    *cp = r;
    return n;
}

bool osw_rune_printable(uint32_t cp)
{
    size_t lo = 0, hi = sizeof(rune_print) / sizeof(rune_print[0]);

    /* Binary search for the last range starting at or before cp. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rune_print[mid][0] <= cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && cp <= rune_print[lo - 1][1];
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz driver for the watch stream: the input is fed to the line splitter in
 * pieces whose sizes come from its first byte (so libFuzzer explores where
 * events are cut), with a small line bound so oversized lines are reached,
 * and every line goes through the event decoder. Besides memory errors it
 * checks that the same input fed whole gives the same number of lines, and
 * that a decoded event's fields are consistent with its type.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/watchline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
    size_t lines;
};

static bool on_line(void *ctx, const char *line, size_t len)
{
    struct count *c = ctx;
    struct osw_watch_event ev;
    struct osw_errbuf eb;

    c->lines++;
    if (len == 0)
        abort(); /* blank lines are never handed over */
    if (osw_watchline_decode(line, len, &ev, &eb) == OSW_OK) {
        if (!ev.root || !json_is_object(ev.object))
            abort();
        if ((ev.type == OSW_WATCH_ERROR) != (ev.resource_version == NULL))
            abort();
        osw_watchline_event_free(&ev);
    } else if (ev.root != NULL) {
        abort();
    }
    return true;
}

static bool feed_all(const char *d, size_t n, size_t piece, size_t *lines)
{
    struct osw_watchline w;
    struct count c = {0};
    bool ok = true;
    osw_watchline_init(&w, 512);
    for (size_t off = 0; off < n; off += piece) {
        size_t k = n - off < piece ? n - off : piece;
        if (osw_watchline_feed(&w, d + off, k, on_line, &c, NULL) != OSW_OK)
            ok = false;
    }
    osw_watchline_free(&w);
    *lines = c.lines;
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] % 17 + 1;
    size_t a = 0, b = 0;
    bool ok_pieces = feed_all((const char *)data + 1, size - 1, piece, &a);
    bool ok_whole = feed_all((const char *)data + 1, size - 1, size, &b);
    /* Without an oversized line, how the input is cut must not matter. */
    if (ok_pieces && ok_whole && a != b)
        abort();
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential fuzz target: the MachineConfig watch's event decoder, which
 * builds only the reduced tree of an ADDED, MODIFIED or DELETED event's
 * object, against osw_watchline_decode, which parses the line whole. Every
 * line must get the same verdict and message, the same event fields and the
 * same osw_mc_extract() result (tests/support/watchevent_diff.h). Besides
 * the raw input, the input minus its first byte is put in one of a few
 * event templates (chosen by that first byte), so that mutations reach the
 * envelope's members, their order and duplicates, and the object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../support/fuzz_template.h"
#include "../support/watchevent_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MCOBJ                                                                                      \
    "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"7\"},\"spec\":{\"osImageURL\":\"u\","     \
    "\"config\":{\"storage\":{\"files\":[{\"path\":\"/etc/crio/crio.conf.d/a\",\"contents\":{"     \
    "\"source\":\"data:,%5Bcrio.runtime%5D%0Adefault_runtime%3D%22runc%22\"}}]}}}}"

/* '@' marks where the payload goes (every '@' gets it). */
static const char *const templates[] = {
    "@",
    "{\"type\":@,\"object\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\",\"object\":@}",
    "{\"object\":@,\"type\":\"ADDED\"}",
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":@}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"},"
    "\"spec\":@}}",
    "{\"type\":\"MODIFIED\",@,\"object\":" MCOBJ "}",
    "{\"type\":\"MODIFIED\",\"object\":" MCOBJ ",@}",
    "{@}",
    "{\"type\":\"ERROR\",\"object\":@}",
    "{\"type\":\"BOOKMARK\",\"object\":@}",
};

#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

static void run(const char *d, size_t n)
{
    const char *w = watchevent_diff(d, n);
    if (w) {
        fprintf(stderr, "MachineConfig event decoder differs from osw_watchline_decode: %s\n", w);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    osw_fuzz_raw_and_templates(data, size, templates, NTEMPLATES, run);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential fuzz target: osw_objtree_decode, the reader of the cluster
 * cache's MachineConfig list elements, against json_loadb of the whole
 * element as the List page reader parses it without a decoder. The verdicts
 * must agree (but that a raw NUL byte is refused everywhere, objtree.h) and
 * osw_mc_extract must give the same extract, field by field, from the
 * reduced tree as from the whole object; the tree must equal the jansson
 * reference reader's object_tree (tests/support/objtree_diff.h). Besides
 * the raw input, the input minus its first byte is put in one of a few
 * MachineConfig templates (chosen by that first byte), so that mutations
 * reach metadata, spec and the Ignition's file entries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/fuzz_template.h"
#include "../support/objtree_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CRIO          "\"/etc/crio/crio.conf.d/"
#define FILE_ENTRY(c) "{\"path\":" CRIO "a\",\"contents\":" c "}"
#define RUNC_PCT      "\"data:,%5Bcrio.runtime%5D%0Adefault_runtime%3D%22runc%22\""

/* '@' marks where the payload goes (every '@' gets it). */
static const char *const templates[] = {
    "@",
    "{\"metadata\":@,\"spec\":{\"config\":{\"storage\":{\"files\":[" FILE_ENTRY(
        "{\"source\":\"data:,x\"}") "]}}}}",
    "{\"metadata\":{\"name\":\"a\",\"labels\":@,\"annotations\":@},\"spec\":{}}",
    "{\"spec\":@}",
    "{\"spec\":{\"osImageURL\":\"u\",\"config\":@}}",
    "{\"spec\":{\"config\":{\"storage\":@}}}",
    "{\"spec\":{\"config\":{\"storage\":{\"files\":@}}}}",
    "{\"spec\":{\"config\":{\"storage\":{\"files\":[@," FILE_ENTRY(
        "{\"source\":\"data:,\"}") "]}}}}",
    "{\"spec\":{\"config\":{\"storage\":{\"files\":[" FILE_ENTRY("@") "]}}}}",
    "{\"spec\":{\"config\":{\"storage\":{\"files\":[{@}]}}}}",
    "{\"spec\":{\"config\":{\"storage\":{\"files\":[{\"path\":@,\"contents\":{\"source\":" RUNC_PCT
    "}}]}}}}",
    "{@}",
    "{\"metadata\":{\"name\":\"a\"},@,\"spec\":{\"config\":{\"storage\":{\"files\":[]}}}}",
};

#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

static void run(const char *d, size_t n)
{
    const char *w = objtree_diff(d, n);
    if (w) {
        fprintf(stderr, "objtree differs from json_loadb: %s\n", w);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    osw_fuzz_raw_and_templates(data, size, templates, NTEMPLATES, run);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The whole request path as the server runs it: any bytes through
 * osw_admit() on both endpoints, with and without a snapshot, with both
 * readers. Invariants: no crash; the two readers give the same status and,
 * for 200, the same bytes; a 200 is a valid AdmissionReview whose uid is the
 * request's, a denial carries a status, a patch is base64 of a JSON array,
 * warnings are short and printable; a 400 reason is one line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "osw/admit.h"
#include "../support/admit_util.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static const char osis[] =
    "{\"apiVersion\":\"machineconfiguration.openshift.io/v1\",\"kind\":\"OSImageStream\","
    "\"metadata\":{\"name\":\"cluster\"},\"status\":{\"defaultStream\":\"rhel-9\","
    "\"availableStreams\":[{\"name\":\"rhel-9\",\"osImage\":\"quay.io/a/b@sha256:"
    "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2\",\"osExtensionsImage\":"
    "\"quay.io/a/c@sha256:a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2\"},"
    "{\"name\":\"rhel-10\",\"osImage\":\"quay.io/a/d@sha256:"
    "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2\",\"osExtensionsImage\":"
    "\"quay.io/a/e@sha256:a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2\"}]}}";

static struct osw_osis *snapshot(void)
{
    static struct osw_osis *s; /* built once per fuzzing process */
    if (!s) {
        json_t *j = json_loads(osis, 0, NULL);
        CHECK(j && osw_osis_parse(j, &s, NULL) == OSW_OK);
        json_decref(j);
    }
    return s;
}

static void check_response(const struct osw_admit *a, const struct osw_review *req)
{
    json_t *r = json_loadb(a->body.data, a->body.len, JSON_ALLOW_NUL, NULL);
    CHECK(r);
    json_t *resp = json_object_get(r, "response");
    json_t *uid = json_object_get(resp, "uid");
    CHECK(json_is_string(uid) && json_string_length(uid) == req->uid.len &&
          memcmp(json_string_value(uid), req->uid.ptr, req->uid.len) == 0);
    json_t *allowed = json_object_get(resp, "allowed");
    CHECK(json_is_boolean(allowed));
    if (json_is_false(allowed))
        CHECK(json_is_integer(json_object_get(json_object_get(resp, "status"), "code")));
    json_t *patch = json_object_get(resp, "patch");
    if (patch) {
        const char *b64 = json_string_value(patch);
        size_t n = strlen(b64);
        unsigned char *dec = malloc(n + 1);
        int m = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
        CHECK(m > 0);
        while (m > 0 && dec[m - 1] == '\0') /* padding */
            m--;
        json_t *ops = json_loadb((const char *)dec, (size_t)m, 0, NULL);
        CHECK(json_is_array(ops) && json_array_size(ops) > 0);
        json_decref(ops);
        free(dec);
    }
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(resp, "warnings"), i, w)
    {
        const char *s = json_string_value(w);
        CHECK(s && strlen(s) < 120);
        for (const char *p = s; *p; p++)
            CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    }
    json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    for (int s = 0; s < 2; s++) {
        for (int ep = 0; ep < 2; ep++) {
            struct osw_admit a[2];
            for (int rd = 0; rd < 2; rd++) {
                osw_admit_init(&a[rd]);
                CHECK(test_admit(body, size, s ? snapshot() : NULL, (enum osw_endpoint)ep, rd,
                                 &a[rd]) == OSW_OK);
            }
            CHECK(a[0].http_status == a[1].http_status);
            if (a[0].http_status == 200) {
                CHECK(a[0].body.len == a[1].body.len &&
                      memcmp(a[0].body.data, a[1].body.data, a[0].body.len) == 0);
                check_response(&a[0], &a[0].review);
            } else {
                CHECK(a[0].http_status == 400);
                CHECK(memchr(a[0].body.data, '\n', a[0].body.len) ==
                      a[0].body.data + a[0].body.len - 1);
            }
            osw_admit_reset(&a[0], false);
            osw_admit_reset(&a[1], false);
        }
    }
    return 0;
}

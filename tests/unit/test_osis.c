/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of OSImageStream validation and the snapshot built from it: the
 * fixtures are accepted, every rule of CONTRACT.md's cache section refuses
 * what it should with a reason naming the field, and the snapshot owns its
 * strings (it outlives the JSON it came from).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "osw/osis.h"

#define IMG9                                                                                       \
    "quay.io/openshift-release-dev/"                                                               \
    "ocp-v4.0-art-dev@sha256:a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2"
#define EXT9                                                                                       \
    "quay.io/openshift-release-dev/"                                                               \
    "ocp-v4.0-art-dev@sha256:f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8"
#define IMG10                                                                                      \
    "quay.io/openshift-release-dev/"                                                               \
    "ocp-v4.0-art-dev@sha256:1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b"

static json_t *load_fixture(void)
{
    json_error_t jerr;
    json_t *j = json_load_file(OSW_TEST_DATA "/osimagestream.json", 0, &jerr);
    assert_non_null(j);
    return j;
}

static json_t *stream_at(json_t *obj, size_t i)
{
    return json_array_get(json_object_get(json_object_get(obj, "status"), "availableStreams"), i);
}

/* Parses `obj` (consumed) expecting failure; checks the reason contains
 * every one of the NULL-terminated substrings. */
static void expect_bad(json_t *obj, ...)
{
    struct osw_errbuf eb;
    struct osw_osis *s = (struct osw_osis *)1;
    eb.msg[0] = '\0';
    assert_int_equal(osw_osis_parse(obj, &s, &eb), OSW_EBADOBJ);
    assert_null(s);
    assert_null(strchr(eb.msg, '\n'));
    va_list ap;
    va_start(ap, obj);
    for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *)) {
        if (!strstr(eb.msg, want))
            fail_msg("reason \"%s\" lacks \"%s\"", eb.msg, want);
    }
    va_end(ap);
    json_decref(obj);
}

static struct osw_osis *expect_ok(json_t *obj)
{
    struct osw_errbuf eb;
    struct osw_osis *s = NULL;
    eb.msg[0] = '\0';
    enum osw_err err = osw_osis_parse(obj, &s, &eb);
    if (err != OSW_OK)
        fail_msg("parse failed: %s", eb.msg);
    assert_non_null(s);
    return s;
}

static void test_fixture_accepted(void **state)
{
    (void)state;
    json_t *obj = load_fixture();
    struct osw_osis *s = expect_ok(obj);
    /* The snapshot owns copies: the JSON can go away. */
    json_decref(obj);

    assert_int_equal(osw_osis_count(s), 2);
    assert_true(osw_str_eq_cstr(osw_osis_at(s, 0)->name, "rhel-9"));
    assert_true(osw_str_eq_cstr(osw_osis_at(s, 0)->os_image, IMG9));
    assert_true(osw_str_eq_cstr(osw_osis_at(s, 0)->ext_image, EXT9));
    assert_true(osw_str_eq_cstr(osw_osis_at(s, 1)->name, "rhel-10"));
    assert_null(osw_osis_at(s, 2));
    const struct osw_stream *st = osw_osis_find(s, OSW_STR_LIT("rhel-10"));
    assert_non_null(st);
    assert_true(osw_str_eq_cstr(st->os_image, IMG10));
    assert_null(osw_osis_find(s, OSW_STR_LIT("rhel-8")));
    assert_null(osw_osis_find(s, OSW_STR_LIT("rhel-1")));
    assert_true(osw_str_eq_cstr(osw_osis_default(s), "rhel-9"));
    assert_true(osw_str_eq_cstr(osw_osis_name(s), "cluster"));
    assert_true(osw_str_eq_cstr(osw_osis_resource_version(s), "48213"));

    /* References: two refs, two unrefs (ASan catches a double free). */
    assert_ptr_equal(osw_osis_ref(s), s);
    osw_osis_unref(s);
    osw_osis_unref(s);
}

static void test_null_safe(void **state)
{
    (void)state;
    assert_null(osw_osis_ref(NULL));
    osw_osis_unref(NULL);
    assert_int_equal(osw_osis_count(NULL), 0);
    assert_null(osw_osis_at(NULL, 0));
    assert_null(osw_osis_find(NULL, OSW_STR_LIT("rhel-9")));
    assert_int_equal(osw_osis_default(NULL).len, 0);
    assert_int_equal(osw_osis_name(NULL).len, 0);
    assert_int_equal(osw_osis_resource_version(NULL).len, 0);
}

static void test_v1alpha1_and_no_metadata(void **state)
{
    (void)state;
    json_t *obj = load_fixture();
    json_object_set_new(obj, "apiVersion",
                        json_string("machineconfiguration.openshift.io/v1alpha1"));
    json_object_del(obj, "metadata");
    struct osw_osis *s = expect_ok(obj);
    assert_int_equal(osw_osis_name(s).len, 0);
    assert_int_equal(osw_osis_resource_version(s).len, 0);
    osw_osis_unref(s);
    json_decref(obj);
}

static void test_type_meta(void **state)
{
    (void)state;
    json_t *o;

    expect_bad(json_array(), "OSImageStream", "object", NULL);
    o = load_fixture();
    json_object_del(o, "apiVersion");
    expect_bad(o, "apiVersion: Required value", NULL);
    o = load_fixture();
    json_object_set_new(o, "apiVersion", json_integer(1));
    expect_bad(o, "apiVersion: must be a string", NULL);
    o = load_fixture();
    json_object_set_new(o, "apiVersion", json_string("machineconfiguration.openshift.io/v2"));
    expect_bad(o, "apiVersion: \"machineconfiguration.openshift.io/v2\" is not", NULL);
    o = load_fixture();
    json_object_set_new(o, "apiVersion", json_string("v1"));
    expect_bad(o, "apiVersion: \"v1\"", NULL);
    o = load_fixture();
    json_object_set_new(o, "kind", json_string("MachineConfigPool"));
    expect_bad(o, "kind: \"MachineConfigPool\" is not OSImageStream", NULL);
    o = load_fixture();
    json_object_del(o, "kind");
    expect_bad(o, "kind: Required value", NULL);
}

static void test_metadata(void **state)
{
    (void)state;
    json_t *o = load_fixture();
    json_object_set_new(o, "metadata", json_string("x"));
    expect_bad(o, "metadata: must be an object, not a string", NULL);
    o = load_fixture();
    json_object_set_new(json_object_get(o, "metadata"), "name", json_integer(3));
    expect_bad(o, "metadata.name: must be a string, not a number", NULL);
    o = load_fixture();
    json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_true());
    expect_bad(o, "metadata.resourceVersion: must be a string, not a boolean", NULL);
}

static void test_status_shape(void **state)
{
    (void)state;
    json_t *o = load_fixture();
    json_object_del(o, "status");
    expect_bad(o, "status: Required value", NULL);
    o = load_fixture();
    json_object_set_new(o, "status", json_null());
    expect_bad(o, "status: must be an object, not null", NULL);
    o = load_fixture();
    json_object_del(json_object_get(o, "status"), "availableStreams");
    expect_bad(o, "status.availableStreams: Required value", NULL);
    o = load_fixture();
    json_object_set_new(json_object_get(o, "status"), "availableStreams", json_object());
    expect_bad(o, "status.availableStreams: must be an array, not an object", NULL);
    o = load_fixture();
    json_array_clear(json_object_get(json_object_get(o, "status"), "availableStreams"));
    expect_bad(o, "status.availableStreams: Required value", "at least one", NULL);
    o = load_fixture();
    json_array_set_new(json_object_get(json_object_get(o, "status"), "availableStreams"), 1,
                       json_string("rhel-10"));
    expect_bad(o, "status.availableStreams[1]: must be an object, not a string", NULL);
}

/* n streams s0..s(n-1), default s0. */
static json_t *with_streams(size_t n)
{
    json_t *o = load_fixture();
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "s%zu", i);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", name, "osImage", IMG9,
                                             "osExtensionsImage", EXT9));
    }
    json_t *status = json_object_get(o, "status");
    json_object_set_new(status, "availableStreams", arr);
    json_object_set_new(status, "defaultStream", json_string("s0"));
    return o;
}

static void test_stream_count_limit(void **state)
{
    (void)state;
    json_t *o = with_streams(OSW_OSIS_MAX_STREAMS);
    struct osw_osis *s = expect_ok(o);
    assert_int_equal(osw_osis_count(s), OSW_OSIS_MAX_STREAMS);
    assert_non_null(osw_osis_find(s, OSW_STR_LIT("s99")));
    assert_true(osw_str_eq_cstr(osw_osis_at(s, 99)->name, "s99"));
    osw_osis_unref(s);
    json_decref(o);
    expect_bad(with_streams(OSW_OSIS_MAX_STREAMS + 1), "status.availableStreams: Too many", "101",
               NULL);
}

static void test_stream_names(void **state)
{
    (void)state;
    json_t *o = load_fixture();
    json_object_del(stream_at(o, 1), "name");
    expect_bad(o, "status.availableStreams[1].name: Required value", NULL);
    o = load_fixture();
    json_object_set_new(stream_at(o, 0), "name", json_integer(9));
    expect_bad(o, "status.availableStreams[0].name: must be a string", NULL);
    o = load_fixture();
    json_object_set_new(stream_at(o, 1), "name", json_string(""));
    expect_bad(o, "status.availableStreams[1].name: Required value", NULL);
    o = load_fixture();
    json_object_set_new(stream_at(o, 1), "name", json_string("RHEL-10"));
    expect_bad(o, "status.availableStreams[1].name: \"RHEL-10\" is not a DNS-1123 subdomain", NULL);
    o = load_fixture();
    json_object_set_new(stream_at(o, 1), "name", json_string("rhel..10"));
    expect_bad(o, "[1].name: \"rhel..10\" is not a DNS-1123", NULL);
    /* A NUL inside a name is simply invalid, and shows escaped. */
    o = load_fixture();
    json_object_set_new(stream_at(o, 1), "name", json_stringn("rhel\0-10", 8));
    expect_bad(o, "[1].name: \"rhel\\x00-10\" is not a DNS-1123", NULL);
    o = load_fixture();
    json_object_set_new(stream_at(o, 1), "name", json_string("rhel-9"));
    expect_bad(o, "status.availableStreams[1].name: Duplicate value: \"rhel-9\"",
               "availableStreams[0]", NULL);
    /* 254 characters: too long for a subdomain. */
    char longname[255];
    memset(longname, 'a', 254);
    longname[254] = '\0';
    o = load_fixture();
    json_object_set_new(stream_at(o, 1), "name", json_string(longname));
    expect_bad(o, "[1].name: \"aaaa", "a\"... is not a DNS-1123", NULL);
}

static void test_images(void **state)
{
    (void)state;
    json_t *o = load_fixture();
    json_object_set_new(stream_at(o, 1), "osImage", json_string("foo"));
    expect_bad(o, "status.availableStreams[1].osImage: \"foo\" is not a digest pull spec", NULL);
    o = load_fixture();
    json_object_set_new(stream_at(o, 0), "osExtensionsImage",
                        json_string("quay.io/openshift/ext:latest"));
    expect_bad(o, "status.availableStreams[0].osExtensionsImage: \"quay.io/openshift/ext:latest\"",
               "digest", NULL);
    o = load_fixture();
    json_object_set_new(
        stream_at(o, 0), "osImage",
        json_string("quay.io/x@sha256:A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6E7F8A9B0C1D2E3F"
                    "4A5B6C7D8E9F0A1B2"));
    expect_bad(o, "[0].osImage:", "digest", NULL);
    o = load_fixture();
    json_object_del(stream_at(o, 0), "osExtensionsImage");
    expect_bad(o, "status.availableStreams[0].osExtensionsImage: Required value", NULL);
    o = load_fixture();
    json_object_set_new(stream_at(o, 1), "osImage", json_null());
    expect_bad(o, "status.availableStreams[1].osImage: must be a string, not null", NULL);

    /* 447 characters is the limit; 448 is refused. */
    const char *tail = "/n@sha256:a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2";
    char img[OSW_IMAGE_MAX_LEN + 2];
    size_t host = OSW_IMAGE_MAX_LEN - strlen(tail);
    memset(img, 'h', host);
    memcpy(img + host, tail, strlen(tail) + 1);
    assert_int_equal(strlen(img), OSW_IMAGE_MAX_LEN);
    o = load_fixture();
    json_object_set_new(stream_at(o, 1), "osImage", json_string(img));
    struct osw_osis *s = expect_ok(o);
    assert_int_equal(osw_osis_at(s, 1)->os_image.len, OSW_IMAGE_MAX_LEN);
    osw_osis_unref(s);
    json_decref(o);
    memset(img, 'h', host + 1);
    memcpy(img + host + 1, tail, strlen(tail) + 1);
    o = load_fixture();
    json_object_set_new(stream_at(o, 1), "osImage", json_string(img));
    expect_bad(o, "status.availableStreams[1].osImage:", "longer than 447", NULL);
}

static void test_default_stream(void **state)
{
    (void)state;
    json_t *o = load_fixture();
    json_object_set_new(json_object_get(o, "status"), "defaultStream", json_string("rhel-8"));
    expect_bad(o, "status.defaultStream: \"rhel-8\" is not one of the available streams", NULL);
    o = load_fixture();
    json_object_del(json_object_get(o, "status"), "defaultStream");
    expect_bad(o, "status.defaultStream: Required value", NULL);
    o = load_fixture();
    json_object_set_new(json_object_get(o, "status"), "defaultStream", json_integer(9));
    expect_bad(o, "status.defaultStream: must be a string", NULL);
    /* A hostile value is escaped and cut: the reason stays one short line. */
    o = load_fixture();
    json_object_set_new(json_object_get(o, "status"), "defaultStream",
                        json_string("bad\nline\"quote\\"));
    expect_bad(o, "\"bad\\x0aline\\\"quote\\\\\"", NULL);
    char big[4000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    o = load_fixture();
    json_object_set_new(json_object_get(o, "status"), "defaultStream", json_string(big));
    struct osw_errbuf eb;
    struct osw_osis *s = NULL;
    assert_int_equal(osw_osis_parse(o, &s, &eb), OSW_EBADOBJ);
    assert_true(strlen(eb.msg) < 200);
    assert_non_null(strstr(eb.msg, "x\"... is not one of the available streams"));
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_accepted),
        cmocka_unit_test(test_null_safe),
        cmocka_unit_test(test_v1alpha1_and_no_metadata),
        cmocka_unit_test(test_type_meta),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_status_shape),
        cmocka_unit_test(test_stream_count_limit),
        cmocka_unit_test(test_stream_names),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_default_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

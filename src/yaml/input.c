/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading people's files: the bytes of a file or stream (bounded), and the
 * choice between JSON and YAML for them. JSON goes through jansson directly,
 * both because it is stricter about JSON than a YAML parser would be and so
 * that `\u0000` in strings survives (JSON_ALLOW_NUL).
 */
#include "yaml/yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum osw_err osw_yaml_read_fd(int fd, size_t max, char **data, size_t *len, struct osw_errbuf *eb)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    enum osw_err err = OSW_OK;

    *data = NULL;
    *len = 0;
    for (;;) {
        if (cap - n < 2) {
            /* Never more than max + 2: one byte over `max` tells "too big",
             * one more is for the NUL. Once cap is max + 2, n > max has
             * already stopped the loop before we get here again. */
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > max + 2)
                ncap = max + 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = osw_errbuf_set(eb, OSW_EIO, "%s", strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            err = osw_errbuf_set(eb, OSW_ETOOBIG, "larger than %zu bytes", max);
            goto out;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    return err;
}

enum osw_err osw_yaml_read_file(const char *path, size_t max, char **data, size_t *len,
                                struct osw_errbuf *eb)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return osw_errbuf_set(eb, OSW_EIO, "%s", strerror(errno));
    enum osw_err err = osw_yaml_read_fd(fd, max, data, len, eb);
    close(fd);
    return err;
}

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

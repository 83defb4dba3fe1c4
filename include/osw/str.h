/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Length-delimited string slices. JSON strings may contain NUL (`\u0000`), so
 * every string that came from a request is a (pointer, length) pair and is
 * never handed to a C string function. A slice never owns its bytes: the
 * struct that holds it says who does.
 */
#ifndef OSW_STR_H
#define OSW_STR_H

#include <stdbool.h>
#include <stddef.h>

struct osw_str {
    const char *ptr; /* may be NULL when len == 0 */
    size_t len;
};

#define OSW_STR_LIT(s) ((struct osw_str){(s), sizeof(s) - 1})
#define OSW_STR_NULL   ((struct osw_str){NULL, 0})

/* Slice of a NUL-terminated string (NULL gives the empty slice). */
struct osw_str osw_str_from_cstr(const char *s);

/* Byte equality. */
bool osw_str_eq(struct osw_str a, struct osw_str b);
bool osw_str_eq_cstr(struct osw_str a, const char *c);

/* Byte order (a shorter prefix first): negative, zero or positive. */
int osw_str_cmp(struct osw_str a, struct osw_str b);

/* The value of a hexadecimal digit (either case), or -1. */
int osw_hex_digit(unsigned char c);

/* Kubernetes' IsDNS1123Subdomain: at most 253 bytes of dot-separated labels
 * of [a-z0-9-], each label starting and ending with [a-z0-9]. */
bool osw_str_is_dns1123_subdomain(struct osw_str s);

/* The contract's image pull spec: host[:port](/component)+@sha256:<64 hex>,
 * at most 447 bytes (the exact regular expression is in CONTRACT.md). */
bool osw_str_is_digest_image(struct osw_str s);

#endif /* OSW_STR_H */

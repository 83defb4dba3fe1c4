/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command-line flags as a table. Each command describes its flags once; the
 * same table parses `--name value` / `--name=value`, fills plain settings
 * fields, reads `OSSTREAM_<NAME>` environment fallbacks (a flag wins over its
 * variable), and prints `--help`. Parsing lives here, in the CLI layer:
 * nothing below main reads argv or the environment.
 */
#ifndef OSW_CLI_FLAGS_H
#define OSW_CLI_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum osw_flag_kind {
    OSW_FLAG_STRING,   /* dest: const char ** (points into argv/environ) */
    OSW_FLAG_LIST,     /* dest: struct osw_strlist * (repeatable) */
    OSW_FLAG_BOOL,     /* dest: bool * ; takes no value (`--x=true|false` allowed) */
    OSW_FLAG_DURATION, /* dest: long long * milliseconds; Go syntax: 500ms, 2s, 1m30s */
    OSW_FLAG_SIZE,     /* dest: unsigned long long * ; plain decimal bytes */
    OSW_FLAG_CHOICE,   /* dest: const char ** ; one of the '|'-separated values in metavar */
};

struct osw_strlist {
    const char **items; /* owned array (not the strings: those are argv's) */
    size_t len;
};

void osw_strlist_free(struct osw_strlist *l);

struct osw_flag {
    const char *name; /* without the leading "--" */
    enum osw_flag_kind kind;
    void *dest;
    const char *metavar; /* e.g. "FILE"; NULL for BOOL */
    const char *help;    /* one line; mention the default */
    bool env;            /* also settable as OSSTREAM_<NAME> */
};

struct osw_command_spec {
    const char *name;    /* "serve" */
    const char *usage;   /* "serve [flags]" */
    const char *summary; /* one line */
    const struct osw_flag *flags;
    size_t nflags;
    size_t max_positional; /* SIZE_MAX: any number */
    /* Set these two with designated initializers (`.exit_codes = ...`). */
    const char *exit_codes; /* "Exit status" lines for --help ("  0  ...\n"); NULL: none */
    /* One-letter aliases: "R=recursive" gives -R for --recursive; several
     * separated by spaces. NULL: none. */
    const char *short_aliases;
};

/* Environment lookup (getenv in production, a table in tests). */
typedef const char *(*osw_getenv_fn)(const char *name);

enum osw_flags_result {
    OSW_FLAGS_OK = 0,    /* parsed */
    OSW_FLAGS_HELP = 1,  /* --help printed to `out`: exit 0 */
    OSW_FLAGS_ERROR = 2, /* one-line error printed to `err`: exit 2 */
};

/*
 * Parses argv[1..argc-1] (argv[0] is the command name) against `spec`.
 * Positional arguments (and everything after "--") are collected into
 * `positional` (items point into argv; the caller frees the list). A lone "-"
 * is positional. `getenv_fn` may be NULL (no environment fallback).
 */
enum osw_flags_result osw_flags_parse(const struct osw_command_spec *spec, int argc, char **argv,
                                      struct osw_strlist *positional, osw_getenv_fn getenv_fn,
                                      FILE *out, FILE *err);

/* Prints the command's help (usage, summary, one line per flag as --name,
 * then the exit codes). */
void osw_flags_print_help(const struct osw_command_spec *spec, FILE *out);

/* Where flag `name`'s value came from, for messages about a value that
 * parsed but is not acceptable: "--name" when argv (before "--") sets it,
 * else its variable "OSSTREAM_NAME". Writes into `buf` (cut to `cap`). */
void osw_flags_origin(const char *name, int argc, char *const *argv, char *buf, size_t cap);

/* Parses a Go-style duration ("0", "500ms", "2s", "1m", "1h30m", "1.5s")
 * into milliseconds; false when malformed or out of range. */
bool osw_flags_parse_duration(const char *s, long long *ms);

#endif /* OSW_CLI_FLAGS_H */

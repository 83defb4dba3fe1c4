/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Table-driven flag parsing for every subcommand: `--name value` and
 * `--name=value`, repeatable list flags, booleans, Go durations and sizes,
 * and OSSTREAM_<NAME> environment fallbacks. Errors are one line on `err`
 * and map to exit status 2 in the caller.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/flags.h"

void osw_strlist_free(struct osw_strlist *l)
{
    if (!l)
        return;
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

static bool strlist_push(struct osw_strlist *l, const char *s)
{
    if (l->len >= SIZE_MAX / sizeof(*l->items) - 1)
        return false;
    const char **n = realloc(l->items, (l->len + 1) * sizeof(*n));
    if (!n)
        return false;
    n[l->len++] = s;
    l->items = n;
    return true;
}

/* One duration unit; Go accepts these (µs spelled "us" only here). */
static bool unit_ms(const char *u, size_t n, double *ms)
{
    static const struct {
        const char *name;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"ms", 1.0}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0) {
            *ms = units[i].ms;
            return true;
        }
    }
    return false;
}

bool osw_flags_parse_duration(const char *s, long long *ms)
{
    if (!s || !*s)
        return false;
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return true;
    }
    double total = 0;
    const char *p = s;
    while (*p) {
        const char *num = p;
        while (isdigit((unsigned char)*p) || *p == '.')
            p++;
        if (p == num)
            return false;
        char *end;
        errno = 0;
        double v = strtod(num, &end);
        if (end != p || errno != 0)
            return false;
        const char *u = p;
        while (*p && !isdigit((unsigned char)*p) && *p != '.')
            p++;
        double mult;
        if (!unit_ms(u, (size_t)(p - u), &mult))
            return false;
        total += v * mult;
        if (!isfinite(total) || total > 1e15)
            return false;
    }
    *ms = (long long)llround(total);
    return true;
}

static bool parse_size(const char *s, unsigned long long *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* Whether `value` is one of the '|'-separated words of `choices`. */
static bool is_choice(const char *value, const char *choices)
{
    size_t n = strlen(value);
    if (choices == NULL)
        return false;
    for (const char *p = choices; *p != '\0';) {
        const char *end = strchr(p, '|');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, value, n) == 0)
            return true;
        p += len + (end != NULL ? 1 : 0);
    }
    return false;
}

static const struct osw_flag *find_flag(const struct osw_command_spec *spec, const char *name,
                                        size_t n)
{
    for (size_t i = 0; i < spec->nflags; i++) {
        const char *f = spec->flags[i].name;
        if (strlen(f) == n && memcmp(f, name, n) == 0)
            return &spec->flags[i];
    }
    return NULL;
}

/* Stores `value` into the flag's destination; false with a message on `err`. */
static bool assign(const struct osw_command_spec *spec, const struct osw_flag *f, const char *value,
                   const char *origin, FILE *err)
{
    bool ok = true;
    switch (f->kind) {
    case OSW_FLAG_STRING:
        *(const char **)f->dest = value;
        break;
    case OSW_FLAG_LIST:
        if (!strlist_push((struct osw_strlist *)f->dest, value)) {
            fprintf(err, "osstream-webhook %s: out of memory\n", spec->name);
            return false;
        }
        break;
    case OSW_FLAG_BOOL:
        ok = parse_bool(value, (bool *)f->dest);
        break;
    case OSW_FLAG_DURATION:
        ok = osw_flags_parse_duration(value, (long long *)f->dest);
        break;
    case OSW_FLAG_SIZE:
        ok = parse_size(value, (unsigned long long *)f->dest);
        break;
    case OSW_FLAG_CHOICE:
        ok = is_choice(value, f->metavar);
        if (ok)
            *(const char **)f->dest = value;
        break;
    }
    if (!ok) {
        /* Say what would have been accepted, naming where the value came
         * from (the flag, or the OSSTREAM_* variable). */
        const char *what = "is not valid";
        switch (f->kind) {
        case OSW_FLAG_BOOL:
            what = "is not a boolean; use true or false";
            break;
        case OSW_FLAG_DURATION:
            what = "is not a duration; use a number and a unit, e.g. 5s, 500ms or 1m";
            break;
        case OSW_FLAG_SIZE:
            what = "is not a size; use a whole number of bytes, e.g. 4194304";
            break;
        case OSW_FLAG_CHOICE:
            fprintf(err, "osstream-webhook %s: %s: \"%s\" is not one of %s\n", spec->name, origin,
                    value, f->metavar);
            return false;
        default:
            break;
        }
        fprintf(err, "osstream-webhook %s: %s: \"%s\" %s\n", spec->name, origin, value, what);
    }
    return ok;
}

/* OSSTREAM_ + upper-case name with '-' as '_'. */
static void env_name(const char *flag, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "OSSTREAM_");
    for (const char *p = flag; *p && n + 1 < cap; p++)
        out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

static bool apply_env(const struct osw_command_spec *spec, const bool *seen,
                      osw_getenv_fn getenv_fn, FILE *err)
{
    if (!getenv_fn)
        return true;
    for (size_t i = 0; i < spec->nflags; i++) {
        const struct osw_flag *f = &spec->flags[i];
        if (!f->env || seen[i])
            continue;
        char name[128];
        env_name(f->name, name, sizeof(name));
        const char *v = getenv_fn(name);
        if (v && !assign(spec, f, v, name, err))
            return false;
    }
    return true;
}

/* The flag that "-c" stands for (spec->short_aliases), or NULL. */
static const struct osw_flag *find_short(const struct osw_command_spec *spec, char c)
{
    if (spec->short_aliases == NULL)
        return NULL;
    for (const char *p = spec->short_aliases; *p != '\0';) {
        const char *end = strchr(p, ' ');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 2 && p[0] == c && p[1] == '=')
            return find_flag(spec, p + 2, len - 2);
        p += len;
        while (*p == ' ')
            p++;
    }
    return NULL;
}

/* The one-letter alias of `f`, or 0. */
static char short_of(const struct osw_command_spec *spec, const struct osw_flag *f)
{
    if (spec->short_aliases == NULL)
        return 0;
    for (const char *p = spec->short_aliases; *p != '\0'; p++) {
        if ((p == spec->short_aliases || p[-1] == ' ') && p[1] == '=' &&
            find_short(spec, p[0]) == f)
            return p[0];
    }
    return 0;
}

/* Parses one "--name[=value]" (or a one-letter "-X") at argv[*i]; advances
 * *i past a separate value. */
static enum osw_flags_result parse_one(const struct osw_command_spec *spec, int argc, char **argv,
                                       int *i, bool *seen, FILE *out, FILE *err)
{
    bool is_short = argv[*i][1] != '-';
    const char *arg = argv[*i] + (is_short ? 1 : 2);
    const char *eq = is_short ? NULL : strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    if (!eq && (strcmp(arg, "help") == 0 || (is_short && strcmp(arg, "h") == 0))) {
        osw_flags_print_help(spec, out);
        return OSW_FLAGS_HELP;
    }
    const struct osw_flag *f =
        is_short ? (n == 1 ? find_short(spec, arg[0]) : NULL) : find_flag(spec, arg, n);
    if (!f && is_short) {
        fprintf(err, "osstream-webhook %s: unknown flag %s (see --help)\n", spec->name, argv[*i]);
        return OSW_FLAGS_ERROR;
    }
    if (!f) {
        fprintf(err, "osstream-webhook %s: unknown flag --%.*s (see --help)\n", spec->name, (int)n,
                arg);
        return OSW_FLAGS_ERROR;
    }
    seen[f - spec->flags] = true;
    const char *value = eq ? eq + 1 : NULL;
    if (!value && f->kind == OSW_FLAG_BOOL)
        value = "true";
    if (!value) {
        if (*i + 1 >= argc) {
            fprintf(err, "osstream-webhook %s: flag --%s needs a value\n", spec->name, f->name);
            return OSW_FLAGS_ERROR;
        }
        value = argv[++*i];
    }
    char origin[128];
    snprintf(origin, sizeof(origin), "--%s", f->name);
    return assign(spec, f, value, origin, err) ? OSW_FLAGS_OK : OSW_FLAGS_ERROR;
}

enum osw_flags_result osw_flags_parse(const struct osw_command_spec *spec, int argc, char **argv,
                                      struct osw_strlist *positional, osw_getenv_fn getenv_fn,
                                      FILE *out, FILE *err)
{
    enum osw_flags_result res = OSW_FLAGS_OK;
    bool *seen = calloc(spec->nflags + 1, sizeof(*seen));
    if (!seen) {
        fprintf(err, "osstream-webhook %s: out of memory\n", spec->name);
        return OSW_FLAGS_ERROR;
    }
    bool only_positional = false;
    for (int i = 1; i < argc && res == OSW_FLAGS_OK; i++) {
        const char *a = argv[i];
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = true;
        } else if (!only_positional && a[0] == '-' && a[1] != '\0') {
            /* "--name[=value]", or a one-letter "-X" ("-" alone is stdin). */
            res = parse_one(spec, argc, argv, &i, seen, out, err);
        } else if (positional->len >= spec->max_positional) {
            fprintf(err, "osstream-webhook %s: unexpected argument \"%s\" (see --help)\n",
                    spec->name, a);
            res = OSW_FLAGS_ERROR;
        } else if (!strlist_push(positional, a)) {
            fprintf(err, "osstream-webhook %s: out of memory\n", spec->name);
            res = OSW_FLAGS_ERROR;
        }
    }
    /* Flags given on the command line win over their variables. */
    if (res == OSW_FLAGS_OK && !apply_env(spec, seen, getenv_fn, err))
        res = OSW_FLAGS_ERROR;
    free(seen);
    return res;
}

void osw_flags_origin(const char *name, int argc, char *const *argv, char *buf, size_t cap)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, n) == 0 &&
            (a[2 + n] == '\0' || a[2 + n] == '=')) {
            snprintf(buf, cap, "--%s", name);
            return;
        }
    }
    env_name(name, buf, cap);
}

void osw_flags_print_help(const struct osw_command_spec *spec, FILE *out)
{
    fprintf(out, "Usage: osstream-webhook %s\n\n%s\n", spec->usage, spec->summary);
    if (spec->nflags > 0)
        fprintf(out, "\nFlags:\n");
    for (size_t i = 0; i < spec->nflags; i++) {
        const struct osw_flag *f = &spec->flags[i];
        char left[96], shrt[8] = "";
        char sc = short_of(spec, f);
        if (sc != 0)
            snprintf(shrt, sizeof(shrt), "-%c, ", sc);
        if (f->metavar)
            snprintf(left, sizeof(left), "%s--%s %s", shrt, f->name, f->metavar);
        else
            snprintf(left, sizeof(left), "%s--%s", shrt, f->name);
        fprintf(out, "  %-34s %s", left, f->help);
        if (f->env) {
            char name[128];
            env_name(f->name, name, sizeof(name));
            fprintf(out, " [$%s]", name);
        }
        fputc('\n', out);
    }
    fprintf(out, "  %-34s %s\n", "--help", "show this help and exit");
    if (spec->exit_codes != NULL)
        fprintf(out, "\nExit status:\n%s", spec->exit_codes);
}

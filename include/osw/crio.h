/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CRI-O drop-ins of MachineConfigs, for the runc guard (rule R): the
 * per-MachineConfig extract the cluster-state cache keeps (paths and the
 * decoded `crio.runtime.default_runtime`, never the Ignition), and runc(P)
 * over the extracts of the MachineConfigs a pool selects. Pure: no I/O.
 */
#ifndef OSW_CRIO_H
#define OSW_CRIO_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "osw/error.h"
#include "osw/tri.h"

#define OSW_CRIO_DIR         "/etc/crio/crio.conf.d/"
#define OSW_CRIO_MAX_DROPINS 256
#define OSW_CRIO_MAX_BYTES   1048576u /* per drop-in, after each decoding step */
/* Longer default_runtime values are kept cut to this many bytes (flagged);
 * they can never be "runc". */
#define OSW_CRIO_VALUE_MAX 64

enum osw_crio_state {
    OSW_CRIO_NOTHING = 0, /* zero bytes, or no (or an empty) default_runtime */
    OSW_CRIO_VALUE,       /* default_runtime is the non-empty `value` */
    OSW_CRIO_UNDECODABLE, /* any step failed, or the path came twice */
};

struct osw_crio_dropin {
    const char *path; /* the Ignition path, bytes as served (may hold NUL) */
    size_t path_len;
    const char *value; /* OSW_CRIO_VALUE only, else NULL; not NUL-terminated */
    size_t value_len;  /* bytes kept: at most OSW_CRIO_VALUE_MAX */
    bool value_cut;    /* the value was longer than OSW_CRIO_VALUE_MAX */
    enum osw_crio_state state;
};

/* One MachineConfig's drop-ins, sorted by path (byte order, unique). The
 * struct and every string it points to live in one allocation, immutable
 * after osw_crio_extract_build: share it across threads freely. */
struct osw_crio_extract {
    bool undecodable; /* the MachineConfig is undecodable as a whole */
    size_t count;     /* 0 when undecodable */
    const struct osw_crio_dropin *dropins;
    size_t bytes; /* the size of the one allocation (memory accounting) */
};

/* Builds the extract of the MachineConfig object `mc` (borrowed for the
 * call; nothing of it is kept). A malformed MachineConfig is not an error:
 * it gives an extract with `undecodable` set (also when `mc`, or a non-null
 * `spec`, is not an object). *out receives an extract the
 * caller owns (osw_crio_extract_free). Returns OSW_OK or OSW_ENOMEM (then
 * *out is NULL). */
enum osw_err osw_crio_extract_build(const json_t *mc, struct osw_crio_extract **out);

/* Frees an extract; NULL is accepted. */
void osw_crio_extract_free(struct osw_crio_extract *x);

/* runc(P) of the contract: `mcs` are the extracts of the MachineConfigs P
 * selects, in merge order (n may be 0; a NULL element counts as a
 * MachineConfig without drop-ins). For each path the entry of the last
 * MachineConfig that has one is P's drop-in; *out is OSW_TRI_UNKNOWN when a
 * MachineConfig is undecodable as a whole or one of P's drop-ins is
 * undecodable, else OSW_TRI_TRUE iff the last of P's drop-ins in path order
 * whose value is not "nothing" says exactly `runc`. Returns OSW_OK, or
 * OSW_ENOMEM (many drop-ins need a scratch array) with *out untouched. */
enum osw_err osw_crio_runc(const struct osw_crio_extract *const *mcs, size_t n, enum osw_tri *out);

#endif /* OSW_CRIO_H */

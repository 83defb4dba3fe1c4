/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serving certificate: loads a PEM certificate chain and private key (RSA
 * or ECDSA) with GnuTLS into a reference-counted pair, and watches both files
 * so a new pair (written in place, renamed over, or swapped through a
 * Kubernetes Secret volume's `..data` symlink) is what new handshakes get
 * within 5 s. A pair that does not load is refused (logged, counted) and the
 * old one keeps serving.
 *
 * Handshakes never see a pair being freed: each connection takes its own
 * reference when it starts (osw_certstore_acquire) and drops it when it
 * closes, so a reload only changes what later connections get.
 */
#ifndef OSW_TLS_CERTSTORE_H
#define OSW_TLS_CERTSTORE_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "osw/error.h"

#include "obs/log.h"
#include "obs/metrics.h"

struct osw_certpair; /* immutable, reference-counted */
struct osw_certstore;

/*
 * Loads the pair synchronously (start-up fails on an unreadable or mismatched
 * pair: OSW_EIO / OSW_ETLS with a one-line reason naming the file). `log` and
 * `metrics` are borrowed (metrics may be NULL) and must outlive the store.
 * Paths are copied.
 */
enum osw_err osw_certstore_new(const char *cert_path, const char *key_path,
                               const struct osw_log *log, struct osw_metrics *metrics,
                               struct osw_certstore **out, struct osw_errbuf *eb);

/* Starts the background reload watcher (sys/filewatch.h: a change is looked
 * at within about 0.5 s, and the files are compared at least every 2 s). */
enum osw_err osw_certstore_start(struct osw_certstore *st, struct osw_errbuf *eb);

/* Stops the watcher and frees the store. Pairs still referenced by
 * connections stay valid until their last unref. NULL is fine. */
void osw_certstore_free(struct osw_certstore *st);

/* Checks the files once and reloads when they changed (the watcher calls
 * this; tests call it directly). Returns OSW_OK when nothing changed or the
 * reload succeeded. */
enum osw_err osw_certstore_check(struct osw_certstore *st);

/* Logs the served certificate (subject, SANs, notAfter) once: at info, or
 * at warn when it has expired or expires within 30 days. The store logs the
 * same line by itself at every reload; `serve` calls this once start-up has
 * succeeded (the first load is silent, see osw_certstore_new). */
void osw_certstore_log_current(struct osw_certstore *st);

/* A new reference to the current pair (never NULL once created). Thread-safe. */
struct osw_certpair *osw_certstore_acquire(struct osw_certstore *st);
void osw_certpair_unref(struct osw_certpair *p); /* NULL is fine */

/* What GnuTLS's certificate retrieve callback returns; borrowed from `p`. */
void osw_certpair_get(const struct osw_certpair *p, gnutls_pcert_st **pcerts, unsigned *npcerts,
                      gnutls_privkey_t *key);
/* notAfter of the leaf certificate, Unix seconds. */
double osw_certpair_not_after(const struct osw_certpair *p);

#endif /* OSW_TLS_CERTSTORE_H */

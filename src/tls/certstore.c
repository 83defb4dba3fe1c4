/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serving certificate store. A pair (PEM chain + key) is loaded with
 * GnuTLS into an immutable, reference-counted osw_certpair; handshakes take a
 * reference, so a reload never frees what a handshake still uses. A watcher
 * thread re-reads both files when they may have changed (sys/filewatch.h:
 * inotify on their directories and a stat() poll, at least every 2 s) and
 * compares their bytes with what was last loaded, which catches in-place
 * writes, rename-over and kubelet's `..data` symlink swap alike. Content that does not load is
 * given a short grace period (the certificate and the key are often written in two steps) and is
 * then refused once: logged, counted, and the old pair keeps serving.
 */
#include "tls/certstore.h"
#include "tls/certstore_clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "sys/fileio.h"
#include "sys/filewatch.h"

#define MAX_FILE_BYTES ((size_t)1024 * 1024) /* a PEM chain is a few KiB */
#define DIGEST_LEN     32                    /* SHA-256 */
#define KEYID_MAX      64

struct osw_certpair {
    atomic_uint refs;
    unsigned npcerts;
    gnutls_pcert_st *pcerts; /* owned, npcerts entries; [0] is the leaf */
    gnutls_privkey_t key;    /* owned */
    double not_after;        /* leaf notAfter, Unix seconds */
    char subject[512];       /* leaf subject DN (RFC 4514), for logs; cut if longer */
    char sans[1024];         /* leaf SANs, "DNS:a, IP:127.0.0.1", for logs; cut if longer */
};

/* Certificates that expire within this many seconds are logged at warn. */
#define EXPIRY_WARN_S (30.0 * 24 * 3600)

/* What is on disk, by digest: two checks with the same id saw the same bytes
 * (or the same read error). */
struct content_id {
    unsigned char cert[DIGEST_LEN];
    unsigned char key[DIGEST_LEN];
};

struct osw_certstore {
    char *cert_path; /* owned copies */
    char *key_path;
    const struct osw_log *log;   /* borrowed */
    struct osw_metrics *metrics; /* borrowed, may be NULL */

    pthread_mutex_t cur_mu; /* held only to load `cur` and take a reference */
    struct osw_certpair *cur;

    pthread_mutex_t check_mu; /* serialises osw_certstore_check */
    struct content_id loaded; /* the bytes behind `cur` */
    bool have_pending;        /* failing content seen, not loaded */
    bool pending_reported;    /* ... and already logged and counted */
    struct content_id pending;
    long long pending_since_ms;
    osw_certstore_clock_fn clock;
    void *clock_ctx;

    struct osw_filewatch *watch; /* owned; NULL until started */
    bool started;
    pthread_t thread;
};

/* One file as read: bytes (owned, wiped on release), or none. */
struct file_read {
    unsigned char *data;
    size_t len;
};

static long long mono_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void file_release(struct file_read *f)
{
    osw_fileio_wipe_free(f->data, f->len);
    f->data = NULL;
    f->len = 0;
}

/*
 * Reads `path` (following symlinks; anything but a regular file is refused
 * without blocking, see sys/fileio.h). *unstable is set when the file
 * changed while it was read (a writer is at work): the caller should look
 * again later rather than judge the bytes.
 */
static enum osw_err read_file(const char *path, struct file_read *f, bool *unstable,
                              struct osw_errbuf *eb)
{
    char *data = NULL;
    enum osw_err rc = osw_fileio_read_stable(path, MAX_FILE_BYTES, &data, &f->len, unstable, eb);
    if (rc == OSW_ETOOBIG)
        rc = OSW_EIO; /* what the store has always answered for an oversized file */
    f->data = (unsigned char *)data;
    return rc;
}

static void digest_of(const struct file_read *f, const char *err, unsigned char out[DIGEST_LEN])
{
    /* A read error gets the digest of a marker plus its reason, so the same
     * error on the next check counts as "the same content". */
    unsigned char zero = 0;
    if (f->data != NULL) {
        gnutls_hash_fast(GNUTLS_DIG_SHA256, f->data, f->len, out);
        return;
    }
    gnutls_hash_hd_t h;
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
        memset(out, 0, DIGEST_LEN);
        return;
    }
    gnutls_hash(h, &zero, 1);
    gnutls_hash(h, err, strlen(err));
    gnutls_hash_deinit(h, out);
}

static bool same_id(const struct content_id *a, const struct content_id *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* ---- pairs --------------------------------------------------------------- */

static void pair_free(struct osw_certpair *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < p->npcerts; i++)
        gnutls_pcert_deinit(&p->pcerts[i]);
    free(p->pcerts);
    gnutls_privkey_deinit(p->key);
    free(p);
}

/* Appends `text` to the NUL-terminated `buf` of `cap` bytes, cutting it. */
static void append(char *buf, size_t cap, const char *text)
{
    size_t n = strlen(buf);
    if (n + 1 < cap)
        snprintf(buf + n, cap - n, "%s", text);
}

/* The leaf's subject and subject alternative names, as log lines show them.
 * Only DNS names and IP addresses are listed: they are what clients check. */
static void describe_leaf(struct osw_certpair *p, gnutls_x509_crt_t crt)
{
    gnutls_datum_t dn = {NULL, 0};

    p->subject[0] = '\0';
    p->sans[0] = '\0';
    if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0 && dn.data != NULL)
        snprintf(p->subject, sizeof(p->subject), "%s", (const char *)dn.data);
    gnutls_free(dn.data);
    for (unsigned seq = 0; seq < 64; seq++) {
        char san[256], text[300];
        size_t size = sizeof(san) - 1;
        unsigned critical = 0;
        int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, san, &size, &critical);
        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (type == GNUTLS_SAN_DNSNAME) {
            san[size < sizeof(san) ? size : sizeof(san) - 1] = '\0';
            snprintf(text, sizeof(text), "%sDNS:%s", p->sans[0] ? ", " : "", san);
        } else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
            char ip[INET6_ADDRSTRLEN];
            if (inet_ntop(size == 4 ? AF_INET : AF_INET6, san, ip, sizeof(ip)) == NULL)
                continue;
            snprintf(text, sizeof(text), "%sIP:%s", p->sans[0] ? ", " : "", ip);
        } else {
            continue; /* another kind, or one too long to show */
        }
        append(p->sans, sizeof(p->sans), text);
    }
}

static enum osw_err import_chain(struct osw_certpair *p, const char *path,
                                 const struct file_read *f, struct osw_errbuf *eb)
{
    gnutls_x509_crt_t *crts = NULL;
    unsigned ncrt = 0;
    enum osw_err rc = OSW_OK;
    gnutls_datum_t d = {f->data, (unsigned)f->len};
    int grc = gnutls_x509_crt_list_import2(&crts, &ncrt, &d, GNUTLS_X509_FMT_PEM, 0);
    if (grc < 0 || ncrt == 0)
        return osw_errbuf_set(eb, OSW_ETLS, "%s: no usable PEM certificate (%s)", path,
                              grc < 0 ? gnutls_strerror(grc) : "empty");
    p->pcerts = calloc(ncrt, sizeof(*p->pcerts));
    if (p->pcerts == NULL) {
        rc = osw_errbuf_set(eb, OSW_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (unsigned i = 0; i < ncrt; i++) {
        grc = gnutls_pcert_import_x509(&p->pcerts[i], crts[i], 0);
        if (grc < 0) {
            rc = osw_errbuf_set(eb, OSW_ETLS, "%s: certificate %u: %s", path, i + 1,
                                gnutls_strerror(grc));
            goto out;
        }
        p->npcerts = i + 1;
    }
    time_t na = gnutls_x509_crt_get_expiration_time(crts[0]);
    if (na == (time_t)-1) {
        rc = osw_errbuf_set(eb, OSW_ETLS, "%s: certificate has no readable notAfter", path);
        goto out;
    }
    p->not_after = (double)na;
    describe_leaf(p, crts[0]);
out:
    for (unsigned i = 0; i < ncrt; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    return rc;
}

/* Whether `key` is the private half of the leaf's public key: both public
 * keys' SHA-256 key ids must be equal. */
static bool key_matches(const struct osw_certpair *p)
{
    unsigned char a[KEYID_MAX], b[KEYID_MAX];
    size_t alen = sizeof(a), blen = sizeof(b);
    gnutls_pubkey_t pub = NULL;
    bool ok = false;
    if (gnutls_pubkey_get_key_id(p->pcerts[0].pubkey, GNUTLS_KEYID_USE_SHA256, a, &alen) < 0)
        return false;
    if (gnutls_pubkey_init(&pub) < 0)
        return false;
    if (gnutls_pubkey_import_privkey(pub, p->key, 0, 0) < 0)
        goto out;
    if (gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, b, &blen) < 0)
        goto out;
    ok = alen == blen && memcmp(a, b, alen) == 0;
out:
    gnutls_pubkey_deinit(pub);
    return ok;
}

static enum osw_err pair_load(const char *cert_path, const struct file_read *cert,
                              const char *key_path, const struct file_read *key,
                              struct osw_certpair **out, struct osw_errbuf *eb)
{
    enum osw_err rc;
    struct osw_certpair *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return osw_errbuf_set(eb, OSW_ENOMEM, "loading %s: out of memory", cert_path);
    atomic_init(&p->refs, 1);
    rc = import_chain(p, cert_path, cert, eb);
    if (rc != OSW_OK)
        goto out;
    gnutls_datum_t d = {key->data, (unsigned)key->len};
    int grc = gnutls_privkey_init(&p->key);
    if (grc >= 0)
        grc = gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (grc < 0) {
        rc = osw_errbuf_set(eb, OSW_ETLS, "%s: no usable PEM private key (%s)", key_path,
                            gnutls_strerror(grc));
        goto out;
    }
    if (!key_matches(p)) {
        rc = osw_errbuf_set(eb, OSW_ETLS, "private key %s does not match certificate %s", key_path,
                            cert_path);
        goto out;
    }
    *out = p;
    p = NULL;
out:
    pair_free(p);
    return rc;
}

struct osw_certpair *osw_certstore_acquire(struct osw_certstore *st)
{
    pthread_mutex_lock(&st->cur_mu);
    struct osw_certpair *p = st->cur;
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&st->cur_mu);
    return p;
}

void osw_certpair_unref(struct osw_certpair *p)
{
    if (p != NULL && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        pair_free(p);
}

void osw_certpair_get(const struct osw_certpair *p, gnutls_pcert_st **pcerts, unsigned *npcerts,
                      gnutls_privkey_t *key)
{
    *pcerts = p->pcerts;
    *npcerts = p->npcerts;
    *key = p->key;
}

double osw_certpair_not_after(const struct osw_certpair *p)
{
    return p->not_after;
}

/* ---- the store ----------------------------------------------------------- */

/* Both files, read for one check. */
struct pair_read {
    struct file_read cert, key;
    bool unstable;
    enum osw_err rc; /* OSW_OK when both were read */
    struct osw_errbuf eb;
    struct content_id id;
};

static void pair_read_files(const struct osw_certstore *st, struct pair_read *r)
{
    struct osw_errbuf ceb = {{0}}, keb = {{0}};
    bool cu = false, ku = false;
    memset(r, 0, sizeof(*r));
    enum osw_err crc = read_file(st->cert_path, &r->cert, &cu, &ceb);
    enum osw_err krc = read_file(st->key_path, &r->key, &ku, &keb);
    r->unstable = cu || ku;
    digest_of(&r->cert, ceb.msg, r->id.cert);
    digest_of(&r->key, keb.msg, r->id.key);
    r->rc = crc != OSW_OK ? crc : krc;
    r->eb = crc != OSW_OK ? ceb : keb;
}

static void pair_read_release(struct pair_read *r)
{
    file_release(&r->cert);
    file_release(&r->key);
}

static void format_time(double unix_seconds, char *buf, size_t len)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%.0f", unix_seconds);
}

/* The served certificate at start-up and at each reload: what an operator
 * checks first when clients stop trusting the webhook. At warn when it has
 * expired or expires within 30 days, so that it is seen before it bites. */
static void log_pair(const struct osw_certstore *st, const char *msg, const struct osw_certpair *p)
{
    char na[64];
    double left = p->not_after - (double)time(NULL);
    enum osw_log_level lvl = left < EXPIRY_WARN_S ? OSW_LOG_WARN : OSW_LOG_INFO;
    const char *state = left <= 0 ? "expired" : left < EXPIRY_WARN_S ? "expires soon" : "valid";

    format_time(p->not_after, na, sizeof(na));
    struct osw_log_field fields[] = {
        OSW_LOGF_CSTR("cert_file", st->cert_path),
        OSW_LOGF_CSTR("key_file", st->key_path),
        OSW_LOGF_CSTR("subject", p->subject),
        OSW_LOGF_CSTR("sans", p->sans),
        OSW_LOGF_CSTR("not_after", na),
        OSW_LOGF_CSTR("validity", state),
        OSW_LOGF_INT("days_left", (long long)(left / 86400.0)),
    };
    osw_log_write(st->log, lvl, msg, fields, sizeof(fields) / sizeof(fields[0]));
}

void osw_certstore_log_current(struct osw_certstore *st)
{
    struct osw_certpair *p = osw_certstore_acquire(st);
    log_pair(st, "serving certificate", p);
    osw_certpair_unref(p);
}

/* Makes `p` current (takes the caller's reference) and drops the old one:
 * connections still holding it keep it alive. */
static void install(struct osw_certstore *st, struct osw_certpair *p)
{
    pthread_mutex_lock(&st->cur_mu);
    struct osw_certpair *old = st->cur;
    st->cur = p;
    pthread_mutex_unlock(&st->cur_mu);
    osw_certpair_unref(old);
}

/* Content that did not load: "not yet" during the settle period, then
 * refused once (one log line, one error count) for as long as it stays. */
static void note_failure(struct osw_certstore *st, const struct pair_read *r,
                         const struct osw_errbuf *eb)
{
    long long now = st->clock(st->clock_ctx);
    if (!st->have_pending || !same_id(&st->pending, &r->id)) {
        st->have_pending = true;
        st->pending_reported = false;
        st->pending = r->id;
        st->pending_since_ms = now;
    }
    if (st->pending_reported || now - st->pending_since_ms < OSW_CERTSTORE_SETTLE_MS)
        return;
    st->pending_reported = true;
    struct osw_log_field fields[] = {
        OSW_LOGF_CSTR("cert_file", st->cert_path),
        OSW_LOGF_CSTR("key_file", st->key_path),
        OSW_LOGF_CSTR("reason", eb->msg),
    };
    osw_log_write(st->log, OSW_LOG_WARN,
                  "refused new serving certificate; the previous one keeps serving", fields,
                  sizeof(fields) / sizeof(fields[0]));
    osw_metrics_cert_reload(st->metrics, false);
}

/* One check; *again tells the watcher to look again soon without waiting
 * for a change: a writer was at work, or failing content is still settling
 * (it is refused only once it has stayed OSW_CERTSTORE_SETTLE_MS). */
static enum osw_err check_once(struct osw_certstore *st, bool *again)
{
    struct pair_read r;
    struct osw_certpair *p = NULL;
    struct osw_errbuf eb = {{0}};
    enum osw_err rc = OSW_OK;

    pthread_mutex_lock(&st->check_mu);
    pair_read_files(st, &r);
    if (r.unstable) {
        *again = true;
        goto out; /* a writer is at work: judge the bytes on the next check */
    }
    if (r.rc == OSW_OK && same_id(&r.id, &st->loaded)) {
        st->have_pending = false; /* back to what is serving */
        goto out;
    }
    rc = r.rc;
    eb = r.eb;
    if (rc == OSW_OK)
        rc = pair_load(st->cert_path, &r.cert, st->key_path, &r.key, &p, &eb);
    if (rc != OSW_OK || p == NULL) {
        note_failure(st, &r, &eb);
        *again = !st->pending_reported;
        goto out;
    }
    install(st, p);
    st->loaded = r.id;
    st->have_pending = false;
    log_pair(st, "reloaded serving certificate", p);
    osw_metrics_cert_reload(st->metrics, true);
    osw_metrics_set_cert_expiry(st->metrics, p->not_after);
out:
    pair_read_release(&r);
    pthread_mutex_unlock(&st->check_mu);
    return rc;
}

enum osw_err osw_certstore_check(struct osw_certstore *st)
{
    bool again = false;
    return check_once(st, &again);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static void init_sync(struct osw_certstore *st)
{
    pthread_mutex_init(&st->cur_mu, NULL);
    pthread_mutex_init(&st->check_mu, NULL);
}

/* The first load; a writer at work (unstable read) gets a few retries. */
static enum osw_err load_initial(struct osw_certstore *st, struct osw_errbuf *eb)
{
    struct pair_read r;
    enum osw_err rc = OSW_OK;
    for (int attempt = 0; attempt < 5; attempt++) {
        pair_read_files(st, &r);
        if (!r.unstable || attempt == 4)
            break;
        pair_read_release(&r);
        struct timespec ts = {0, 50L * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (r.rc != OSW_OK) {
        rc = r.rc;
        if (eb != NULL)
            *eb = r.eb;
        goto out;
    }
    rc = pair_load(st->cert_path, &r.cert, st->key_path, &r.key, &st->cur, eb);
    if (rc == OSW_OK)
        st->loaded = r.id;
out:
    pair_read_release(&r);
    return rc;
}

enum osw_err osw_certstore_new(const char *cert_path, const char *key_path,
                               const struct osw_log *log, struct osw_metrics *metrics,
                               struct osw_certstore **out, struct osw_errbuf *eb)
{
    enum osw_err rc;
    struct osw_certstore *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return osw_errbuf_set(eb, OSW_ENOMEM, "certificate store: out of memory");
    init_sync(st);
    st->log = log;
    st->metrics = metrics;
    st->clock = mono_ms;
    st->cert_path = dup_str(cert_path);
    st->key_path = dup_str(key_path);
    if (st->cert_path == NULL || st->key_path == NULL) {
        rc = osw_errbuf_set(eb, OSW_ENOMEM, "certificate store: out of memory");
        goto out;
    }
    rc = load_initial(st, eb);
    if (rc != OSW_OK)
        goto out;
    /* No log line here: a start-up that fails later (say, on the
     * OSImageStream file) must leave exactly one line on stderr. */
    osw_metrics_set_cert_expiry(metrics, st->cur->not_after);
    *out = st;
    st = NULL;
out:
    osw_certstore_free(st);
    return rc;
}

void osw_certstore_set_clock(struct osw_certstore *st, osw_certstore_clock_fn fn, void *ctx)
{
    pthread_mutex_lock(&st->check_mu);
    st->clock = fn != NULL ? fn : mono_ms;
    st->clock_ctx = fn != NULL ? ctx : NULL;
    pthread_mutex_unlock(&st->check_mu);
}

static void *watch_main(void *arg)
{
    struct osw_certstore *st = arg;
    bool again = false;

    while (osw_filewatch_wait(st->watch, again ? OSW_FILEWATCH_POLL_MS : 0) ==
           OSW_FILEWATCH_CHECK) {
        again = false;
        (void)check_once(st, &again); /* logs and counts on its own */
    }
    return NULL;
}

enum osw_err osw_certstore_start(struct osw_certstore *st, struct osw_errbuf *eb)
{
    if (st->started)
        return OSW_OK;
    enum osw_err rc = osw_filewatch_new((const char *const[]){st->cert_path, st->key_path}, 2, NULL,
                                        &st->watch, eb);
    if (rc != OSW_OK)
        return rc;
    int err = pthread_create(&st->thread, NULL, watch_main, st);
    if (err != 0) {
        osw_filewatch_free(st->watch);
        st->watch = NULL;
        return osw_errbuf_set(eb, OSW_EIO, "cannot start the certificate watcher: %s",
                              strerror(err));
    }
    st->started = true;
    return OSW_OK;
}

void osw_certstore_free(struct osw_certstore *st)
{
    if (st == NULL)
        return;
    if (st->started) {
        osw_filewatch_stop(st->watch);
        pthread_join(st->thread, NULL);
    }
    osw_filewatch_free(st->watch);
    osw_certpair_unref(st->cur);
    pthread_mutex_destroy(&st->cur_mu);
    pthread_mutex_destroy(&st->check_mu);
    free(st->cert_path);
    free(st->key_path);
    free(st);
}

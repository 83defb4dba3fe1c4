/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `serve`: turns flags and OSSTREAM_* variables into the server's settings,
 * starts the pieces in order (logger, metrics, certificate store, snapshot
 * source: the file, else the Kubernetes API of --kubeconfig, $KUBECONFIG or
 * the in-cluster service account; HTTPS server), waits for SIGTERM/SIGINT
 * and shuts down as the contract's lifecycle says. Every start-up failure is
 * one line on stderr and exit status 2, before anything listens.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/kubesel.h"
#include "cli/listen.h"
#include "kube/transport.h"
#include "server/server.h"
#include "source/cluster_cache.h"
#include "source/source.h"

#define MAX_REQUEST_CAP (64ull * 1024 * 1024)
#define DRAIN_MS        4000 /* in-flight requests get this long; exit well within 5 s */

struct serve_flags {
    const char *listen, *cert, *key, *tls_min, *osis_file, *kubeconfig, *sa_dir, *osis_name;
    const char *log_level, *log_format;
    const char *cluster_state, *exempt_namespace;
    bool annotate_implicit_streams, deny_osimagestream_delete;
    unsigned long long max_request_bytes;
    long long shutdown_delay_ms;
};

struct serve_ctx {
    struct osw_log log;
    struct osw_policy policy; /* the server borrows it */
    struct osw_metrics *metrics;
    struct osw_certstore *certs;
    struct osw_snapcell cell;
    struct osw_source *source;
    struct osw_server *server;
    char kube_origin[600];            /* set when the source is the Kubernetes API */
    struct osw_clustercell clusters;  /* pools and MachineConfigs (API source only) */
    struct osw_cluster_cache *ccache; /* NULL: cluster state off */
};

static int fail(const char *msg)
{
    fprintf(stderr, "osstream-webhook serve: %s\n", msg);
    return 2;
}

/* Checks the settings that need more than their flag's kind; fills `cfg`. */
static int settle(const struct serve_flags *f, struct osw_server_config *cfg, char *host,
                  size_t hostcap, struct osw_log *log, struct osw_policy *policy)
{
    char msg[600];
    enum osw_log_level level;
    enum osw_log_format format;
    if (!osw_log_level_parse(f->log_level, &level))
        return snprintf(msg, sizeof(msg),
                        "--log-level must be debug, info, warn or error, not \"%s\"", f->log_level),
               fail(msg);
    if (!osw_log_format_parse(f->log_format, &format))
        return snprintf(msg, sizeof(msg), "--log-format must be json or text, not \"%s\"",
                        f->log_format),
               fail(msg);
    osw_log_init(log, level, format, STDERR_FILENO);
    if (!osw_listen_parse(f->listen, host, hostcap, &cfg->listen_port))
        return snprintf(msg, sizeof(msg),
                        "--listen must be HOST:PORT, [IPv6]:PORT or :PORT with a "
                        "numeric address, not \"%s\"",
                        f->listen),
               fail(msg);
    cfg->listen_host = host;
    if (strcmp(f->tls_min, "1.2") == 0)
        cfg->tls_min = OSW_TLS_MIN_12;
    else if (strcmp(f->tls_min, "1.3") == 0)
        cfg->tls_min = OSW_TLS_MIN_13;
    else
        return snprintf(msg, sizeof(msg), "--tls-min-version must be 1.2 or 1.3, not \"%s\"",
                        f->tls_min),
               fail(msg);
    if (f->max_request_bytes == 0 || f->max_request_bytes > MAX_REQUEST_CAP)
        return snprintf(msg, sizeof(msg), "--max-request-bytes must be between 1 and %llu",
                        MAX_REQUEST_CAP),
               fail(msg);
    cfg->max_request_bytes = f->max_request_bytes;
    if (!osw_str_is_dns1123_subdomain(osw_str_from_cstr(f->osis_name)))
        return snprintf(msg, sizeof(msg), "--osimagestream-name \"%s\" is not a valid object name",
                        f->osis_name),
               fail(msg);
    if (strcmp(f->cluster_state, "auto") != 0 && strcmp(f->cluster_state, "required") != 0 &&
        strcmp(f->cluster_state, "off") != 0)
        return snprintf(msg, sizeof(msg),
                        "--cluster-state must be auto, required or off, not \"%s\"",
                        f->cluster_state),
               fail(msg);
    *policy = osw_policy_default();
    policy->osimagestream_name = osw_str_from_cstr(f->osis_name);
    policy->annotate_implicit_streams = f->annotate_implicit_streams;
    policy->deny_osimagestream_delete = f->deny_osimagestream_delete;
    policy->exempt_namespace = osw_str_from_cstr(f->exempt_namespace);
    cfg->policy = policy;
    /* required holds /readyz only where there is a cluster state to wait
     * for: with the API source (a file source is always off). */
    cfg->cluster_required =
        strcmp(f->cluster_state, "required") == 0 && !(f->osis_file && *f->osis_file);
    cfg->shutdown_delay_ms = f->shutdown_delay_ms;
    cfg->decode = osw_review_decode_fast;
    if (!f->cert || !*f->cert || !f->key || !*f->key)
        return fail("--tls-cert-file and --tls-private-key-file are required");
    if (f->osis_file && *f->osis_file && f->kubeconfig && *f->kubeconfig)
        return fail(
            "--osimagestream-file and --kubeconfig name two OSImageStream sources: give one");
    return 0;
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void teardown(struct serve_ctx *c)
{
    osw_server_stop(c->server, DRAIN_MS);
    osw_cluster_cache_free(c->ccache);
    osw_clustercell_destroy(&c->clusters);
    osw_source_destroy(c->source);
    osw_certstore_free(c->certs);
    osw_snapcell_destroy(&c->cell);
    osw_metrics_free(c->metrics);
}

/* The API source: the contract's choice of configuration (--kubeconfig, else
 * $KUBECONFIG, else in-cluster), one client for the OSImageStream reflector.
 * Only here, in src/cli, is the environment read. The source is created, not
 * started: its thread may log, so it starts once the server listens and a
 * start-up failure stays one line. */
static enum osw_err prepare_kube(struct serve_ctx *c, const struct serve_flags *f,
                                 const struct osw_source_env *env, struct osw_errbuf *eb)
{
    struct osw_kube_config kc;
    struct osw_reflector_transport t = {NULL, NULL};
    enum osw_err err;

    memset(&kc, 0, sizeof(kc));
    err = osw_cli_kube_select(f->kubeconfig && *f->kubeconfig ? f->kubeconfig : NULL,
                              getenv("KUBECONFIG"), getenv("KUBERNETES_SERVICE_HOST"),
                              getenv("KUBERNETES_SERVICE_PORT"), f->sa_dir, &kc, eb);
    if (err != OSW_OK)
        goto out;
    err = osw_transport_new(&kc, &t, eb);
    if (err != OSW_OK)
        goto out;
    err = osw_source_kube_new(f->osis_name, t, env, &c->source, eb);
    if (err != OSW_OK)
        goto out;
    if (strcmp(f->cluster_state, "off") != 0) {
        /* One client per reflector: each keeps its own connection. */
        struct osw_reflector_transport tp = {NULL, NULL}, tm = {NULL, NULL};
        err = osw_transport_new(&kc, &tp, eb);
        if (err == OSW_OK && (err = osw_transport_new(&kc, &tm, eb)) != OSW_OK)
            tp.ops->destroy(tp.impl);
        if (err == OSW_OK)
            err = osw_cluster_cache_new(tp, tm, &c->clusters, env->log, env->metrics, NULL,
                                        &c->ccache, eb);
        if (err != OSW_OK)
            goto out;
    }
    snprintf(c->kube_origin, sizeof(c->kube_origin), "%s (%s)", kc.origin ? kc.origin : "",
             kc.server ? kc.server : "");
out:
    osw_kube_config_free(&kc);
    return err;
}

/* Starts everything; returns 0 or the exit status of a failed start. */
static int start(struct serve_ctx *c, const struct serve_flags *f,
                 const struct osw_server_config *cfg)
{
    struct osw_errbuf eb;
    /* Nothing logs before every input has been checked (the certificate
     * store is silent on its first load, the file source logs only once it
     * has loaded), so a start-up failure stays one line on stderr. */
    c->metrics = osw_metrics_new();
    if (!c->metrics)
        return fail("out of memory");
    if (osw_certstore_new(f->cert, f->key, &c->log, c->metrics, &c->certs, &eb) != OSW_OK ||
        osw_certstore_start(c->certs, &eb) != OSW_OK)
        return fail(eb.msg);
    struct osw_source_env env = {&c->cell, &c->log, c->metrics};
    if (f->osis_file && *f->osis_file) {
        if (osw_source_file_new(f->osis_file, &env, &c->source, &eb) != OSW_OK ||
            osw_source_start(c->source, &eb) != OSW_OK)
            return fail(eb.msg);
    } else if (prepare_kube(c, f, &env, &eb) != OSW_OK) {
        return fail(eb.msg);
    }
    /* The cluster state runs only with the API source (a file source is
     * always off) and unless --cluster-state off. */
    struct osw_server_deps deps = {&c->log, c->metrics, c->certs, &c->cell,
                                   c->ccache ? &c->clusters : NULL};
    if (osw_server_start(cfg, &deps, &c->server, &eb) != OSW_OK)
        return fail(eb.msg);
    if (c->kube_origin[0]) {
        osw_log_write(&c->log, OSW_LOG_INFO, "OSImageStream source: Kubernetes API",
                      (struct osw_log_field[]){OSW_LOGF_CSTR("origin", c->kube_origin),
                                               OSW_LOGF_CSTR("name", f->osis_name)},
                      2);
        if (osw_source_start(c->source, &eb) != OSW_OK)
            return fail(eb.msg);
    }
    if (c->ccache && osw_cluster_cache_start(c->ccache, &eb) != OSW_OK)
        return fail(eb.msg);
    return 0;
}

static int run(const struct serve_flags *f, const struct osw_server_config *cfg,
               struct serve_ctx *c)
{
    /* Signals are taken synchronously by this thread only: block them
     * before any thread starts so every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    osw_snapcell_init(&c->cell);
    osw_clustercell_init(&c->clusters, OSW_CLUSTER_OFF);
    int rc = start(c, f, cfg);
    if (rc != 0) {
        teardown(c);
        return rc;
    }
    osw_log_write(&c->log, OSW_LOG_INFO, "serving",
                  (struct osw_log_field[]){OSW_LOGF_CSTR("listen", f->listen),
                                           OSW_LOGF_INT("port", osw_server_port(c->server)),
                                           OSW_LOGF_CSTR("version", OSW_VERSION)},
                  3);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    osw_server_begin_shutdown(c->server);
    osw_log_write(
        &c->log, OSW_LOG_INFO, "shutting down",
        (struct osw_log_field[]){OSW_LOGF_CSTR("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"),
                                 OSW_LOGF_INT("shutdown_delay_ms", f->shutdown_delay_ms)},
        2);
    if (f->shutdown_delay_ms > 0)
        sleep_ms(f->shutdown_delay_ms);
    teardown(c);
    osw_log_write(&c->log, OSW_LOG_INFO, "stopped", NULL, 0);
    return 0;
}

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

int osw_cmd_serve(int argc, char **argv)
{
    struct serve_flags f = {
        .listen = "0.0.0.0:8443",
        .tls_min = "1.2",
        .osis_name = "cluster",
        .sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount",
        .log_level = "info",
        .log_format = "json",
        .max_request_bytes = 4194304,
        .shutdown_delay_ms = 0,
        .cluster_state = "auto",
        .exempt_namespace = "openshift-machine-config-operator",
        .annotate_implicit_streams = false,
        .deny_osimagestream_delete = true,
    };
    const struct osw_flag flags[] = {
        {"listen", OSW_FLAG_STRING, &f.listen, "HOST:PORT",
         "address to serve on (default 0.0.0.0:8443; [::]:8443 for IPv6)", true},
        {"tls-cert-file", OSW_FLAG_STRING, &f.cert, "FILE",
         "PEM serving certificate (chain); reloaded when it changes (required)", true},
        {"tls-private-key-file", OSW_FLAG_STRING, &f.key, "FILE",
         "PEM private key of the certificate (required)", true},
        {"tls-min-version", OSW_FLAG_STRING, &f.tls_min, "1.2|1.3",
         "lowest TLS version (default 1.2)", true},
        {"osimagestream-file", OSW_FLAG_STRING, &f.osis_file, "FILE",
         "read the OSImageStream from this JSON or YAML file; reloaded on change", true},
        {"kubeconfig", OSW_FLAG_STRING, &f.kubeconfig, "FILE",
         "list and watch the OSImageStream on the API server of this kubeconfig (default: "
         "$KUBECONFIG, else in-cluster)",
         true},
        {"serviceaccount-dir", OSW_FLAG_STRING, &f.sa_dir, "DIR",
         "in-cluster token and ca.crt (default /var/run/secrets/kubernetes.io/serviceaccount)",
         true},
        {"osimagestream-name", OSW_FLAG_STRING, &f.osis_name, "NAME",
         "name of the OSImageStream singleton (default cluster)", true},
        {"max-request-bytes", OSW_FLAG_SIZE, &f.max_request_bytes, "N",
         "larger request bodies get 413 (default 4194304)", true},
        {"log-level", OSW_FLAG_STRING, &f.log_level, "LEVEL",
         "debug, info, warn or error (default info)", true},
        {"log-format", OSW_FLAG_STRING, &f.log_format, "FORMAT", "json or text (default json)",
         true},
        {"shutdown-delay", OSW_FLAG_DURATION, &f.shutdown_delay_ms, "DURATION",
         "after SIGTERM keep serving this long with /readyz at 503 (default 0s)", true},
        {"cluster-state", OSW_FLAG_STRING, &f.cluster_state, "auto|required|off",
         "watch MachineConfigPools and MachineConfigs for the parity rules; required also "
         "holds /readyz until both listed (default auto; a file source is always off)",
         true},
        {"annotate-implicit-streams", OSW_FLAG_BOOL, &f.annotate_implicit_streams, NULL,
         "also annotate pools naming no stream, with stream-source (default false)", true},
        {"deny-osimagestream-delete", OSW_FLAG_BOOL, &f.deny_osimagestream_delete, NULL,
         "deny deleting the OSImageStream (default true; =false allows it)", true},
        {"exempt-namespace", OSW_FLAG_STRING, &f.exempt_namespace, "NS",
         "service accounts of this namespace get warnings instead of osImageURL denials "
         "(default openshift-machine-config-operator; empty disables)",
         true},
    };
    const struct osw_command_spec spec = {
        "serve",
        "serve [flags]",
        "Serves the admission webhook over HTTPS: POST /validate and /mutate, GET /healthz,\n"
        "/readyz and /metrics. Every flag can also be set as OSSTREAM_<FLAG> (a flag wins).",
        flags,
        sizeof(flags) / sizeof(flags[0]),
        0};
    struct osw_strlist pos = {NULL, 0};
    enum osw_flags_result fr = osw_flags_parse(&spec, argc, argv, &pos, env_lookup, stdout, stderr);
    osw_strlist_free(&pos);
    if (fr != OSW_FLAGS_OK)
        return fr == OSW_FLAGS_HELP ? 0 : 2;
    struct osw_server_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    char host[64];
    struct serve_ctx c;
    memset(&c, 0, sizeof(c));
    int rc = settle(&f, &cfg, host, sizeof(host), &c.log, &c.policy);
    if (rc != 0)
        return rc;
    return run(&f, &cfg, &c);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubeconfig and in-cluster configuration (see kubeconfig.h). The YAML is
 * turned into jansson values by src/yaml (the same conversion the OSImageStream
 * file gets), then the current context is resolved by hand, field by field,
 * the way client-go's clientcmd does it. Base64 goes through OpenSSL's EVP
 * decoder and every PEM blob is parsed once here, so a broken kubeconfig
 * fails at start-up with its field named instead of at the first handshake.
 */
#include "kube/kubeconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "kube/credential.h"
#include "yaml/yaml.h"

/* One kubeconfig file of a (possibly merged) list. */
struct kc_file {
    const char *name; /* for messages (borrowed) */
    char *dir;        /* relative paths resolve against it (owned) */
    json_t *doc;      /* the document (owned) */
};

void osw_kube_config_free(struct osw_kube_config *c)
{
    if (!c)
        return;
    free(c->server);
    free(c->ca_pem);
    if (c->token)
        OPENSSL_cleanse(c->token, strlen(c->token));
    free(c->token);
    free(c->token_file);
    free(c->client_cert_pem);
    if (c->client_key_pem)
        OPENSSL_cleanse(c->client_key_pem, c->client_key_len);
    free(c->client_key_pem);
    free(c->origin);
    memset(c, 0, sizeof(*c));
}

static char *dup_bytes(const char *p, size_t len)
{
    if (!p)
        return NULL;
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, p, len);
        d[len] = '\0';
    }
    return d;
}

enum osw_err osw_kube_config_copy(struct osw_kube_config *dst, const struct osw_kube_config *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->insecure_skip_tls_verify = src->insecure_skip_tls_verify;
    dst->ca_len = src->ca_len;
    dst->client_cert_len = src->client_cert_len;
    dst->client_key_len = src->client_key_len;
    /* Each copy succeeds exactly when its source is NULL or it is non-NULL. */
    if ((dst->server = dup_bytes(src->server, src->server ? strlen(src->server) : 0)) == NULL &&
        src->server)
        goto oom;
    if ((dst->ca_pem = dup_bytes(src->ca_pem, src->ca_len)) == NULL && src->ca_pem)
        goto oom;
    if ((dst->token = dup_bytes(src->token, src->token ? strlen(src->token) : 0)) == NULL &&
        src->token)
        goto oom;
    if ((dst->token_file =
             dup_bytes(src->token_file, src->token_file ? strlen(src->token_file) : 0)) == NULL &&
        src->token_file)
        goto oom;
    if ((dst->client_cert_pem = dup_bytes(src->client_cert_pem, src->client_cert_len)) == NULL &&
        src->client_cert_pem)
        goto oom;
    if ((dst->client_key_pem = dup_bytes(src->client_key_pem, src->client_key_len)) == NULL &&
        src->client_key_pem)
        goto oom;
    if ((dst->origin = dup_bytes(src->origin, src->origin ? strlen(src->origin) : 0)) == NULL &&
        src->origin)
        goto oom;
    return OSW_OK;
oom:
    osw_kube_config_free(dst);
    return OSW_ENOMEM;
}

/* `p` resolved against `dir` unless absolute; malloc'd. */
static char *resolve_path(const char *dir, const char *p)
{
    if (p[0] == '/' || !dir || !dir[0])
        return dup_bytes(p, strlen(p));
    size_t dl = strlen(dir), pl = strlen(p);
    char *r = malloc(dl + pl + 2);
    if (r)
        snprintf(r, dl + pl + 2, "%s/%s", dir, p);
    return r;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return dup_bytes(".", 1);
    if (slash == path)
        return dup_bytes("/", 1);
    return dup_bytes(path, (size_t)(slash - path));
}

/* A string member: absent or null gives *out = NULL; another type fails. */
static enum osw_err get_str(const json_t *obj, const char *key, const char *where, const char **out,
                            struct osw_errbuf *eb)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return OSW_OK;
    if (!json_is_string(v))
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: %s: not a string", where, key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: %s: contains a NUL character", where, key);
    *out = json_string_value(v);
    return OSW_OK;
}

/*
 * Finds the entry named `want` in the list `list_key` ("clusters", ...) of
 * the files, first file first; `*entry` is its `entry_key` member ("cluster")
 * or NULL, `*file` the index of the file. A list or entry of the wrong shape,
 * or a name defined twice in one file, fails (kubectl refuses both).
 */
static enum osw_err find_named(const struct kc_file *files, size_t n, const char *list_key,
                               const char *entry_key, const char *want, const json_t **entry,
                               size_t *file, bool *found, struct osw_errbuf *eb)
{
    *found = false;
    *entry = NULL;
    for (size_t f = 0; f < n; f++) {
        const json_t *list = json_object_get(files[f].doc, list_key);
        if (!list || json_is_null(list))
            continue;
        if (!json_is_array(list))
            return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: %s: not a list", files[f].name,
                                  list_key);
        bool here = false;
        for (size_t i = 0; i < json_array_size(list); i++) {
            const json_t *e = json_array_get(list, i);
            const char *name;
            if (!json_is_object(e))
                return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: %s[%zu]: not a mapping",
                                      files[f].name, list_key, i);
            char where[64];
            snprintf(where, sizeof(where), "%s[%zu]", list_key, i);
            enum osw_err err = get_str(e, "name", where, &name, eb);
            if (err != OSW_OK || !name)
                return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: %s[%zu]: no name",
                                      files[f].name, list_key, i);
            if (strcmp(name, want) != 0)
                continue;
            if (here)
                return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: %s: \"%s\" defined twice",
                                      files[f].name, list_key, want);
            here = true;
            if (*found)
                continue; /* an earlier file defined it: that one wins */
            const json_t *body = json_object_get(e, entry_key);
            if (body && !json_is_null(body) && !json_is_object(body))
                return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: %s \"%s\": %s: not a mapping",
                                      files[f].name, entry_key, want, entry_key);
            *entry = json_is_object(body) ? body : NULL;
            *file = f;
            *found = true;
        }
    }
    return OSW_OK;
}

/* Reads a PEM file named by a kubeconfig field into *out. */
static enum osw_err read_pem_file(const struct kc_file *kf, const char *what, const char *rel,
                                  char **out, size_t *len, struct osw_errbuf *eb)
{
    char *p = resolve_path(kf->dir, rel);
    if (!p)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    struct osw_errbuf e2;
    enum osw_err err = osw_credential_read_file(p, OSW_KUBE_PEM_MAX_BYTES, out, len, &e2);
    if (err != OSW_OK && err != OSW_ENOMEM)
        err = osw_errbuf_set(eb, OSW_EIO, "kubeconfig %s: %s %s: %s", kf->name, what, p, e2.msg);
    else if (err == OSW_ENOMEM)
        osw_errbuf_set(eb, err, "out of memory");
    free(p);
    return err;
}

/* One of `data_key` (base64) or `file_key` (a path), decoded or read. */
static enum osw_err pem_field(const struct kc_file *kf, const json_t *obj, const char *where,
                              const char *data_key, const char *file_key, bool data_wins,
                              char **out, size_t *len, struct osw_errbuf *eb)
{
    const char *data, *file;
    enum osw_err err;
    *out = NULL;
    *len = 0;
    if ((err = get_str(obj, data_key, where, &data, eb)) != OSW_OK ||
        (err = get_str(obj, file_key, where, &file, eb)) != OSW_OK) {
        char tmp[sizeof(eb->msg)];
        snprintf(tmp, sizeof(tmp), "%s", eb->msg);
        return osw_errbuf_set(eb, err, "kubeconfig %s: %s", kf->name, tmp);
    }
    if (data && data[0] && file && file[0] && !data_wins)
        return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: %s: both %s and %s are set", kf->name,
                              where, data_key, file_key);
    if (data && data[0]) {
        err = osw_credential_b64_decode(data, strlen(data), out, len);
        if (err == OSW_EINVAL)
            return osw_errbuf_set(eb, err, "kubeconfig %s: %s: %s: not valid base64", kf->name,
                                  where, data_key);
        if (err != OSW_OK)
            return osw_errbuf_set(eb, err, "out of memory");
        return OSW_OK;
    }
    if (file && file[0])
        return read_pem_file(kf, file_key, file, out, len, eb);
    return OSW_OK;
}

/* Server URL as client-go accepts it, normalised: a scheme (https:// when
 * none is given), no query or fragment, no trailing slash. */
static enum osw_err set_server(const char *s, const char *where, struct osw_kube_config *out,
                               struct osw_errbuf *eb)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch == 0x7f || ch == '?' || ch == '#')
            return osw_errbuf_set(eb, OSW_EINVAL, "%s: server \"%.200s\": not a URL", where, s);
    }
    const char *rest = s;
    const char *scheme = "https://";
    if (strncmp(s, "https://", 8) == 0) {
        rest = s + 8;
    } else if (strncmp(s, "http://", 7) == 0) {
        rest = s + 7;
        scheme = "http://";
    } else if (strstr(s, "://")) {
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: server \"%.200s\": not an http(s) URL", where,
                              s);
    }
    size_t rl = strlen(rest);
    while (rl > 0 && rest[rl - 1] == '/')
        rl--;
    if (rl == 0 || rest[0] == '/')
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: server \"%.200s\": no host", where, s);
    size_t sl = strlen(scheme);
    out->server = malloc(sl + rl + 1);
    if (!out->server)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    memcpy(out->server, scheme, sl);
    memcpy(out->server + sl, rest, rl);
    out->server[sl + rl] = '\0';
    return OSW_OK;
}

static enum osw_err resolve_cluster(const struct kc_file *kf, const json_t *c, const char *cname,
                                    struct osw_kube_config *out, struct osw_errbuf *eb)
{
    char where[300];
    snprintf(where, sizeof(where), "kubeconfig %s: cluster \"%.200s\"", kf->name, cname);
    const char *server = NULL, *unsupported[] = {"tls-server-name", "proxy-url"};
    enum osw_err err;
    if (c && (err = get_str(c, "server", where, &server, eb)) != OSW_OK)
        return err;
    if (!server || !server[0])
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: no server", where);
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
        const char *v;
        if ((err = get_str(c, unsupported[i], where, &v, eb)) != OSW_OK)
            return err;
        if (v && v[0])
            return osw_errbuf_set(eb, OSW_EINVAL, "%s: %s is not supported", where, unsupported[i]);
    }
    if ((err = set_server(server, where, out, eb)) != OSW_OK)
        return err;
    const json_t *ins = json_object_get(c, "insecure-skip-tls-verify");
    if (ins && !json_is_null(ins) && !json_is_boolean(ins))
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: insecure-skip-tls-verify: not a boolean", where);
    out->insecure_skip_tls_verify = json_is_true(ins);
    char what[340];
    snprintf(what, sizeof(what), "cluster \"%.200s\"", cname);
    err = pem_field(kf, c, what, "certificate-authority-data", "certificate-authority", true,
                    &out->ca_pem, &out->ca_len, eb);
    if (err != OSW_OK)
        return err;
    if (out->ca_pem && out->insecure_skip_tls_verify)
        return osw_errbuf_set(eb, OSW_EINVAL,
                              "%s: a certificate authority together with insecure-skip-tls-verify "
                              "is not allowed (as in kubectl)",
                              where);
    if (out->ca_pem && osw_credential_pem_certs(out->ca_pem, out->ca_len) == 0)
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: certificate authority holds no PEM certificate",
                              where);
    return OSW_OK;
}

/* Auth methods kubectl has and this webhook refuses by name. */
static enum osw_err refuse_unsupported_auth(const json_t *u, const char *where,
                                            struct osw_errbuf *eb)
{
    const json_t *exec = json_object_get(u, "exec");
    if (exec && !json_is_null(exec)) {
        const char *cmd = NULL;
        if (json_is_object(exec))
            (void)get_str(exec, "command", where, &cmd, NULL);
        return osw_errbuf_set(eb, OSW_EINVAL,
                              "%s: exec credential plugin \"%.100s\" is not supported; use a "
                              "token, tokenFile or client certificate",
                              where, cmd ? cmd : "?");
    }
    const json_t *ap = json_object_get(u, "auth-provider");
    if (ap && !json_is_null(ap)) {
        const char *name = NULL;
        if (json_is_object(ap))
            (void)get_str(ap, "name", where, &name, NULL);
        return osw_errbuf_set(eb, OSW_EINVAL,
                              "%s: auth-provider \"%.100s\" is not supported; use a token, "
                              "tokenFile or client certificate",
                              where, name ? name : "?");
    }
    static const char *const keys[] = {"username", "password",  "as",
                                       "as-uid",   "as-groups", "as-user-extra"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(u, keys[i]);
        if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0) &&
            !(json_is_array(v) && json_array_size(v) == 0) &&
            !(json_is_object(v) && json_object_size(v) == 0))
            return osw_errbuf_set(eb, OSW_EINVAL, "%s: %s is not supported (%s)", where, keys[i],
                                  i < 2 ? "basic authentication" : "impersonation");
    }
    return OSW_OK;
}

/* Reads and checks a token file now, as client-go does at load time. */
static enum osw_err check_token_file(const char *path, const char *where, struct osw_errbuf *eb)
{
    char *data = NULL;
    size_t len = 0;
    struct osw_errbuf e2;
    enum osw_err err = osw_credential_read_file(path, OSW_KUBE_TOKEN_MAX_BYTES, &data, &len, &e2);
    if (err == OSW_ENOMEM)
        return osw_errbuf_set(eb, err, "out of memory");
    if (err != OSW_OK || !data)
        return osw_errbuf_set(eb, OSW_EIO, "%s: token file %s: %s", where, path, e2.msg);
    bool ok = osw_credential_token_clean(data, &len);
    OPENSSL_cleanse(data, len);
    free(data);
    if (!ok)
        return osw_errbuf_set(eb, OSW_EINVAL,
                              "%s: token file %s: empty or holds a control character", where, path);
    return OSW_OK;
}

static enum osw_err user_token(const struct kc_file *kf, const json_t *u, const char *where,
                               struct osw_kube_config *out, struct osw_errbuf *eb)
{
    const char *token, *tfile;
    enum osw_err err;
    if ((err = get_str(u, "token", where, &token, eb)) != OSW_OK ||
        (err = get_str(u, "tokenFile", where, &tfile, eb)) != OSW_OK)
        return err;
    if (token && token[0]) {
        size_t len = strlen(token);
        if (!(out->token = dup_bytes(token, len)))
            return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        if (!osw_credential_token_clean(out->token, &len))
            return osw_errbuf_set(eb, OSW_EINVAL, "%s: token holds a control character", where);
    }
    if (tfile && tfile[0]) {
        if (!(out->token_file = resolve_path(kf->dir, tfile)))
            return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        /* With a static token as well, client-go starts from the token and
         * prefers the file whenever it can be read: no need to read it now. */
        if (!out->token)
            return check_token_file(out->token_file, where, eb);
    }
    return OSW_OK;
}

static enum osw_err resolve_user(const struct kc_file *kf, const json_t *u, const char *uname,
                                 struct osw_kube_config *out, struct osw_errbuf *eb)
{
    char where[300];
    snprintf(where, sizeof(where), "kubeconfig %s: user \"%.200s\"", kf->name, uname);
    enum osw_err err;
    if (!u)
        return OSW_OK;
    if ((err = refuse_unsupported_auth(u, where, eb)) != OSW_OK ||
        (err = user_token(kf, u, where, out, eb)) != OSW_OK)
        return err;
    char what[340];
    snprintf(what, sizeof(what), "user \"%.200s\"", uname);
    if ((err = pem_field(kf, u, what, "client-certificate-data", "client-certificate", false,
                         &out->client_cert_pem, &out->client_cert_len, eb)) != OSW_OK ||
        (err = pem_field(kf, u, what, "client-key-data", "client-key", false, &out->client_key_pem,
                         &out->client_key_len, eb)) != OSW_OK)
        return err;
    if (!out->client_cert_pem != !out->client_key_pem)
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: %s without %s", where,
                              out->client_cert_pem ? "client certificate" : "client key",
                              out->client_cert_pem ? "client key" : "client certificate");
    if (out->client_cert_pem)
        return osw_credential_check_pair(out->client_cert_pem, out->client_cert_len,
                                         out->client_key_pem, out->client_key_len, where, eb);
    return OSW_OK;
}

/* The current context's cluster and user, over already parsed files. */
static enum osw_err resolve(const struct kc_file *files, size_t n, struct osw_kube_config *out,
                            struct osw_errbuf *eb)
{
    const char *cur = NULL;
    size_t cf = 0;
    enum osw_err err;
    for (size_t f = 0; f < n && !cur; f++) {
        char where[300];
        snprintf(where, sizeof(where), "kubeconfig %s", files[f].name);
        if ((err = get_str(files[f].doc, "current-context", where, &cur, eb)) != OSW_OK)
            return err;
        if (cur && !cur[0])
            cur = NULL;
        cf = f;
    }
    if (!cur)
        return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: no current-context is set",
                              n ? files[0].name : "");
    const json_t *ctx, *cl = NULL, *user = NULL;
    size_t ctxf = 0, clf = 0, uf = 0;
    bool found;
    if ((err = find_named(files, n, "contexts", "context", cur, &ctx, &ctxf, &found, eb)) != OSW_OK)
        return err;
    if (!found || !ctx)
        return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: current-context \"%.200s\" not found",
                              files[cf].name, cur);
    const char *cname, *uname;
    char where[300];
    snprintf(where, sizeof(where), "kubeconfig %s: context \"%.200s\"", files[ctxf].name, cur);
    if ((err = get_str(ctx, "cluster", where, &cname, eb)) != OSW_OK ||
        (err = get_str(ctx, "user", where, &uname, eb)) != OSW_OK)
        return err;
    if (!cname || !cname[0])
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: no cluster", where);
    if ((err = find_named(files, n, "clusters", "cluster", cname, &cl, &clf, &found, eb)) != OSW_OK)
        return err;
    if (!found)
        return osw_errbuf_set(eb, OSW_EINVAL, "%s: cluster \"%.200s\" not found", where, cname);
    if ((err = resolve_cluster(&files[clf], cl, cname, out, eb)) != OSW_OK)
        return err;
    if (uname && uname[0]) {
        if ((err = find_named(files, n, "users", "user", uname, &user, &uf, &found, eb)) != OSW_OK)
            return err;
        if (!found)
            return osw_errbuf_set(eb, OSW_EINVAL, "%s: user \"%.200s\" not found", where, uname);
        if ((err = resolve_user(&files[uf], user, uname, out, eb)) != OSW_OK)
            return err;
    }
    char origin[600];
    snprintf(origin, sizeof(origin), "kubeconfig %s (context %.200s)", files[ctxf].name, cur);
    if (!(out->origin = dup_bytes(origin, strlen(origin))))
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    return OSW_OK;
}

/* Parses one file's bytes into kf->doc (the first YAML document; an empty
 * file is an empty mapping, as kubectl treats it). */
static enum osw_err parse_doc(const char *data, size_t len, struct kc_file *kf,
                              struct osw_errbuf *eb)
{
    json_t *docs = NULL;
    struct osw_errbuf e2;
    enum osw_err err = osw_yaml_parse_any(data, len, &docs, &e2);
    if (err != OSW_OK)
        return osw_errbuf_set(eb, err, "kubeconfig %s: %s", kf->name, e2.msg);
    if (json_array_size(docs) > 1) {
        json_decref(docs);
        return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: more than one YAML document",
                              kf->name);
    }
    json_t *doc = json_array_size(docs) ? json_incref(json_array_get(docs, 0)) : json_object();
    json_decref(docs);
    if (!doc)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    if (!json_is_object(doc)) {
        json_decref(doc);
        return osw_errbuf_set(eb, OSW_EINVAL, "kubeconfig %s: not a mapping", kf->name);
    }
    kf->doc = doc;
    return OSW_OK;
}

static void files_free(struct kc_file *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(files[i].dir);
        json_decref(files[i].doc);
    }
    free(files);
}

enum osw_err osw_kubeconfig_parse(const char *data, size_t len, const char *name, const char *dir,
                                  struct osw_kube_config *out, struct osw_errbuf *eb)
{
    struct kc_file kf = {.name = name, .dir = dup_bytes(dir, strlen(dir)), .doc = NULL};
    struct osw_kube_config tmp = {0};
    enum osw_err err;
    if (!kf.dir) {
        err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        goto out;
    }
    if ((err = parse_doc(data, len, &kf, eb)) != OSW_OK ||
        (err = resolve(&kf, 1, &tmp, eb)) != OSW_OK)
        goto out;
    *out = tmp;
    memset(&tmp, 0, sizeof(tmp));
out:
    osw_kube_config_free(&tmp);
    free(kf.dir);
    json_decref(kf.doc);
    return err;
}

enum osw_err osw_kubeconfig_load_list(const char *const *paths, size_t n,
                                      struct osw_kube_config *out, struct osw_errbuf *eb)
{
    struct kc_file *files = calloc(n ? n : 1, sizeof(*files));
    struct osw_kube_config tmp = {0};
    size_t used = 0;
    enum osw_err err = OSW_OK;
    if (!files)
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char *data = NULL;
        size_t len = 0;
        struct osw_errbuf e2;
        if (n > 1 && access(paths[i], F_OK) != 0 && errno == ENOENT)
            continue; /* kubectl skips missing files of a list */
        err = osw_credential_read_file(paths[i], OSW_KUBECONFIG_MAX_BYTES, &data, &len, &e2);
        if (err != OSW_OK) {
            err = osw_errbuf_set(eb, err == OSW_ENOMEM ? err : OSW_EIO, "kubeconfig %s: %s",
                                 paths[i], e2.msg);
            goto out;
        }
        struct kc_file *kf = &files[used++];
        kf->name = paths[i];
        kf->dir = dir_of(paths[i]);
        err = kf->dir ? parse_doc(data, len, kf, eb) : osw_errbuf_set(eb, OSW_ENOMEM, "no memory");
        free(data);
        if (err != OSW_OK)
            goto out;
    }
    if (used == 0) {
        err = osw_errbuf_set(eb, OSW_EIO, "kubeconfig: none of the %zu files exists", n);
        goto out;
    }
    if ((err = resolve(files, used, &tmp, eb)) != OSW_OK)
        goto out;
    *out = tmp;
    memset(&tmp, 0, sizeof(tmp));
out:
    osw_kube_config_free(&tmp);
    files_free(files, used);
    return err;
}

enum osw_err osw_kubeconfig_load(const char *path, struct osw_kube_config *out,
                                 struct osw_errbuf *eb)
{
    return osw_kubeconfig_load_list(&path, 1, out, eb);
}

/* host and port as KUBERNETES_SERVICE_HOST/PORT give them: a name or an
 * address (IPv6 gets brackets) and a decimal port. */
static enum osw_err incluster_server(const char *host, const char *port,
                                     struct osw_kube_config *out, struct osw_errbuf *eb)
{
    for (const char *p = host; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch == 0x7f || strchr("/?#@[]", ch))
            return osw_errbuf_set(eb, OSW_EINVAL,
                                  "in-cluster config: KUBERNETES_SERVICE_HOST \"%.100s\" is not a "
                                  "host",
                                  host);
    }
    char *end = NULL;
    errno = 0;
    long pn = strtol(port, &end, 10);
    if (errno || !end || *end || port[0] < '0' || port[0] > '9' || pn < 1 || pn > 65535)
        return osw_errbuf_set(eb, OSW_EINVAL,
                              "in-cluster config: KUBERNETES_SERVICE_PORT \"%.100s\" is not a port",
                              port);
    bool v6 = strchr(host, ':') != NULL;
    size_t need = strlen("https://") + strlen(host) + 2 + 1 + 5 + 1;
    if (!(out->server = malloc(need)))
        return osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
    snprintf(out->server, need, "https://%s%s%s:%ld", v6 ? "[" : "", host, v6 ? "]" : "", pn);
    return OSW_OK;
}

enum osw_err osw_kube_config_incluster(const char *host, const char *port, const char *sa_dir,
                                       struct osw_kube_config *out, struct osw_errbuf *eb)
{
    struct osw_kube_config tmp = {0};
    enum osw_err err;
    if (!host || !host[0] || !port || !port[0])
        return osw_errbuf_set(eb, OSW_EINVAL,
                              "not running in a cluster: KUBERNETES_SERVICE_HOST and "
                              "KUBERNETES_SERVICE_PORT must be set (or give --kubeconfig)");
    if ((err = incluster_server(host, port, &tmp, eb)) != OSW_OK)
        goto out;
    char *ca = resolve_path(sa_dir, "ca.crt");
    tmp.token_file = resolve_path(sa_dir, "token");
    tmp.origin = dup_bytes("in-cluster", strlen("in-cluster"));
    if (!ca || !tmp.token_file || !tmp.origin) {
        free(ca);
        err = osw_errbuf_set(eb, OSW_ENOMEM, "out of memory");
        goto out;
    }
    struct osw_errbuf e2;
    err = osw_credential_read_file(ca, OSW_KUBE_PEM_MAX_BYTES, &tmp.ca_pem, &tmp.ca_len, &e2);
    if (err != OSW_OK)
        osw_errbuf_set(eb, err, "in-cluster config: %s: %s", ca, e2.msg);
    else if (osw_credential_pem_certs(tmp.ca_pem, tmp.ca_len) == 0)
        err = osw_errbuf_set(eb, OSW_EINVAL, "in-cluster config: %s holds no PEM certificate", ca);
    free(ca);
    if (err != OSW_OK)
        goto out;
    if ((err = check_token_file(tmp.token_file, "in-cluster config", eb)) != OSW_OK)
        goto out;
    *out = tmp;
    memset(&tmp, 0, sizeof(tmp));
out:
    osw_kube_config_free(&tmp);
    return err;
}

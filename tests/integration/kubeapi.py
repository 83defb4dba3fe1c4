# SPDX-License-Identifier: Apache-2.0
"""A test double of kube-apiserver for the webhook's Kubernetes API source.

An HTTPS server (Python standard library: ThreadingHTTPServer + ssl,
HTTP/1.1 keep-alive) on 127.0.0.1 with a port chosen by the OS and a
certificate made by `osstream-webhook gen-certs`. It checks
`Authorization: Bearer <token>` (401 otherwise), records every request, and
serves a store of objects under
/apis/machineconfiguration.openshift.io/{v1,v1alpha1}/{osimagestreams,
machineconfigpools,machineconfigs} with one global resourceVersion counter:
list (fieldSelector metadata.name=X, limit + continue), get, and watch (a
chunked stream of JSON lines fed by store changes and by test hooks: raw
bytes split into chosen chunks, bookmarks, ERROR events, garbage, an end or
a dropped connection, a too-old resourceVersion answered with an ERROR 410).
Per-request overrides force a status (with Retry-After), a delay, or a
version that is not served.

In-process:
    api = KubeAPI(token="t"); api.start()
    api.set_object("osimagestreams", obj)
    kc = api.write_kubeconfig(dir)          # for `serve --kubeconfig kc`
    ...; api.stop()
Standalone: `python3 kubeapi.py --help`; with `--stdio` it prints one JSON
line describing itself, then answers one JSON command per stdin line (what a
C test uses to drive it; see Control.handle for the commands).
"""

import argparse
import base64
import copy
import http.server
import json
import os
import queue
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("OSW_SRC") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("OSW_BIN") or os.path.join(SRC, "build", "osstream-webhook")

GROUP = "machineconfiguration.openshift.io"
VERSIONS = ("v1", "v1alpha1")
KINDS = {
    "osimagestreams": "OSImageStream",
    "machineconfigpools": "MachineConfigPool",
    "machineconfigs": "MachineConfig",
}


def resource_path(resource, version="v1"):
    """The collection path of `resource` in `version`."""
    return "/apis/%s/%s/%s" % (GROUP, version, resource)


def status_object(code, reason, message):
    """A metav1.Status as the API server sends it for failures."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
           504: "Timeout"}


def make_certs(directory):
    """Writes ca.crt, tls.crt, tls.key for localhost/127.0.0.1 with the binary."""
    p = subprocess.run([BIN, "gen-certs", "--dir", directory, "--dns-name", "localhost"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("gen-certs failed (%d): %s" % (p.returncode, p.stderr.decode()))
    return directory


def make_client_cert(directory, cn="osw-test-client"):
    """A CA and a client certificate (EKU clientAuth) made with the openssl
    command (gen-certs only makes serving certificates). Returns a dict with
    the paths `ca`, `crt`, `key`."""
    ca_key = os.path.join(directory, "client-ca.key")
    ca = os.path.join(directory, "client-ca.crt")
    key = os.path.join(directory, "client.key")
    csr = os.path.join(directory, "client.csr")
    crt = os.path.join(directory, "client.crt")
    ext = os.path.join(directory, "client.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
    steps = [
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ca_key],
        ["openssl", "req", "-x509", "-new", "-key", ca_key, "-subj", "/CN=osw-test-client-ca",
         "-days", "2", "-out", ca],
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key],
        ["openssl", "req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", csr],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-days", "2", "-extfile", ext, "-out", crt],
    ]
    for cmd in steps:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(cmd[:2]), p.stderr.decode()))
    return {"ca": ca, "crt": crt, "key": key}


def split_at(data, *offsets):
    """`data` cut at the given offsets: split_at(b"abcdef", 1, 4) -> [b"a", b"bcd", b"ef"]."""
    out, last = [], 0
    for o in offsets:
        out.append(data[last:o])
        last = o
    out.append(data[last:])
    return [p for p in out if p]


def split_every(data, n):
    """`data` cut into pieces of `n` bytes."""
    return [data[i:i + n] for i in range(0, len(data), n)]


class _Stream:
    """One open watch: a queue of things to write, consumed by its handler."""

    def __init__(self, resource, version, name, bookmarks, conn):
        self.resource = resource
        self.version = version
        self.name = name  # field selector metadata.name, or None
        self.bookmarks = bookmarks
        self.conn = conn
        self.q = queue.Queue()
        self.done = threading.Event()

    def matches(self, obj_name):
        return self.name is None or self.name == obj_name


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections end eventually

    def log_message(self, fmt, *args):  # quiet
        if self.server.api.verbose:
            sys.stderr.write("kubeapi: " + (fmt % args) + "\n")

    def do_GET(self):
        self.server.api._serve(self, "GET")

    def do_POST(self):
        self.server.api._serve(self, "POST")

    def do_PUT(self):
        self.server.api._serve(self, "PUT")

    def do_DELETE(self):
        self.server.api._serve(self, "DELETE")


class _TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, api, ctx):
        self.api = api
        self.ctx = ctx
        super().__init__((api.host, 0), _Handler)

    def finish_request(self, request, client_address):
        # The handshake runs here, in the connection's own thread, so a
        # client that stalls it cannot hold up the accept loop.
        request.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            with self.api.lock:
                self.api.handshake_failures.append(str(e))
            return
        tls.settimeout(None)
        with self.api.lock:
            self.api.sockets.add(tls)
        try:
            super().finish_request(tls, client_address)
        finally:
            with self.api.lock:
                self.api.sockets.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def shutdown_request(self, request):
        try:
            request.close()
        except OSError:
            pass

    def handle_error(self, request, client_address):
        if self.api.verbose:
            super().handle_error(request, client_address)


class KubeAPI:
    """The double. Every public method is safe to call from any thread."""

    def __init__(self, token="test-token", certdir=None, host="127.0.0.1", client_ca=None,
                 verbose=False):
        self.token = token  # None: no Authorization check
        self.host = host
        self.client_ca = client_ca  # CA file: ask for a client certificate and verify it
        self.verbose = verbose
        self._own_certdir = certdir is None
        self.certdir = certdir or make_certs(tempfile.mkdtemp(prefix="kubeapi-certs-"))
        self.ca = os.path.join(self.certdir, "ca.crt")
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.requests = []
        self.handshake_failures = []
        self.sockets = set()
        self.rv = 1000
        self.compacted = 0  # watches and continue tokens from an rv below this get 410
        self.store = {r: {} for r in KINDS}
        self.history = []  # (rv, type, resource, object)
        self.streams = []
        self.overrides = []
        self.unserved = set()  # (version, resource)
        self.post_handlers = {}
        self.httpd = None
        self.thread = None

    # -- lifecycle ---------------------------------------------------------
    def start(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.certdir, "tls.crt"),
                            os.path.join(self.certdir, "tls.key"))
        if self.client_ca:
            ctx.load_verify_locations(self.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        self.httpd = _TLSServer(self, ctx)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    @property
    def port(self):
        return self.httpd.server_address[1]

    @property
    def url(self):
        return "https://%s:%d" % (self.host, self.port)

    def stop(self):
        """Stops listening, ends every watch and drops every open connection."""
        if self.httpd is None:
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.close_watches(abrupt=True)
        self.drop_connections()
        self.httpd = None
        if self._own_certdir:
            shutil.rmtree(self.certdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def drop_connections(self):
        """Closes every open connection at once (the API server went away)."""
        with self.lock:
            socks = list(self.sockets)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- configuration -------------------------------------------------------
    def set_token(self, token):
        with self.lock:
            self.token = token

    def unserve(self, version, resource=None):
        """Answers 404 for `resource` (every resource when None) in `version`."""
        with self.lock:
            for r in ([resource] if resource else KINDS):
                self.unserved.add((version, r))

    def serve_again(self, version, resource=None):
        with self.lock:
            for r in ([resource] if resource else KINDS):
                self.unserved.discard((version, r))

    def override(self, resource=None, verb=None, version=None, status=None, retry_after=None,
                 delay=0.0, times=None, message=None, path=None):
        """Forces an answer for matching requests. verb: list, watch, get, post
        or None (any); resource/version/path None match any. `status` None with
        a `delay` only delays. `times` None: forever, else that many requests.
        Returns the override (a dict; its "hits" counts matches)."""
        o = {"resource": resource, "verb": verb, "version": version, "status": status,
             "retry_after": retry_after, "delay": delay, "times": times, "message": message,
             "path": path, "hits": 0}
        with self.lock:
            self.overrides.append(o)
        return o

    def clear_overrides(self):
        with self.lock:
            self.overrides = []

    def on_post(self, path, fn):
        """fn(record, body_bytes) -> (status, object) answers POSTs to `path`."""
        with self.lock:
            self.post_handlers[path] = fn

    # -- the store -------------------------------------------------------------
    def set_object(self, resource, obj):
        """Creates or replaces an object (by metadata.name); watches get ADDED
        or MODIFIED. Returns the new resourceVersion (a string)."""
        obj = copy.deepcopy(obj)
        name = obj["metadata"]["name"]
        with self.lock:
            self.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.rv)
            obj["metadata"].setdefault("uid", "uid-%s-%s" % (resource, name))
            typ = "MODIFIED" if name in self.store[resource] else "ADDED"
            self.store[resource][name] = obj
            self._event(typ, resource, obj)
            return str(self.rv)

    def delete_object(self, resource, name):
        """Removes an object; watches get DELETED. Returns the resourceVersion."""
        with self.lock:
            obj = self.store[resource].pop(name)
            self.rv += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self._event("DELETED", resource, obj)
            return str(self.rv)

    def get_object(self, resource, name):
        with self.lock:
            o = self.store[resource].get(name)
            return copy.deepcopy(o) if o else None

    def compact(self):
        """Forgets history: a watch or continue from an older rv gets 410."""
        with self.lock:
            self.compacted = self.rv + 1
            self.history = []

    def _event(self, typ, resource, obj):
        self.history.append((self.rv, typ, resource, obj))
        for s in self.streams:
            if s.resource == resource and s.matches(obj["metadata"]["name"]):
                s.q.put(("bytes", [self._line(typ, self._typed(obj, resource, s.version))]))
        self.cond.notify_all()

    @staticmethod
    def _typed(obj, resource, version):
        o = copy.deepcopy(obj)
        o["apiVersion"] = "%s/%s" % (GROUP, version)
        o["kind"] = KINDS[resource]
        return o

    # -- watch hooks -----------------------------------------------------------
    def _streams(self, resource):
        with self.lock:
            return [s for s in self.streams if resource is None or s.resource == resource]

    def wait_watch(self, resource=None, timeout=10.0, count=1):
        """Waits until `count` watches of `resource` are open; returns them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                ss = [s for s in self.streams if resource is None or s.resource == resource]
                if len(ss) >= count:
                    return ss
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no watch of %s within %.1fs" % (resource, timeout))
                self.cond.wait(left)

    def wait_no_watch(self, resource=None, timeout=10.0):
        """Waits until no watch of `resource` is open (an ended one is gone)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while any(resource is None or s.resource == resource for s in self.streams):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("watches of %s still open after %.1fs" % (resource, timeout))
                self.cond.wait(left)

    def send_raw(self, resource, pieces, gap=0.0):
        """Writes `pieces` (bytes each, or one bytes) to every open watch of
        `resource`, each piece as its own HTTP chunk, `gap` seconds apart."""
        if isinstance(pieces, (bytes, bytearray)):
            pieces = [bytes(pieces)]
        for s in self._streams(resource):
            s.q.put(("bytes", list(pieces), gap))

    def send_event(self, resource, typ, obj, pieces=None, gap=0.0):
        """Sends one event line, whole or cut at the offsets `pieces`."""
        line = (json.dumps({"type": typ, "object": obj}, separators=(",", ":")) + "\n").encode()
        self.send_raw(resource, split_at(line, *pieces) if pieces else [line], gap)
        return line

    def send_bookmark(self, resource, rv=None):
        """A BOOKMARK event (to watches that asked for bookmarks)."""
        with self.lock:
            rv = str(rv if rv is not None else self.rv)
            for s in self._streams(resource):
                if s.bookmarks:
                    obj = {"kind": KINDS[s.resource], "apiVersion": "%s/%s" % (GROUP, s.version),
                           "metadata": {"resourceVersion": rv}}
                    line = json.dumps({"type": "BOOKMARK", "object": obj}) + "\n"
                    s.q.put(("bytes", [line.encode()]))

    def send_error(self, resource, code=410, message=None):
        """An ERROR event carrying a Status (410 Expired by default)."""
        st = status_object(code, REASONS.get(code, "Unknown"),
                           message or "too old resource version: 1 (%d)" % self.rv)
        self.send_raw(resource, [(json.dumps({"type": "ERROR", "object": st}) + "\n").encode()])

    def send_garbage(self, resource, line=b"this is not an event\n"):
        self.send_raw(resource, [line])

    def close_watches(self, resource=None, abrupt=False):
        """Ends watches: abrupt=False ends the chunked body properly (as a
        server timeout does); abrupt=True drops the connection mid-stream."""
        for s in self._streams(resource):
            s.q.put(("close", abrupt))

    # -- recorded requests -------------------------------------------------------
    def recorded(self, path=None, method=None):
        with self.lock:
            return [r for r in self.requests
                    if (path is None or r["path"] == path) and (method is None or r["method"] == method)]

    def clear_requests(self):
        with self.lock:
            self.requests = []
            self.handshake_failures = []

    def wait_requests(self, n, path=None, timeout=10.0):
        """Waits until at least `n` requests (to `path`) were recorded."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests if path is None or r["path"] == path]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("%d of %d requests within %.1fs" % (len(got), n, timeout))
                self.cond.wait(left)

    # -- kubeconfig ----------------------------------------------------------------
    def write_kubeconfig(self, directory, name="kubeconfig", token=True, token_file=None,
                         insecure=False, ca="data", client_cert=None, client_key=None,
                         server=None):
        """Writes a kubeconfig for this server and returns its path.
        token: True = the current token, a string, or None (no token);
        token_file: a path written as tokenFile; ca: "data" (embedded
        certificate-authority-data), "file" (certificate-authority path) or
        None; insecure: insecure-skip-tls-verify (then no CA is written);
        client_cert/client_key: file paths."""
        cluster = {"server": server or self.url}
        if insecure:
            cluster["insecure-skip-tls-verify"] = True
        elif ca == "data":
            with open(self.ca, "rb") as f:
                cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
        elif ca == "file":
            cluster["certificate-authority"] = self.ca
        user = {}
        if token is True:
            token = self.token
        if token:
            user["token"] = token
        if token_file:
            user["tokenFile"] = token_file
        if client_cert:
            user["client-certificate"] = client_cert
        if client_key:
            user["client-key"] = client_key
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": "double",
               "clusters": [{"name": "double", "cluster": cluster}],
               "users": [{"name": "double-user", "user": user}],
               "contexts": [{"name": "double",
                             "context": {"cluster": "double", "user": "double-user"}}]}
        path = os.path.join(directory, name)
        # JSON is YAML: kubectl and the webhook read either.
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        return path

    def rotate_token(self, token_file, new_token):
        """Replaces `token_file` atomically with `new_token` (as kubelet does
        for projected tokens) and makes the double accept only that token."""
        tmp = token_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(new_token)
        os.replace(tmp, token_file)
        self.set_token(new_token)

    # -- serving -------------------------------------------------------------------
    def _record(self, h, method, body):
        u = urllib.parse.urlsplit(h.path)
        cert = None
        try:
            pc = h.connection.getpeercert()
            if pc:
                cert = dict(x[0] for x in pc.get("subject", ())).get("commonName")
        except (ValueError, AttributeError):
            pass
        rec = {"method": method, "path": u.path, "rawquery": u.query,
               "query": urllib.parse.parse_qs(u.query, keep_blank_values=True),
               "headers": {k.lower(): v for k, v in h.headers.items()},
               "body": body, "client_cert": cert, "conn": h.client_address[1],
               "time": time.monotonic()}
        with self.cond:
            self.requests.append(rec)
            self.cond.notify_all()
        return rec

    def _send_json(self, h, code, obj, headers=None):
        data = json.dumps(obj, separators=(",", ":")).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()

    def _send_status(self, h, code, message, headers=None):
        self._send_json(h, code, status_object(code, REASONS.get(code, "Unknown"), message), headers)

    def _parse_path(self, path):
        """(version, resource, name) for our group's paths, else None."""
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[0] != "apis" or parts[1] != GROUP:
            return None
        if parts[2] not in VERSIONS or parts[3] not in KINDS or len(parts) > 5:
            return None
        return parts[2], parts[3], (parts[4] if len(parts) == 5 else None)

    def _serve(self, h, method):
        body = b""
        n = int(h.headers.get("Content-Length") or 0)
        if n:
            body = h.rfile.read(n)
        rec = self._record(h, method, body)
        q = {k: v[-1] for k, v in rec["query"].items()}
        parsed = self._parse_path(rec["path"])
        watch = q.get("watch") in ("1", "true")
        verb = "post" if method == "POST" else (
            "watch" if watch else ("get" if parsed and parsed[2] else "list"))

        with self.lock:
            token = self.token
        auth = rec["headers"].get("authorization")
        if token is not None and auth != "Bearer " + token:
            self._send_status(h, 401, "Unauthorized")
            return

        ov = self._match_override(rec["path"], parsed, verb)
        if ov is not None:
            if ov["delay"]:
                time.sleep(ov["delay"])
            if ov["status"] is not None:
                hdrs = {}
                if ov["retry_after"] is not None:
                    hdrs["Retry-After"] = str(ov["retry_after"])
                self._send_status(h, ov["status"], ov["message"] or "forced by the test double",
                                  hdrs)
                return

        if method == "POST":
            with self.lock:
                fn = self.post_handlers.get(rec["path"])
            if fn is None:
                self._send_status(h, 404, "the server could not find the requested resource")
                return
            code, obj = fn(rec, body)
            self._send_json(h, code, obj)
            return
        if method != "GET" or parsed is None:
            self._send_status(h, 404 if parsed is None else 405,
                              "the server could not find the requested resource")
            return
        version, resource, name = parsed
        with self.lock:
            unserved = (version, resource) in self.unserved
        if unserved:
            self._send_status(h, 404, "the server could not find the requested resource")
            return
        if name is not None and not watch:
            obj = self.get_object(resource, name)
            if obj is None:
                self._send_status(h, 404, '%s.%s "%s" not found' % (resource, GROUP, name))
            else:
                self._send_json(h, 200, self._typed(obj, resource, version))
            return
        sel = q.get("fieldSelector")
        sel_name = name
        if sel:
            if not (sel.startswith("metadata.name=")):
                self._send_status(h, 400, "unsupported field selector %r" % sel)
                return
            sel_name = sel[len("metadata.name="):].lstrip("=")
        if watch:
            self._watch(h, version, resource, sel_name, q)
        else:
            self._list(h, version, resource, sel_name, q)

    def _match_override(self, path, parsed, verb):
        with self.lock:
            for o in self.overrides:
                if o["times"] is not None and o["times"] <= 0:
                    continue
                if o["path"] is not None and o["path"] != path:
                    continue
                if o["verb"] is not None and o["verb"] != verb:
                    continue
                if o["resource"] is not None and (parsed is None or parsed[1] != o["resource"]):
                    continue
                if o["version"] is not None and (parsed is None or parsed[0] != o["version"]):
                    continue
                if o["times"] is not None:
                    o["times"] -= 1
                o["hits"] += 1
                return dict(o)
        return None

    def _list(self, h, version, resource, sel_name, q):
        limit = int(q.get("limit") or 0)
        cont = q.get("continue")
        with self.lock:
            list_rv = self.rv
            after = None
            if cont:
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont.encode()).decode())
                    list_rv, after = int(tok["rv"]), tok["after"]
                except (ValueError, KeyError, TypeError):
                    self._send_status(h, 400, "invalid continue token")
                    return
                if list_rv < self.compacted:
                    self._send_status(h, 410, "The provided continue parameter is too old to "
                                      "display a consistent list result.")
                    return
            names = sorted(n for n in self.store[resource]
                           if (sel_name is None or n == sel_name) and (after is None or n > after))
            page = names[:limit] if limit > 0 else names
            items = [self._typed(self.store[resource][n], resource, version) for n in page]
        meta = {"resourceVersion": str(list_rv)}
        if limit > 0 and len(names) > len(page):
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps({"rv": list_rv, "after": page[-1]}).encode()).decode()
            meta["remainingItemCount"] = len(names) - len(page)
        self._send_json(h, 200, {"kind": KINDS[resource] + "List",
                                 "apiVersion": "%s/%s" % (GROUP, version),
                                 "metadata": meta, "items": items})

    def _watch(self, h, version, resource, sel_name, q):
        rv = q.get("resourceVersion") or ""
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        timeout = q.get("timeoutSeconds")
        deadline = time.monotonic() + float(timeout) if timeout else None
        s = _Stream(resource, version, sel_name, bookmarks, h.client_address[1])
        with self.cond:
            if rv not in ("", "0") and int(rv) < self.compacted:
                s.q.put(("bytes", [(json.dumps({"type": "ERROR", "object": status_object(
                    410, "Expired", "too old resource version: %s (%d)" % (rv, self.compacted))})
                    + "\n").encode()]))
                s.q.put(("close", False))
            elif rv in ("", "0"):
                for n in sorted(self.store[resource]):
                    if s.matches(n):
                        o = self._typed(self.store[resource][n], resource, version)
                        s.q.put(("bytes", [self._line("ADDED", o)]))
            else:
                for (erv, typ, res, obj) in self.history:
                    if erv > int(rv) and res == resource and s.matches(obj["metadata"]["name"]):
                        s.q.put(("bytes", [self._line(typ, self._typed(obj, res, version))]))
            self.streams.append(s)
            self.cond.notify_all()
        try:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            h.wfile.flush()
            self._pump(h, s, deadline)
        except OSError:
            h.close_connection = True
        finally:
            with self.cond:
                if s in self.streams:
                    self.streams.remove(s)
                self.cond.notify_all()
            s.done.set()

    def _pump(self, h, s, deadline):
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = s.q.get(timeout=wait)
            except queue.Empty:
                item = ("close", False)  # the server's timeoutSeconds
            if item[0] == "close":
                if item[1]:  # abrupt: no terminating chunk
                    h.close_connection = True
                    try:
                        h.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                h.wfile.write(b"0\r\n\r\n")
                h.wfile.flush()
                return
            pieces = item[1]
            gap = item[2] if len(item) > 2 else 0.0
            for i, p in enumerate(pieces):
                if i and gap:
                    time.sleep(gap)
                h.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
                h.wfile.flush()

    @staticmethod
    def _line(typ, obj):
        return (json.dumps({"type": typ, "object": obj}, separators=(",", ":")) + "\n").encode()


# -- standalone --------------------------------------------------------------


class Control:
    """Standalone `--stdio` mode: one JSON command per stdin line, one JSON
    answer per stdout line ({"ok": true, "result": ...} or {"ok": false,
    "error": "..."}). Commands ({"op": NAME, ...}):
      set_token token | set_object resource object | delete_object resource name
      override (the keywords of KubeAPI.override) | clear_overrides
      unserve version [resource] | serve_again version [resource] | compact
      requests [path] -> recorded requests (body as text) | clear_requests
      handshake_failures -> count | wait_requests n [path] [timeout]
      wait_watch [resource] [timeout] | wait_no_watch [resource] [timeout]
      send_raw resource pieces(list of str) [gap]
      send_bookmark resource | send_error resource [code] | send_garbage resource
      close_watches [resource] [abrupt] | drop_connections
      post_reply path status body(object) | rotate_token token_file token
      write_kubeconfig directory (keywords of KubeAPI.write_kubeconfig) | stop"""

    def __init__(self, api):
        self.api = api

    def handle(self, cmd):
        a = self.api
        op = cmd.pop("op")
        if op == "set_token":
            return a.set_token(cmd["token"])
        if op == "set_object":
            return a.set_object(cmd["resource"], cmd["object"])
        if op == "delete_object":
            return a.delete_object(cmd["resource"], cmd["name"])
        if op == "override":
            o = a.override(**cmd)
            return dict(o)
        if op == "clear_overrides":
            return a.clear_overrides()
        if op == "unserve":
            return a.unserve(cmd["version"], cmd.get("resource"))
        if op == "serve_again":
            return a.serve_again(cmd["version"], cmd.get("resource"))
        if op == "compact":
            return a.compact()
        if op == "requests":
            out = []
            for r in a.recorded(cmd.get("path")):
                r = dict(r)
                r["body"] = r["body"].decode("utf-8", "replace")
                out.append(r)
            return out
        if op == "clear_requests":
            return a.clear_requests()
        if op == "handshake_failures":
            with a.lock:
                return len(a.handshake_failures)
        if op == "wait_requests":
            return len(a.wait_requests(cmd["n"], cmd.get("path"), cmd.get("timeout", 10.0)))
        if op == "wait_watch":
            return len(a.wait_watch(cmd.get("resource"), cmd.get("timeout", 10.0)))
        if op == "wait_no_watch":
            return a.wait_no_watch(cmd.get("resource"), cmd.get("timeout", 10.0))
        if op == "send_raw":
            return a.send_raw(cmd["resource"], [p.encode() for p in cmd["pieces"]],
                              cmd.get("gap", 0.0))
        if op == "send_bookmark":
            return a.send_bookmark(cmd["resource"])
        if op == "send_error":
            return a.send_error(cmd["resource"], cmd.get("code", 410))
        if op == "send_garbage":
            return a.send_garbage(cmd["resource"])
        if op == "close_watches":
            return a.close_watches(cmd.get("resource"), cmd.get("abrupt", False))
        if op == "drop_connections":
            return a.drop_connections()
        if op == "post_reply":
            status, body = cmd["status"], cmd["body"]
            return a.on_post(cmd["path"], lambda rec, data: (status, body))
        if op == "rotate_token":
            return a.rotate_token(cmd["token_file"], cmd["token"])
        if op == "write_kubeconfig":
            d = cmd.pop("directory")
            return a.write_kubeconfig(d, **cmd)
        raise ValueError("unknown op %r" % op)

    def run(self, inp, out):
        for line in inp:
            line = line.strip()
            if not line:
                continue
            try:
                cmd = json.loads(line)
                if cmd.get("op") == "stop":
                    out.write(json.dumps({"ok": True, "result": None}) + "\n")
                    out.flush()
                    return
                res = {"ok": True, "result": self.handle(cmd)}
            except Exception as e:  # reported to the driver, never fatal
                res = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            out.write(json.dumps(res) + "\n")
            out.flush()


def main(argv=None):
    p = argparse.ArgumentParser(
        description="A kube-apiserver test double (HTTPS on 127.0.0.1, port chosen by the OS).")
    p.add_argument("--token", default="test-token",
                   help="bearer token to require (default test-token); '' accepts any")
    p.add_argument("--certdir", help="directory with ca.crt, tls.crt, tls.key "
                   "(default: made with `osstream-webhook gen-certs`)")
    p.add_argument("--client-ca", help="ask clients for a certificate and verify it with this CA")
    p.add_argument("--make-client-cert", metavar="DIR",
                   help="make a client CA and certificate in DIR (openssl command) and require "
                        "nothing but verify client certificates with that CA")
    p.add_argument("--kubeconfig", help="write a kubeconfig for this server to this path")
    p.add_argument("--insecure", action="store_true",
                   help="the kubeconfig skips verification instead of carrying the CA")
    p.add_argument("--token-file", help="the kubeconfig uses tokenFile (written with the token)")
    p.add_argument("--object", action="append", default=[], metavar="RESOURCE=FILE",
                   help="load a JSON object into the store (e.g. osimagestreams=os.json)")
    p.add_argument("--stdio", action="store_true",
                   help="print a JSON line describing the server, then take JSON commands on "
                        "stdin (see Control); exit at EOF or {\"op\":\"stop\"}")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = p.parse_args(argv)

    client = make_client_cert(args.make_client_cert) if args.make_client_cert else None
    api = KubeAPI(token=args.token or None, certdir=args.certdir,
                  client_ca=client["ca"] if client else args.client_ca, verbose=args.verbose)
    for spec in args.object:
        res, _, path = spec.partition("=")
        with open(path) as f:
            api.set_object(res, json.load(f))
    api.start()
    kc = None
    if args.kubeconfig:
        if args.token_file:
            with open(args.token_file, "w") as f:
                f.write(args.token)
        kc = api.write_kubeconfig(os.path.dirname(os.path.abspath(args.kubeconfig)),
                                  name=os.path.basename(args.kubeconfig),
                                  token=None if args.token_file else True,
                                  token_file=args.token_file, insecure=args.insecure)
    # SIGTERM ends it like Ctrl-C, through api.stop() (which removes its certificates).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    info = {"url": api.url, "port": api.port, "ca": api.ca, "certdir": api.certdir,
            "kubeconfig": kc, "pid": os.getpid(), "client_cert": client}
    print(json.dumps(info), flush=True)
    try:
        if args.stdio:
            Control(api).run(sys.stdin, sys.stdout)
        else:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

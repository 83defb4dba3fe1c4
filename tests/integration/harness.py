# SPDX-License-Identifier: Apache-2.0
"""Shared code for the integration tests: the real osstream-webhook binary
over real TLS, the way kube-apiserver calls a webhook.

It generates certificates with the binary (`gen-certs`), starts `serve` on a
free 127.0.0.1 port with a copy of the fixture OSImageStream, waits for
/readyz, and stops it with SIGTERM (SIGKILL after a deadline), failing when
the process left a sanitizer report. It also has a small raw HTTP/1.1 client
over ssl sockets (for pipelining, dribbling and malformed requests), builders
for AdmissionReviews, an RFC 6902 applier and a Prometheus text parser.
Python standard library only; every socket operation has a timeout.
"""

import atexit
import base64
import copy
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("OSW_SRC") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("OSW_BIN") or os.path.join(SRC, "build", "osstream-webhook")
DATA = os.path.join(SRC, "tests", "data")
SANITIZE = bool(os.environ.get("OSW_SANITIZE"))
# Time factor for deadlines and latency bounds under ASan/UBSan.
SLOW = 4.0 if SANITIZE else 1.0

GROUP = "machineconfiguration.openshift.io"
PREFIX = "osimagestream.machineconfiguration.openshift.io/"
K_STREAM = PREFIX + "stream"
K_OS = PREFIX + "os-image"
K_EXT = PREFIX + "os-extensions-image"
SENTENCE = ("The specified osImageStream name must reference a valid stream "
            "from the cluster OSImageStream resource")

# The fixture's streams (tests/data/osimagestream.yaml), in order.
IMG = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:"
STREAMS = {
    "rhel-9": (IMG + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2",
               IMG + "f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8"),
    "rhel-10": (IMG + "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b",
                IMG + "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e"),
}

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                   "ERROR: ThreadSanitizer", "WARNING: ThreadSanitizer")


_TMPDIRS = []


def tmpdir(prefix):
    """A temporary directory removed when the test process exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    _TMPDIRS.append(d)
    return d


@atexit.register
def _cleanup():
    for d in _TMPDIRS:
        shutil.rmtree(d, ignore_errors=True)


def t(seconds):
    """A deadline or latency bound, scaled under sanitizers."""
    return seconds * SLOW


def have_binary():
    return os.path.isfile(BIN) and os.access(BIN, os.X_OK)


def run(args, stdin=None, timeout=None, env=None, cwd=None):
    """Runs the binary with args; returns CompletedProcess with bytes."""
    return subprocess.run([BIN] + list(args), input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout or t(20), env=_child_env(env),
                          cwd=cwd)


def _child_env(extra):
    """The environment for the binary: ours without OSSTREAM_*, plus `extra`
    (a None value removes the variable)."""
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("OSSTREAM_"):
            del env[k]
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def one_line(data):
    """True when `data` (bytes) is exactly one non-empty line (a final newline allowed)."""
    s = data.decode("utf-8", "replace")
    if s.endswith("\n"):
        s = s[:-1]
    return s != "" and "\n" not in s


_CERTS = {}


def certs():
    """Generates (once per process) a CA and a serving pair for localhost."""
    if "dir" not in _CERTS:
        d = tmpdir("osw-it-certs-")
        p = run(["gen-certs", "--dir", d, "--dns-name", "localhost"], timeout=t(30))
        if p.returncode != 0:
            raise RuntimeError("gen-certs failed (%d): %s" % (p.returncode, p.stderr.decode()))
        _CERTS["dir"] = d
    d = _CERTS["dir"]
    return {"dir": d, "ca": os.path.join(d, "ca.crt"), "crt": os.path.join(d, "tls.crt"),
            "key": os.path.join(d, "tls.key")}


def expired_pair(d, name="old.example"):
    """Writes a self-signed certificate for `name` that expired on
    2021-01-01, and its key, into directory `d` (openssl's `ca` command is
    the one that takes a past end date). Returns (crt, key) paths; raises
    unittest.SkipTest without openssl."""
    if shutil.which("openssl") is None:
        raise unittest.SkipTest("openssl not installed")
    os.makedirs(os.path.join(d, "db"), exist_ok=True)
    open(os.path.join(d, "db", "index.txt"), "w").close()
    with open(os.path.join(d, "db", "serial"), "w") as f:
        f.write("01\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = db/index.txt\nserial = db/serial\n"
                "new_certs_dir = db\ndefault_md = sha256\npolicy = p\n"
                "copy_extensions = copy\nunique_subject = no\n[p]\ncommonName = supplied\n")
    for args in (["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=" + name,
                  "-addext", "subjectAltName=DNS:" + name],
                 ["ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "expired.key",
                  "-in", "expired.csr", "-out", "expired.crt", "-startdate", "20200101000000Z",
                  "-enddate", "20210101000000Z"]):
        p = subprocess.run(["openssl"] + args, cwd=d, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=t(30))
        if p.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], p.stderr.decode()))
    return os.path.join(d, "expired.crt"), os.path.join(d, "expired.key")


def client_context(cafile=None):
    ctx = ssl.create_default_context(cafile=cafile or certs()["ca"])
    ctx.check_hostname = True
    return ctx


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class _Conn(http.client.HTTPSConnection):
    """HTTPSConnection to 127.0.0.1 that verifies the name `localhost`."""

    def __init__(self, port, ctx, timeout):
        super().__init__("localhost", port, context=ctx, timeout=timeout)
        self._ctx = ctx

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname="localhost")


class Response:
    def __init__(self, status, reason, headers, body, version="HTTP/1.1"):
        self.status = status
        self.reason = reason
        self.headers = headers  # dict: lower-case name -> value (last wins)
        self.body = body
        self.version = version

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %d %r %r>" % (self.status, self.headers, self.body[:300])


class Server:
    """One running `serve` process."""

    def __init__(self, osimagestream=None, args=(), env=None, log_level="debug",
                 use_flags=True, ready=True, cafile=None):
        self.cafile = cafile  # CA the clients trust (default: certs()["ca"])
        self.tmp = tmpdir("osw-it-srv-")
        self.osis_path = os.path.join(self.tmp, "osimagestream.yaml")
        if osimagestream is None:
            shutil.copy(os.path.join(DATA, "osimagestream.yaml"), self.osis_path)
        elif osimagestream is not False:
            with open(self.osis_path, "w") as f:
                f.write(osimagestream)
        self.args = list(args)
        self.env = env or {}
        self.log_level = log_level
        self.use_flags = use_flags
        self.proc = None
        self.port = None
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.wait_ready = ready

    # -- lifecycle ---------------------------------------------------------
    def command(self, port):
        c = certs()
        cmd = [BIN, "serve", "--listen", "127.0.0.1:%d" % port,
               "--tls-cert-file", c["crt"], "--tls-private-key-file", c["key"],
               "--osimagestream-file", self.osis_path]
        if self.log_level:
            cmd += ["--log-level", self.log_level]
        return cmd + self.args

    def start(self):
        last = ""
        for _ in range(5):
            port = free_port()
            cmd = self.command(port)
            env = _child_env(self.env)
            self.errf = open(self.stderr_path, "wb")
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=self.errf, stderr=self.errf, env=env)
            self.port = port
            if not self.wait_ready:
                return self
            deadline = time.monotonic() + t(10) * (1.0 if not SANITIZE else 0.75)
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    r = self.get("/readyz", timeout=1)
                    if r.status == 200:
                        return self
                except (OSError, ssl.SSLError, http.client.HTTPException):
                    pass
                time.sleep(0.05)
            last = self.stderr()
            if self.proc.poll() is None:
                self.kill()
                raise RuntimeError("server not ready within deadline; stderr:\n" + last[-3000:])
            if "in use" not in last.lower() and "bind" not in last.lower():
                raise RuntimeError("server exited with %s before ready; stderr:\n%s"
                                   % (self.proc.returncode, last[-3000:]))
        raise RuntimeError("could not start server: " + last[-3000:])

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, deadline=None):
        """SIGTERM, then SIGKILL after the deadline. Returns a list of problems."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is not None:
            problems.append("server exited before teardown with status %s (negative: killed by "
                            "signal); stderr tail:\n%s" % (self.proc.returncode, self.stderr()[-3000:]))
        else:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.wait_exit(deadline or t(10))
            if rc is None:
                problems.append("did not exit within %.0fs of SIGTERM" % (deadline or t(10)))
                self.kill()
            elif rc != 0:
                problems.append("exit status %d after SIGTERM" % rc)
        try:
            self.errf.close()
        except Exception:
            pass
        problems += self.sanitizer_problems()
        return problems

    def sanitizer_problems(self):
        err = self.stderr()
        out = []
        for mark in SANITIZER_MARKS:
            i = err.find(mark)
            if i >= 0:
                out.append("sanitizer report in server stderr:\n" + err[max(0, i - 200):i + 3000])
        return out

    def stop_and_check(self, testcase=None):
        problems = self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            raise AssertionError("server teardown: " + "\n".join(problems))

    def raise_if_dead(self):
        """Turns 'connection refused' into the real story when the server died."""
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError("server process exited unexpectedly with status %s; stderr tail:\n%s"
                                 % (self.proc.returncode, self.stderr()[-4000:]))

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- clients -------------------------------------------------------------
    def conn(self, timeout=None):
        return _Conn(self.port, client_context(self.cafile), timeout or t(5))

    def raw(self, timeout=None):
        return RawConn(self.port, timeout=timeout or t(5), cafile=self.cafile)

    def request(self, method, path, body=None, headers=None, conn=None, timeout=None):
        own = conn is None
        c = conn or self.conn(timeout)
        try:
            try:
                c.request(method, path, body=body, headers=headers or {})
            except ConnectionRefusedError:
                self.raise_if_dead()
                raise
            r = c.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, r.reason, hdrs, data)
        finally:
            if own:
                c.close()

    def get(self, path, timeout=None, conn=None):
        return self.request("GET", path, conn=conn, timeout=timeout)

    def post_json(self, path, obj, conn=None, content_type="application/json"):
        body = obj if isinstance(obj, (bytes, bytearray)) else json.dumps(obj).encode()
        return self.request("POST", path, body=body,
                            headers={"Content-Type": content_type}, conn=conn)

    def review(self, endpoint, review_obj, conn=None):
        """POSTs a review; asserts a 200 AdmissionReview; returns (Response, response dict)."""
        r = self.post_json("/" + endpoint, review_obj, conn=conn)
        if r.status != 200:
            raise AssertionError("expected 200 from /%s, got %r" % (endpoint, r))
        return r, r.json()

    def metrics(self):
        r = self.get("/metrics")
        if r.status != 200:
            raise AssertionError("/metrics: %r" % r)
        return Metrics(r.body.decode("utf-8"))


# ---- raw HTTP/1.1 over TLS ---------------------------------------------------

class Closed(Exception):
    pass


class RawConn:
    """A raw TLS socket to 127.0.0.1 (name `localhost` verified), with a small
    HTTP/1.1 response parser; for pipelining, dribbling and malformed input."""

    def __init__(self, port, timeout=5.0, handshake=True, cafile=None):
        self.timeout = timeout
        tcp = socket.create_connection(("127.0.0.1", port), timeout)
        tcp.settimeout(timeout)
        self.sock = client_context(cafile).wrap_socket(tcp, server_hostname="localhost",
                                                 do_handshake_on_connect=handshake)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            chunk = b""
        if not chunk:
            raise Closed("connection closed by server")
        self.buf += chunk

    def _read_until(self, marker, deadline, limit=1 << 20):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise AssertionError("no %r within %d bytes" % (marker, limit))
            self._fill(deadline)
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_n(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, timeout=None, head=False):
        """Reads one response (a 1xx interim one too). Raises Closed on EOF
        before a full response."""
        deadline = time.monotonic() + (timeout or self.timeout)
        head_bytes = self._read_until(b"\r\n\r\n", deadline)
        lines = head_bytes[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if 100 <= status < 200 or status in (204, 304) or head:
            return Response(status, reason, headers, b"", version)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size_line = self._read_until(b"\r\n", deadline)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    self._read_until(b"\r\n", deadline)  # no trailers expected
                    break
                body += self._read_n(size, deadline)
                self._read_n(2, deadline)
        elif "content-length" in headers:
            body = self._read_n(int(headers["content-length"]), deadline)
        else:
            body = b""
            try:
                while True:
                    self._fill(deadline)
            except Closed:
                body, self.buf = self.buf, b""
        return Response(status, reason, headers, body, version)

    def read_final(self, timeout=None):
        """Reads responses until a non-1xx one; returns (final, interim list)."""
        interim = []
        while True:
            r = self.read_response(timeout)
            if r.status >= 200:
                return r, interim
            interim.append(r)

    def closed_within(self, seconds):
        """True when the server closes the connection within `seconds` (any
        bytes that arrive meanwhile are discarded)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (OSError, ssl.SSLError):
                return True
            if not chunk:
                return True
        return False


def http_request(method, path, body=b"", headers=None, version="HTTP/1.1"):
    """Bytes of one HTTP request. Content-Length is added for a body unless
    the headers already give Content-Length or Transfer-Encoding."""
    h = [("Host", "localhost")]
    given = {k.lower() for k, _ in (headers or [])}
    if body and "content-length" not in given and "transfer-encoding" not in given:
        h.append(("Content-Length", str(len(body))))
    h += list(headers or [])
    head = "%s %s %s\r\n" % (method, path, version)
    head += "".join("%s: %s\r\n" % kv for kv in h) + "\r\n"
    return head.encode("latin-1") + body


def post_bytes(path, obj, content_type="application/json", extra=()):
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return http_request("POST", path, body, [("Content-Type", content_type)] + list(extra))


# ---- AdmissionReview builders ------------------------------------------------

ABSENT = object()


def mcp(name="infra", stream=ABSENT, annotations=ABSENT, osimagestream=ABSENT, metadata=ABSENT):
    """A MachineConfigPool object. `stream` sets spec.osImageStream.name;
    `osimagestream` sets spec.osImageStream itself (takes precedence)."""
    meta = {"name": name, "uid": "9b1c2d3e-0000-4000-8000-%012d" % (len(name) % 1000),
            "labels": {"pools.operator.machineconfiguration.openshift.io/" + name: ""}}
    if annotations is not ABSENT:
        meta["annotations"] = annotations
    obj = {"apiVersion": GROUP + "/v1", "kind": "MachineConfigPool",
           "metadata": meta if metadata is ABSENT else metadata,
           "spec": {"machineConfigSelector": {"matchLabels": {GROUP + "/role": name}},
                    "nodeSelector": {"matchLabels": {"node-role.kubernetes.io/" + name: ""}},
                    "paused": False, "maxUnavailable": 1}}
    if osimagestream is not ABSENT:
        obj["spec"]["osImageStream"] = osimagestream
    elif stream is not ABSENT:
        obj["spec"]["osImageStream"] = {"name": stream}
    return obj


_uid_counter = [0]


def new_uid():
    _uid_counter[0] += 1
    return "4e1f0c7a-1d2b-4c3d-8e4f-%012d" % _uid_counter[0]


def review(obj=None, op="CREATE", old=ABSENT, uid=None, api="admission.k8s.io/v1",
           group=GROUP, version="v1", resource="machineconfigpools", kind="MachineConfigPool",
           sub_resource=None, name=None):
    if name is None:
        name = obj["metadata"]["name"] if isinstance(obj, dict) and isinstance(
            obj.get("metadata"), dict) and isinstance(obj["metadata"].get("name"), str) else "infra"
    req = {"uid": uid or new_uid(),
           "kind": {"group": group, "version": version, "kind": kind},
           "resource": {"group": group, "version": version, "resource": resource},
           "requestKind": {"group": group, "version": version, "kind": kind},
           "requestResource": {"group": group, "version": version, "resource": resource},
           "name": name, "operation": op,
           "userInfo": {"username": "system:admin", "groups": ["system:masters"]},
           "object": obj, "dryRun": False}
    if sub_resource is not None:
        req["subResource"] = sub_resource
        req["requestSubResource"] = sub_resource
    if old is not ABSENT:
        req["oldObject"] = old
    elif op == "UPDATE":
        req["oldObject"] = copy.deepcopy(obj)
    if op == "DELETE":
        req["oldObject"] = obj
        req["object"] = None
    return {"apiVersion": api, "kind": "AdmissionReview", "request": req}


def decode_patch(resp):
    """The JSON patch (list) of a response AdmissionReview or of its
    `response` member, or None when there is none."""
    r = resp["response"] if "response" in resp and "uid" not in resp else resp
    if "patch" not in r:
        return None
    return json.loads(base64.b64decode(r["patch"], validate=True).decode("utf-8"))


def _unescape(tok):
    return tok.replace("~1", "/").replace("~0", "~")


def apply_patch(doc, patch):
    """RFC 6902 add/replace/remove of object members (what the webhook emits).
    Raises AssertionError on anything the RFC would refuse."""
    doc = copy.deepcopy(doc)
    for op in patch:
        path = op["path"]
        if not path.startswith("/"):
            raise AssertionError("bad JSON pointer %r" % path)
        toks = [_unescape(x) for x in path[1:].split("/")]
        parent = doc
        for tk in toks[:-1]:
            if not isinstance(parent, dict) or tk not in parent:
                raise AssertionError("patch path parent missing: %r" % path)
            parent = parent[tk]
        if not isinstance(parent, dict):
            raise AssertionError("patch parent not an object: %r" % path)
        last = toks[-1]
        kind = op["op"]
        if kind == "add":
            parent[last] = copy.deepcopy(op["value"])
        elif kind == "replace":
            if last not in parent:
                raise AssertionError("replace of missing member %r" % path)
            parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            if last not in parent:
                raise AssertionError("remove of missing member %r" % path)
            del parent[last]
        else:
            raise AssertionError("unexpected patch op %r" % kind)
    return doc


# ---- Prometheus text ---------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


class Metrics:
    def __init__(self, text):
        self.text = text
        self.help = {}
        self.type = {}
        self.samples = []  # (name, labels dict, float)
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("# HELP "):
                parts = line.split(" ", 3)
                self.help[parts[2]] = parts[3] if len(parts) > 3 else ""
                continue
            if line.startswith("# TYPE "):
                parts = line.split(" ")
                self.type[parts[2]] = parts[3]
                continue
            if line.startswith("#"):
                continue
            m = _SAMPLE.match(line)
            if not m:
                raise AssertionError("unparsable metrics line: %r" % line)
            labels = {}
            if m.group(3):
                pos = 0
                s = m.group(3)
                while pos < len(s):
                    lm = _LABEL.match(s, pos)
                    if not lm:
                        raise AssertionError("unparsable labels: %r" % line)
                    labels[lm.group(1)] = lm.group(2)
                    pos = lm.end()
            v = m.group(4)
            val = float("inf") if v == "+Inf" else float("-inf") if v == "-Inf" else float(v)
            self.samples.append((m.group(1), labels, val))

    def get(self, name, **labels):
        """Sum of samples of `name` whose labels include `labels`."""
        total = 0.0
        for n, l, v in self.samples:
            if n == name and all(l.get(k) == val for k, val in labels.items()):
                total += v
        return total

    def series(self, name):
        return [(l, v) for n, l, v in self.samples if n == name]

    def value(self, name, **labels):
        """The single sample matching exactly, or None."""
        found = [v for n, l, v in self.samples
                 if n == name and all(l.get(k) == val for k, val in labels.items())]
        if not found:
            return None
        return found[0]


def requests_by_key(m):
    """requests_total as {(endpoint without '/', operation, verdict): value}."""
    out = {}
    for l, v in m.series("osstream_webhook_requests_total"):
        key = (l.get("endpoint", "").lstrip("/"), l.get("operation"), l.get("verdict"))
        out[key] = out.get(key, 0.0) + v
    return out


# ---- unittest glue -------------------------------------------------------------

class ServerTestCase(unittest.TestCase):
    """One server per class (setUpClass); `server_kwargs` customise it."""

    server_kwargs = {}
    srv = None

    @classmethod
    def setUpClass(cls):
        if not have_binary():
            raise unittest.SkipTest("binary not found: " + BIN)
        cls.srv = Server(**cls.server_kwargs).start()

    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            srv, cls.srv = cls.srv, None
            srv.stop_and_check()


def main():
    """Runs the calling module's tests; prints a summary line; exits non-zero on failure."""
    mod = sys.modules["__main__"]
    name = os.path.basename(getattr(mod, "__file__", "test"))
    if not have_binary():
        print("%s: binary not found at %s (set OSW_BIN)" % (name, BIN))
        print("SUMMARY %s: FAILED (no binary)" % name)
        sys.exit(1)
    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    start = time.monotonic()
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    took = time.monotonic() - start
    ok = res.wasSuccessful()
    print("SUMMARY %s: %s — ran %d, failures %d, errors %d, skipped %d in %.1fs"
          % (name, "OK" if ok else "FAILED", res.testsRun, len(res.failures),
             len(res.errors), len(res.skipped), took))
    sys.stdout.flush()
    sys.exit(0 if ok else 1)

# SPDX-License-Identifier: Apache-2.0
"""`--metrics-listen` and `--metrics-auth` of `serve` (CONTRACT.md, flags
table): /metrics on a second HTTPS listener with the same certificate that
serves nothing else (other paths 404), the admission listener then answering
/metrics with 404; an address that cannot be bound (in use, not local, or
malformed) fails start-up with exit 2 and one line before anything listens.
`--metrics-auth none` is accepted; `kubernetes` needs the API source, which
this version does not have, and exits 2 saying so.
"""

import json
import os
import socket
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import mcp, review  # noqa: E402


def serve_args(port, *extra):
    c = h.certs()
    return ["serve", "--listen", "127.0.0.1:%d" % port, "--tls-cert-file", c["crt"],
            "--tls-private-key-file", c["key"],
            "--osimagestream-file", os.path.join(h.DATA, "osimagestream.yaml")] + list(extra)


def refused(port):
    """True when nothing accepts connections on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return False
    except ConnectionRefusedError:
        return True


def peer_der(port):
    with socket.create_connection(("127.0.0.1", port), h.t(5)) as s:
        with h.client_context().wrap_socket(s, server_hostname="localhost") as tls:
            return tls.getpeercert(True)


class MetricsListener(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not h.have_binary():
            raise unittest.SkipTest("no binary")
        cls.srv = None
        for _ in range(5):
            cls.mport = h.free_port()
            try:
                cls.srv = h.Server(args=["--metrics-listen", "127.0.0.1:%d" % cls.mport]).start()
                break
            except RuntimeError as e:
                if "in use" not in str(e).lower():
                    raise
        if cls.srv is None:
            raise RuntimeError("no free port pair for the metrics listener")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop_and_check()

    def mget(self, path, method="GET", body=None, headers=None):
        c = h._Conn(self.mport, h.client_context(), h.t(5))
        try:
            return self.srv.request(method, path, body=body, headers=headers, conn=c)
        finally:
            c.close()

    def test_metrics_served_on_the_metrics_listener(self):
        r = self.mget("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type", "").startswith("text/plain"), r)
        m = h.Metrics(r.body.decode())
        self.assertEqual(m.type.get("osstream_webhook_requests_total"), "counter")
        self.assertEqual(m.value("osstream_webhook_osimagestream_synced"), 1.0)
        self.assertEqual(self.mget("/metrics?x=1").status, 200)
        self.assertEqual(self.mget("/metrics", method="HEAD").status, 200)

    def test_same_certificate_on_both_listeners(self):
        self.assertEqual(peer_der(self.mport), peer_der(self.srv.port))

    def test_metrics_listener_serves_nothing_else(self):
        for path in ("/healthz", "/readyz", "/", "/metrics/", "/metricsx", "/validate", "/mutate"):
            r = self.mget(path)
            self.assertEqual(r.status, 404, "%s on the metrics listener: %r" % (path, r))
        body = json.dumps(review(mcp("w", stream="rhel-10"))).encode()
        for path in ("/validate", "/mutate"):
            r = self.mget(path, method="POST", body=body, headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 404, "POST %s on the metrics listener: %r" % (path, r))
        r = self.mget("/metrics", method="POST", body=b"{}", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 405, r)

    def test_admission_listener_answers_metrics_404(self):
        self.assertEqual(self.srv.get("/metrics").status, 404)
        self.assertEqual(self.srv.get("/healthz").status, 200)
        self.assertEqual(self.srv.get("/readyz").status, 200)

    def test_admission_counted_and_visible_on_metrics_listener(self):
        before = h.requests_by_key(h.Metrics(self.mget("/metrics").body.decode()))
        _, resp = self.srv.review("validate", review(mcp("w", stream="rhel-10")))
        self.assertTrue(resp["response"]["allowed"])
        # 404s on the metrics listener are not admission requests
        self.mget("/validate", method="POST", body=b"{}", headers={"Content-Type": "application/json"})
        after = h.requests_by_key(h.Metrics(self.mget("/metrics").body.decode()))
        key = ("validate", "CREATE", "allowed")
        self.assertEqual(after.get(key, 0) - before.get(key, 0), 1)
        self.assertEqual(sum(after.values()) - sum(before.values()), 1, after)

    def test_keepalive_on_metrics_listener(self):
        c = h._Conn(self.mport, h.client_context(), h.t(5))
        try:
            for _ in range(3):
                self.assertEqual(self.srv.request("GET", "/metrics", conn=c).status, 200)
        finally:
            c.close()


class MetricsListenStartup(unittest.TestCase):
    def expect_exit2(self, args, env=None, mentions=()):
        port = h.free_port()
        p = h.run(serve_args(port, *args), env=env, timeout=h.t(15))
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 2, "args %r: exit %d, stderr %r" % (args, p.returncode, err))
        self.assertTrue(h.one_line(p.stderr), "not one line: %r" % err)
        self.assertEqual(p.stdout, b"")
        for m in mentions:
            self.assertIn(m, err)
        self.assertTrue(refused(port), "the admission port is still listening")
        return err

    def test_address_in_use(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        try:
            port = busy.getsockname()[1]
            err = self.expect_exit2(["--metrics-listen", "127.0.0.1:%d" % port],
                                    mentions=("--metrics-listen", str(port)))
            self.assertIn("in use", err.lower())
        finally:
            busy.close()

    def test_same_address_as_listen(self):
        port = h.free_port()
        p = h.run(serve_args(port, "--metrics-listen", "127.0.0.1:%d" % port), timeout=h.t(15))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertIn(b"--metrics-listen", p.stderr)

    def test_address_not_local(self):
        # TEST-NET-1 (RFC 5737) is never an address of this machine.
        self.expect_exit2(["--metrics-listen", "192.0.2.1:9443"], mentions=("192.0.2.1",))

    def test_malformed(self):
        for bad in ("9443", "localhost", "example.com:9443", "[::1:9443", "1.2.3.4:99999", ""):
            self.expect_exit2(["--metrics-listen=" + bad], mentions=("--metrics-listen",))

    def test_environment_variable(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        try:
            port = busy.getsockname()[1]
            self.expect_exit2([], env={"OSSTREAM_METRICS_LISTEN": "127.0.0.1:%d" % port},
                              mentions=("--metrics-listen",))
        finally:
            busy.close()

    def test_metrics_auth_kubernetes_needs_api_source(self):
        err = self.expect_exit2(["--metrics-auth", "kubernetes"], mentions=("--metrics-auth",))
        self.assertIn("API source", err)
        self.expect_exit2([], env={"OSSTREAM_METRICS_AUTH": "kubernetes"}, mentions=("API source",))

    def test_metrics_auth_bad_value(self):
        for bad in ("None", "token", ""):
            self.expect_exit2(["--metrics-auth=" + bad], mentions=("--metrics-auth",))

    def test_metrics_auth_none_serves(self):
        srv = h.Server(args=["--metrics-auth", "none"]).start()
        try:
            self.assertEqual(srv.get("/metrics").status, 200)
        finally:
            srv.stop_and_check()

    def test_help_lists_flags(self):
        p = h.run(["serve", "--help"])
        self.assertEqual(p.returncode, 0)
        for f in (b"--metrics-listen", b"--metrics-auth", b"--tls-cipher-suites"):
            self.assertIn(f, p.stdout)


class MetricsListenerShutdown(unittest.TestCase):
    def test_sigterm_closes_both(self):
        mport = h.free_port()
        srv = h.Server(args=["--metrics-listen", "127.0.0.1:%d" % mport,
                             "--shutdown-delay", "300ms"]).start()
        try:
            self.assertEqual(peer_der(mport), peer_der(srv.port))
            srv.signal(15)
            rc = srv.wait_exit(h.t(6))
            self.assertEqual(rc, 0, srv.stderr()[-2000:])
            self.assertTrue(refused(mport), "metrics listener still accepting after exit")
        finally:
            problems = srv.stop()
            self.assertEqual([p for p in problems if "exited before teardown" not in p], [])


if __name__ == "__main__":
    h.main()

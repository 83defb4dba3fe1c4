# SPDX-License-Identifier: Apache-2.0
"""Logs of `serve` (CONTRACT.md, "Logs"): one line per event on stderr; the
json format has ts, level, msg and, for decisions, uid, operation, resource,
name, stream, verdict, code, duration_ms; the text format is one readable
line that is not JSON; denials log at info, allows at debug; request bodies
and keys are never logged. Also: every non-200 answer on /validate and
/mutate is one warn line (remote, route, code, reason); denials carry the
status reason, the cause type and the requesting user; TLS handshake
failures log at info with the peer, rate-limited; the served certificate is
logged at start-up, at warn when expired or close to it.
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

DECISION_FIELDS = ("uid", "operation", "resource", "name", "stream", "verdict", "code", "duration_ms")
SECRET = "s3cr3t-label-value-never-logged"


def secret_review(stream, uid):
    obj = mcp("logpool", stream=stream)
    obj["metadata"]["labels"]["secret"] = SECRET
    return review(obj, uid=uid)


class LogsJSON(h.ServerTestCase):
    server_kwargs = {"log_level": "info"}

    def lines_for(self, uid, deadline=2.0):
        end = time.monotonic() + h.t(deadline)
        while True:
            out = []
            for line in self.srv.stderr().splitlines():
                if uid in line:
                    out.append(line)
            if out or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def test_json_lines_parse(self):
        self.srv.review("validate", secret_review("rhel-8", "uid-json-parse"))
        self.lines_for("uid-json-parse")
        for line in self.srv.stderr().splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)  # every line is one JSON object
            for k in ("ts", "level", "msg"):
                self.assertIn(k, rec, line)
            self.assertIn(rec["level"], ("debug", "info", "warn", "error"), line)

    def test_denial_logged_at_info_with_fields(self):
        uid = "uid-denied-0001"
        self.srv.review("validate", secret_review("rhel-8", uid))
        lines = self.lines_for(uid)
        self.assertEqual(len(lines), 1, lines)
        rec = json.loads(lines[0])
        self.assertEqual(rec["level"], "info")
        for k in DECISION_FIELDS:
            self.assertIn(k, rec, lines[0])
        self.assertEqual(rec["uid"], uid)
        self.assertEqual(rec["operation"], "CREATE")
        self.assertEqual(rec["name"], "logpool")
        self.assertEqual(rec["stream"], "rhel-8")
        self.assertEqual(rec["verdict"], "denied")
        self.assertEqual(int(rec["code"]), 422)
        self.assertIn("machineconfigpools", str(rec["resource"]))
        self.assertGreaterEqual(float(rec["duration_ms"]), 0)

    def test_allow_not_logged_at_info(self):
        uid = "uid-allowed-0001"
        self.srv.review("validate", secret_review("rhel-10", uid))
        self.srv.review("validate", secret_review("rhel-8", "uid-marker-0001"))
        self.lines_for("uid-marker-0001")
        self.assertEqual(self.lines_for(uid, deadline=0.2), [])

    def test_no_bodies_or_keys(self):
        self.srv.review("validate", secret_review("rhel-8", "uid-secret-0001"))
        self.srv.review("mutate", secret_review("rhel-10", "uid-secret-0002"))
        self.srv.post_json("/validate", b'{"not": "a review", "x": "' + SECRET.encode() + b'"}')
        self.lines_for("uid-secret-0001")
        err = self.srv.stderr()
        self.assertNotIn(SECRET, err)
        self.assertNotIn("PRIVATE KEY", err)
        key = open(h.certs()["key"]).read().splitlines()[1]
        self.assertNotIn(key, err)


def records(text):
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def wait_records(srv, pred, deadline=2.0, want=1):
    end = time.monotonic() + h.t(deadline)
    while True:
        got = [r for r in records(srv.stderr()) if pred(r)]
        if len(got) >= want or time.monotonic() > end:
            return got
        time.sleep(0.05)


class LogsOperator(h.ServerTestCase):
    """What an on-call engineer greps for, at the default level (info)."""
    server_kwargs = {"log_level": "info"}

    def test_bad_request_is_one_warn_line_with_peer_and_reason(self):
        marker = "not-json-marker-4711"
        r = self.srv.post_json("/validate", b"{" + marker.encode())
        self.assertEqual(r.status, 400)
        got = wait_records(self.srv, lambda x: x.get("code") == 400 and x.get("route") == "/validate")
        self.assertEqual(len(got), 1, self.srv.stderr()[-2000:])
        rec = got[0]
        self.assertEqual(rec["level"], "warn")
        self.assertRegex(rec["remote"], r"^127\.0\.0\.1:[0-9]+$")
        self.assertIn("not valid JSON", rec["reason"])
        self.assertEqual(rec["reason"], r.body.decode().strip())
        self.assertNotIn(marker, self.srv.stderr())  # the body never

    def test_other_errors_warn_too(self):
        r = self.srv.post_json("/mutate", b"{}", content_type="text/plain")
        self.assertEqual(r.status, 415)
        got = wait_records(self.srv, lambda x: x.get("code") == 415)
        self.assertEqual(len(got), 1, self.srv.stderr()[-2000:])
        self.assertEqual(got[0]["level"], "warn")
        self.assertEqual(got[0]["route"], "/mutate")
        self.assertIn("application/json", got[0]["reason"])
        r = self.srv.request("GET", "/validate")
        self.assertEqual(r.status, 405)
        got = wait_records(self.srv, lambda x: x.get("code") == 405)
        self.assertEqual([g["level"] for g in got], ["warn"])

    def test_body_too_large_to_read_through_still_logs(self):
        """Past 16 MiB the connection is dropped without an answer: the
        operator still gets the one warn line."""
        raw = self.srv.raw()
        n = (16 << 20) + (1 << 20)
        raw.send(("POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\n\r\n" % n).encode())
        chunk = b" " * (1 << 20)
        try:
            for _ in range(17):
                raw.send(chunk)
        except OSError:
            pass  # the server may have closed it already
        # Closing at once could reset the connection before the server read
        # the bytes past 16 MiB: wait for the server to close it.
        self.assertTrue(raw.closed_within(h.t(5)), "connection not closed past 16 MiB")
        raw.close()
        got = wait_records(self.srv, lambda x: x.get("code") == 413 and x.get("route") == "/mutate",
                           deadline=5)
        self.assertGreaterEqual(len(got), 1, self.srv.stderr()[-2000:])
        self.assertEqual(got[-1]["level"], "warn")
        self.assertRegex(got[-1]["remote"], r"^127\.0\.0\.1:")

    def test_not_found_elsewhere_stays_quiet(self):
        r = self.srv.request("GET", "/nothing-here-0815")
        self.assertEqual(r.status, 404)
        self.srv.post_json("/validate", b"[")  # a marker line after it
        wait_records(self.srv, lambda x: x.get("code") == 400)
        self.assertNotIn("nothing-here-0815", self.srv.stderr())

    def test_denial_line_has_reason_cause_and_user(self):
        uid = "uid-denied-cause-1"
        rv = review(mcp("causepool", stream="rhel-8"), uid=uid)
        rv["request"]["userInfo"] = {"username": "alice@example.com", "uid": "u-1",
                                     "extra": {"scopes": ["extra-secret-value-9"]}}
        self.srv.review("validate", rv)
        got = wait_records(self.srv, lambda x: x.get("uid") == uid)
        self.assertEqual(len(got), 1)
        rec = got[0]
        self.assertEqual(rec["level"], "info")
        self.assertEqual(rec["reason"], "Invalid")
        self.assertEqual(rec["cause"], "FieldValueNotSupported")
        self.assertEqual(rec["user"], "alice@example.com")
        self.assertNotIn("extra-secret-value-9", self.srv.stderr())
        # A malformed name is a different cause.
        uid2 = "uid-denied-cause-2"
        self.srv.review("validate", review(mcp("causepool", stream="RHEL..9"), uid=uid2))
        rec2 = wait_records(self.srv, lambda x: x.get("uid") == uid2)[0]
        self.assertEqual(rec2["cause"], "FieldValueInvalid")
        self.assertEqual(rec2["user"], "system:admin")

    def test_plain_http_on_tls_port_logs_handshake_failure(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=h.t(5))
        local = s.getsockname()[1]
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(h.t(6))
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
        finally:
            s.close()
        remote = "127.0.0.1:%d" % local
        got = wait_records(self.srv, lambda x: x.get("remote") == remote, deadline=3)
        self.assertEqual(len(got), 1, self.srv.stderr()[-2000:])
        self.assertEqual(got[0]["level"], "info")
        self.assertIn("TLS handshake", got[0]["msg"])

    def test_unknown_ca_logs_handshake_failure(self):
        other = h.tmpdir("osw-it-otherca-")
        p = h.run(["gen-certs", "--dir", other, "--dns-name", "localhost"])
        self.assertEqual(p.returncode, 0, p.stderr)
        ctx = h.client_context(cafile=os.path.join(other, "ca.crt"))
        raw = socket.create_connection(("127.0.0.1", self.srv.port), timeout=h.t(5))
        local = raw.getsockname()[1]
        with self.assertRaises(ssl.SSLError):
            ctx.wrap_socket(raw, server_hostname="localhost")
        raw.close()
        remote = "127.0.0.1:%d" % local
        got = wait_records(self.srv, lambda x: x.get("remote") == remote, deadline=3)
        self.assertEqual(len(got), 1, self.srv.stderr()[-2000:])
        self.assertIn("TLS handshake", got[0]["msg"])
        # A good handshake is no failure.
        self.assertEqual(self.srv.get("/healthz").status, 200)


class LogsGoodHandshakes(h.ServerTestCase):
    server_kwargs = {"log_level": "info"}

    def test_completed_handshakes_are_no_failures(self):
        """TLS 1.2 and 1.3, full and resumed (session tickets): none logged."""
        for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = h.client_context()
            ctx.maximum_version = v
            sess, reused = None, False
            for _ in range(3):
                with socket.create_connection(("127.0.0.1", self.srv.port), h.t(5)) as s:
                    with ctx.wrap_socket(s, server_hostname="localhost", session=sess) as t:
                        t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        self.assertTrue(t.recv(20).startswith(b"HTTP/1.1 200"))
                        reused = reused or t.session_reused
                        sess = t.session
            self.assertTrue(reused, "no resumed handshake with %s" % v)
        self.srv.post_json("/validate", b"[")  # a marker line after them
        wait_records(self.srv, lambda x: x.get("code") == 400)
        self.assertNotIn("TLS handshake", self.srv.stderr())


class LogsHandshakeFlood(h.ServerTestCase):
    server_kwargs = {"log_level": "info"}

    def test_handshake_failures_are_rate_limited(self):
        n = 40
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=h.t(5))
            try:
                s.sendall(b"\x00garbage\r\n\r\n")
            except OSError:
                pass  # the server may already have closed it
            s.close()
        wait_records(self.srv, lambda x: "TLS handshake" in x.get("msg", ""), deadline=3, want=n)
        got = [r for r in records(self.srv.stderr()) if "TLS handshake" in r.get("msg", "")]
        self.assertGreaterEqual(len(got), 1)
        self.assertLessEqual(len(got), 10, "a flood of failed handshakes was not rate-limited")
        self.assertEqual(self.srv.get("/healthz").status, 200)


class LogsCertificate(unittest.TestCase):
    """The served certificate at start-up: subject, SANs, notAfter; warn
    when expired or within 30 days."""

    def test_valid_certificate_logged_at_info(self):
        srv = h.Server(log_level="info").start()
        try:
            got = wait_records(srv, lambda x: "not_after" in x and "sans" in x)
            self.assertEqual(len(got), 1, srv.stderr())
            rec = got[0]
            self.assertEqual(rec["level"], "info")
            self.assertIn("DNS:localhost", rec["sans"])
            self.assertIn("IP:127.0.0.1", rec["sans"])
            self.assertIn("localhost", rec["subject"])
            self.assertRegex(rec["not_after"], r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}T")
            # Completed handshakes (readiness probes, this one) are no failures.
            self.assertEqual(srv.get("/healthz").status, 200)
            self.assertNotIn("TLS handshake", srv.stderr())
        finally:
            srv.stop_and_check()

    def test_expired_certificate_warns_at_start(self):
        crt, key = h.expired_pair(h.tmpdir("osw-it-expired-"))
        srv = h.Server(log_level="info", ready=False,
                       args=["--tls-cert-file", crt, "--tls-private-key-file", key]).start()
        try:
            got = wait_records(srv, lambda x: "not_after" in x and "sans" in x, deadline=5)
            self.assertEqual(len(got), 1, srv.stderr())
            self.assertEqual(got[0]["level"], "warn")
            self.assertEqual(got[0]["validity"], "expired")
            self.assertIn("DNS:old.example", got[0]["sans"])
            self.assertTrue(got[0]["not_after"].startswith("2021-01-01"), got[0])
        finally:
            srv.stop_and_check()


class LogsDebugText(h.ServerTestCase):
    server_kwargs = {"log_level": "debug", "args": ["--log-format", "text"]}

    def test_text_format_and_debug_allows(self):
        uid = "uid-text-allowed-1"
        self.srv.review("validate", secret_review("rhel-10", uid))
        uid2 = "uid-text-denied-1"
        self.srv.review("validate", secret_review("rhel-8", uid2))
        time.sleep(0.2)
        err = self.srv.stderr()
        allowed = [l for l in err.splitlines() if uid in l]
        denied = [l for l in err.splitlines() if uid2 in l]
        self.assertEqual(len(allowed), 1, err[-2000:])
        self.assertEqual(len(denied), 1, err[-2000:])
        for line in allowed + denied:
            with self.assertRaises(ValueError, msg="text log line is JSON: %r" % line):
                json.loads(line)
        self.assertIn("debug", allowed[0].lower())
        self.assertIn("info", denied[0].lower())
        self.assertIn("denied", denied[0])
        self.assertIn("allowed", allowed[0])
        self.assertNotIn(SECRET, err)


if __name__ == "__main__":
    h.main()

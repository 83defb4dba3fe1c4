# SPDX-License-Identifier: Apache-2.0
"""The HTTP surface of `serve` (CONTRACT.md, "HTTP surface" and the HTTP
parts of "Abusive clients"): routes, the error answers before a decision and
their order (path, method, content type, size, body), connection reuse after
errors, 413 with Content-Length and chunked bodies, HTTP/1.0, pipelining,
Expect: 100-continue and header sizes, over real TLS to the real binary.
"""

import json
import os
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

LIMIT = 2048  # --max-request-bytes of the second server (a review is ~1.2 KB)


def valid_review(uid=None, stream="rhel-10"):
    return h.review(h.mcp("infra", stream=stream), uid=uid)


class HTTPSurface(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not h.have_binary():
            raise unittest.SkipTest("no binary")
        cls.srv = h.Server().start()
        try:
            cls.small = h.Server(args=["--max-request-bytes", str(LIMIT)]).start()
        except Exception:
            cls.srv.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        problems = cls.srv.stop() + cls.small.stop()
        if problems:
            raise AssertionError("\n".join(problems))

    # -- helpers ---------------------------------------------------------------
    def assertPlainOneLine(self, r, what):
        ct = r.header("content-type", "")
        self.assertTrue(ct.startswith("text/plain"), "%s: Content-Type %r, want text/plain" % (what, ct))
        text = r.body.decode("utf-8")
        if text.endswith("\n"):
            text = text[:-1]
        self.assertTrue(text and "\n" not in text, "%s: body not one line: %r" % (what, r.body))

    def assertStillUsable(self, raw, what):
        """A second request on the same connection is answered 200."""
        raw.send(h.post_bytes("/validate", valid_review()))
        r = raw.read_response()
        self.assertEqual(r.status, 200, "%s: connection not usable after the error: %r" % (what, r))
        self.assertTrue(r.json()["response"]["allowed"])

    def roundtrip(self, data, srv=None, reuse=True, what=""):
        raw = (srv or self.srv).raw()
        try:
            raw.send(data)
            r = raw.read_response()
            if reuse:
                self.assertStillUsable(raw, what or repr(data[:60]))
            return r
        finally:
            raw.close()

    # -- routes -------------------------------------------------------------------
    def test_healthz_ok(self):
        r = self.srv.get("/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body.strip(), b"ok")
        self.assertTrue(r.header("content-type", "").startswith("text/plain"), r.headers)

    def test_readyz_ok(self):
        r = self.srv.get("/readyz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body.strip(), b"ok")
        self.assertTrue(r.header("content-type", "").startswith("text/plain"), r.headers)

    def test_metrics_text(self):
        r = self.srv.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type", "").startswith("text/plain"), r.headers)
        self.assertIn(b"# TYPE osstream_webhook_requests_total counter\n", r.body)

    def test_unknown_path_404(self):
        for method, path in (("GET", "/"), ("GET", "/nope"), ("POST", "/validatex"),
                             ("POST", "/validate/extra"), ("GET", "/healthz/x"),
                             ("POST", "/Validate")):
            body = json.dumps(valid_review()).encode() if method == "POST" else b""
            hdrs = [("Content-Type", "application/json")] if body else []
            r = self.roundtrip(h.http_request(method, path, body, hdrs), what=path)
            self.assertEqual(r.status, 404, "%s %s: %r" % (method, path, r))
            self.assertPlainOneLine(r, path)

    def test_query_string_routes_to_validate(self):
        r = self.srv.post_json("/validate?timeout=10s", valid_review())
        self.assertEqual(r.status, 200, r)
        resp = r.json()
        self.assertEqual(resp["kind"], "AdmissionReview")
        self.assertTrue(resp["response"]["allowed"])
        # The validating endpoint: no patch even where /mutate would patch.
        self.assertNotIn("patch", resp["response"])
        r = self.srv.post_json("/mutate?timeout=10s", valid_review())
        self.assertEqual(r.status, 200, r)
        self.assertIn("patch", r.json()["response"], "/mutate?timeout=10s did not route to mutate")
        r = self.srv.get("/healthz?x=1")
        self.assertEqual(r.status, 200)

    def test_wrong_method_405_with_allow(self):
        cases = (("GET", "/validate", "POST"), ("PUT", "/validate", "POST"),
                 ("DELETE", "/mutate", "POST"), ("GET", "/mutate", "POST"),
                 ("POST", "/healthz", "GET"), ("POST", "/readyz", "GET"),
                 ("POST", "/metrics", "GET"), ("PUT", "/healthz", "GET"))
        for method, path, allow in cases:
            body = b"{}" if method in ("POST", "PUT") else b""
            hdrs = [("Content-Type", "application/json")] if body else []
            r = self.roundtrip(h.http_request(method, path, body, hdrs), what=method + path)
            self.assertEqual(r.status, 405, "%s %s: %r" % (method, path, r))
            allow_hdr = r.header("allow")
            self.assertIsNotNone(allow_hdr, "%s %s: no Allow header" % (method, path))
            methods = [m.strip() for m in allow_hdr.split(",")]
            self.assertIn(allow, methods, "%s %s: Allow %r" % (method, path, allow_hdr))
            self.assertNotIn(method, methods)
            self.assertPlainOneLine(r, method + path)

    def test_content_type_415(self):
        body = json.dumps(valid_review()).encode()
        for ct in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx",
                   "application/yaml", None):
            hdrs = [("Content-Type", ct)] if ct is not None else []
            r = self.roundtrip(h.http_request("POST", "/validate", body, hdrs), what=str(ct))
            self.assertEqual(r.status, 415, "Content-Type %r: %r" % (ct, r))
            self.assertPlainOneLine(r, str(ct))

    def test_content_type_parameters_accepted(self):
        for ct in ("application/json; charset=utf-8", "application/json;charset=UTF-8",
                   "application/json"):
            r = self.srv.post_json("/validate", valid_review(), content_type=ct)
            self.assertEqual(r.status, 200, "Content-Type %r: %r" % (ct, r))
            self.assertTrue(r.json()["response"]["allowed"])

    def test_bad_body_400(self):
        uid = h.new_uid()
        good = valid_review(uid)
        cases = {
            "empty": b"",
            "not json": b"this is not json",
            "truncated": json.dumps(good).encode()[:-3],
            "trailing garbage": json.dumps(good).encode() + b" x",
            "array": b"[]",
            "string": b'"AdmissionReview"',
            "null": b"null",
            "wrong kind": dict(good, kind="Pod"),
            "kind missing": {k: v for k, v in good.items() if k != "kind"},
            "apiVersion v2": dict(good, apiVersion="admission.k8s.io/v2"),
            "apiVersion missing": {k: v for k, v in good.items() if k != "apiVersion"},
            "apiVersion other group": dict(good, apiVersion="admissionregistration.k8s.io/v1"),
            "request missing": {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"},
            "request null": dict(good, request=None),
            "request not object": dict(good, request="x"),
            "uid missing": dict(good, request={k: v for k, v in good["request"].items() if k != "uid"}),
            "uid empty": dict(good, request=dict(good["request"], uid="")),
            "uid null": dict(good, request=dict(good["request"], uid=None)),
            "uid number": dict(good, request=dict(good["request"], uid=42)),
            "invalid utf-8": b'{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"\xff\xfe"}}',
        }
        for what, body in cases.items():
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            r = self.roundtrip(h.post_bytes("/validate", data), what=what)
            self.assertEqual(r.status, 400, "%s: %r" % (what, r))
            self.assertPlainOneLine(r, what)
        # /mutate too
        r = self.roundtrip(h.post_bytes("/mutate", b"{"), what="mutate {")
        self.assertEqual(r.status, 400, r)

    def test_nul_escape_in_string_accepted(self):
        rv = valid_review()
        rv["request"]["object"]["metadata"]["labels"]["note"] = "a\u0000b"
        body = json.dumps(rv).encode()
        self.assertIn(b"\\u0000", body)
        r = self.srv.post_json("/validate", body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["response"]["uid"], rv["request"]["uid"])
        r = self.srv.post_json("/mutate", body)
        self.assertEqual(r.status, 200, r)

    # -- order of checks -------------------------------------------------------
    def test_check_order(self):
        big = b"x" * (LIMIT + 100)
        cases = [
            # (what, request, expected status)
            ("unknown path, wrong method, wrong type",
             h.http_request("PUT", "/nope", b"x", [("Content-Type", "text/plain")]), 404),
            ("wrong method and wrong content type",
             h.http_request("PUT", "/validate", b"x", [("Content-Type", "text/plain")]), 405),
            ("GET with wrong content type",
             h.http_request("GET", "/validate", b"", [("Content-Type", "text/plain")]), 405),
            ("wrong content type and too large",
             h.http_request("POST", "/validate", big, [("Content-Type", "text/plain")]), 415),
            ("wrong content type and not json",
             h.http_request("POST", "/mutate", b"nope", [("Content-Type", "text/plain")]), 415),
        ]
        for what, req, want in cases:
            r = self.roundtrip(req, srv=self.small, what=what)
            self.assertEqual(r.status, want, "%s: %r" % (what, r))
        # too large and not JSON: 413 (size before body), then closed
        raw = self.small.raw()
        try:
            raw.send(h.post_bytes("/validate", big))
            r = raw.read_response()
            self.assertEqual(r.status, 413, r)
            self.assertTrue(raw.closed_within(h.t(3)), "connection not closed after 413")
        finally:
            raw.close()

    # -- 413 -----------------------------------------------------------------------
    def padded_review(self, size):
        body = json.dumps(valid_review()).encode()
        self.assertLessEqual(len(body), size)
        return body[:-1] + b" " * (size - len(body)) + b"}"

    def test_body_at_limit_accepted(self):
        body = self.padded_review(LIMIT)
        self.assertEqual(len(body), LIMIT)
        r = self.roundtrip(h.post_bytes("/validate", body), srv=self.small, what="at limit")
        self.assertEqual(r.status, 200, r)

    def test_413_content_length(self):
        body = self.padded_review(LIMIT + 1)
        raw = self.small.raw()
        try:
            raw.send(h.post_bytes("/validate", body))
            r = raw.read_response()
            self.assertEqual(r.status, 413, r)
            self.assertTrue(raw.closed_within(h.t(3)), "connection not closed after 413")
        finally:
            raw.close()
        # A large Content-Length, body sent in full (256 KiB): 413 then closed.
        raw = self.small.raw(timeout=h.t(10))
        try:
            big = b"{" + b" " * (256 * 1024) + b"}"
            raw.send(h.post_bytes("/mutate", big))
            r = raw.read_response()
            self.assertEqual(r.status, 413, r)
            self.assertTrue(raw.closed_within(h.t(3)), "connection not closed after 413")
        finally:
            raw.close()

    def test_413_chunked(self):
        raw = self.small.raw()
        try:
            head = h.http_request("POST", "/validate", b"", [("Content-Type", "application/json"),
                                                             ("Transfer-Encoding", "chunked")])
            raw.send(head)
            chunk = b" " * 400
            for _ in range(6):  # 2400 bytes > LIMIT
                raw.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            raw.send(b"0\r\n\r\n")
            r = raw.read_response()
            self.assertEqual(r.status, 413, r)
            self.assertTrue(raw.closed_within(h.t(3)), "connection not closed after 413")
        finally:
            raw.close()

    def test_chunked_under_limit_accepted(self):
        body = json.dumps(valid_review()).encode()
        data = h.http_request("POST", "/validate", b"", [("Content-Type", "application/json"),
                                                         ("Transfer-Encoding", "chunked")])
        half = len(body) // 2
        for part in (body[:half], body[half:]):
            data += b"%x\r\n%s\r\n" % (len(part), part)
        data += b"0\r\n\r\n"
        r = self.roundtrip(data, srv=self.small, what="chunked ok")
        self.assertEqual(r.status, 200, r)

    # -- connection reuse --------------------------------------------------------
    def test_keepalive_after_errors_httpclient(self):
        conn = self.srv.conn()
        try:
            seq = [("GET", "/nope", None, {}, 404),
                   ("GET", "/validate", None, {}, 405),
                   ("POST", "/validate", b"{}", {"Content-Type": "text/plain"}, 415),
                   ("POST", "/validate", b"nope", {"Content-Type": "application/json"}, 400),
                   ("POST", "/mutate", b"[1]", {"Content-Type": "application/json"}, 400)]
            conn.connect()
            sock = conn.sock
            for method, path, body, hdrs, want in seq:
                r = self.srv.request(method, path, body=body, headers=hdrs, conn=conn)
                self.assertEqual(r.status, want, (method, path, r))
                self.assertIs(conn.sock, sock, "server closed the connection after %d" % want)
                r = self.srv.post_json("/validate", valid_review(), conn=conn)
                self.assertEqual(r.status, 200, r)
                self.assertIs(conn.sock, sock, "connection not reused after %d" % want)
        finally:
            conn.close()

    # -- HTTP framing ---------------------------------------------------------------
    def test_http10_answered_and_closed(self):
        raw = self.srv.raw()
        try:
            raw.send(b"GET /healthz HTTP/1.0\r\n\r\n")
            r = raw.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body.strip(), b"ok")
            self.assertTrue(raw.closed_within(h.t(3)), "HTTP/1.0 connection left open")
        finally:
            raw.close()
        raw = self.srv.raw()
        try:
            rv = valid_review()
            raw.send(h.post_bytes("/validate", rv).replace(b"HTTP/1.1", b"HTTP/1.0", 1))
            r = raw.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["response"]["uid"], rv["request"]["uid"])
            self.assertTrue(raw.closed_within(h.t(3)), "HTTP/1.0 connection left open")
        finally:
            raw.close()

    def test_pipelined_in_order(self):
        raw = self.srv.raw()
        try:
            uids = [h.new_uid() for _ in range(5)]
            data = b""
            for i, uid in enumerate(uids):
                ep = "/validate" if i % 2 == 0 else "/mutate"
                data += h.post_bytes(ep, valid_review(uid, stream="rhel-9" if i % 3 else "rhel-8"))
            data += h.http_request("GET", "/healthz")
            data += h.post_bytes("/validate", b"garbage")
            data += h.post_bytes("/validate", valid_review("last-uid"))
            raw.send(data)
            for uid in uids:
                r = raw.read_response()
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["response"]["uid"], uid)
            r = raw.read_response()
            self.assertEqual((r.status, r.body.strip()), (200, b"ok"))
            r = raw.read_response()
            self.assertEqual(r.status, 400, r)
            r = raw.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["response"]["uid"], "last-uid")
        finally:
            raw.close()

    def test_expect_100_continue(self):
        rv = valid_review()
        body = json.dumps(rv).encode()
        raw = self.srv.raw()
        try:
            raw.send(h.http_request("POST", "/validate", b"", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                ("Expect", "100-continue")]))
            # A 100 Continue may come, or none: wait a little for it.
            interim = None
            try:
                interim = raw.read_response(timeout=1.0)
            except OSError:
                pass
            if interim is not None:
                self.assertEqual(interim.status, 100, "expected 100 Continue, got %r" % interim)
            raw.send(body)
            r, more = raw.read_final()
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["response"]["uid"], rv["request"]["uid"])
            self.assertStillUsable(raw, "after Expect")
        finally:
            raw.close()

    def test_4k_headers_served(self):
        hdrs = [("Content-Type", "application/json")]
        hdrs += [("X-Pad-%d" % i, "v" * 500) for i in range(8)]  # ~4.2 KiB
        body = json.dumps(valid_review()).encode()
        r = self.roundtrip(h.http_request("POST", "/validate", body, hdrs), what="4k headers")
        self.assertEqual(r.status, 200, r)

    def test_64k_headers_refused(self):
        raw = self.srv.raw()
        try:
            hdrs = [("X-Pad-%d" % i, "v" * 1000) for i in range(66)]
            data = h.http_request("GET", "/healthz", b"", hdrs)
            self.assertGreater(len(data), 64 * 1024)
            try:
                raw.send(data)
            except (OSError, ssl.SSLError):
                return  # closed while we were sending: allowed
            try:
                r = raw.read_response(timeout=h.t(5))
            except (h.Closed, OSError, ssl.SSLError):
                return  # closed: allowed
            self.assertIn(r.status, (431, 400, 413), r)
        finally:
            raw.close()
        # The server is fine afterwards.
        self.assertEqual(self.srv.get("/healthz").status, 200)


if __name__ == "__main__":
    h.main()

# SPDX-License-Identifier: Apache-2.0
"""The metrics contract (CONTRACT.md, "Metrics" and "Operations: Metrics"):
every family with HELP and TYPE from the first scrape, requests_total adding
exactly 1 per request with the right endpoint/operation/verdict, the duration
histogram's count per decision and its bucket rules, the cache gauges, the
certificate expiry, and process_* values matching /proc.
"""

import json
import os
import ssl
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import mcp, review  # noqa: E402

FAMILIES = {
    "osstream_webhook_requests_total": "counter",
    "osstream_webhook_request_duration_seconds": "histogram",
    "osstream_webhook_inflight_requests": "gauge",
    "osstream_webhook_osimagestream_synced": "gauge",
    "osstream_webhook_osimagestream_streams": "gauge",
    "osstream_webhook_osimagestream_last_update_timestamp_seconds": "gauge",
    "osstream_webhook_osimagestream_updates_total": "counter",
    "osstream_webhook_watch_restarts_total": "counter",
    "osstream_webhook_tls_certificate_expiry_timestamp_seconds": "gauge",
    "osstream_webhook_tls_certificate_reloads_total": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_start_time_seconds": "gauge",
    "process_cpu_seconds_total": "counter",
}


class MetricsContract(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.started_wall = time.time()
        cls.first = cls.srv.metrics()  # the first scrape, before any admission request

    def test_first_scrape_has_every_family(self):
        m = self.first
        for name, typ in FAMILIES.items():
            self.assertIn(name, m.help, "no # HELP for %s" % name)
            self.assertTrue(m.help[name].strip(), "empty HELP for %s" % name)
            self.assertEqual(m.type.get(name), typ, "# TYPE of %s" % name)
        self.assertEqual(m.value("osstream_webhook_osimagestream_synced"), 1)
        self.assertEqual(m.value("osstream_webhook_osimagestream_streams"), 2)
        self.assertEqual(m.get("osstream_webhook_requests_total"), 0)

    def delta(self, before, after):
        b, a = h.requests_by_key(before), h.requests_by_key(after)
        out = {}
        for k in set(a) | set(b):
            d = a.get(k, 0.0) - b.get(k, 0.0)
            if d:
                out[k] = d
        return out

    def one_request(self, send, want_ep, want_op, want_verdict, what):
        before = self.srv.metrics()
        send()
        after = self.srv.metrics()
        d = self.delta(before, after)
        self.assertEqual(len(d), 1, "%s: requests_total changed in %r" % (what, d))
        (ep, op, verdict), n = list(d.items())[0]
        self.assertEqual(n, 1.0, "%s: added %r" % (what, n))
        self.assertEqual(ep, want_ep, what)
        if want_op is not None:
            self.assertEqual(op, want_op, what)
        self.assertEqual(verdict, want_verdict, what)
        return before, after

    def send_review(self, ep, rv, want_status=200):
        def f():
            r = self.srv.post_json("/" + ep, rv)
            self.assertEqual(r.status, want_status, r)
        return f

    def send_raw(self, method, path, body=b"", ct="application/json", want=400):
        def f():
            hdrs = {"Content-Type": ct} if ct else {}
            r = self.srv.request(method, path, body=body, headers=hdrs)
            self.assertEqual(r.status, want, r)
        return f

    def test_requests_total_labels(self):
        cases = [
            ("validate allowed", self.send_review("validate", review(mcp("p", stream="rhel-10"))),
             "validate", "CREATE", "allowed"),
            ("validate denied", self.send_review("validate", review(mcp("p", stream="rhel-8"))),
             "validate", "CREATE", "denied"),
            ("validate update allowed",
             self.send_review("validate", review(mcp("p", stream="rhel-9"), op="UPDATE")),
             "validate", "UPDATE", "allowed"),
            ("validate update warning",
             self.send_review("validate", review(mcp("p", stream="rhel-8"), op="UPDATE")),
             "validate", "UPDATE", "allowed"),
            ("validate delete", self.send_review("validate", review(mcp("p", stream="rhel-8"), op="DELETE")),
             "validate", "DELETE", "allowed"),
            ("mutate patched", self.send_review("mutate", review(mcp("p", stream="rhel-10"))),
             "mutate", "CREATE", "patched"),
            ("mutate allowed", self.send_review("mutate", review(mcp("p", stream="rhel-8"), op="UPDATE")),
             "mutate", "UPDATE", "allowed"),
            ("mutate removal patched",
             self.send_review("mutate", review(mcp("p", annotations={h.K_STREAM: "x"}), op="UPDATE")),
             "mutate", "UPDATE", "patched"),
            ("validate 400", self.send_raw("POST", "/validate", b"nope"), "validate", "unknown", "error"),
            ("mutate 400 uid", self.send_raw("POST", "/mutate", json.dumps(
                {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}).encode()),
             "mutate", None, "error"),
            ("validate 415", self.send_raw("POST", "/validate", b"{}", ct="text/plain", want=415),
             "validate", "unknown", "error"),
            ("validate 405", self.send_raw("GET", "/validate", ct=None, want=405),
             "validate", "unknown", "error"),
            ("mutate 400 wrong type",
             self.send_review("mutate", review(mcp("p", stream="rhel-10", annotations=[1])), 400),
             "mutate", None, "error"),
            ("query string", self.send_review("validate?timeout=10s", review(mcp("p", stream="rhel-10"))),
             "validate", "CREATE", "allowed"),
        ]
        for what, send, ep, op, verdict in cases:
            self.one_request(send, ep, op, verdict, what)
        # probes and 404s do not count
        before = self.srv.metrics()
        self.srv.get("/healthz")
        self.srv.get("/readyz")
        self.srv.get("/nope")
        self.assertEqual(self.delta(before, self.srv.metrics()), {})

    def hist(self, m, ep):
        """(count, sum, [(le, value)...]) for one endpoint ('/' prefix allowed)."""
        name = "osstream_webhook_request_duration_seconds"
        count = sum(v for l, v in m.series(name + "_count") if l.get("endpoint", "").lstrip("/") == ep)
        total = sum(v for l, v in m.series(name + "_sum") if l.get("endpoint", "").lstrip("/") == ep)
        buckets = sorted(((float(l["le"]), v) for l, v in m.series(name + "_bucket")
                          if l.get("endpoint", "").lstrip("/") == ep), key=lambda x: x[0])
        return count, total, buckets

    def test_duration_histogram(self):
        for ep, rv in (("validate", review(mcp("p", stream="rhel-10"))),
                       ("validate", review(mcp("p", stream="rhel-8"))),
                       ("mutate", review(mcp("p", stream="rhel-10"))),
                       ("mutate", review(mcp("p", stream="rhel-8")))):
            before = self.srv.metrics()
            self.srv.review(ep, rv)
            after = self.srv.metrics()
            c0, _, _ = self.hist(before, ep)
            c1, s1, b1 = self.hist(after, ep)
            self.assertEqual(c1 - c0, 1, "%s: _count did not add exactly 1" % ep)
            self.assertGreaterEqual(s1, 0)
        m = self.srv.metrics()
        bounds = None
        for ep in ("validate", "mutate"):
            count, total, buckets = self.hist(m, ep)
            self.assertGreater(count, 0)
            les = [le for le, _ in buckets]
            self.assertEqual(les[-1], float("inf"), "%s: no +Inf bucket" % ep)
            self.assertEqual(buckets[-1][1], count, "%s: +Inf != _count" % ep)
            vals = [v for _, v in buckets]
            self.assertEqual(vals, sorted(vals), "%s: buckets not cumulative" % ep)
            finite = les[:-1]
            self.assertGreaterEqual(len(finite), 8, les)
            self.assertLessEqual(finite[0], 0.0005, les)
            self.assertGreaterEqual(finite[-1], 10, les)
            if bounds is None:
                bounds = les
            self.assertEqual(les, bounds, "bucket bounds differ between endpoints")
        # errors before a decision do not observe a duration? (not required) —
        # but every decision does: checked above.

    def test_gauges_and_process(self):
        m = self.srv.metrics()
        inflight = m.value("osstream_webhook_inflight_requests")
        self.assertIn(inflight, (0, 1))
        last = m.value("osstream_webhook_osimagestream_last_update_timestamp_seconds")
        self.assertIsNotNone(last)
        self.assertLessEqual(abs(last - self.started_wall), 60 * h.SLOW, last)
        pid = self.srv.proc.pid
        with open("/proc/%d/status" % pid) as f:
            rss_kb = int([l for l in f if l.startswith("VmRSS:")][0].split()[1])
        rss = m.value("process_resident_memory_bytes")
        self.assertLess(abs(rss - rss_kb * 1024), max(4 << 20, rss * 0.25), (rss, rss_kb))
        nfd = len(os.listdir("/proc/%d/fd" % pid))
        fds = m.value("process_open_fds")
        self.assertLessEqual(abs(fds - nfd), 4, (fds, nfd))
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])
        with open("/proc/stat") as f:
            btime = int([l for l in f if l.startswith("btime")][0].split()[1])
        start = btime + start_ticks / os.sysconf("SC_CLK_TCK")
        self.assertLess(abs(m.value("process_start_time_seconds") - start), 2.0)
        utime, stime = int(fields[11]), int(fields[12])
        cpu = (utime + stime) / os.sysconf("SC_CLK_TCK")
        self.assertLess(abs(m.value("process_cpu_seconds_total") - cpu), 1.0)

    def test_certificate_expiry(self):
        ctx = h.client_context()
        with socket.create_connection(("127.0.0.1", self.srv.port), 5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as tls:
                not_after = ssl.cert_time_to_seconds(tls.getpeercert()["notAfter"])
        m = self.srv.metrics()
        self.assertEqual(m.value("osstream_webhook_tls_certificate_expiry_timestamp_seconds"),
                         not_after)


if __name__ == "__main__":
    h.main()

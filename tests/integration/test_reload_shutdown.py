# SPDX-License-Identifier: Apache-2.0
"""OSImageStream file reload and graceful shutdown (CONTRACT.md, "OSImageStream
cache", "Lifecycle", "Operations: OSImageStream file, Shutdown"): a valid
change is live within 2 s whether the file is rewritten in place, renamed
over or swapped through a ConfigMap `..data` symlink; an invalid update is
refused and counted while the old snapshot keeps serving; SIGTERM/SIGINT turn
/readyz to 503 at once, keep serving during --shutdown-delay, answer requests
in flight and exit 0 within 5 s.
"""

import json
import os
import shutil
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import IMG, STREAMS, mcp, review  # noqa: E402

LIVE_WITHIN = 2.0  # contract
POLL_MAX = 5.0


def osis_yaml(extra=(), default="rhel-9", bad_image=False):
    """The fixture streams plus `extra` names (images derived from the name)."""
    streams = [(n, STREAMS[n][0], STREAMS[n][1]) for n in ("rhel-9", "rhel-10")]
    for i, name in enumerate(extra):
        digest = ("%064x" % (0xabc000 + i))
        streams.append((name, IMG + digest, IMG + digest[::-1]))
    if bad_image:
        streams.append(("rhel-bad", "quay.io/x/y:latest", "quay.io/x/y:latest"))
    out = ("apiVersion: machineconfiguration.openshift.io/v1\nkind: OSImageStream\n"
           "metadata:\n  name: cluster\nstatus:\n  defaultStream: %s\n  availableStreams:\n" % default)
    for n, a, b in streams:
        out += "    - name: %s\n      osImage: %s\n      osExtensionsImage: %s\n" % (n, a, b)
    return out, {n: (a, b) for n, a, b in streams}


class Hammer:
    """Background client: keeps validating a rhel-10 pool on one keep-alive
    connection and records any answer that is not 200 + allowed."""

    def __init__(self, srv):
        self.srv = srv
        self.stop_ev = threading.Event()
        self.failures = []
        self.count = 0
        self.th = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        conn = self.srv.conn()
        try:
            while not self.stop_ev.is_set():
                try:
                    r = self.srv.post_json("/validate", review(mcp("hammer", stream="rhel-10")), conn=conn)
                    if r.status != 200 or not r.json()["response"]["allowed"]:
                        self.failures.append(repr(r))
                except Exception as e:  # noqa: BLE001
                    self.failures.append("%s: %s" % (type(e).__name__, e))
                    conn.close()
                    conn = self.srv.conn()
                self.count += 1
                time.sleep(0.01)
        finally:
            conn.close()

    def __enter__(self):
        self.th.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.th.join(10)


class FileReload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not h.have_binary():
            raise unittest.SkipTest("no binary")
        cls.srv = h.Server().start()
        # ConfigMap volume layout: name -> ..data/name, ..data -> ..<ts>/
        cls.cm = h.Server(osimagestream=False)
        d = cls.cm.tmp
        os.mkdir(os.path.join(d, "..2026_01_01_00_00_00.000000001"))
        shutil.copy(os.path.join(h.DATA, "osimagestream.yaml"),
                    os.path.join(d, "..2026_01_01_00_00_00.000000001", "osimagestream.yaml"))
        os.symlink("..2026_01_01_00_00_00.000000001", os.path.join(d, "..data"))
        os.symlink("..data/osimagestream.yaml", os.path.join(d, "osimagestream.yaml"))
        try:
            cls.cm.start()
        except Exception:
            cls.srv.stop()
            raise
        cls.times = {}

    @classmethod
    def tearDownClass(cls):
        problems = cls.srv.stop() + cls.cm.stop()
        if cls.times:
            print("reload times: " + ", ".join("%s %.3fs" % kv for kv in sorted(cls.times.items())))
        if problems:
            raise AssertionError("\n".join(problems))

    def wait_allowed(self, srv, stream, what):
        """Polls until a pool naming `stream` is allowed; returns seconds."""
        start = time.monotonic()
        deadline = start + h.t(POLL_MAX)
        conn = srv.conn()
        try:
            while time.monotonic() < deadline:
                r = srv.post_json("/validate", review(mcp("new", stream=stream)), conn=conn)
                self.assertEqual(r.status, 200, r)
                if r.json()["response"]["allowed"]:
                    took = time.monotonic() - start
                    self.times[what] = took
                    return took
                time.sleep(0.05)
        finally:
            conn.close()
        self.fail("%s: %s not allowed within %.0fs" % (what, stream, h.t(POLL_MAX)))

    def check_live(self, srv, stream, images, what, hammer):
        took = self.wait_allowed(srv, stream, what)
        print("%s: live after %.3fs" % (what, took))
        self.assertLessEqual(took, h.t(LIVE_WITHIN) + 0.1,
                             "%s: change live after %.2fs, contract says 2 s" % (what, took))
        _, resp = srv.review("mutate", review(mcp("new", stream=stream)))
        patch = h.decode_patch(resp)
        self.assertEqual(patch[0]["value"][h.K_OS], images[stream][0])
        self.assertEqual(patch[0]["value"][h.K_EXT], images[stream][1])
        # the old streams still work
        _, resp = srv.review("validate", review(mcp("old", stream="rhel-10")))
        self.assertTrue(resp["response"]["allowed"])
        self.assertEqual(hammer.failures, [], "%s: requests failed during reload" % what)
        self.assertGreater(hammer.count, 0)

    def test_in_place_rewrite(self):
        text, images = osis_yaml(["rhel-11"])
        with Hammer(self.srv) as hammer:
            time.sleep(0.1)
            with open(self.srv.osis_path, "r+") as f:  # same inode
                f.seek(0)
                f.truncate()
                f.write(text)
            self.check_live(self.srv, "rhel-11", images, "in place", hammer)

    def test_rename_over(self):
        text, images = osis_yaml(["rhel-12"])
        with Hammer(self.srv) as hammer:
            time.sleep(0.1)
            tmp = self.srv.osis_path + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.rename(tmp, self.srv.osis_path)
            self.check_live(self.srv, "rhel-12", images, "rename", hammer)

    def test_configmap_symlink_swap(self):
        text, images = osis_yaml(["rhel-13"])
        d = self.cm.tmp
        old = os.readlink(os.path.join(d, "..data"))
        new = "..2026_01_01_00_00_01.000000002"
        with Hammer(self.cm) as hammer:
            time.sleep(0.1)
            os.mkdir(os.path.join(d, new))
            with open(os.path.join(d, new, "osimagestream.yaml"), "w") as f:
                f.write(text)
            os.symlink(new, os.path.join(d, "..data_tmp"))
            os.rename(os.path.join(d, "..data_tmp"), os.path.join(d, "..data"))
            shutil.rmtree(os.path.join(d, old))
            self.check_live(self.cm, "rhel-13", images, "..data swap", hammer)

    def test_invalid_update_keeps_old_snapshot(self):
        before = self.srv.metrics().get("osstream_webhook_osimagestream_updates_total", result="invalid")
        variants = [
            osis_yaml(["rhel-14"], bad_image=True)[0],            # image without digest
            osis_yaml(["rhel-14", "rhel-14"])[0],                  # duplicate names
            osis_yaml(["rhel-14"], default="rhel-99")[0],          # default not a stream
            osis_yaml(["RHEL-14"])[0].replace("RHEL-14", "rhel-14_x"),  # bad name
            "{ not: [yaml",                                        # unparsable
        ]
        with Hammer(self.srv) as hammer:
            for i, text in enumerate(variants):
                tmp = self.srv.osis_path + ".tmp"
                with open(tmp, "w") as f:
                    f.write(text)
                os.rename(tmp, self.srv.osis_path)
                deadline = time.monotonic() + h.t(POLL_MAX)
                now = before
                while time.monotonic() < deadline:
                    now = self.srv.metrics().get("osstream_webhook_osimagestream_updates_total",
                                                 result="invalid")
                    if now > before:
                        break
                    time.sleep(0.05)
                self.assertGreater(now, before, "variant %d: invalid update not counted" % i)
                before = now
                _, resp = self.srv.review("validate", review(mcp("x", stream="rhel-10")))
                self.assertTrue(resp["response"]["allowed"], "variant %d: old snapshot lost" % i)
                _, resp = self.srv.review("validate", review(mcp("x", stream="rhel-14")))
                self.assertFalse(resp["response"]["allowed"], "variant %d applied" % i)
                self.assertEqual(self.srv.get("/readyz").status, 200)
            self.assertEqual(hammer.failures, [])
        m = self.srv.metrics()
        self.assertEqual(m.value("osstream_webhook_osimagestream_synced"), 1)
        # restore a valid file and see it applied
        text, images = osis_yaml(["rhel-15"])
        with open(self.srv.osis_path + ".tmp", "w") as f:
            f.write(text)
        os.rename(self.srv.osis_path + ".tmp", self.srv.osis_path)
        self.wait_allowed(self.srv, "rhel-15", "after invalid")
        self.assertEqual(self.srv.metrics().value("osstream_webhook_osimagestream_streams"), 3)


class Shutdown(unittest.TestCase):
    def setUp(self):
        if not h.have_binary():
            raise unittest.SkipTest("no binary")
        self.srv = None

    def tearDown(self):
        if self.srv is not None:
            self.srv.kill()
            problems = self.srv.sanitizer_problems()
            shutil.rmtree(self.srv.tmp, ignore_errors=True)
            if problems:
                raise AssertionError("\n".join(problems))

    def start(self, delay):
        self.srv = h.Server(args=["--shutdown-delay", delay]).start()
        return self.srv

    def readyz_503_fast(self, srv, sig):
        conn = srv.conn()
        conn2 = srv.conn()
        try:
            self.assertEqual(srv.get("/readyz", conn=conn).status, 200)
            self.assertEqual(srv.get("/healthz", conn=conn2).status, 200)
            t0 = time.monotonic()
            srv.signal(sig)
            seen = None
            while time.monotonic() - t0 < h.t(1.0):
                r = srv.get("/readyz", conn=conn)
                if r.status == 503:
                    seen = time.monotonic() - t0
                    body = r.body.decode().rstrip("\n")
                    self.assertTrue(body and "\n" not in body, r)
                    break
                self.assertEqual(r.status, 200)
            self.assertIsNotNone(seen, "/readyz never turned 503")
            print("/readyz 503 after %.3fs" % seen)
            self.assertLessEqual(seen, h.t(0.2), "/readyz 503 after %.3fs" % seen)
            # open connections still answered during the delay
            r = srv.post_json("/validate", review(mcp("p", stream="rhel-10")), conn=conn2)
            self.assertEqual(r.status, 200, r)
            # new connections accepted and served during the delay
            r = srv.get("/healthz")
            self.assertEqual(r.status, 200)
            r = srv.get("/readyz")
            self.assertEqual(r.status, 503)
            _, resp = srv.review("mutate", review(mcp("p", stream="rhel-10")))
            self.assertIn("patch", resp["response"])
            return t0
        finally:
            conn.close()
            conn2.close()

    def test_sigterm_with_delay(self):
        srv = self.start("1s")
        idle = srv.raw()  # an idle kept-alive connection must not hold up the exit
        idle.send(h.http_request("GET", "/healthz"))
        self.assertEqual(idle.read_response().status, 200)
        t0 = self.readyz_503_fast(srv, signal.SIGTERM)
        # after the delay: new connections refused or closed unanswered
        time.sleep(max(0, 1.3 - (time.monotonic() - t0)))
        try:
            r = srv.get("/healthz", timeout=2)
            if srv.proc.poll() is None:
                self.fail("new connection answered after the delay: %r" % r)
        except Exception:  # noqa: BLE001 refused, reset or closed: all fine
            pass
        rc = srv.wait_exit(h.t(5) + 1.0 - (time.monotonic() - t0) + 0.3)
        self.assertEqual(rc, 0, "exit status %r (None: still running 5s after the delay)" % rc)
        idle.close()

    def test_sigint_with_delay(self):
        srv = self.start("1s")
        t0 = self.readyz_503_fast(srv, signal.SIGINT)
        rc = srv.wait_exit(h.t(5) + 1.0 - (time.monotonic() - t0) + 0.3)
        self.assertEqual(rc, 0, "exit status %r after SIGINT" % rc)

    def test_second_signal_ends_the_delay(self):
        """A person who pressed Ctrl-C (or an orchestrator that sent SIGTERM
        again) is not kept waiting for the rest of --shutdown-delay; a request
        in flight is still answered."""
        for first, second in ((signal.SIGTERM, signal.SIGTERM), (signal.SIGTERM, signal.SIGINT)):
            srv = self.start("60s")
            srv.signal(first)
            deadline = time.monotonic() + h.t(2)
            while time.monotonic() < deadline and srv.get("/readyz").status != 503:
                time.sleep(0.02)
            # Still serving during the delay.
            self.assertEqual(srv.get("/healthz").status, 200)
            self.assertIsNone(srv.wait_exit(0.3), "exited before the second signal")
            # A body in flight across the second signal is answered.
            raw = srv.raw()
            body = json.dumps(review(mcp("p", stream="rhel-10"))).encode()
            head = ("POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\n\r\n" % len(body)).encode()
            raw.send(head + body[:10])
            time.sleep(0.1)
            t0 = time.monotonic()
            srv.signal(second)
            time.sleep(0.1)
            raw.send(body[10:])
            self.assertEqual(raw.read_response().status, 200)
            raw.close()
            rc = srv.wait_exit(h.t(5))
            took = time.monotonic() - t0
            self.assertEqual(rc, 0, "exit status %r (None: still waiting out the delay)" % rc)
            self.assertLess(took, h.t(5))
            self.assertIn("second signal", srv.stderr())
            srv.kill()
            self.srv = None

    def test_delay_is_capped(self):
        p = h.run(["serve", "--listen", "127.0.0.1:%d" % h.free_port(), "--tls-cert-file",
                   h.certs()["crt"], "--tls-private-key-file", h.certs()["key"],
                   "--osimagestream-file", os.path.join(h.DATA, "osimagestream.yaml"),
                   "--shutdown-delay", "11m"], timeout=h.t(10))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertIn("at most 10m", p.stderr.decode())
        p = h.run(["serve", "--shutdown-delay", "5"], timeout=h.t(10))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn('--shutdown-delay: "5" is not a duration; use a number and a unit, e.g. 5s',
                      p.stderr.decode())

    def test_sigterm_no_delay_exits_fast(self):
        srv = self.start("0s")
        idle = srv.conn()
        self.assertEqual(srv.get("/healthz", conn=idle).status, 200)
        t0 = time.monotonic()
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(h.t(5))
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, "exit status %r (None: not within 5 s)" % rc)
        print("exit after SIGTERM in %.3fs" % took)
        idle.close()

    def test_request_in_flight_answered(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            srv = self.start("0s")
            rv = review(mcp("inflight", stream="rhel-10"))
            body = json.dumps(rv).encode()
            raw = srv.raw(timeout=h.t(8))
            try:
                head = h.http_request("POST", "/mutate", b"", [
                    ("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                raw.send(head + body[:len(body) // 2])
                time.sleep(0.2)
                srv.signal(sig)
                time.sleep(0.5)
                raw.send(body[len(body) // 2:])
                r = raw.read_response()
                self.assertEqual(r.status, 200, r)
                resp = r.json()["response"]
                self.assertEqual(resp["uid"], rv["request"]["uid"])
                self.assertIn("patch", resp)
            finally:
                raw.close()
            rc = srv.wait_exit(h.t(5))
            self.assertEqual(rc, 0, "%s: exit status %r" % (sig, rc))
            problems = srv.sanitizer_problems()
            self.assertEqual(problems, [])
            shutil.rmtree(srv.tmp, ignore_errors=True)
            self.srv = None


if __name__ == "__main__":
    h.main()

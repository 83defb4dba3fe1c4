# SPDX-License-Identifier: Apache-2.0
"""Steady load while everything is swapped (CONTRACT.md, Operations): 8
keep-alive clients for 20 s while the serving certificate and the
OSImageStream file are replaced every 3 s. No request may fail; at the end
the open descriptors are those after warm-up (+3) and resident memory is
within 16 MiB (or 25 %) of it; every swap is counted as a success.
"""
import os
import shutil
import ssl
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import mcp, review  # noqa: E402

CLIENTS = 8
DURATION = 20.0
SWAP_EVERY = 3.0


def replace(src, dst):
    """Writes src's bytes to dst through a rename, as editors and tools do."""
    tmp = dst + ".new"
    shutil.copyfile(src, tmp)
    os.rename(tmp, dst)


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def proc_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class SoakServer(h.Server):
    """A server whose certificate pair lives in files the test replaces."""

    def __init__(self, live):
        super().__init__(log_level="warn")
        self.live = live

    def command(self, port):
        return [h.BIN, "serve", "--listen", "127.0.0.1:%d" % port,
                "--tls-cert-file", os.path.join(self.live, "tls.crt"),
                "--tls-private-key-file", os.path.join(self.live, "tls.key"),
                "--osimagestream-file", self.osis_path, "--log-level", "warn"]


class Soak(unittest.TestCase):
    def setUp(self):
        self.tmp = h.tmpdir("osw-it-soak-")
        self.pairs = []
        for name in ("a", "b"):
            d = os.path.join(self.tmp, name)
            p = h.run(["gen-certs", "--dir", d, "--dns-name", "localhost"], timeout=h.t(30))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.pairs.append(d)
        self.live = os.path.join(self.tmp, "live")
        os.mkdir(self.live)
        for f in ("tls.crt", "tls.key"):
            shutil.copyfile(os.path.join(self.pairs[0], f), os.path.join(self.live, f))
        osis = open(os.path.join(h.DATA, "osimagestream.yaml")).read()
        self.osis_variants = [os.path.join(self.tmp, "osis-%d.yaml" % i) for i in range(2)]
        open(self.osis_variants[0], "w").write(osis)
        open(self.osis_variants[1], "w").write(osis.replace("rhel-9", "rhel-9-1"))
        self.srv = SoakServer(self.live)
        # Clients trust both CAs: handshakes see either pair.
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.pairs[0], "ca.crt"))
        self.ctx.load_verify_locations(cafile=os.path.join(self.pairs[1], "ca.crt"))
        self.srv.cafile = os.path.join(self.pairs[0], "ca.crt")
        self.srv.start()

    def tearDown(self):
        self.srv.stop_and_check(self)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def client(self, stop, counts, errors, i):
        body = review(mcp("soak-%d" % i, stream="rhel-10"))
        conn = None
        while not stop.is_set():
            try:
                if conn is None:
                    conn = h._Conn(self.srv.port, self.ctx, h.t(5))
                path = "/validate" if counts[i] % 2 == 0 else "/mutate"
                r = self.srv.post_json(path, body, conn=conn)
                if r.status != 200:
                    errors.append("client %d: %s answered %d" % (i, path, r.status))
                counts[i] += 1
            except Exception as e:  # any failed request is a finding
                errors.append("client %d: %s: %s" % (i, type(e).__name__, e))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def run_load(self, seconds, swap):
        stop = threading.Event()
        counts = [0] * CLIENTS
        errors = []
        threads = [threading.Thread(target=self.client, args=(stop, counts, errors, i))
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        end = time.monotonic() + seconds
        k = 0
        while time.monotonic() < end:
            time.sleep(min(SWAP_EVERY, max(0.0, end - time.monotonic())))
            if swap and time.monotonic() < end:
                k += 1
                pair = self.pairs[k % 2]
                replace(os.path.join(pair, "tls.crt"), os.path.join(self.live, "tls.crt"))
                replace(os.path.join(pair, "tls.key"), os.path.join(self.live, "tls.key"))
                replace(self.osis_variants[k % 2], self.srv.osis_path)
        stop.set()
        for t in threads:
            t.join(timeout=h.t(10))
        return sum(counts), errors, k

    def test_steady_load_across_swaps(self):
        pid = self.srv.proc.pid
        self.run_load(2.0, swap=False)  # warm-up
        time.sleep(0.5)
        fds0, rss0 = proc_fds(pid), proc_rss_kb(pid)
        before = self.srv.metrics()
        n, errors, swaps = self.run_load(DURATION, swap=True)
        time.sleep(SWAP_EVERY)  # let the last swap be picked up and counted
        fds1, rss1 = proc_fds(pid), proc_rss_kb(pid)
        after = self.srv.metrics()
        print("soak: %d requests, %d swaps, %d errors; fds %d -> %d; RSS %d -> %d KiB"
              % (n, swaps, len(errors), fds0, fds1, rss0, rss1))
        self.assertEqual(errors, [], "\n".join(errors[:10]))
        self.assertGreater(n, CLIENTS)
        self.assertLessEqual(fds1, fds0 + 3)
        if not h.SANITIZE:
            # Under ASan freed memory sits in its quarantine (up to 256 MiB),
            # so RSS says nothing there; LeakSanitizer checks leaks at exit.
            self.assertLessEqual(rss1, max(rss0 + 16 * 1024, rss0 * 1.25))
        name = "osstream_webhook_tls_certificate_reloads_total"
        self.assertEqual(after.get(name, result="error") - before.get(name, result="error"), 0)
        self.assertGreaterEqual(after.get(name, result="success") - before.get(name, result="success"),
                                swaps - 1)
        name = "osstream_webhook_osimagestream_updates_total"
        self.assertEqual(after.get(name, result="invalid") - before.get(name, result="invalid"), 0)
        self.assertGreaterEqual(after.get(name, result="success") - before.get(name, result="success"),
                                swaps - 1)


if __name__ == "__main__":
    h.main()

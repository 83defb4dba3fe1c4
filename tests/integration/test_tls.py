# SPDX-License-Identifier: Apache-2.0
"""TLS of `serve` (CONTRACT.md, `--tls-min-version` and "Operations:
Certificate reload"): TLS 1.2 offers only forward-secret AEAD suites, 1.3
minimum refuses 1.2 clients, and a new pair written in place, renamed over
the files or swapped like a kubelet Secret volume is what new handshakes get
within 5 s, with the expiry metric and reloads_total following, while a bad
pair is refused, counted and logged and the old one keeps serving. Clients
see no failed request across the reloads.
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import mcp, review  # noqa: E402

RELOAD_WITHIN = 5.0


def handshake(port, ctx, name="localhost"):
    """(negotiated version, cipher name, DER cert, cert dict) or raises."""
    with socket.create_connection(("127.0.0.1", port), h.t(5)) as s:
        with ctx.wrap_socket(s, server_hostname=name) as tls:
            return tls.version(), tls.cipher()[0], tls.getpeercert(True), tls.getpeercert()


def tls12_ctx(ciphers):
    ctx = h.client_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("@SECLEVEL=0:" + ciphers)
    return ctx


class TLSVersions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not h.have_binary():
            raise unittest.SkipTest("no binary")
        cls.srv12 = h.Server().start()
        try:
            cls.srv13 = h.Server(args=["--tls-min-version", "1.3"]).start()
        except Exception:
            cls.srv12.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        problems = cls.srv12.stop() + cls.srv13.stop()
        if problems:
            raise AssertionError("\n".join(problems))

    def test_tls12_forward_secret_aead_only(self):
        ver, cipher, _, _ = handshake(self.srv12.port, tls12_ctx("ALL"))
        self.assertEqual(ver, "TLSv1.2")
        self.assertTrue(cipher.startswith("ECDHE-"), cipher)
        self.assertTrue("GCM" in cipher or "CHACHA20" in cipher, cipher)
        for good in ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
                     "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384",
                     "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"):
            ver, cipher, _, _ = handshake(self.srv12.port, tls12_ctx(good))
            self.assertIn(cipher, good.split(":"))
        for bad in ("ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA",            # CBC
                    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256",      # CBC
                    "AES128-GCM-SHA256:AES256-GCM-SHA384",                    # no FS
                    "DHE-RSA-AES128-GCM-SHA256",                              # not ECDHE
                    "DES-CBC3-SHA:RC4-SHA"):
            with self.assertRaises((ssl.SSLError, OSError), msg="suite %s accepted" % bad):
                handshake(self.srv12.port, tls12_ctx(bad))

    def test_tls11_refused(self):
        ctx = h.client_context()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("@SECLEVEL=0:ALL")
        except (ValueError, ssl.SSLError):
            self.skipTest("this OpenSSL cannot offer TLS 1.1")
        with self.assertRaises((ssl.SSLError, OSError)):
            handshake(self.srv12.port, ctx)

    def test_min_13(self):
        with self.assertRaises((ssl.SSLError, OSError)):
            handshake(self.srv13.port, tls12_ctx("ALL"))
        ctx = h.client_context()
        ver, _, _, _ = handshake(self.srv13.port, ctx)
        self.assertEqual(ver, "TLSv1.3")
        self.assertEqual(self.srv13.get("/healthz").status, 200)
        ver, _, _, _ = handshake(self.srv12.port, ctx)
        self.assertEqual(ver, "TLSv1.3")


# --tls-cipher-suites: the six IANA names and OpenSSL's names for them.
SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
}
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")


def rsa_pair():
    """A self-signed RSA certificate for localhost (its own CA), made with
    the openssl command: gen-certs makes ECDSA keys only."""
    d = h.tmpdir("osw-it-rsa-")
    crt, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", key, "-out", crt], check=True, timeout=h.t(60),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt, key


def suites_server(suites, crt=None, key=None):
    """A server with --tls-cipher-suites `suites` (None: the flag absent),
    serving crt/key (default: the ECDSA pair of gen-certs)."""
    args = [] if suites is None else ["--tls-cipher-suites", suites]
    srv = h.Server(args=args, cafile=crt)
    if crt is not None:
        base = srv.command

        def cmd(port):
            c = base(port)
            c[c.index("--tls-cert-file") + 1] = crt
            c[c.index("--tls-private-key-file") + 1] = key
            return c
        srv.command = cmd
    return srv.start()


def tls13_suite(port, suite):
    """The suite `openssl s_client` negotiates offering only TLS 1.3 `suite`
    (None when the handshake fails)."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_3",
                        "-ciphersuites", suite, "-servername", "localhost"],
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=h.t(15))
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if "Cipher is " in line and "(NONE)" not in line:
            return line.rsplit("Cipher is ", 1)[1].strip()
    return None


class CipherSuites(unittest.TestCase):
    """Only the chosen TLS 1.2 suites are negotiated, whatever the client
    offers, for an ECDSA and an RSA certificate; TLS 1.3 keeps its three
    suites; anything but the six names exits 2 naming it."""

    CHOSEN = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"

    @classmethod
    def setUpClass(cls):
        if not h.have_binary():
            raise unittest.SkipTest("no binary")
        if shutil.which("openssl") is None:
            raise AssertionError("openssl command not found (Debian package openssl)")
        cls.rsa = rsa_pair()
        cls.servers = []
        try:
            cls.ecdsa_srv = suites_server(cls.CHOSEN)
            cls.servers.append(cls.ecdsa_srv)
            cls.rsa_srv = suites_server(cls.CHOSEN, *cls.rsa)
            cls.servers.append(cls.rsa_srv)
            # no suite for an RSA key: TLS 1.2 fails, TLS 1.3 still works
            cls.rsa_none_srv = suites_server("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", *cls.rsa)
            cls.servers.append(cls.rsa_none_srv)
            cls.rsa_default_srv = suites_server(None, *cls.rsa)
            cls.servers.append(cls.rsa_default_srv)
        except Exception:
            for srv in cls.servers:
                srv.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        problems = []
        for srv in cls.servers:
            problems += srv.stop()
        if problems:
            raise AssertionError("\n".join(problems))

    def ctx12(self, srv, ciphers):
        ctx = ssl.create_default_context(cafile=srv.cafile or h.certs()["ca"])
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("@SECLEVEL=0:" + ciphers)
        return ctx

    def negotiated(self, srv, ciphers):
        try:
            ver, cipher, _, _ = handshake(srv.port, self.ctx12(srv, ciphers))
        except (ssl.SSLError, OSError):
            return None
        self.assertEqual(ver, "TLSv1.2")
        return cipher

    def check_exactly(self, srv, allowed):
        """Each suite offered alone is negotiated iff allowed; offering all
        of them (and every other suite) picks an allowed one."""
        for iana, name in SUITES.items():
            got = self.negotiated(srv, name)
            if SUITES[iana] in allowed:
                self.assertEqual(got, name, "%s not negotiated" % iana)
            else:
                self.assertIsNone(got, "%s negotiated although not chosen or not for this key" % iana)
        got = self.negotiated(srv, "ALL")
        if allowed:
            self.assertIn(got, allowed)
        else:
            self.assertIsNone(got)
        for suite in TLS13_SUITES:
            self.assertEqual(tls13_suite(srv.port, suite), suite, "TLS 1.3 %s not negotiated" % suite)
        self.assertEqual(srv.get("/healthz").status, 200)

    def test_ecdsa_key_only_chosen_ecdsa_suite(self):
        self.check_exactly(self.ecdsa_srv, {"ECDHE-ECDSA-AES256-GCM-SHA384"})

    def test_rsa_key_only_chosen_rsa_suite(self):
        self.check_exactly(self.rsa_srv, {"ECDHE-RSA-AES128-GCM-SHA256"})

    def test_rsa_key_without_chosen_rsa_suite(self):
        self.check_exactly(self.rsa_none_srv, set())

    def test_default_all_six(self):
        # (TLSVersions checks the three ECDSA suites without the flag.)
        self.check_exactly(self.rsa_default_srv, {v for k, v in SUITES.items() if "_RSA_" in k})

    def test_bad_names_exit_2_naming_them(self):
        c = h.certs()
        base = ["serve", "--listen", "127.0.0.1:%d" % h.free_port(), "--tls-cert-file", c["crt"],
                "--tls-private-key-file", c["key"],
                "--osimagestream-file", os.path.join(h.DATA, "osimagestream.yaml")]
        good = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        for value, named in [
                ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
                ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
                ("TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
                ("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
                ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
                (good + ",TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"),
                (good.lower(), good.lower()),
                ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"),
                (good + ", TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", '" TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"'),
                (good + ",", '""'),
                ("", '""')]:
            for how in ("flag", "env"):
                if how == "flag":
                    p = h.run(base + ["--tls-cipher-suites=" + value], timeout=h.t(15))
                else:
                    p = h.run(base, env={"OSSTREAM_TLS_CIPHER_SUITES": value}, timeout=h.t(15))
                err = p.stderr.decode()
                self.assertEqual(p.returncode, 2, "%s %r: exit %d %r" % (how, value, p.returncode, err))
                self.assertTrue(h.one_line(p.stderr), err)
                self.assertIn("--tls-cipher-suites", err)
                self.assertIn(named, err)
                self.assertEqual(p.stdout, b"")


def der(path):
    with open(path) as f:
        pem = f.read()
    end = pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return ssl.PEM_cert_to_DER_cert(pem[:end])


class CertReload(unittest.TestCase):
    """One server whose cert files live in a kubelet-style layout for the
    swap test and as plain files for the others."""

    @classmethod
    def setUpClass(cls):
        if not h.have_binary():
            raise unittest.SkipTest("no binary")
        base = h.tmpdir("osw-it-tls-")
        cls.pairs = []
        for i in range(5):
            d = os.path.join(base, "pair%d" % i)
            p = h.run(["gen-certs", "--dir", d, "--dns-name", "localhost"], timeout=h.t(30))
            if p.returncode != 0:
                raise RuntimeError(p.stderr.decode())
            cls.pairs.append(d)
        cls.bundle = os.path.join(base, "bundle.crt")
        with open(cls.bundle, "w") as out:
            for d in cls.pairs:
                out.write(open(os.path.join(d, "ca.crt")).read())
        # plain files
        cls.plain = os.path.join(base, "plain")
        os.mkdir(cls.plain)
        for n in ("tls.crt", "tls.key"):
            shutil.copy(os.path.join(cls.pairs[0], n), os.path.join(cls.plain, n))
        cls.srv = h.Server(args=[], cafile=cls.bundle)
        cls.srv.command = cls.command_for(cls.srv, cls.plain)
        cls.srv.start()
        # kubelet Secret volume layout
        cls.vol = os.path.join(base, "vol")
        os.mkdir(cls.vol)
        ts = "..2026_01_01_00_00_00.000000001"
        os.mkdir(os.path.join(cls.vol, ts))
        for n in ("tls.crt", "tls.key"):
            shutil.copy(os.path.join(cls.pairs[0], n), os.path.join(cls.vol, ts, n))
            os.symlink("..data/" + n, os.path.join(cls.vol, n))
        os.symlink(ts, os.path.join(cls.vol, "..data"))
        cls.ksrv = h.Server(args=[], cafile=cls.bundle)
        cls.ksrv.command = cls.command_for(cls.ksrv, cls.vol)
        try:
            cls.ksrv.start()
        except Exception:
            cls.srv.stop()
            raise

    @staticmethod
    def command_for(srv, d):
        def cmd(port):
            return [h.BIN, "serve", "--listen", "127.0.0.1:%d" % port,
                    "--tls-cert-file", os.path.join(d, "tls.crt"),
                    "--tls-private-key-file", os.path.join(d, "tls.key"),
                    "--osimagestream-file", srv.osis_path, "--log-level", "debug"]
        return cmd

    @classmethod
    def tearDownClass(cls):
        problems = cls.srv.stop() + cls.ksrv.stop()
        if problems:
            raise AssertionError("\n".join(problems))

    def ctx(self):
        ctx = ssl.create_default_context(cafile=self.bundle)
        return ctx

    def served_der(self, srv):
        return handshake(srv.port, self.ctx())[2]

    def wait_serving(self, srv, pair, what):
        want = der(os.path.join(pair, "tls.crt"))
        start = time.monotonic()
        while time.monotonic() - start < h.t(RELOAD_WITHIN) + 1:
            if self.served_der(srv) == want:
                took = time.monotonic() - start
                print("%s: new certificate served after %.3fs" % (what, took))
                self.assertLessEqual(took, h.t(RELOAD_WITHIN), what)
                return
            time.sleep(0.1)
        self.fail("%s: new certificate not served within %.0fs" % (what, h.t(RELOAD_WITHIN) + 1))

    def expiry_of(self, srv):
        return handshake(srv.port, self.ctx())[3]["notAfter"]

    def reloads(self, srv, result):
        return srv.metrics().get("osstream_webhook_tls_certificate_reloads_total", result=result)

    def check_after_reload(self, srv, ok_before, what):
        deadline = time.monotonic() + h.t(3)
        while self.reloads(srv, "success") <= ok_before and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertGreater(self.reloads(srv, "success"), ok_before, "%s: reloads_total{success}" % what)
        not_after = ssl.cert_time_to_seconds(self.expiry_of(srv))
        m = srv.metrics()
        self.assertEqual(m.value("osstream_webhook_tls_certificate_expiry_timestamp_seconds"), not_after)
        self.assertEqual(srv.get("/readyz").status, 200)

    def hammer(self, srv):
        """Keep-alive and fresh-connection requests in the background; returns
        (stop function, failures list)."""
        failures = []
        stop = threading.Event()
        ctx = self.ctx()

        def loop():
            conn = h._Conn(srv.port, ctx, h.t(5))
            n = 0
            while not stop.is_set():
                try:
                    if n % 4 == 0:  # a fresh connection now and then
                        conn.close()
                        conn = h._Conn(srv.port, ctx, h.t(5))
                    conn.request("POST", "/validate", body=json.dumps(review(mcp("t", stream="rhel-10"))),
                                 headers={"Content-Type": "application/json"})
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        failures.append(r.status)
                except Exception as e:  # noqa: BLE001
                    failures.append("%s: %s" % (type(e).__name__, e))
                    conn.close()
                    conn = h._Conn(srv.port, ctx, h.t(5))
                n += 1
                time.sleep(0.02)
            conn.close()

        th = threading.Thread(target=loop, daemon=True)
        th.start()

        def stopper():
            stop.set()
            th.join(10)
        return stopper, failures

    def install_rename(self, pair):
        for n in ("tls.key", "tls.crt"):
            tmp = os.path.join(self.plain, "." + n + ".tmp")
            shutil.copy(os.path.join(pair, n), tmp)
            os.rename(tmp, os.path.join(self.plain, n))

    def test_1_rename_over(self):
        ok = self.reloads(self.srv, "success")
        # a kept-alive connection opened before the reload
        kept = h._Conn(self.srv.port, self.ctx(), h.t(5))
        r = self.srv.get("/healthz", conn=kept)
        self.assertEqual(r.status, 200)
        stop, failures = self.hammer(self.srv)
        try:
            self.install_rename(self.pairs[1])
            self.wait_serving(self.srv, self.pairs[1], "rename")
            self.check_after_reload(self.srv, ok, "rename")
            r = self.srv.get("/healthz", conn=kept)
            self.assertEqual(r.status, 200)
        finally:
            stop()
            kept.close()
        self.assertEqual(failures, [])

    def test_2_in_place(self):
        ok = self.reloads(self.srv, "success")
        stop, failures = self.hammer(self.srv)
        try:
            for n in ("tls.crt", "tls.key"):
                data = open(os.path.join(self.pairs[2], n), "rb").read()
                with open(os.path.join(self.plain, n), "r+b") as f:
                    f.seek(0)
                    f.truncate()
                    f.write(data)
            self.wait_serving(self.srv, self.pairs[2], "in place")
            self.check_after_reload(self.srv, ok, "in place")
        finally:
            stop()
        self.assertEqual(failures, [])

    def test_3_bad_pair_refused(self):
        self.srv.errf.flush()
        log_before = len(self.srv.stderr())
        err = self.reloads(self.srv, "error")
        served = self.served_der(self.srv)
        stop, failures = self.hammer(self.srv)
        try:
            # a key that does not match the certificate
            tmp = os.path.join(self.plain, ".tls.key.tmp")
            shutil.copy(os.path.join(self.pairs[4], "tls.key"), tmp)
            os.rename(tmp, os.path.join(self.plain, "tls.key"))
            deadline = time.monotonic() + h.t(RELOAD_WITHIN) + 1
            while self.reloads(self.srv, "error") <= err and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertGreater(self.reloads(self.srv, "error"), err, "mismatched key not counted")
            self.assertEqual(self.served_der(self.srv), served, "old pair not kept")
            self.assertEqual(self.srv.get("/readyz").status, 200)
            # an unparsable certificate
            err = self.reloads(self.srv, "error")
            with open(os.path.join(self.plain, ".tls.crt.tmp"), "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n")
            os.rename(os.path.join(self.plain, ".tls.crt.tmp"), os.path.join(self.plain, "tls.crt"))
            deadline = time.monotonic() + h.t(RELOAD_WITHIN) + 1
            while self.reloads(self.srv, "error") <= err and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertGreater(self.reloads(self.srv, "error"), err, "unparsable cert not counted")
            self.assertEqual(self.served_der(self.srv), served, "old pair not kept")
            self.assertEqual(self.srv.get("/readyz").status, 200)
            # a good pair later is picked up
            self.install_rename(self.pairs[3])
            self.wait_serving(self.srv, self.pairs[3], "good pair after bad")
        finally:
            stop()
        self.assertEqual(failures, [])
        new_log = self.srv.stderr()[log_before:]
        levels = []
        for line in new_log.splitlines():
            try:
                levels.append(json.loads(line).get("level"))
            except ValueError:
                continue
        self.assertTrue(any(lv in ("warn", "warning", "error") for lv in levels),
                        "no warn/error log line for the refused pair: %r" % new_log[-2000:])

    def test_4_kubelet_secret_swap(self):
        ok = self.reloads(self.ksrv, "success")
        stop, failures = self.hammer(self.ksrv)
        try:
            old = os.readlink(os.path.join(self.vol, "..data"))
            new = "..2026_01_01_00_00_01.000000002"
            os.mkdir(os.path.join(self.vol, new))
            for n in ("tls.crt", "tls.key"):
                shutil.copy(os.path.join(self.pairs[1], n), os.path.join(self.vol, new, n))
            os.symlink(new, os.path.join(self.vol, "..data_tmp"))
            os.rename(os.path.join(self.vol, "..data_tmp"), os.path.join(self.vol, "..data"))
            shutil.rmtree(os.path.join(self.vol, old))
            self.wait_serving(self.ksrv, self.pairs[1], "..data swap")
            self.check_after_reload(self.ksrv, ok, "..data swap")
        finally:
            stop()
        self.assertEqual(failures, [])


if __name__ == "__main__":
    h.main()

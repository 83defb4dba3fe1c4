# SPDX-License-Identifier: Apache-2.0
"""The Kubernetes API source, end to end: the real binary with `--kubeconfig`
against the kube-apiserver double (kubeapi.py).

Covers every line of CONTRACT.md's "API source, in detail" list (the list and
watch requests and their query, headers on every request, certificate
verification, token-file rotation, events split across chunks, bookmarks,
DELETED and re-ADDED, 410 as an ERROR event and as an answer, ends, drops and
garbage, backoff numbers, 401/403 retried, the cache metrics) and the
scenarios of issue 9 item 7 (API down at start, v1 absent, SIGTERM during a
long backoff). Waits poll with deadlines; nothing sleeps longer than the
behaviour under test needs.
"""

import json
import os
import shutil
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import kubeapi  # noqa: E402

OSIS = "osimagestreams"
V1 = kubeapi.resource_path(OSIS, "v1")
V1ALPHA1 = kubeapi.resource_path(OSIS, "v1alpha1")
IMG = h.IMG
HEX3 = "3" * 64
HEX4 = "4" * 64


def fixture(streams=("rhel-9", "rhel-10"), name="cluster"):
    """An OSImageStream (as the API stores it) with the given stream names."""
    with open(os.path.join(h.DATA, "osimagestream.json")) as f:
        obj = json.load(f)
    obj["metadata"] = {"name": name}
    avail = []
    for s in streams:
        if s in h.STREAMS:
            avail.append({"name": s, "osImage": h.STREAMS[s][0],
                          "osExtensionsImage": h.STREAMS[s][1]})
        else:
            avail.append({"name": s, "osImage": IMG + HEX3, "osExtensionsImage": IMG + HEX4})
    obj["status"] = {"defaultStream": streams[0], "availableStreams": avail}
    return obj


def wait_until(fn, timeout, what, step=0.02):
    """Polls fn() until it returns a true value; fails naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))


class KubeServer(h.Server):
    """`serve` with the API source: no --osimagestream-file, a kubeconfig."""

    def __init__(self, kubeconfig, args=(), env=None, ready=True):
        base_env = {"KUBECONFIG": None, "KUBERNETES_SERVICE_HOST": None,
                    "KUBERNETES_SERVICE_PORT": None}
        base_env.update(env or {})
        super().__init__(osimagestream=False, args=args, env=base_env, ready=ready)
        self.kubeconfig = kubeconfig

    def command(self, port):
        c = h.certs()
        cmd = [h.BIN, "serve", "--listen", "127.0.0.1:%d" % port,
               "--tls-cert-file", c["crt"], "--tls-private-key-file", c["key"],
               "--log-level", "debug"]
        if self.kubeconfig:
            cmd += ["--kubeconfig", self.kubeconfig]
        return cmd + self.args

    def start(self):
        super().start()
        if not self.wait_ready:
            # Not ready by design: wait until it listens (and has set up its
            # signal handling), or the test would race the start.
            def listening():
                self.raise_if_dead()
                try:
                    return self.get("/healthz", timeout=1).status == 200
                except OSError:
                    return False
            wait_until(listening, h.t(10), "the server listening")
        return self

    def verdict(self, stream):
        """(allowed, status code) of /validate for a pool CREATE naming `stream`
        (None: a pool without a stream)."""
        pool = h.mcp("infra") if stream is None else h.mcp("infra", stream=stream)
        _, out = self.review("validate", h.review(pool))
        r = out["response"]
        return r["allowed"], (r.get("status") or {}).get("code")

    def ready(self):
        try:
            return self.get("/readyz", timeout=2).status == 200
        except OSError:
            return False


class Base(unittest.TestCase):
    """A fresh double and webhook per test, so backoff states never leak."""

    token = "test-token"
    start_ready = True
    put_object = True

    def setUp(self):
        if not h.have_binary():
            self.skipTest("binary not found")
        self.tmp = h.tmpdir("osw-kube-")
        self.api = kubeapi.KubeAPI(token=self.token, certdir=self.certdir()).start()
        self.addCleanup(self.api.stop)
        if self.put_object:
            self.api.set_object(OSIS, fixture())
        self.srv = None

    @staticmethod
    def certdir():
        d = os.path.join(h.certs()["dir"], "kubeapi")
        if not os.path.isdir(d):
            os.makedirs(d)
            kubeapi.make_certs(d)
        return d

    def start(self, kubeconfig=None, ready=None, **kw):
        kc = kubeconfig or self.api.write_kubeconfig(self.tmp)
        self.srv = KubeServer(kc, ready=self.start_ready if ready is None else ready, **kw)
        self.srv.start()
        self.addCleanup(self.stop_server)
        return self.srv

    def stop_server(self):
        if self.srv is not None:
            srv, self.srv = self.srv, None
            srv.stop_and_check()

    def lists(self, path=V1):
        return [r for r in self.api.recorded(path=path) if "watch" not in r["query"]]

    def watches(self, path=V1):
        return [r for r in self.api.recorded(path=path) if "watch" in r["query"]]

    def wait_allowed(self, stream, allowed, code=None, timeout=None):
        def check():
            a, c = self.srv.verdict(stream)
            return a == allowed and (code is None or c == code)
        wait_until(check, timeout or h.t(2), "%s allowed=%s code=%s" % (stream, allowed, code))

    def metric(self, name, **labels):
        return self.srv.metrics().get(name, **labels)


class ListAndWatch(Base):
    def test_list_then_watch_query_and_headers(self):
        self.start()
        self.api.wait_watch(OSIS, timeout=h.t(5))
        lists = self.lists()
        self.assertGreaterEqual(len(lists), 1)
        q = lists[0]["query"]
        self.assertEqual(q["fieldSelector"], ["metadata.name=cluster"])
        self.assertIn("fieldSelector=metadata.name%3Dcluster", lists[0]["rawquery"])
        self.assertNotIn("watch", q)
        w = self.watches()[0]["query"]
        self.assertIn(w["watch"][0], ("1", "true"))
        self.assertEqual(w["fieldSelector"], ["metadata.name=cluster"])
        self.assertEqual(w["resourceVersion"], [str(self.api.rv)])
        self.assertEqual(w["allowWatchBookmarks"], ["true"])
        self.assertTrue(300 <= int(w["timeoutSeconds"][0]) < 600, w)
        for r in self.api.recorded():
            self.assertEqual(r["headers"].get("accept"), "application/json", r["path"])
            self.assertEqual(r["headers"].get("authorization"), "Bearer test-token")
        self.assertEqual(self.srv.verdict("rhel-10"), (True, None))
        self.assertEqual(self.srv.verdict("rhel-8")[0], False)
        m = self.srv.metrics()
        self.assertEqual(m.get("osstream_webhook_osimagestream_synced"), 1)
        self.assertEqual(m.get("osstream_webhook_osimagestream_streams"), 2)
        self.assertGreater(m.get("osstream_webhook_osimagestream_last_update_timestamp_seconds"), 0)

    def test_modified_used_within_2s_and_split_events(self):
        self.start()
        self.api.wait_watch(OSIS, timeout=h.t(5))
        self.api.set_object(OSIS, fixture(("rhel-9", "rhel-10", "rhel-11")))
        self.wait_allowed("rhel-11", True, timeout=h.t(2))
        # An event cut into many chunks, some a byte long, sent with gaps.
        obj = kubeapi.KubeAPI._typed(fixture(("rhel-9", "rhel-12")), OSIS, "v1")
        obj["metadata"]["resourceVersion"] = str(self.api.rv + 5)
        line = json.dumps({"type": "MODIFIED", "object": obj}).encode() + b"\n"
        cuts = sorted(set([1, 2, 3, 17, 40, len(line) // 2, len(line) - 2, len(line) - 1]))
        restarts = self.metric("osstream_webhook_watch_restarts_total")
        self.api.send_event(OSIS, "MODIFIED", obj, pieces=cuts, gap=0.01)
        self.wait_allowed("rhel-12", True, timeout=h.t(2))
        self.assertEqual(self.srv.verdict("rhel-11")[0], False)
        self.assertEqual(self.metric("osstream_webhook_watch_restarts_total"), restarts)

    def test_bookmark_is_not_an_update_and_keeps_the_watch(self):
        self.start()
        self.api.wait_watch(OSIS, timeout=h.t(5))
        m0 = self.srv.metrics()
        nlists = len(self.lists())
        self.api.send_bookmark(OSIS, rv=self.api.rv + 100)
        time.sleep(0.3)
        self.api.set_object(OSIS, fixture(("rhel-9", "rhel-10", "rhel-13")))
        self.wait_allowed("rhel-13", True)
        m1 = self.srv.metrics()
        self.assertEqual(len(self.lists()), nlists, "a bookmark must not end the watch")
        self.assertEqual(m1.get("osstream_webhook_watch_restarts_total"),
                         m0.get("osstream_webhook_watch_restarts_total"))
        self.assertEqual(m1.get("osstream_webhook_osimagestream_updates_total", result="success"),
                         m0.get("osstream_webhook_osimagestream_updates_total",
                                result="success") + 1)

    def test_deleted_empties_then_added_fills(self):
        self.start()
        self.api.wait_watch(OSIS, timeout=h.t(5))
        self.api.delete_object(OSIS, "cluster")
        self.wait_allowed("rhel-10", False, code=503)
        self.assertEqual(self.srv.verdict(None), (True, None))
        self.assertTrue(self.srv.ready(), "deletion keeps the cache synced")
        self.assertEqual(self.metric("osstream_webhook_osimagestream_streams"), 0)
        self.api.set_object(OSIS, fixture())
        self.wait_allowed("rhel-10", True)

    def test_invalid_update_refused_last_good_stays(self):
        self.start()
        self.api.wait_watch(OSIS, timeout=h.t(5))
        bad = fixture()
        bad["status"]["availableStreams"][0]["osImage"] = "quay.io/x:latest"
        self.api.set_object(OSIS, bad)
        wait_until(lambda: self.metric("osstream_webhook_osimagestream_updates_total",
                                       result="invalid") == 1, h.t(2), "invalid counted")
        self.assertEqual(self.srv.verdict("rhel-10"), (True, None))
        self.assertIn("refused", self.srv.stderr())
        self.api.set_object(OSIS, fixture(("rhel-9", "rhel-14")))
        self.wait_allowed("rhel-14", True)


class Restarts(Base):
    def relist_after(self, action, reason):
        self.start()
        self.api.wait_watch(OSIS, timeout=h.t(5))
        n = len(self.lists())
        before = self.metric("osstream_webhook_watch_restarts_total", reason=reason)
        action()
        wait_until(lambda: len(self.lists()) > n, h.t(3), "a new list")
        wait_until(lambda: self.metric("osstream_webhook_watch_restarts_total",
                                       reason=reason) > before, h.t(2), "restart " + reason)
        # The cache never stopped: a change after the relist is used.
        self.api.wait_watch(OSIS, timeout=h.t(5))
        self.api.set_object(OSIS, fixture(("rhel-9", "rhel-15")))
        self.wait_allowed("rhel-15", True)
        self.assertTrue(self.srv.ready())

    def test_error_event_410(self):
        self.relist_after(lambda: self.api.send_error(OSIS, 410), "gone")

    def test_watch_answered_410(self):
        def act():
            self.api.override(resource=OSIS, verb="watch", status=410, times=1)
            self.api.close_watches(OSIS)
        self.relist_after(act, "gone")

    def test_watch_end(self):
        self.relist_after(lambda: self.api.close_watches(OSIS), "closed")

    def test_broken_connection(self):
        self.relist_after(lambda: self.api.close_watches(OSIS, abrupt=True), "network")

    def test_garbage_line(self):
        self.relist_after(lambda: self.api.send_garbage(OSIS), "decode")

    def test_watch_5xx_and_429(self):
        def act():
            self.api.override(resource=OSIS, verb="watch", status=500, times=1)
            self.api.close_watches(OSIS)
        self.relist_after(act, "http_5xx")

    def test_429_honours_retry_after(self):
        """Retry-After lengthens the wait only up to the top of the jitter
        window: CONTRACT.md keeps every wait within +-50 % of the nominal
        one, so the 2 s asked here are not waited."""
        self.start()
        self.api.wait_watch(OSIS, timeout=h.t(5))
        self.api.override(resource=OSIS, verb="list", status=429, retry_after=2, times=1)
        n = len(self.lists())
        self.api.close_watches(OSIS)
        first = wait_until(lambda: self.lists()[n:n + 1], h.t(3), "the throttled list")[0]
        second = wait_until(lambda: self.lists()[n + 1:n + 2], h.t(5), "the next list")[0]
        gap = second["time"] - first["time"]
        self.assertGreaterEqual(gap, 0.1)  # the backoff's wait, at its top
        self.assertLess(gap, 1.5)  # nominal <= 1 s here: never the 2 s asked
        self.assertGreaterEqual(self.metric("osstream_webhook_watch_restarts_total",
                                            reason="throttled"), 1)


class Failures(Base):
    def test_backoff_numbers(self):
        self.api.override(resource=OSIS, verb="list", status=500)
        self.start(ready=False)
        got = wait_until(lambda: len(self.lists()) >= 5 and self.lists(), h.t(10), "5 lists")
        times = [r["time"] for r in got[:5]]
        gaps = [b - a for a, b in zip(times, times[1:])]
        # First nominal wait in [100 ms, 1 s], +-50 %; growth 1.5-2x per failure.
        self.assertGreaterEqual(gaps[0], 0.05, gaps)
        self.assertLessEqual(gaps[0], 1.5 * h.SLOW + 0.2, gaps)
        for a, b in zip(gaps, gaps[1:]):
            self.assertGreater(b, a * 0.5, gaps)  # never a tight loop
        self.assertGreater(gaps[3], gaps[0] * 2, gaps)
        self.assertFalse(self.srv.ready())
        self.assertEqual(self.metric("osstream_webhook_osimagestream_synced"), 0)
        self.api.clear_overrides()
        wait_until(self.srv.ready, h.t(12), "ready once the API answers")

    def test_401_retried_and_logged(self):
        kc = self.api.write_kubeconfig(self.tmp)  # carries test-token
        self.api.set_token("another-token")
        self.start(kubeconfig=kc, ready=False)
        self.api.wait_requests(2, path=V1, timeout=h.t(5))
        # The cluster-state reflectors log their own 401s: take the
        # OSImageStream's.
        wait_until(lambda: any("401" in l and "osimagestreams" in l
                               for l in self.srv.stderr().splitlines()), h.t(2), "a 401 log line")
        line = [l for l in self.srv.stderr().splitlines() if "401" in l and "osimagestreams" in l][0]
        self.assertIn("list", line)
        self.assertNotIn("test-token", self.srv.stderr())
        self.assertFalse(self.srv.ready())
        self.api.set_token("test-token")
        wait_until(self.srv.ready, h.t(8), "ready once the token is accepted")
        self.assertGreaterEqual(self.metric("osstream_webhook_watch_restarts_total",
                                            reason="auth"), 1)

    def test_403_names_verb_and_resource(self):
        self.api.override(resource=OSIS, verb="list", status=403,
                          message='osimagestreams.machineconfiguration.openshift.io is forbidden: '
                                  'User "system:serviceaccount:x:y" cannot list resource')
        self.start(ready=False)
        self.api.wait_requests(3, path=V1, timeout=h.t(5))
        lines = [l for l in self.srv.stderr().splitlines() if "403" in l]
        self.assertTrue(lines)
        self.assertIn('"verb":"list"', lines[0])
        self.assertIn("osimagestreams.machineconfiguration.openshift.io", lines[0])
        self.api.clear_overrides()
        wait_until(self.srv.ready, h.t(8), "ready once RBAC allows")

    def test_api_down_at_start_then_up(self):
        self.api.override(status=503)
        self.start(ready=False)
        self.api.wait_requests(2, timeout=h.t(5))
        self.assertFalse(self.srv.ready())
        self.assertIn(b"not synced", self.srv.get("/readyz").body)
        self.assertEqual(self.srv.verdict(None), (True, None))
        self.assertEqual(self.srv.verdict("rhel-10"), (False, 503))
        self.api.clear_overrides()
        wait_until(self.srv.ready, h.t(8), "ready once the API is up")
        self.assertEqual(self.srv.verdict("rhel-10"), (True, None))
        self.assertEqual(self.metric("osstream_webhook_osimagestream_synced"), 1)

    def test_api_unreachable(self):
        kc = self.api.write_kubeconfig(self.tmp, server="https://127.0.0.1:%d" % h.free_port())
        self.start(kubeconfig=kc, ready=False)
        wait_until(lambda: self.metric("osstream_webhook_watch_restarts_total",
                                       reason="network") >= 2, h.t(5), "network restarts")
        self.assertFalse(self.srv.ready())
        self.assertEqual(self.srv.verdict("rhel-9"), (False, 503))

    def test_sigterm_during_long_backoff(self):
        self.api.override(resource=OSIS, verb="list", status=429, retry_after=60)
        self.start(ready=False)
        self.api.wait_requests(1, path=V1, timeout=h.t(5))
        time.sleep(0.2)
        self.assertEqual(len(self.lists()), 1, "Retry-After must hold the next list back")
        t0 = time.monotonic()
        self.srv.signal(signal.SIGTERM)
        rc = self.srv.wait_exit(h.t(5))
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, "exit status %r after %.1fs" % (rc, took))
        self.assertLess(took, h.t(5))
        srv, self.srv = self.srv, None
        problems = srv.sanitizer_problems()
        self.assertEqual(problems, [])


class Versions(Base):
    def test_v1_absent_falls_back_to_v1alpha1(self):
        self.api.unserve("v1", OSIS)
        self.start()
        self.assertEqual(self.srv.verdict("rhel-10"), (True, None))
        self.api.wait_watch(OSIS, timeout=h.t(5))
        self.assertTrue(self.lists(V1))
        self.assertTrue(self.lists(V1ALPHA1))
        self.assertTrue(self.watches(V1ALPHA1))
        self.assertFalse(self.watches(V1))
        self.api.set_object(OSIS, fixture(("rhel-9", "rhel-16")))
        self.wait_allowed("rhel-16", True)
        # Logged once, even across relists.
        self.api.close_watches(OSIS)
        wait_until(lambda: len(self.watches(V1ALPHA1)) >= 2, h.t(5), "a second watch")
        n = len([l for l in self.srv.stderr().splitlines() if "not served" in l])
        self.assertEqual(n, 1, self.srv.stderr()[-2000:])

    def test_no_version_served(self):
        """No version serves osimagestreams: no list succeeded, so /readyz
        stays 503 and the cache unsynced (CONTRACT.md), the lists are retried
        with the backoff (capped at 30 s), and serving v1 later is picked up
        well within that cap."""
        self.api.unserve("v1", OSIS)
        self.api.unserve("v1alpha1", OSIS)
        self.start(ready=False)
        self.assertEqual(self.srv.verdict("rhel-10"), (False, 503))
        self.assertEqual(self.srv.verdict(None), (True, None))
        self.assertEqual(self.srv.get("/readyz").status, 503)
        self.assertEqual(self.metric("osstream_webhook_osimagestream_synced"), 0)
        wait_until(lambda: len(self.lists(V1)) >= 2, h.t(5), "v1 listed again")
        self.api.serve_again("v1", OSIS)
        wait_until(lambda: self.srv.get("/readyz").status == 200, h.t(35), "ready once v1 served")
        self.assertEqual(self.metric("osstream_webhook_osimagestream_synced"), 1)
        self.wait_allowed("rhel-10", True)


class Object(Base):
    put_object = False

    def test_list_without_object_is_synced_then_added(self):
        self.start()
        self.assertEqual(self.srv.verdict("rhel-10"), (False, 503))
        self.assertEqual(self.srv.verdict(None), (True, None))
        self.assertEqual(self.metric("osstream_webhook_osimagestream_synced"), 1)
        self.api.wait_watch(OSIS, timeout=h.t(5))
        self.api.set_object(OSIS, fixture())
        self.wait_allowed("rhel-10", True)

    def test_other_name_via_flag(self):
        self.api.set_object(OSIS, fixture(("rhel-9",), name="other"))
        self.start(args=["--osimagestream-name", "other"])
        self.assertEqual(self.lists()[0]["query"]["fieldSelector"], ["metadata.name=other"])
        self.assertEqual(self.srv.verdict("rhel-9"), (True, None))


class Credentials(Base):
    def test_token_file_rotation(self):
        tf = os.path.join(self.tmp, "token")
        with open(tf, "w") as f:
            f.write("test-token")
        kc = self.api.write_kubeconfig(self.tmp, token=None, token_file=tf)
        self.start(kubeconfig=kc)
        self.api.wait_watch(OSIS, timeout=h.t(5))
        self.api.rotate_token(tf, "rotated-token")
        time.sleep(1.05)
        n = len(self.api.recorded())
        self.api.close_watches(OSIS)
        req = wait_until(lambda: self.api.recorded()[n:], h.t(5), "a request after rotation")[0]
        self.assertEqual(req["headers"].get("authorization"), "Bearer rotated-token")
        self.api.set_object(OSIS, fixture(("rhel-9", "rhel-17")))
        self.wait_allowed("rhel-17", True, timeout=h.t(4))

    def test_in_cluster_service_account(self):
        sa = os.path.join(self.tmp, "sa")
        os.makedirs(sa)
        with open(os.path.join(sa, "token"), "w") as f:
            f.write("test-token\n")
        shutil.copy(self.api.ca, os.path.join(sa, "ca.crt"))
        self.srv = KubeServer(None, args=["--serviceaccount-dir", sa],
                              env={"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                                   "KUBERNETES_SERVICE_PORT": str(self.api.port)})
        self.srv.start()
        self.addCleanup(self.stop_server)
        self.assertEqual(self.srv.verdict("rhel-10"), (True, None))
        self.assertEqual(self.api.recorded()[0]["headers"].get("authorization"),
                         "Bearer test-token")
        # The projected token rotates: the next request carries the new one.
        self.api.wait_watch(OSIS, timeout=h.t(5))
        self.api.rotate_token(os.path.join(sa, "token"), "rotated-sa-token")
        time.sleep(1.05)
        n = len(self.api.recorded())
        self.api.close_watches(OSIS)
        req = wait_until(lambda: self.api.recorded()[n:], h.t(5), "a request after rotation")[0]
        self.assertEqual(req["headers"].get("authorization"), "Bearer rotated-sa-token")

    def test_untrusted_certificate_sends_nothing(self):
        other = h.tmpdir("osw-kube-otherca-")
        kubeapi.make_certs(other)
        kc = self.api.write_kubeconfig(self.tmp, ca=None)
        # certificate-authority pointing at a CA that did not sign the server.
        with open(kc) as f:
            doc = json.load(f)
        doc["clusters"][0]["cluster"]["certificate-authority"] = os.path.join(other, "ca.crt")
        with open(kc, "w") as f:
            json.dump(doc, f)
        self.start(kubeconfig=kc, ready=False)
        wait_until(lambda: self.metric("osstream_webhook_watch_restarts_total",
                                       reason="network") >= 1, h.t(5), "a failed attempt")
        self.assertEqual(self.api.recorded(), [])
        self.assertFalse(self.srv.ready())

    def test_insecure_skip_verify(self):
        kc = self.api.write_kubeconfig(self.tmp, insecure=True)
        self.start(kubeconfig=kc)
        self.assertEqual(self.srv.verdict("rhel-10"), (True, None))


class Choice(unittest.TestCase):
    def test_kubeconfig_with_file_refused(self):
        c = h.certs()
        p = h.run(["serve", "--listen", "127.0.0.1:%d" % h.free_port(), "--tls-cert-file",
                   c["crt"], "--tls-private-key-file", c["key"], "--osimagestream-file",
                   os.path.join(h.DATA, "osimagestream.yaml"), "--kubeconfig", "/nonexistent"])
        self.assertEqual(p.returncode, 2)
        self.assertTrue(h.one_line(p.stderr), p.stderr)

    def test_env_kubeconfig_used(self):
        api = kubeapi.KubeAPI(certdir=Base.certdir()).start()
        self.addCleanup(api.stop)
        api.set_object(OSIS, fixture())
        kc = api.write_kubeconfig(h.tmpdir("osw-kube-env-"))
        srv = KubeServer(None, env={"KUBECONFIG": kc}).start()
        try:
            self.assertEqual(srv.verdict("rhel-10"), (True, None))
        finally:
            srv.stop_and_check()

    def test_no_source_at_all_exits_2(self):
        c = h.certs()
        p = h.run(["serve", "--listen", "127.0.0.1:%d" % h.free_port(), "--tls-cert-file",
                   c["crt"], "--tls-private-key-file", c["key"]],
                  env={"KUBECONFIG": None, "KUBERNETES_SERVICE_HOST": None,
                       "KUBERNETES_SERVICE_PORT": None})
        self.assertEqual(p.returncode, 2)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertIn(b"KUBERNETES_SERVICE_HOST", p.stderr)

    def test_unreadable_kubeconfig_exits_2(self):
        c = h.certs()
        p = h.run(["serve", "--listen", "127.0.0.1:%d" % h.free_port(), "--tls-cert-file",
                   c["crt"], "--tls-private-key-file", c["key"], "--kubeconfig",
                   "/nonexistent/kubeconfig"],
                  env={"KUBECONFIG": None})
        self.assertEqual(p.returncode, 2)
        self.assertTrue(h.one_line(p.stderr), p.stderr)


if __name__ == "__main__":
    h.main()

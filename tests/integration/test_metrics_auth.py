# SPDX-License-Identifier: Apache-2.0
"""`--metrics-auth kubernetes` end to end: the real binary with the API source
against the kube-apiserver double, which answers the TokenReviews and
SubjectAccessReviews the webhook posts.

CONTRACT.md "Metrics access": no token or a rejected one is 401 with
`WWW-Authenticate: Bearer`; a user the SubjectAccessReview does not allow is
403; an allowed one gets the metrics; a review that cannot be completed with
nothing cached is 503; an allowed result is cached (a second scrape makes no
review) and used while the API is unreachable; /healthz, /readyz, /validate
and /mutate never need a token and do not change when the API is down; with
--osimagestream-file the flag exits 2.
"""

import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import kubeapi  # noqa: E402

TOKENREVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
SARS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
GOOD = "scraper-token"
USER = "system:serviceaccount:openshift-monitoring:prometheus-k8s"


def osimagestream():
    with open(os.path.join(h.DATA, "osimagestream.json")) as f:
        obj = json.load(f)
    obj["metadata"] = {"name": "cluster"}
    return obj


class AuthServer(h.Server):
    """`serve` on the API source of `kubeconfig`, with --metrics-auth kubernetes."""

    def __init__(self, kubeconfig, args=()):
        env = {"KUBECONFIG": None, "KUBERNETES_SERVICE_HOST": None,
               "KUBERNETES_SERVICE_PORT": None}
        super().__init__(osimagestream=False, args=args, env=env)
        self.kubeconfig = kubeconfig

    def command(self, port):
        c = h.certs()
        return [h.BIN, "serve", "--listen", "127.0.0.1:%d" % port,
                "--tls-cert-file", c["crt"], "--tls-private-key-file", c["key"],
                "--kubeconfig", self.kubeconfig, "--metrics-auth", "kubernetes",
                "--log-level", "debug"] + self.args


class MetricsAuthTest(unittest.TestCase):
    def setUp(self):
        self.api = kubeapi.KubeAPI()
        self.api.start()
        self.addCleanup(self.api.stop)
        self.api.set_object("osimagestreams", osimagestream())
        self.reviews = {"token": [], "sar": []}
        self.allowed_users = {USER}
        self.api.on_post(TOKENREVIEWS, self.token_review)
        self.api.on_post(SARS, self.access_review)
        tmp = h.tmpdir("osw-it-mauth-")
        self.kubeconfig = self.api.write_kubeconfig(tmp)

    def token_review(self, record, body):
        req = json.loads(body)
        token = req["spec"]["token"]
        self.reviews["token"].append(req)
        status = {"authenticated": False, "error": "invalid bearer token"}
        if token in (GOOD, "other-user-token"):
            name = USER if token == GOOD else "system:serviceaccount:default:nosy"
            status = {"authenticated": True,
                      "user": {"username": name, "uid": "uid-1",
                               "groups": ["system:serviceaccounts"],
                               "extra": {"authentication.kubernetes.io/pod-name": ["p"]}}}
        return 201, {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                     "spec": req["spec"], "status": status}

    def access_review(self, record, body):
        req = json.loads(body)
        self.reviews["sar"].append(req)
        allowed = req["spec"].get("user") in self.allowed_users
        return 201, {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                     "spec": req["spec"], "status": {"allowed": allowed}}

    def start(self, args=()):
        srv = AuthServer(self.kubeconfig, args=args).start()
        self.addCleanup(srv.stop_and_check, self)
        return srv

    def scrape(self, srv, token=None, port=None):
        headers = {"Authorization": "Bearer " + token} if token else {}
        conn = h._Conn(port, h.client_context(srv.cafile), h.t(10)) if port else None
        try:
            return srv.request("GET", "/metrics", headers=headers, conn=conn)
        finally:
            if conn is not None:
                conn.close()

    def test_no_token_is_401_with_challenge(self):
        srv = self.start()
        r = self.scrape(srv)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("WWW-Authenticate"), "Bearer")
        self.assertEqual(self.reviews["token"], [], "no review without a token")

    def test_allowed_token_gets_metrics_and_is_cached(self):
        srv = self.start()
        r = self.scrape(srv, GOOD)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b"osstream_webhook_requests_total", r.body)
        self.assertEqual(len(self.reviews["token"]), 1)
        self.assertEqual(self.reviews["token"][0]["spec"]["token"], GOOD)
        sar = self.reviews["sar"][0]["spec"]
        self.assertEqual(sar["user"], USER)
        self.assertEqual(sar["uid"], "uid-1")
        self.assertEqual(sar["groups"], ["system:serviceaccounts"])
        self.assertEqual(sar["extra"], {"authentication.kubernetes.io/pod-name": ["p"]})
        self.assertEqual(sar["nonResourceAttributes"], {"path": "/metrics", "verb": "get"})
        self.assertNotIn(GOOD, json.dumps(self.reviews["sar"][0]))
        # Cached: a second scrape makes no review.
        self.assertEqual(self.scrape(srv, GOOD).status, 200)
        self.assertEqual(len(self.reviews["token"]), 1)
        # The token never reaches the log.
        self.assertNotIn(GOOD, srv.stderr())

    def test_rejected_token_is_401(self):
        srv = self.start()
        r = self.scrape(srv, "not-a-token")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("WWW-Authenticate"), "Bearer")
        self.assertEqual(self.reviews["sar"], [])

    def test_not_allowed_user_is_403(self):
        srv = self.start()
        self.assertEqual(self.scrape(srv, "other-user-token").status, 403)

    def test_api_unreachable_is_503_but_cache_holds(self):
        srv = self.start()
        self.assertEqual(self.scrape(srv, GOOD).status, 200)
        self.api.override(verb="post", status=500)
        # Nothing cached for this token: 503 (and not cached: asked again).
        self.assertEqual(self.scrape(srv, "other-user-token").status, 503)
        self.assertEqual(self.scrape(srv, "other-user-token").status, 503)
        # The allowed token's cached result holds while the API fails.
        self.assertEqual(self.scrape(srv, GOOD).status, 200)
        # Probes and admission never need a token, whatever the API does.
        self.assertEqual(srv.get("/healthz").status, 200)
        self.assertEqual(srv.get("/readyz").status, 200)
        _, resp = srv.review("validate", h.review(h.mcp("infra", stream="rhel-10")))
        self.assertTrue(resp["response"]["allowed"])

    def test_slow_review_does_not_hold_other_requests(self):
        srv = self.start()
        self.api.override(verb="post", delay=3.0, times=1)
        got = {}
        t = threading.Thread(target=lambda: got.update(r=self.scrape(srv, GOOD)))
        t.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        for _ in range(5):
            self.assertEqual(srv.get("/healthz").status, 200)
        self.assertLess(time.monotonic() - t0, 1.0 * h.SLOW)
        t.join(10)
        self.assertEqual(got["r"].status, 200)

    def test_separate_metrics_listener(self):
        mport = h.free_port()
        srv = self.start(args=["--metrics-listen", "127.0.0.1:%d" % mport])
        self.assertEqual(self.scrape(srv, port=mport).status, 401)
        self.assertEqual(self.scrape(srv, GOOD, port=mport).status, 200)
        self.assertEqual(self.scrape(srv, GOOD).status, 404)


class MetricsAuthFlagTest(unittest.TestCase):
    def test_file_source_refuses_kubernetes_auth(self):
        c = h.certs()
        p = subprocess.run([h.BIN, "serve", "--listen", "127.0.0.1:0", "--tls-cert-file", c["crt"],
                            "--tls-private-key-file", c["key"], "--osimagestream-file",
                            os.path.join(h.DATA, "osimagestream.yaml"), "--metrics-auth",
                            "kubernetes"], capture_output=True, timeout=h.t(10))
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, b"")
        err = p.stderr.decode()
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn("API source", err)

    def test_bad_value_exits_2(self):
        c = h.certs()
        p = subprocess.run([h.BIN, "serve", "--tls-cert-file", c["crt"], "--tls-private-key-file",
                            c["key"], "--osimagestream-file",
                            os.path.join(h.DATA, "osimagestream.yaml"), "--metrics-auth", "basic"],
                           capture_output=True, timeout=h.t(10))
        self.assertEqual(p.returncode, 2)
        self.assertIn("--metrics-auth", p.stderr.decode())


if __name__ == "__main__":
    unittest.main()

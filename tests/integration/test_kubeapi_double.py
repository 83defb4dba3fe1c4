# SPDX-License-Identifier: Apache-2.0
"""Self-test of the kube-apiserver test double (kubeapi.py), so the tests that
rely on it rely on something checked: token checking, request recording,
list with field selector and paging, watch streams (store events, replay
from a resourceVersion, raw chunks, bookmarks, 410 both ways, ends and
drops), overrides, unserved versions, the kubeconfig it writes and the
standalone --stdio mode. A plain http.client over TLS is the client.
"""

import base64
import http.client
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
import kubeapi  # noqa: E402

OSIS = kubeapi.resource_path("osimagestreams")


def osis(name="cluster", default="rhel-9"):
    return {"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "OSImageStream",
            "metadata": {"name": name}, "status": {"defaultStream": default}}


class Client:
    """A keep-alive HTTPS client trusting the double's CA."""

    def __init__(self, api, token="test-token", cafile=None):
        self.ctx = ssl.create_default_context(cafile=cafile or api.ca)
        self.api = api
        self.token = token
        self.c = None

    def conn(self):
        if self.c is None:
            self.c = http.client.HTTPSConnection("127.0.0.1", self.api.port, context=self.ctx,
                                                 timeout=h.t(5))
        return self.c

    def get(self, path, token=None):
        hdrs = {"Accept": "application/json"}
        tok = token if token is not None else self.token
        if tok:
            hdrs["Authorization"] = "Bearer " + tok
        c = self.conn()
        c.request("GET", path, headers=hdrs)
        r = c.getresponse()
        return r

    def json(self, path, token=None):
        r = self.get(path, token)
        return r.status, json.loads(r.read()), r

    def close(self):
        if self.c:
            self.c.close()


class WatchReader:
    """Reads event lines from an open watch response."""

    def __init__(self, resp):
        self.r = resp

    def line(self):
        return self.r.readline()

    def event(self):
        return json.loads(self.line())


class DoubleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not h.have_binary():
            raise unittest.SkipTest("binary not found: " + h.BIN)
        cls.api = kubeapi.KubeAPI(certdir=h.certs()["dir"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def setUp(self):
        self.api.clear_overrides()
        self.api.clear_requests()
        self.api.set_token("test-token")
        for r in kubeapi.KINDS:
            for n in list(self.api.store[r]):
                self.api.delete_object(r, n)
        self.cl = Client(self.api)

    def tearDown(self):
        self.cl.close()
        self.api.close_watches()

    def test_token_checked_and_requests_recorded(self):
        st, body, _ = self.cl.json(OSIS, token="wrong")
        self.assertEqual(st, 401)
        self.assertEqual(body["kind"], "Status")
        st, _, _ = self.cl.json(OSIS + "?fieldSelector=metadata.name%3Dcluster")
        self.assertEqual(st, 200)
        recs = self.api.recorded(OSIS)
        self.assertEqual(len(recs), 2)
        self.assertEqual(recs[0]["headers"]["authorization"], "Bearer wrong")
        self.assertEqual(recs[1]["query"]["fieldSelector"], ["metadata.name=cluster"])
        self.assertEqual(recs[1]["headers"]["accept"], "application/json")
        # keep-alive: both on one connection
        self.assertEqual(recs[0]["conn"], recs[1]["conn"])
        self.api.set_token("rotated")
        self.assertEqual(self.cl.json(OSIS)[0], 401)
        self.assertEqual(self.cl.json(OSIS, token="rotated")[0], 200)

    def test_list_field_selector_and_paging(self):
        self.api.set_object("osimagestreams", osis("cluster"))
        rv = self.api.set_object("osimagestreams", osis("other"))
        st, body, _ = self.cl.json(OSIS + "?fieldSelector=metadata.name%3Dcluster")
        self.assertEqual(st, 200)
        self.assertEqual([i["metadata"]["name"] for i in body["items"]], ["cluster"])
        self.assertEqual(body["metadata"]["resourceVersion"], rv)
        self.assertEqual(body["items"][0]["apiVersion"], "machineconfiguration.openshift.io/v1")
        st, body, _ = self.cl.json(OSIS + "?fieldSelector=metadata.name%3Dnone")
        self.assertEqual(body["items"], [])
        for i in range(5):
            self.api.set_object("machineconfigs", {"metadata": {"name": "mc-%d" % i}})
        path = kubeapi.resource_path("machineconfigs") + "?limit=2"
        names, cont, pages = [], None, 0
        while True:
            st, body, _ = self.cl.json(path + ("&continue=" + cont if cont else ""))
            self.assertEqual(st, 200)
            pages += 1
            names += [i["metadata"]["name"] for i in body["items"]]
            cont = body["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(names, ["mc-%d" % i for i in range(5)])
        self.assertEqual(pages, 3)
        # a continue token from before a compaction is 410
        st, body, _ = self.cl.json(path)
        self.api.compact()
        st, body, _ = self.cl.json(path + "&continue=" + body["metadata"]["continue"])
        self.assertEqual(st, 410)

    def test_watch_events_replay_and_raw_chunks(self):
        rv0 = self.api.set_object("osimagestreams", osis("cluster"))
        r = self.cl.get(OSIS + "?watch=1&fieldSelector=metadata.name%3Dcluster"
                        "&allowWatchBookmarks=true&resourceVersion=" + str(int(rv0) - 1))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
        w = WatchReader(r)
        ev = w.event()  # replayed from history
        self.assertEqual((ev["type"], ev["object"]["metadata"]["resourceVersion"]), ("ADDED", rv0))
        self.api.wait_watch("osimagestreams")
        self.api.set_object("osimagestreams", osis("other"))  # filtered out by the selector
        self.api.set_object("osimagestreams", osis("cluster", "rhel-10"))
        ev = w.event()
        self.assertEqual(ev["type"], "MODIFIED")
        self.assertEqual(ev["object"]["status"]["defaultStream"], "rhel-10")
        line = self.api.send_event("osimagestreams", "MODIFIED", osis(), pieces=[1, 5, 9], gap=0.01)
        self.assertEqual(w.line(), line)
        self.api.send_bookmark("osimagestreams", rv=4242)
        ev = w.event()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["resourceVersion"]),
                         ("BOOKMARK", "4242"))
        self.api.send_garbage("osimagestreams")
        self.assertEqual(w.line(), b"this is not an event\n")
        self.api.send_error("osimagestreams", 410)
        ev = w.event()
        self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))
        self.api.delete_object("osimagestreams", "cluster")
        self.assertEqual(w.event()["type"], "DELETED")
        self.api.close_watches("osimagestreams")
        self.assertEqual(r.read(), b"")  # a clean end of the chunked body
        # the connection is still usable
        self.assertEqual(self.cl.json(OSIS)[0], 200)

    def test_watch_from_zero_lists_then_streams_and_times_out(self):
        self.api.set_object("osimagestreams", osis("cluster"))
        t0 = time.monotonic()
        r = self.cl.get(OSIS + "?watch=true&timeoutSeconds=1")
        self.assertEqual(WatchReader(r).event()["type"], "ADDED")
        self.assertEqual(r.read(), b"")
        self.assertLess(time.monotonic() - t0, h.t(3))

    def test_watch_too_old_is_error_410_and_abrupt_close(self):
        rv = self.api.set_object("osimagestreams", osis("cluster"))
        self.api.compact()
        r = self.cl.get(OSIS + "?watch=1&resourceVersion=" + rv)
        ev = WatchReader(r).event()
        self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))
        self.assertEqual(r.read(), b"")
        cl2 = Client(self.api)
        try:
            r = cl2.get(OSIS + "?watch=1")
            self.api.wait_watch("osimagestreams")
            self.api.close_watches("osimagestreams", abrupt=True)
            with self.assertRaises((http.client.IncompleteRead, OSError)):
                r.read()
        finally:
            cl2.close()

    def test_overrides_and_unserved_versions(self):
        o = self.api.override(resource="osimagestreams", verb="list", status=429, retry_after=3,
                              times=1)
        st, body, r = self.cl.json(OSIS)
        self.assertEqual((st, r.getheader("Retry-After"), body["code"]), (429, "3", 429))
        self.assertEqual(self.cl.json(OSIS)[0], 200)  # times=1: used up
        self.assertEqual(o["hits"], 1)  # the live override counts its matches
        self.api.override(verb="watch", status=410)
        self.assertEqual(self.cl.json(OSIS + "?watch=1")[0], 410)
        self.api.clear_overrides()
        self.api.override(path=OSIS, delay=0.3)
        t0 = time.monotonic()
        self.assertEqual(self.cl.json(OSIS)[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.api.clear_overrides()
        self.api.unserve("v1", "osimagestreams")
        self.assertEqual(self.cl.json(OSIS)[0], 404)
        self.assertEqual(self.cl.json(kubeapi.resource_path("machineconfigs"))[0], 200)
        st, body, _ = self.cl.json(kubeapi.resource_path("osimagestreams", "v1alpha1"))
        self.assertEqual((st, body["apiVersion"]), (200, "machineconfiguration.openshift.io/v1alpha1"))
        self.api.serve_again("v1")
        self.assertEqual(self.cl.json(OSIS)[0], 200)
        self.assertEqual(self.cl.json("/api/v1/namespaces")[0], 404)

    def test_wrong_ca_records_nothing(self):
        other = h.tmpdir("kubeapi-other-ca-")
        kubeapi.make_certs(other)
        cl = Client(self.api, cafile=os.path.join(other, "ca.crt"))
        with self.assertRaises(ssl.SSLError):
            cl.json(OSIS)
        cl.close()
        self.assertEqual(self.api.recorded(), [])
        deadline = time.monotonic() + h.t(5)
        while not self.api.handshake_failures and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(self.api.handshake_failures)

    def test_post_handler(self):
        self.api.on_post("/apis/authentication.k8s.io/v1/tokenreviews",
                         lambda rec, body: (201, {"echo": json.loads(body)}))
        c = self.cl.conn()
        c.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", body=b'{"a":1}',
                  headers={"Authorization": "Bearer test-token",
                           "Content-Type": "application/json"})
        r = c.getresponse()
        self.assertEqual((r.status, json.loads(r.read())), (201, {"echo": {"a": 1}}))

    def test_kubeconfig_written(self):
        d = h.tmpdir("kubeapi-kc-")
        kc = json.load(open(self.api.write_kubeconfig(d)))
        cl = kc["clusters"][0]["cluster"]
        self.assertEqual(cl["server"], self.api.url)
        self.assertEqual(base64.b64decode(cl["certificate-authority-data"]),
                         open(self.api.ca, "rb").read())
        self.assertEqual(kc["users"][0]["user"], {"token": "test-token"})
        kc = json.load(open(self.api.write_kubeconfig(d, insecure=True, token=None,
                                                      token_file="/x/token")))
        self.assertEqual(kc["clusters"][0]["cluster"],
                         {"server": self.api.url, "insecure-skip-tls-verify": True})
        self.assertEqual(kc["users"][0]["user"], {"tokenFile": "/x/token"})

    def test_stdio_mode(self):
        p = subprocess.Popen([sys.executable, kubeapi.__file__, "--stdio", "--certdir",
                              h.certs()["dir"], "--token", "tok"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            info = json.loads(p.stdout.readline())

            def cmd(**c):
                p.stdin.write(json.dumps(c) + "\n")
                p.stdin.flush()
                return json.loads(p.stdout.readline())

            self.assertEqual(cmd(op="set_object", resource="osimagestreams",
                                 object=osis())["ok"], True)
            ctx = ssl.create_default_context(cafile=info["ca"])
            c = http.client.HTTPSConnection("127.0.0.1", info["port"], context=ctx,
                                            timeout=h.t(5))
            c.request("GET", OSIS, headers={"Authorization": "Bearer tok"})
            r = c.getresponse()
            self.assertEqual(len(json.loads(r.read())["items"]), 1)
            c.close()
            reqs = cmd(op="requests")["result"]
            self.assertEqual([x["path"] for x in reqs], [OSIS])
            self.assertFalse(cmd(op="no-such-op")["ok"])
            self.assertTrue(cmd(op="stop")["ok"])
            self.assertEqual(p.wait(timeout=h.t(10)), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    h.main()

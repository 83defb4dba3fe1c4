# SPDX-License-Identifier: Apache-2.0
"""Parity with the Machine Config Operator, through the real binary
(CONTRACT.md "Parity with the Machine Config Operator"): the OSImageStream
deletion guard in file mode and its flag and variable, the metrics additions
from the first scrape and their counting, the new serve flags, and the
offline cluster state of `review --objects` and `check` (the golden cases in
tests/golden/p*.json cover the rules themselves).
"""

import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import mcp, review, run  # noqa: E402

OSIS_JSON = os.path.join(h.DATA, "osimagestream.json")
G = h.GROUP
ROLE = G + "/role"
CUSTOM_URL = "quay.io/example/custom-os@sha256:" + "ab" * 32
SA = "system:serviceaccount:openshift-machine-config-operator:machine-config-controller"
CONFLICT = ("MachineConfigPool worker: cannot override MachineConfig osImageURL and set "
            "MachineConfigPool spec.osImageStream.name simultaneously (MachineConfig "
            "99-worker-url sets osImageURL)")
GUARD = "Deletion of OSImageStream resources is not allowed"


def machineconfig(name, role="worker", url=None):
    spec = {"config": {"ignition": {"version": "3.2.0"}}}
    if url is not None:
        spec["osImageURL"] = url
    return {"apiVersion": G + "/v1", "kind": "MachineConfig",
            "metadata": {"name": name, "labels": {ROLE: role}}, "spec": spec}


def worker(stream=None):
    p = mcp("worker", stream=stream) if stream else mcp("worker")
    p["spec"]["machineConfigSelector"] = {"matchLabels": {ROLE: "worker"}}
    return p


def osis_delete(version="v1", name="cluster", user=SA):
    r = review(None, op="DELETE", resource="osimagestreams", kind="OSImageStream",
               version=version, name=name)
    r["request"]["oldObject"] = {"apiVersion": G + "/" + version, "kind": "OSImageStream",
                                 "metadata": {"name": name}}
    r["request"]["userInfo"]["username"] = user
    return r


class DeletionGuardAndMetrics(unittest.TestCase):
    def test_guard_denies_and_counts(self):
        srv = h.Server().start()
        try:
            m = srv.metrics()
            for fam, typ in (("osstream_webhook_cache_synced", "gauge"),
                             ("osstream_webhook_cache_objects", "gauge"),
                             ("osstream_webhook_rule_verdicts_total", "counter")):
                self.assertEqual(m.type.get(fam), typ, fam)
                self.assertIn(fam, m.help)
            for res in ("machineconfigpools", "machineconfigs"):
                self.assertEqual(m.value("osstream_webhook_cache_synced", resource=res), 0)
            self.assertEqual(m.value("osstream_webhook_rule_verdicts_total", rule="delete_guard",
                                     verdict="denied"), 0)
            for version, name in (("v1", "cluster"), ("v1alpha1", "other")):
                _, body = srv.review("validate", osis_delete(version, name))
                resp = body["response"]
                self.assertFalse(resp["allowed"])
                self.assertEqual(resp["status"]["code"], 422)
                self.assertEqual(resp["status"]["reason"], "Invalid")
                self.assertEqual(resp["status"]["message"], GUARD)
                self.assertNotIn("causes", resp["status"].get("details", {}))
            # /mutate is not the guard's endpoint.
            _, body = srv.review("mutate", osis_delete())
            self.assertTrue(body["response"]["allowed"])
            m = srv.metrics()
            self.assertEqual(m.value("osstream_webhook_rule_verdicts_total", rule="delete_guard",
                                     verdict="denied"), 2)
            self.assertEqual(m.value("osstream_webhook_rule_verdicts_total", rule="conflict",
                                     verdict="denied"), 0)
        finally:
            srv.stop_and_check(self)

    def test_guard_disabled_by_variable(self):
        srv = h.Server(env={"OSSTREAM_DENY_OSIMAGESTREAM_DELETE": "false"}).start()
        try:
            _, body = srv.review("validate", osis_delete())
            self.assertTrue(body["response"]["allowed"])
            self.assertEqual(srv.metrics().value("osstream_webhook_rule_verdicts_total",
                                                 rule="delete_guard", verdict="denied"), 0)
        finally:
            srv.stop_and_check(self)

    def test_flag_wins_over_variable_and_implicit_streams(self):
        srv = h.Server(args=["--deny-osimagestream-delete=true", "--annotate-implicit-streams"],
                       env={"OSSTREAM_DENY_OSIMAGESTREAM_DELETE": "false"}).start()
        try:
            _, body = srv.review("validate", osis_delete())
            self.assertFalse(body["response"]["allowed"])
            # worker naming no stream gets the default, stream-source default.
            _, body = srv.review("mutate", review(mcp("worker")))
            patch = json.loads(__import__("base64").b64decode(body["response"]["patch"]))
            self.assertEqual(patch[-1]["value"][h.PREFIX + "stream-source"], "default")
        finally:
            srv.stop_and_check(self)


class Flags(unittest.TestCase):
    def serve_fails(self, extra, env=None):
        c = h.certs()
        args = ["serve", "--listen", "127.0.0.1:%d" % h.free_port(), "--tls-cert-file", c["crt"],
                "--tls-private-key-file", c["key"], "--osimagestream-file", OSIS_JSON]
        p = run(args + extra, env=env, timeout=h.t(10))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        return p.stderr.decode()

    def test_bad_values_exit_2(self):
        self.assertIn("--cluster-state", self.serve_fails(["--cluster-state", "always"]))
        # A bad variable is named as the variable (issue 13), with the accepted values.
        err = self.serve_fails([], env={"OSSTREAM_CLUSTER_STATE": "x"})
        self.assertIn("OSSTREAM_CLUSTER_STATE", err)
        self.assertIn("auto|required|off", err)
        self.serve_fails(["--annotate-implicit-streams=maybe"])
        self.serve_fails([], env={"OSSTREAM_DENY_OSIMAGESTREAM_DELETE": "nope"})

    def test_help_lists_flags(self):
        out = run(["serve", "--help"]).stdout.decode()
        for flag in ("--cluster-state", "--annotate-implicit-streams",
                     "--deny-osimagestream-delete", "--exempt-namespace"):
            self.assertIn(flag, out)
        self.assertIn("--objects", run(["review", "--help"]).stdout.decode())


class Offline(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="osw-parity-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, docs):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("\n---\n".join(json.dumps(d) for d in docs))
        return path

    def review_cli(self, rev, *extra):
        path = self.write("review.json", [rev])
        return run(["review", "--osimagestream-file", OSIS_JSON] + list(extra) + [path])

    def test_review_objects_seeds_state(self):
        objects = self.write("objects.yaml", [
            {"apiVersion": "v1", "kind": "List", "items": [machineconfig("99-worker-url",
                                                                         url=CUSTOM_URL)]},
            worker()])
        rev = review(worker("rhel-10"))
        p = self.review_cli(rev, "--objects", objects)
        self.assertEqual(p.returncode, 0, p.stderr)
        status = json.loads(p.stdout)["response"]["status"]
        self.assertEqual(status["message"], 'MachineConfigPool.%s "worker" is invalid: '
                         'spec.osImageStream.name: Forbidden: %s' % (G, CONFLICT))
        # Without --objects the state is off: allowed.
        p = self.review_cli(rev)
        self.assertTrue(json.loads(p.stdout)["response"]["allowed"])
        # The exempt account gets the warning instead.
        rev["request"]["userInfo"]["username"] = SA
        p = self.review_cli(rev, "--objects", objects)
        resp = json.loads(p.stdout)["response"]
        self.assertTrue(resp["allowed"])
        self.assertEqual(resp["warnings"], ["MachineConfig 99-worker-url overrides osImageURL "
                                            "of pool worker, which names a stream"])
        # A MachineConfig request against the same state: denied on spec.osImageURL.
        mrev = review(machineconfig("99-new", url=CUSTOM_URL), resource="machineconfigs",
                      kind="MachineConfig")
        objects2 = self.write("objects2.yaml", [worker("rhel-10")])
        p = self.review_cli(mrev, "--objects", objects2)
        status = json.loads(p.stdout)["response"]["status"]
        self.assertEqual(status["details"]["kind"], "MachineConfig")
        self.assertEqual(status["details"]["causes"][0]["field"], "spec.osImageURL")

    def test_review_objects_errors(self):
        rev = review(worker("rhel-10"))
        p = self.review_cli(rev, "--objects", os.path.join(self.tmp, "missing.yaml"))
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(p.stdout, b"")
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("kind: [unclosed\n")
        p = self.review_cli(rev, "--objects", bad)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("bad.yaml", p.stderr.decode())
        wrong = self.write("wrong.yaml", [{"apiVersion": G + "/v1", "kind": "MachineConfig",
                                           "metadata": {"name": "x", "labels": {"a": 1}}}])
        p = self.review_cli(rev, "--objects", wrong)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("labels", p.stderr.decode())

    def test_check_uses_manifests_as_state(self):
        manifests = self.write("cluster.yaml", [
            machineconfig("99-worker-url", url=CUSTOM_URL), worker("rhel-10"),
            {"apiVersion": G + "/v1", "kind": "MachineConfigPoolList",
             "items": [dict(mcp("infra", stream="rhel-9"), kind=None, apiVersion=None)]}])
        p = run(["check", "--osimagestream-file", OSIS_JSON, manifests])
        self.assertEqual(p.returncode, 1, p.stderr)
        out = p.stdout.decode()
        denied = [l for l in out.splitlines() if ": denied: " in l]
        self.assertEqual(len(denied), 1, out)
        self.assertIn("worker", denied[0])
        self.assertIn(CONFLICT, denied[0])
        self.assertNotIn("99-worker-url: denied", out)
        # Without the MachineConfig the same pool is allowed.
        alone = self.write("alone.yaml", [worker("rhel-10")])
        p = run(["check", "--osimagestream-file", OSIS_JSON, alone])
        self.assertEqual(p.returncode, 0, p.stdout)


if __name__ == "__main__":
    unittest.main()

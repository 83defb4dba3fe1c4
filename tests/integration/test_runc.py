# SPDX-License-Identifier: Apache-2.0
"""Rule R, the runc guard, through the real binary (CONTRACT.md "runc on
RHEL 10"): the kube-apiserver double serves MachineConfigs with real Ignition
file entries (tests/data/runc/), and a pool moving to rhel-10 is denied with
the MCO's sentence, counted in rule_verdicts_total{rule="runc"}, warned for
the exempt account, and allowed once a crun drop-in arrives by watch. Offline,
`review --objects` and `check` judge runc with the manifests' MachineConfigs.
The rules themselves are the golden cases tests/golden/r*.json.
"""

import copy
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import run  # noqa: E402
from test_kube_source import Base, wait_until  # noqa: E402

G = h.GROUP
ROLE = G + "/role"
RUNC_DIR = os.path.join(h.DATA, "runc")
OSIS_JSON = os.path.join(h.DATA, "osimagestream.json")
SA = "system:serviceaccount:openshift-machine-config-operator:machine-config-controller"
MCO = ("targets a RHEL 10 OS image where runc is not available. To unblock, migrate to crun by "
       "removing any ContainerRuntimeConfig that sets defaultRuntime to runc, and removing any "
       "MachineConfig that sets default_runtime = \"runc\" in CRI-O configuration under "
       "/etc/crio/crio.conf.d/")
VERDICTS = "osstream_webhook_rule_verdicts_total"


def runc_mc(name):
    with open(os.path.join(RUNC_DIR, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def pool(name, stream=None, roles=None):
    p = h.mcp(name, stream=stream) if stream else h.mcp(name)
    p["spec"]["machineConfigSelector"] = {"matchExpressions": [
        {"key": ROLE, "operator": "In", "values": roles or [name]}]}
    return p


def forbidden(pool_name):
    return "Forbidden: MachineConfigPool %s %s" % (pool_name, MCO)


def w_runc(pool_name):
    return ("pool %s targets RHEL 10 with runc as default runtime; the MCO will not render it"
            % pool_name)


class ClusterRunc(Base):
    def move_worker(self, user=None):
        rev = h.review(pool("worker", "rhel-10"), op="UPDATE", old=pool("worker", "rhel-9"))
        if user:
            rev["request"]["userInfo"]["username"] = user
        _, out = self.srv.review("validate", rev)
        return out["response"]

    def wait_mcs(self, n, what):
        wait_until(lambda: self.srv.metrics().value(
            "osstream_webhook_cache_objects", resource="machineconfigs") == n, h.t(2), what)

    def counts(self):
        m = self.srv.metrics()
        return (m.value(VERDICTS, rule="runc", verdict="denied"),
                m.value(VERDICTS, rule="runc", verdict="warned"))

    def test_runc_from_the_watched_machineconfigs(self):
        self.api.set_object("machineconfigpools", pool("worker", "rhel-9"))
        self.api.set_object("machineconfigpools", pool("master"))
        for name in ("01-worker-container-runtime", "99-worker-runc-gzip"):
            self.api.set_object("machineconfigs", runc_mc(name))
        self.start(args=["--cluster-state", "required"])
        self.assertEqual(self.counts(), (0, 0))  # the series exist from the first scrape
        # gzip + base64 runc after the template's crun: the move is denied.
        resp = self.move_worker()
        self.assertFalse(resp["allowed"])
        status = resp["status"]
        self.assertEqual(status["code"], 422)
        self.assertEqual(status["message"], 'MachineConfigPool.%s "worker" is invalid: '
                         'spec.osImageStream.name: %s' % (G, forbidden("worker")))
        self.assertEqual(status["details"]["causes"], [
            {"reason": "FieldValueForbidden", "field": "spec.osImageStream.name",
             "message": forbidden("worker")}])
        self.assertNotIn("warnings", resp)
        self.assertEqual(self.counts(), (1, 0))
        # The MCO's own account is exempt: allowed with W-RUNC, counted warned.
        resp = self.move_worker(user=SA)
        self.assertTrue(resp["allowed"])
        self.assertEqual(resp["warnings"], [w_runc("worker")])
        self.assertEqual(self.counts(), (1, 1))
        # The migration: a crun drop-in later in path order arrives by watch.
        # (Wait on the cache, not on the verdict: every denial would count.)
        self.api.set_object("machineconfigs", runc_mc("99-worker-zz-crun"))
        self.wait_mcs(3, "the crun drop-in cached")
        resp = self.move_worker()
        self.assertTrue(resp["allowed"])
        self.assertNotIn("warnings", resp)
        # An undecodable drop-in makes runc(P) unknown: fail-open, no warning.
        self.api.delete_object("machineconfigs", "99-worker-zz-crun")
        self.wait_mcs(2, "the crun drop-in deleted")
        self.api.set_object("machineconfigs", runc_mc("99-worker-remote-dropin"))
        self.wait_mcs(3, "the remote drop-in cached")
        resp = self.move_worker()
        self.assertTrue(resp["allowed"])
        self.assertNotIn("warnings", resp)
        self.assertEqual(self.counts(), (1, 1))

    def test_machineconfig_mirror_and_generated(self):
        self.api.set_object("machineconfigpools", pool("worker", "rhel-10"))
        self.api.set_object("machineconfigs", runc_mc("01-worker-container-runtime"))
        self.start(args=["--cluster-state", "required"])
        mc = runc_mc("99-worker-runc")
        _, out = self.srv.review("validate", h.review(mc, resource="machineconfigs",
                                                      kind="MachineConfig"))
        status = out["response"]["status"]
        self.assertEqual(status["details"]["kind"], "MachineConfig")
        self.assertEqual(status["details"]["causes"][0]["field"], "spec.config")
        self.assertEqual(status["details"]["causes"][0]["message"], forbidden("worker"))
        # A generated MachineConfig is never denied: W-RUNC instead.
        gen = runc_mc("99-worker-generated-containerruntime")
        _, out = self.srv.review("validate", h.review(gen, resource="machineconfigs",
                                                      kind="MachineConfig"))
        self.assertTrue(out["response"]["allowed"])
        self.assertEqual(out["response"]["warnings"], [w_runc("worker")])
        self.assertEqual(self.counts(), (1, 1))


class OfflineRunc(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="osw-runc-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, docs):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("\n---\n".join(json.dumps(d) for d in docs))
        return path

    def test_review_objects_judges_runc(self):
        objects = self.write("objects.yaml", [
            pool("worker", "rhel-9"), runc_mc("01-worker-container-runtime"),
            runc_mc("99-worker-runc")])
        body = h.review(pool("worker", "rhel-10"), op="UPDATE", old=pool("worker", "rhel-9"))
        rev = self.write("review.json", [body])
        p = run(["review", "--osimagestream-file", OSIS_JSON, "--objects", objects, rev])
        self.assertEqual(p.returncode, 0, p.stderr)
        resp = json.loads(p.stdout)["response"]
        self.assertFalse(resp["allowed"])
        self.assertEqual(resp["status"]["details"]["causes"][0]["message"], forbidden("worker"))
        # Without --objects the cluster state is off: R is skipped silently.
        p = run(["review", "--osimagestream-file", OSIS_JSON, rev])
        self.assertEqual(json.loads(p.stdout)["response"],
                         {"uid": body["request"]["uid"], "allowed": True})

    def test_check_judges_runc_with_the_manifests(self):
        infra = pool("infra", roles=["worker", "infra"])
        docs = [pool("worker", "rhel-10"), infra, pool("master"),
                runc_mc("01-worker-container-runtime"), runc_mc("99-worker-runc")]
        manifests = self.write("cluster.yaml", docs)
        p = run(["check", "--osimagestream-file", OSIS_JSON, manifests])
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = p.stdout.decode().splitlines()
        denied = [line for line in lines if ": denied: " in line]
        self.assertEqual(len(denied), 2, lines)
        # The worker (a CREATE, no worker before) also judges infra, which
        # follows it: causes worker first, then infra.
        worker_line = [line for line in denied if "worker: denied: " in line][0]
        self.assertIn('"worker" is invalid: [spec.osImageStream.name: %s, '
                      'spec.osImageStream.name: %s]' % (forbidden("worker"), forbidden("infra")),
                      worker_line)
        infra_line = [line for line in denied if "infra: denied: " in line][0]
        self.assertIn('"infra" is invalid: spec.osImageStream.name: %s' % forbidden("infra"),
                      infra_line)
        self.assertTrue(any("master: allowed" in line for line in lines), lines)
        self.assertFalse(any("99-worker-runc: denied" in line for line in lines), lines)
        # With the crun MachineConfig of the migration, everything is allowed.
        fixed = self.write("fixed.yaml", docs + [runc_mc("99-worker-zz-crun")])
        p = run(["check", "--osimagestream-file", OSIS_JSON, fixed])
        self.assertEqual(p.returncode, 0, p.stdout)
        # A generated MachineConfig counts: the template alone is crun, the
        # ContainerRuntimeConfig's generated one sets runc.
        gen = copy.deepcopy(docs[:4]) + [runc_mc("99-worker-generated-containerruntime")]
        p = run(["check", "--osimagestream-file", OSIS_JSON, self.write("gen.yaml", gen)])
        self.assertEqual(p.returncode, 1, p.stdout)


if __name__ == "__main__":
    unittest.main()

# SPDX-License-Identifier: Apache-2.0
"""The cluster-state caches end to end: the real binary on the API source
against the kube-apiserver double (kubeapi.py), serving pools and
MachineConfigs. Paged lists (limit=100 and continue), rule C decided from what
the watches bring (a MachineConfig gaining the label that brings it under a
pool, a pool changing its selector, a deletion), the cache metrics,
--cluster-state required holding /readyz, W-SKIP while not synced, a kind
that is not served skipping the rules silently, and --cluster-state off.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import kubeapi  # noqa: E402
from test_kube_source import Base, fixture, wait_until  # noqa: E402

G = h.GROUP
ROLE = G + "/role"
URL = "quay.io/example/custom-os@sha256:" + "ab" * 32
SKIP = "cluster state cache not synced; osImageURL and runc checks were skipped"
POOLS = kubeapi.resource_path("machineconfigpools")
MCS = kubeapi.resource_path("machineconfigs")


def machineconfig(name, role=None, url=None):
    labels = {ROLE: role} if role else {}
    spec = {"config": {"ignition": {"version": "3.2.0"}}}
    if url:
        spec["osImageURL"] = url
    return {"apiVersion": G + "/v1", "kind": "MachineConfig",
            "metadata": {"name": name, "labels": labels}, "spec": spec}


def pool(name, stream=None, role=None):
    p = h.mcp(name, stream=stream) if stream else h.mcp(name)
    p["spec"]["machineConfigSelector"] = {"matchLabels": {ROLE: role or name}}
    return p


class ClusterState(Base):
    def seed(self, n_mcs=0):
        self.api.set_object("machineconfigpools", pool("worker", "rhel-10"))
        self.api.set_object("machineconfigpools", pool("infra"))
        for i in range(n_mcs):
            self.api.set_object("machineconfigs", machineconfig("00-filler-%03d" % i, "filler"))

    def pool_review(self, stream="rhel-10"):
        _, out = self.srv.review("validate", h.review(pool("worker", stream)))
        return out["response"]

    def test_paged_lists_events_and_rule_c(self):
        self.seed(n_mcs=230)
        self.start(args=["--cluster-state", "required"])
        m = self.srv.metrics()
        self.assertEqual(m.value("osstream_webhook_cache_synced", resource="machineconfigs"), 1)
        self.assertEqual(m.value("osstream_webhook_cache_objects", resource="machineconfigs"), 230)
        self.assertEqual(m.value("osstream_webhook_cache_objects",
                                 resource="machineconfigpools"), 2)
        lists = [r for r in self.api.recorded(path=MCS) if "watch" not in r["query"]]
        self.assertGreaterEqual(len(lists), 3, lists)  # 230 objects, 100 a page
        self.assertEqual(lists[0]["query"].get("limit"), ["100"])
        self.assertIn("continue", lists[1]["query"])
        self.assertTrue(self.pool_review()["allowed"])
        # An overriding MachineConfig that the worker does not select: allowed.
        self.api.set_object("machineconfigs", machineconfig("99-url", "infra", URL))
        wait_until(lambda: self.srv.metrics().value("osstream_webhook_cache_objects",
                                                    resource="machineconfigs") == 231,
                   h.t(2), "the ADDED MachineConfig cached")
        self.assertTrue(self.pool_review()["allowed"])
        # It gains the worker label: the pool request is now denied by rule C.
        self.api.set_object("machineconfigs", machineconfig("99-url", "worker", URL))
        wait_until(lambda: not self.pool_review()["allowed"], h.t(2), "rule C denial")
        status = self.pool_review()["status"]
        self.assertEqual(status["details"]["causes"][0]["reason"], "FieldValueForbidden")
        self.assertIn("(MachineConfig 99-url sets osImageURL)", status["message"])
        # A MachineConfig request is judged against the cached pools (mirror).
        _, out = self.srv.review("validate", h.review(
            machineconfig("98-url", "worker", URL), resource="machineconfigs",
            kind="MachineConfig"))
        self.assertTrue(out["response"]["allowed"])  # the worker already conflicts: kept
        self.assertIn("warnings", out["response"])
        self.assertGreaterEqual(self.srv.metrics().value(
            "osstream_webhook_rule_verdicts_total", rule="conflict", verdict="denied"), 1)
        # Deleted again: allowed again.
        self.api.delete_object("machineconfigs", "99-url")
        wait_until(lambda: self.pool_review()["allowed"], h.t(2), "allowed after DELETED")

    def test_not_synced_skips_with_warning_and_required_readiness(self):
        self.seed()
        self.api.override(resource="machineconfigs", verb="list", status=500)
        self.start(args=["--cluster-state", "required"], ready=False)
        wait_until(lambda: len(self.api.recorded(path=MCS)) >= 1, h.t(5), "a MachineConfig list")
        self.assertFalse(self.srv.ready())
        self.assertIn("cluster state", self.srv.get("/readyz").body.decode())
        wait_until(lambda: self.pool_review().get("warnings") == [SKIP], h.t(5), "W-SKIP")
        self.api.clear_overrides()
        wait_until(self.srv.ready, h.t(10), "ready once both kinds listed")
        self.assertNotIn("warnings", self.pool_review())

    def test_auto_ready_without_cluster_state(self):
        self.seed()
        self.api.override(resource="machineconfigpools", verb="list", status=500)
        self.start(args=["--cluster-state", "auto"])  # ready: OSImageStream synced
        self.assertEqual(self.pool_review().get("warnings"), [SKIP])

    def test_not_served_is_silent(self):
        self.seed()
        self.api.unserve("v1", "machineconfigs")
        self.start()
        wait_until(lambda: len(self.api.recorded(path=MCS)) >= 1, h.t(5), "a MachineConfig list")
        wait_until(lambda: "not served" in self.srv.stderr(), h.t(5), "the not-served log line")
        self.assertNotIn("warnings", self.pool_review())
        self.assertEqual(self.metric("osstream_webhook_cache_synced", resource="machineconfigs"), 0)

    def test_off_never_watches(self):
        self.seed()
        self.api.set_object("machineconfigs", machineconfig("99-url", "worker", URL))
        self.start(args=["--cluster-state", "off"])
        self.assertTrue(self.pool_review()["allowed"])
        self.assertEqual(self.api.recorded(path=MCS), [])
        self.assertEqual(self.api.recorded(path=POOLS), [])


if __name__ == "__main__":
    unittest.main()

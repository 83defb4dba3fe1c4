# SPDX-License-Identifier: Apache-2.0
"""AdmissionReviews as the API server sends them for each kind the rendered
webhook configurations register (test_manifests_serve.sh), and the verdict
the webhook must give each one in the cluster of that test (the OSImageStream
of tests/data/osimagestream.json: rhel-9 and rhel-10; no pools or
MachineConfigs served).

  admission_requests.py review WEBHOOK RESOURCE VERSION OPERATION UID -> the review JSON,
      shaped to pass that webhook entry's matchConditions
  admission_requests.py judge RESOURCE OPERATION UID FILE       -> exit 0 when the
      response in FILE is the expected one, else a one-line reason on stdout
"""

import json
import sys

GROUP = "machineconfiguration.openshift.io"
ADMIN = {"username": "system:admin", "groups": ["system:masters", "system:authenticated"]}
KIND = {"machineconfigpools": "MachineConfigPool", "machineconfigs": "MachineConfig", "osimagestreams": "OSImageStream"}
DELETE_MESSAGE = "Deletion of OSImageStream resources is not allowed"


def pool(version, stream):
    spec = {"machineConfigSelector": {"matchLabels": {"machineconfiguration.openshift.io/role": "infra"}}}
    if stream:
        spec["osImageStream"] = {"name": stream}
    return {"apiVersion": "%s/%s" % (GROUP, version), "kind": "MachineConfigPool",
            "metadata": {"name": "infra"}, "spec": spec}


def machineconfig(version, url):
    return {"apiVersion": "%s/%s" % (GROUP, version), "kind": "MachineConfig",
            "metadata": {"name": "99-infra-os", "labels": {"machineconfiguration.openshift.io/role": "infra"}},
            "spec": {"osImageURL": url, "config": {"ignition": {"version": "3.4.0"}}}}


def osimagestream(version, default):
    return {"apiVersion": "%s/%s" % (GROUP, version), "kind": "OSImageStream",
            "metadata": {"name": "cluster"}, "spec": {"defaultStream": default}}


def objects(webhook, resource, version, op):
    """(object, oldObject) of a request of this kind."""
    if resource == "machineconfigpools" and webhook.startswith("pools."):
        # Not a stream change: a custom pool that names no stream (it
        # inherits the worker's), created or updated.
        return pool(version, None), (None if op == "CREATE" else pool(version, None))
    if resource == "machineconfigpools":
        # CREATE names a stream the cluster has; UPDATE adds one.
        return pool(version, "rhel-10"), (None if op == "CREATE" else pool(version, None))
    if resource == "machineconfigs":
        # osImageURL by tag: W-TAG, which needs no cluster state.
        new = machineconfig(version, "quay.io/example/os:latest")
        return new, (None if op == "CREATE" else machineconfig(version, "quay.io/example/os:previous"))
    if resource == "osimagestreams":
        if op == "DELETE":
            return None, osimagestream(version, "rhel-9")
        # spec.defaultStream rhel-10 -> rhel-9: W-DOWNGRADE, needs no cluster state.
        return osimagestream(version, "rhel-9"), osimagestream(version, "rhel-10")
    raise SystemExit("no request for resource %r" % resource)


def review(webhook, resource, version, op, uid):
    obj, old = objects(webhook, resource, version, op)
    kind = {"group": GROUP, "version": version, "kind": KIND[resource]}
    res = {"group": GROUP, "version": version, "resource": resource}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": uid, "kind": kind, "resource": res, "requestKind": kind, "requestResource": res,
                        "name": (obj or old)["metadata"]["name"], "operation": op, "userInfo": ADMIN,
                        "object": obj, "oldObject": old, "dryRun": False,
                        "options": {"apiVersion": "meta.k8s.io/v1",
                                    "kind": {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions",
                                             "DELETE": "DeleteOptions"}[op]}}}


def judge(resource, op, uid, path):
    with open(path) as f:
        doc = json.load(f)
    r = doc.get("response") or {}
    if doc.get("apiVersion") != "admission.k8s.io/v1" or r.get("uid") != uid:
        return "not a v1 AdmissionReview answering uid %s" % uid
    warnings = " | ".join(r.get("warnings") or [])
    if resource == "osimagestreams" and op == "DELETE":
        st = r.get("status") or {}
        if r.get("allowed") is not False or st.get("code") != 422 or st.get("message") != DELETE_MESSAGE:
            return "the OSImageStream DELETE was not denied with 422 %r" % DELETE_MESSAGE
        return None
    if r.get("allowed") is not True:
        return "denied: %s" % (r.get("status") or {}).get("message")
    if resource == "machineconfigs" and "by tag" not in warnings:
        return "no W-TAG warning for an osImageURL by tag (warnings: %s)" % (warnings or "none")
    if resource == "osimagestreams" and "is a downgrade" not in warnings:
        return "no W-DOWNGRADE warning for defaultStream rhel-10 -> rhel-9 (warnings: %s)" % (warnings or "none")
    return None


def main(argv):
    if len(argv) == 7 and argv[1] == "review":
        json.dump(review(argv[2], argv[3], argv[4], argv[5], argv[6]), sys.stdout)
        return 0
    if len(argv) == 6 and argv[1] == "judge":
        why = judge(argv[2], argv[3], argv[4], argv[5])
        if why:
            print(why)
            return 1
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

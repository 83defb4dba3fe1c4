#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the rule R (runc guard) golden cases r*.json of this directory.

Every expected answer is spelled out here from CONTRACT.md's "runc on RHEL 10"
subsection (the MCO's sentence, Decision 1's wording, W-RUNC's text and
order), never taken from the binary's output. MachineConfigs come from
tests/data/runc/ (real Ignition file entries) or are built below with the
encodings the contract lists. Run it again after changing a recipe.
"""
import base64
import gzip
import json
import os
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
RUNC_DIR = os.path.join(HERE, "..", "data", "runc")
GROUP = "machineconfiguration.openshift.io"
ROLE = GROUP + "/role"
GEN = {GROUP + "/generated-by-controller-version": "4.20.0-abc"}
DROPIN = "/etc/crio/crio.conf.d/"
RHEL10_IMAGE = ("quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:"
                "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b")
MCO = ("targets a RHEL 10 OS image where runc is not available. To unblock, migrate to crun by "
       "removing any ContainerRuntimeConfig that sets defaultRuntime to runc, and removing any "
       "MachineConfig that sets default_runtime = \"runc\" in CRI-O configuration under "
       "/etc/crio/crio.conf.d/")
EXEMPT_USER = "system:serviceaccount:openshift-machine-config-operator:machine-config-controller"


def fixture(name):
    with open(os.path.join(RUNC_DIR, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def toml(runtime):
    return '[crio.runtime]\ndefault_runtime = "%s"\n' % runtime


def mc(name, files=None, role="worker", generated=False, url=None, ign="3.4.0"):
    meta = {"name": name, "labels": {ROLE: role}}
    if generated:
        meta["annotations"] = dict(GEN)
    config = {"ignition": {"version": ign}}
    if files is not None:
        config["storage"] = {"files": files}
    spec = {"config": config}
    if url is not None:
        spec["osImageURL"] = url
    return {"apiVersion": GROUP + "/v1", "kind": "MachineConfig", "metadata": meta,
            "spec": spec}


def entry(path, source, compression=None):
    contents = {"source": source}
    if compression is not None:
        contents["compression"] = compression
    return {"path": DROPIN + path, "mode": 420, "overwrite": True, "contents": contents}


def pct(text):
    return "data:," + urllib.parse.quote(text, safe="")


def b64(data):
    return "data:text/plain;charset=utf-8;base64," + base64.b64encode(data).decode()


def gz(text):
    return gzip.compress(text.encode(), mtime=0)


def pool(name, stream=None, roles=None):
    spec = {"paused": False,
            "machineConfigSelector": {"matchExpressions": [
                {"key": ROLE, "operator": "In", "values": roles or [name]}]}}
    if stream is not None:
        spec["osImageStream"] = {"name": stream}
    return {"apiVersion": GROUP + "/v1", "kind": "MachineConfigPool",
            "metadata": {"name": name}, "spec": spec}


def cause(pool_name, field):
    return {"reason": "FieldValueForbidden", "field": field,
            "message": "Forbidden: MachineConfigPool %s %s" % (pool_name, MCO)}


def denied(kind, name, field, pools):
    causes = [cause(p, field) for p in pools]
    parts = ["%s: %s" % (c["field"], c["message"]) for c in causes]
    body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return {"uid": "golden-uid", "allowed": False, "status": {
        "metadata": {}, "status": "Failure", "reason": "Invalid", "code": 422,
        "message": '%s.%s "%s" is invalid: %s' % (kind, GROUP, name, body),
        "details": {"name": name, "group": GROUP, "kind": kind, "causes": causes}}}


def pool_denied(name, pools):
    return denied("MachineConfigPool", name, "spec.osImageStream.name", pools)


def mc_denied(name, pools):
    return denied("MachineConfig", name, "spec.config", pools)


def allowed(*warnings):
    r = {"uid": "golden-uid", "allowed": True}
    if warnings:
        r["warnings"] = list(warnings)
    return r


def w_runc(p):
    return "pool %s targets RHEL 10 with runc as default runtime; the MCO will not render it" % p


SKIP = "cluster state cache not synced; osImageURL and runc checks were skipped"
TEMPLATE = fixture("01-worker-container-runtime")    # generated: 00-default crun
RUNC = fixture("99-worker-runc")                      # 99-runc.conf runc (percent)
RUNC_GZ = fixture("99-worker-runc-gzip")              # 99-runc-gz.conf runc (gzip)
ZZ_CRUN = fixture("99-worker-zz-crun")                # 99-zz-crun.conf crun
REMOTE = fixture("99-worker-remote-dropin")           # https:// source: undecodable
CTRCFG = fixture("99-worker-generated-containerruntime")  # generated runc
BAD_FILES = fixture("99-worker-bad-files")            # undecodable as a whole
BASE = [pool("master"), pool("worker")]


def case(name, desc, obj, expect, old=None, operation=None, resource=None, pools=None,
         mcs=None, mode="synced", snapshot="osimagestream.json", username=None):
    c = {"endpoint": "validate", "snapshot": snapshot, "description": desc,
         "operation": operation or ("UPDATE" if old is not None else "CREATE")}
    if resource:
        c["resource"] = resource
    if username:
        c["username"] = username
    c["object"] = obj
    if old is not None:
        c["oldObject"] = old
    c["cluster"] = {"mode": mode, "pools": pools if pools is not None else BASE,
                    "machineconfigs": mcs or []}
    c["expect"] = {"http_status": 200, "response": {
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": expect}}
    with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(c, f, indent=1)
        f.write("\n")


def worker_move(name, desc, mcs, expect, pools=None, **kw):
    case(name, desc, pool("worker", "rhel-10"), expect, old=pool("worker", "rhel-9"),
         pools=pools, mcs=mcs, **kw)


def main():
    worker_move("r01-percent-encoded-runc-denied",
                "worker rhel-9 -> rhel-10 while 99-runc.conf (percent-encoded data URL) "
                "sets runc after the template's crun: denied with the MCO's sentence",
                [TEMPLATE, RUNC], pool_denied("worker", ["worker"]))
    worker_move("r02-base64-runc-denied",
                "a base64 data URL with a media type and parameter setting runc: denied",
                [TEMPLATE, mc("99-worker-b64", [entry("50-b64.conf", b64(toml("runc").encode()))])],
                pool_denied("worker", ["worker"]))
    worker_move("r03-gzip-runc-denied",
                "compression gzip over a base64 data URL setting runc: denied",
                [TEMPLATE, RUNC_GZ], pool_denied("worker", ["worker"]))
    worker_move("r04-gzip-percent-encoded-denied",
                "compression gzip over a percent-encoded data URL, TOML keys in other case",
                [mc("99-worker-gzpct", [entry("60-gz.conf", "data:," + urllib.parse.quote_from_bytes(
                    gz('[CRIO.Runtime]\nDefault_Runtime = "runc"\n'), safe=""), "gzip")])],
                pool_denied("worker", ["worker"]))
    worker_move("r05-undecodable-not-applied",
                "an https:// source is undecodable: runc(P) unknown, rule not applied, no warning",
                [TEMPLATE, RUNC, REMOTE], allowed())
    worker_move("r06-undecodable-whole-not-applied",
                "a MachineConfig whose files is not a list is undecodable as a whole: unknown wins",
                [RUNC, BAD_FILES], allowed())
    worker_move("r07-bad-gzip-not-applied",
                "compression gzip over data that is not gzip: undecodable, not applied",
                [RUNC, mc("99-worker-badgz", [entry("70-bad.conf", pct(toml("crun")), "gzip")])],
                allowed())
    worker_move("r08-crun-later-in-path-order-wins",
                "99-zz-crun.conf (crun) comes after 99-runc.conf in path order: allowed",
                [TEMPLATE, RUNC, ZZ_CRUN], allowed())
    worker_move("r09-later-mc-same-path-wins",
                "the same path in a later MachineConfig (merge order) replaces runc by crun",
                [RUNC, mc("99-worker-runc-zfix", [entry("99-runc.conf", pct(toml("crun")))])],
                allowed())
    worker_move("r10-generated-counted",
                "a ContainerRuntimeConfig's generated MachineConfig setting runc counts for runc(P)",
                [TEMPLATE, CTRCFG], pool_denied("worker", ["worker"]))
    case("r11-generated-mc-never-denied",
         "CREATE of the generated 99-worker-generated-containerruntime (runc) while worker is on "
         "rhel-10: never denied, W-RUNC instead",
         CTRCFG, allowed(w_runc("worker")), resource="machineconfigs",
         pools=[pool("master"), pool("worker", "rhel-10")], mcs=[TEMPLATE])
    infra = pool("infra", roles=["worker", "infra"])
    infra_runc = mc("99-infra-runc", [entry("99-runc.conf", pct(toml("runc")))], role="infra")
    worker_move("r12-worker-switch-blocked-by-custom-pool",
                "worker rhel-9 -> rhel-10 is itself clean, but custom pool infra (no stream, "
                "inherits the worker's) would run runc: denied naming infra",
                [TEMPLATE, infra_runc], pool_denied("worker", ["infra"]),
                pools=[pool("master"), pool("worker", "rhel-9"), infra])
    aaa = pool("aaa", roles=["aaa"])
    aaa_runc = mc("99-aaa-runc", [entry("99-runc.conf", pct(toml("runc")))], role="aaa")
    worker_move("r13-worker-first-then-by-name",
                "worker and two inheriting custom pools newly violate: worker's cause first, then "
                "aaa and infra by name; the pool that names a stream is not a follower",
                [RUNC, infra_runc, aaa_runc], pool_denied("worker", ["worker", "aaa", "infra"]),
                pools=[aaa, pool("master"), pool("worker", "rhel-9"), infra,
                       pool("named", "rhel-9", roles=["infra"])])
    case("r14-okd-centos-10-denied",
         "OKD: worker CREATE naming centos-10 (the MCO's IsRHEL10Stream) with runc: denied",
         pool("worker", "centos-10"), pool_denied("worker", ["worker"]),
         pools=[pool("master")], mcs=[RUNC], snapshot="osimagestream-okd.json")
    url_other = mc("50-infra-url", role="infra", url="quay.io/example/custom-os@sha256:" + "ab" * 32)
    case("r15-osimageurl-override-no-r",
         "custom pool infra inherits rhel-10 but a MachineConfig overrides osImageURL: the image "
         "is not inspected (Decision 7), viol_runc false, allowed",
         infra, allowed(), pools=[pool("master"), pool("worker", "rhel-10")],
         mcs=[TEMPLATE, infra_runc, url_other])
    case("r16-osimageurl-equal-stream-image-denied",
         "the winning osImageURL equals rhel-10's osImage: R applies to the inheriting pool",
         infra, pool_denied("infra", ["infra"]), pools=[pool("master"), pool("worker", "rhel-10")],
         mcs=[TEMPLATE, infra_runc, mc("50-infra-url", role="infra", url=RHEL10_IMAGE)])
    worker_move("r17-exempt-warns",
                "the MCO's service account is exempt: allowed with W-RUNC",
                [TEMPLATE, RUNC], allowed(w_runc("worker")), username=EXEMPT_USER)
    case("r18-osis-default-prediction",
         "OSImageStream defaultStream rhel-9 -> rhel-10: pools following the default that would "
         "newly violate get W-RUNC by name (never denied), before W-DEFAULT",
         {"apiVersion": GROUP + "/v1", "kind": "OSImageStream", "metadata": {"name": "cluster"},
          "spec": {"defaultStream": "rhel-10"}},
         allowed(w_runc("infra"), w_runc("worker"),
                 "default stream rhel-9 -> rhel-10 moves 3 pool(s) that do not name a stream"),
         old={"apiVersion": GROUP + "/v1", "kind": "OSImageStream",
              "metadata": {"name": "cluster"}, "spec": {"defaultStream": "rhel-9"}},
         resource="osimagestreams",
         pools=[infra, pool("master"), pool("worker"), pool("named", "rhel-9")],
         mcs=[TEMPLATE, RUNC, infra_runc])
    case("r19-mc-not-synced-skip",
         "MachineConfig CREATE setting runc while the cluster state is not synced: W-SKIP",
         RUNC, allowed(SKIP), resource="machineconfigs", mode="not_synced")
    case("r20-pool-not-synced-skip",
         "worker -> rhel-10 while the cluster state is not synced: W-SKIP covers R",
         pool("worker", "rhel-10"), allowed(SKIP), old=pool("worker", "rhel-9"),
         mode="not_synced")
    remote_then = json.loads(json.dumps(RUNC))
    remote_then["spec"]["config"]["storage"]["files"][0]["contents"]["source"] = \
        "https://example.com/99-runc.conf"
    case("r21-unknown-before-true-after-warns",
         "MachineConfig UPDATE from an undecodable drop-in to one setting runc: unknown before "
         "is not newly: allowed with W-RUNC",
         RUNC, allowed(w_runc("worker")), old=remote_then, resource="machineconfigs",
         pools=[pool("master"), pool("worker", "rhel-10")], mcs=[TEMPLATE, remote_then])
    case("r22-mc-create-denied-pools-by-name",
         "MachineConfig CREATE setting runc for two pools on rhel-10: one cause per pool by name "
         "on spec.config",
         RUNC, mc_denied("99-worker-runc", ["infra", "worker"]), resource="machineconfigs",
         pools=[infra, pool("master"), pool("worker", "rhel-10")], mcs=[TEMPLATE])
    case("r23-mc-kept-warns-unselected",
         "a kept violation warns on an MC request for a MachineConfig the pool does not select "
         "(Decision 6)",
         mc("99-master-x", [], role="master"), allowed(w_runc("worker")),
         resource="machineconfigs", pools=[pool("master"), pool("worker", "rhel-10")],
         mcs=[TEMPLATE, RUNC])
    conflict_url = mc("50-named-url", role="infra", url="quay.io/example/os@sha256:" + "cd" * 32)
    case("r24-r-denial-drops-w-conflict",
         "pool named keeps a rule C conflict (W-CONFLICT) while the new MachineConfig brings "
         "worker into R: the R denial carries no warning",
         RUNC, mc_denied("99-worker-runc", ["worker"]), resource="machineconfigs",
         pools=[pool("master"), pool("named", "rhel-10", roles=["worker", "infra"]),
                pool("worker", "rhel-10")], mcs=[TEMPLATE, conflict_url])
    case("r25-mc-crun-fix-allowed",
         "the migration: a MachineConfig setting crun later in path order lifts a kept "
         "violation: allowed, no warning",
         ZZ_CRUN, allowed(), resource="machineconfigs",
         pools=[pool("master"), pool("worker", "rhel-10")], mcs=[TEMPLATE, RUNC])
    case("r26-pool-kept-warns",
         "worker already on rhel-10 with runc (kept): allowed with W-RUNC",
         pool("worker", "rhel-10"), allowed(w_runc("worker")), old=pool("worker", "rhel-10"),
         mcs=[TEMPLATE, RUNC])
    case("r27-custom-create-inherits-denied",
         "custom pool CREATE without a stream inheriting the worker's rhel-10, with runc",
         infra, pool_denied("infra", ["infra"]), pools=[pool("master"), pool("worker", "rhel-10")],
         mcs=[TEMPLATE, infra_runc])
    case("r28-rhel-9-not-judged",
         "runc on a rhel-9 pool is fine: allowed, no warning",
         pool("worker", "rhel-9"), allowed(), mcs=[TEMPLATE, RUNC])
    case("r29-empty-dropin-sets-nothing",
         "data:, is an empty drop-in that sets nothing: the earlier runc stays the last value",
         pool("worker", "rhel-10"), pool_denied("worker", ["worker"]),
         mcs=[TEMPLATE, RUNC, mc("99-worker-zz-empty", [entry("99-zz-empty.conf", "data:,")])])
    case("r30-mc-exempt-warns",
         "MachineConfig CREATE setting runc by the MCO's service account: W-RUNC",
         RUNC, allowed(w_runc("worker")), resource="machineconfigs", username=EXEMPT_USER,
         pools=[pool("master"), pool("worker", "rhel-10")], mcs=[TEMPLATE])
    paused = pool("worker", "rhel-10")
    paused["spec"]["paused"] = True
    case("r31-worker-update-follower-kept-warns",
         "worker UPDATE that keeps rhel-10 (pausing it): the follower infra already violates "
         "(kept), so it gets W-RUNC although the worker itself is clean",
         paused, allowed(w_runc("infra")), old=pool("worker", "rhel-10"),
         pools=[pool("master"), pool("worker", "rhel-10"), infra], mcs=[TEMPLATE, infra_runc])
    long_name = "custom-pool-with-a-very-long-name"
    case("r32-w-runc-name-clipped",
         "W-RUNC shortens a pool name over 24 bytes to its first 21 bytes and ...",
         mc("99-master-x", [], role="master"), allowed(w_runc(long_name[:21] + "...")),
         resource="machineconfigs",
         pools=[pool(long_name, roles=["infra"]), pool("master"), pool("worker", "rhel-10")],
         mcs=[infra_runc])
    case("r33-osis-default-not-synced-silent",
         "OSImageStream default change while the cluster state is not synced: no W-RUNC, "
         "no W-SKIP",
         {"apiVersion": GROUP + "/v1", "kind": "OSImageStream", "metadata": {"name": "cluster"},
          "spec": {"defaultStream": "rhel-10"}},
         allowed(),
         old={"apiVersion": GROUP + "/v1", "kind": "OSImageStream",
              "metadata": {"name": "cluster"}, "spec": {"defaultStream": "rhel-9"}},
         resource="osimagestreams", mode="not_synced")
    case("r34-unknown-after-silent",
         "a MachineConfig CREATE adding an undecodable drop-in to a pool in violation: unknown "
         "after the request, no cause and no warning",
         REMOTE, allowed(), resource="machineconfigs",
         pools=[pool("master"), pool("worker", "rhel-10")], mcs=[TEMPLATE, RUNC])


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: Apache-2.0
"""AdmissionReview decisions over HTTPS against the fixture OSImageStream
(rhel-9, rhel-10): every validation row of CONTRACT.md that a file-backed
server can reach (row 6, no OSImageStream cached, needs an empty cache and is
covered by unit tests and by `review` without a file in test_review_cli.py),
every mutation rule, the response envelope, and 400 for wrong JSON types.
"""

import copy
import json
import os
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import ABSENT, K_EXT, K_OS, K_STREAM, STREAMS, mcp, review  # noqa: E402

PREFIX_MSG = 'MachineConfigPool.machineconfiguration.openshift.io "%s" is invalid: '
SUPPORTED = 'supported values: "rhel-9", "rhel-10"'


def want_annotations(stream):
    os_img, ext = STREAMS[stream]
    return {K_STREAM: stream, K_OS: os_img, K_EXT: ext}


class Admission(h.ServerTestCase):
    # -- helpers -------------------------------------------------------------------
    def post(self, endpoint, rv):
        r, resp = self.srv.review(endpoint, rv)
        self.assertTrue(r.header("content-type", "").startswith("application/json"), r.headers)
        self.assertEqual(resp.get("apiVersion"), rv["apiVersion"])
        self.assertEqual(resp.get("kind"), "AdmissionReview")
        self.assertEqual(resp["response"]["uid"], rv["request"]["uid"])
        self.assertIsInstance(resp["response"]["allowed"], bool)
        return resp["response"]

    def assertAllowedNoPatch(self, resp, what=""):
        self.assertTrue(resp["allowed"], "%s: %r" % (what, resp))
        self.assertNotIn("patch", resp, what)
        self.assertNotIn("patchType", resp, what)
        st = resp.get("status")
        if st is not None:  # an allowed answer may carry a success status, never a failure
            self.assertNotEqual(st.get("status"), "Failure", what)

    def assertDenied(self, resp, pool, reason, field, cause_prefix, what=""):
        """422 Invalid with one cause; returns the cause message."""
        self.assertFalse(resp["allowed"], "%s: %r" % (what, resp))
        self.assertNotIn("patch", resp)
        st = resp["status"]
        self.assertEqual(st["code"], 422, what)
        self.assertEqual(st["reason"], "Invalid", what)
        det = st["details"]
        self.assertEqual(det.get("name"), pool, what)
        self.assertEqual(det.get("group"), h.GROUP, what)
        self.assertEqual(det.get("kind"), "MachineConfigPool", what)
        causes = det["causes"]
        self.assertEqual(len(causes), 1, "%s: %r" % (what, causes))
        c = causes[0]
        self.assertEqual(c["reason"], reason, "%s: %r" % (what, c))
        self.assertEqual(c["field"], field, "%s: %r" % (what, c))
        self.assertTrue(c["message"].startswith(cause_prefix),
                        "%s: cause message %r does not start with %r" % (what, c["message"], cause_prefix))
        self.assertEqual(st["message"], PREFIX_MSG % pool + field + ": " + c["message"],
                         "%s: status.message" % what)
        return c["message"]

    def validate(self, obj, **kw):
        return self.post("validate", review(obj, **kw))

    def mutate(self, obj, **kw):
        return self.post("mutate", review(obj, **kw))

    def assertWarningsOk(self, resp, what=""):
        ws = resp.get("warnings")
        self.assertTrue(ws, "%s: no warnings: %r" % (what, resp))
        for w in ws:
            self.assertIsInstance(w, str)
            self.assertTrue(w.strip(), what)
            self.assertLess(len(w), 120, "%s: warning too long (%d): %r" % (what, len(w), w))
            for ch in w:
                self.assertFalse(unicodedata.category(ch).startswith("C"),
                                 "%s: control char %r in warning %r" % (what, ch, w))
        return ws

    # -- envelope ------------------------------------------------------------------
    def test_envelope_v1_and_v1beta1(self):
        for api in ("admission.k8s.io/v1", "admission.k8s.io/v1beta1"):
            for ep in ("validate", "mutate"):
                rv = review(mcp("p1", stream="rhel-10"), api=api)
                resp = self.post(ep, rv)
                self.assertTrue(resp["allowed"], (api, ep))
                rv = review(mcp("p2", stream="rhel-8"), api=api)
                self.post(ep, rv)

    def test_fixture_update_review(self):
        with open(os.path.join(h.DATA, "admissionreview-update-worker-rhel10.json")) as f:
            rv = json.load(f)
        resp = self.post("validate", rv)
        self.assertAllowedNoPatch(resp)
        resp = self.post("mutate", rv)
        self.assertTrue(resp["allowed"])
        patch = h.decode_patch(resp)
        obj = rv["request"]["object"]
        patched = h.apply_patch(obj, patch)
        self.assertEqual(patched["metadata"]["annotations"],
                         dict(obj["metadata"]["annotations"], **want_annotations("rhel-10")))

    # -- validation rows -------------------------------------------------------------
    def test_row1_absent_or_null_allowed(self):
        for op in ("CREATE", "UPDATE"):
            self.assertAllowedNoPatch(self.validate(mcp("p"), op=op), "absent " + op)
            self.assertAllowedNoPatch(self.validate(mcp("p", osimagestream=None), op=op), "null " + op)

    def test_row2_required(self):
        for what, ois in (("{}", {}), ("name null", {"name": None}), ('name ""', {"name": ""})):
            for op in ("CREATE", "UPDATE"):
                resp = self.validate(mcp("pool-a", osimagestream=ois), op=op)
                msg = self.assertDenied(resp, "pool-a", "FieldValueRequired",
                                        "spec.osImageStream.name", "Required value", what)
        self.assertTrue(msg == "Required value" or msg.startswith("Required value: "), msg)

    def test_row3_not_an_object(self):
        for what, ois in (("string", "rhel-10"), ("number", 10), ("list", [{"name": "rhel-10"}]),
                          ("bool", True)):
            resp = self.validate(mcp("pool-b", osimagestream=ois))
            self.assertDenied(resp, "pool-b", "FieldValueInvalid", "spec.osImageStream",
                              "Invalid value: ", what)

    def test_row3_name_not_a_string(self):
        for what, name in (("number", 10), ("bool", True), ("list", ["rhel-10"]), ("object", {})):
            resp = self.validate(mcp("pool-c", osimagestream={"name": name}))
            self.assertDenied(resp, "pool-c", "FieldValueInvalid", "spec.osImageStream.name",
                              "Invalid value: ", what)

    def test_row3_not_dns1123_subdomain(self):
        for name in ("RHEL-10", "rhel..10", "rhel-.10", "rhel.-10", "-rhel", "rhel-", ".rhel",
                     "rhel.", "rhel_10", "rhel 10", "rhel/10", "a" * 254,
                     "ab." * 84 + "ab", "rhel-10\u00e9"):
            resp = self.validate(mcp("pool-d", stream=name))
            msg = self.assertDenied(resp, "pool-d", "FieldValueInvalid", "spec.osImageStream.name",
                                    "Invalid value: " + json.dumps(name, ensure_ascii=False)[:20], name)
            # Invalid value: "<name>": <why>
            self.assertTrue(msg.startswith('Invalid value: "%s": ' % name) or len(name) > 100
                            or not name.isascii(), "%r: %r" % (name, msg))
            self.assertGreater(len(msg.split('": ', 1)[-1]), 0)

    def test_row4_known_stream_allowed(self):
        for s in ("rhel-9", "rhel-10"):
            for op in ("CREATE", "UPDATE"):
                self.assertAllowedNoPatch(self.validate(mcp("p", stream=s), op=op), s + op)
        # UPDATE moving from an unknown stream to a known one
        resp = self.validate(mcp("p", stream="rhel-10"), op="UPDATE", old=mcp("p", stream="rhel-8"))
        self.assertAllowedNoPatch(resp)

    def test_row5_update_keeping_unknown_stream_warns(self):
        for name in ("rhel-8", "a" * 253, "x" * 100 + ".y"):
            resp = self.validate(mcp("pool-e", stream=name), op="UPDATE",
                                 old=mcp("pool-e", stream=name))
            self.assertAllowedNoPatch(resp, name)
            ws = self.assertWarningsOk(resp, name)
            if name == "rhel-8":
                self.assertTrue(any("rhel-8" in w for w in ws), ws)

    def test_row5_not_for_create_or_other_old(self):
        # UPDATE whose old object names another unknown stream: row 7.
        resp = self.validate(mcp("pool-f", stream="rhel-8"), op="UPDATE",
                             old=mcp("pool-f", stream="rhel-7"))
        self.assertDenied(resp, "pool-f", "FieldValueNotSupported", "spec.osImageStream.name",
                          'Unsupported value: "rhel-8": ')
        # UPDATE whose old object names none: row 7.
        resp = self.validate(mcp("pool-f", stream="rhel-8"), op="UPDATE", old=mcp("pool-f"))
        self.assertDenied(resp, "pool-f", "FieldValueNotSupported", "spec.osImageStream.name",
                          'Unsupported value: "rhel-8": ')
        # Malformed in both: row 3 comes first.
        resp = self.validate(mcp("pool-f", stream="RHEL-8"), op="UPDATE",
                             old=mcp("pool-f", stream="RHEL-8"))
        self.assertDenied(resp, "pool-f", "FieldValueInvalid", "spec.osImageStream.name",
                          'Invalid value: "RHEL-8": ')
        # Empty in both: row 2 comes first.
        resp = self.validate(mcp("pool-f", osimagestream={}), op="UPDATE",
                             old=mcp("pool-f", osimagestream={}))
        self.assertDenied(resp, "pool-f", "FieldValueRequired", "spec.osImageStream.name",
                          "Required value")

    # Row 6 (no OSImageStream cached: 503 ServiceUnavailable) cannot be reached
    # here: `serve` cannot start without a valid file and an invalid update keeps
    # the old snapshot. Unit tests cover it; test_review_cli.py checks `review`
    # without --osimagestream-file.

    def test_row7_unsupported_exact_message(self):
        resp = self.validate(mcp("infra", stream="rhel-8"))
        msg = self.assertDenied(resp, "infra", "FieldValueNotSupported", "spec.osImageStream.name",
                                'Unsupported value: "rhel-8": ' + SUPPORTED)
        self.assertIn(h.SENTENCE, msg)
        self.assertTrue(resp["status"]["message"].startswith(
            'MachineConfigPool.machineconfiguration.openshift.io "infra" is invalid: '
            'spec.osImageStream.name: Unsupported value: "rhel-8": supported values: '
            '"rhel-9", "rhel-10"'), resp["status"]["message"])
        self.assertIn(h.SENTENCE, resp["status"]["message"])

    def test_row7_valid_names_not_in_cache(self):
        for name in ("rhel-11", "rhel.10", "a" * 253, "ab." * 83 + "ab", "9", "rhel-9.1"):
            resp = self.validate(mcp("pool-g", stream=name))
            self.assertDenied(resp, "pool-g", "FieldValueNotSupported", "spec.osImageStream.name",
                              "Unsupported value: " + json.dumps(name), name)

    def test_handled_resources_any_version(self):
        for version in ("v1", "v1alpha1", "v2"):
            resp = self.post("validate", review(mcp("pool-h", stream="rhel-8"), version=version))
            self.assertFalse(resp["allowed"], version)

    def test_not_handled_allowed_unchanged(self):
        bad = mcp("pool-i", stream="rhel-8")
        cases = {
            "pods": dict(group="", resource="pods", kind="Pod"),
            "other group": dict(group="example.com", resource="machineconfigpools"),
            "machineconfigs": dict(resource="machineconfigs", kind="MachineConfig"),
            "status subresource": dict(sub_resource="status"),
            "DELETE": dict(op="DELETE"),
            "CONNECT": dict(op="CONNECT"),
        }
        for what, kw in cases.items():
            for ep in ("validate", "mutate"):
                resp = self.post(ep, review(copy.deepcopy(bad), **kw))
                self.assertAllowedNoPatch(resp, what + " " + ep)
                good = mcp("pool-i", stream="rhel-10")
                resp = self.post(ep, review(good, **kw))
                self.assertAllowedNoPatch(resp, what + " " + ep + " (known stream)")
        # status subresource UPDATE
        resp = self.post("mutate", review(mcp("pool-i", stream="rhel-10"), op="UPDATE",
                                          sub_resource="status"))
        self.assertAllowedNoPatch(resp, "status UPDATE")

    # -- wrong JSON types ------------------------------------------------------------
    def test_wrong_types_400(self):
        cases = {
            "annotations a list": mcp("p", stream="rhel-10", annotations=["a"]),
            "annotations a string": mcp("p", stream="rhel-10", annotations="a=b"),
            "annotation value a number": mcp("p", stream="rhel-10", annotations={"a": 5}),
            "own annotation value a number": mcp("p", stream="rhel-10", annotations={K_STREAM: 5}),
            "annotation value null": mcp("p", stream="rhel-10", annotations={"a": None}),
            "annotations list, no stream": mcp("p", annotations=["a"]),
            "metadata a list": mcp("p", stream="rhel-10", metadata=["x"]),
            "metadata a string": mcp("p", stream="rhel-10", metadata="x"),
        }
        for what, obj in cases.items():
            r = self.srv.post_json("/mutate", review(obj, name="p"))
            self.assertEqual(r.status, 400, "%s: %r" % (what, r))
            text = r.body.decode().rstrip("\n")
            self.assertTrue(text and "\n" not in text, r)
            self.assertTrue(r.header("content-type", "").startswith("text/plain"), r.headers)

    def test_name_number_is_422_not_400(self):
        resp = self.validate(mcp("pool-j", osimagestream={"name": 5}))
        self.assertDenied(resp, "pool-j", "FieldValueInvalid", "spec.osImageStream.name",
                          "Invalid value: ")
        resp = self.mutate(mcp("pool-j", osimagestream={"name": 5}))
        self.assertAllowedNoPatch(resp, "mutate, name a number")

    # -- mutation ----------------------------------------------------------------------
    def mutate_and_check(self, obj, want_ann_after, op="CREATE", what=""):
        """Mutates, applies the patch, checks the result and idempotence.
        Returns the patch (None when none)."""
        resp = self.mutate(obj, op=op)
        self.assertTrue(resp["allowed"], what)
        patch = h.decode_patch(resp)
        if patch is None:
            self.assertNotIn("patchType", resp, what)
            patched = obj
        else:
            self.assertEqual(resp.get("patchType"), "JSONPatch", what)
            self.assertIsInstance(patch, list)
            self.assertGreater(len(patch), 0, "%s: empty patch must be omitted" % what)
            for p in patch:
                self.assertTrue(p["path"].startswith("/metadata/annotations"),
                                "%s: patch touches %r" % (what, p["path"]))
            patched = h.apply_patch(obj, patch)
        # nothing else touched
        a = copy.deepcopy(patched)
        b = copy.deepcopy(obj)
        a["metadata"].pop("annotations", None)
        b["metadata"].pop("annotations", None)
        self.assertEqual(a, b, what)
        got = patched["metadata"].get("annotations") or {}
        self.assertEqual(got, want_ann_after, what)
        # idempotent
        again = self.mutate(patched, op=op)
        self.assertAllowedNoPatch(again, what + " (second pass)")
        return patch

    def test_mutate_adds_when_annotations_missing(self):
        obj = mcp("m1", stream="rhel-10")
        patch = self.mutate_and_check(obj, want_annotations("rhel-10"), what="missing")
        self.assertEqual(patch, [{"op": "add", "path": "/metadata/annotations",
                                  "value": want_annotations("rhel-10")}])

    def test_mutate_adds_when_annotations_null(self):
        obj = mcp("m2", stream="rhel-9", annotations=None)
        patch = self.mutate_and_check(obj, want_annotations("rhel-9"), what="null")
        self.assertEqual(len(patch), 1, patch)
        self.assertEqual(patch[0]["op"], "add")
        self.assertEqual(patch[0]["path"], "/metadata/annotations")
        self.assertEqual(patch[0]["value"], want_annotations("rhel-9"))

    def test_mutate_per_key_add_escaped_in_order(self):
        other = {"example.com/keep": "yes", "osimagestream.machineconfiguration.openshift.io/custom": "x",
                 "a~b/c": "tilde"}
        obj = mcp("m3", stream="rhel-10", annotations=dict(other))
        patch = self.mutate_and_check(obj, dict(other, **want_annotations("rhel-10")), what="per-key")
        self.assertEqual(patch, [
            {"op": "add", "path": "/metadata/annotations/" + K_STREAM.replace("/", "~1"),
             "value": "rhel-10"},
            {"op": "add", "path": "/metadata/annotations/" + K_OS.replace("/", "~1"),
             "value": STREAMS["rhel-10"][0]},
            {"op": "add", "path": "/metadata/annotations/" + K_EXT.replace("/", "~1"),
             "value": STREAMS["rhel-10"][1]},
        ])

    def test_mutate_empty_annotations_object(self):
        obj = mcp("m4", stream="rhel-10", annotations={})
        self.mutate_and_check(obj, want_annotations("rhel-10"), what="empty map")

    def test_mutate_replaces_stale(self):
        other = {"example.com/keep": "1"}
        obj = mcp("m5", stream="rhel-10", annotations=dict(other, **want_annotations("rhel-9")))
        patch = self.mutate_and_check(obj, dict(other, **want_annotations("rhel-10")),
                                      op="UPDATE", what="stale")
        self.assertEqual([p["op"] for p in patch], ["replace"] * 3, patch)
        self.assertEqual([p["path"].rsplit("~1", 1)[1] for p in patch],
                         ["stream", "os-image", "os-extensions-image"])

    def test_mutate_partial_minimal(self):
        ann = {K_STREAM: "rhel-10", K_OS: "stale@sha256:00"}
        obj = mcp("m6", stream="rhel-10", annotations=ann)
        patch = self.mutate_and_check(obj, want_annotations("rhel-10"), what="partial")
        self.assertEqual(patch, [
            {"op": "replace", "path": "/metadata/annotations/" + K_OS.replace("/", "~1"),
             "value": STREAMS["rhel-10"][0]},
            {"op": "add", "path": "/metadata/annotations/" + K_EXT.replace("/", "~1"),
             "value": STREAMS["rhel-10"][1]},
        ])

    def test_mutate_no_patch_when_right(self):
        obj = mcp("m7", stream="rhel-9", annotations=dict({"x": "y"}, **want_annotations("rhel-9")))
        for op in ("CREATE", "UPDATE"):
            self.assertAllowedNoPatch(self.mutate(obj, op=op), op)

    def test_mutate_removes_when_no_stream(self):
        other = {"example.com/keep": "1",
                 "osimagestream.machineconfiguration.openshift.io/custom": "stays"}
        for what, kw in (("absent", {}), ("null", {"osimagestream": None})):
            obj = mcp("m8", annotations=dict(other, **want_annotations("rhel-10")), **kw)
            patch = self.mutate_and_check(obj, other, op="UPDATE", what="remove " + what)
            self.assertEqual(patch, [
                {"op": "remove", "path": "/metadata/annotations/" + K_STREAM.replace("/", "~1")},
                {"op": "remove", "path": "/metadata/annotations/" + K_OS.replace("/", "~1")},
                {"op": "remove", "path": "/metadata/annotations/" + K_EXT.replace("/", "~1")},
            ])
        # only some present: only those removed
        obj = mcp("m8", annotations={K_EXT: "x", "k": "v"})
        patch = self.mutate_and_check(obj, {"k": "v"}, what="remove one")
        self.assertEqual(patch, [{"op": "remove",
                                  "path": "/metadata/annotations/" + K_EXT.replace("/", "~1")}])
        # none present, no stream: no patch
        self.assertAllowedNoPatch(self.mutate(mcp("m8", annotations={"k": "v"})))
        self.assertAllowedNoPatch(self.mutate(mcp("m8")))

    def test_mutate_no_patch_when_validation_decides(self):
        stale = want_annotations("rhel-9")
        for what, ois in (("unknown", {"name": "rhel-8"}), ("malformed", {"name": "RHEL-10"}),
                          ("empty", {"name": ""}), ("{}", {}), ("name null", {"name": None}),
                          ("not object", "rhel-10")):
            for ann in (ABSENT, dict(stale)):
                obj = mcp("m9", osimagestream=ois, annotations=ann)
                resp = self.mutate(obj)
                self.assertAllowedNoPatch(resp, what)

    def test_mutate_v1beta1(self):
        rv = review(mcp("m10", stream="rhel-10"), api="admission.k8s.io/v1beta1")
        resp = self.post("mutate", rv)
        self.assertEqual(resp.get("patchType"), "JSONPatch")
        self.assertEqual(h.decode_patch(resp)[0]["path"], "/metadata/annotations")


if __name__ == "__main__":
    h.main()

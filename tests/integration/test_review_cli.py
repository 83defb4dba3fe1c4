# SPDX-License-Identifier: Apache-2.0
"""The command line (CONTRACT.md, "Command line"): `review` answers byte for
byte what the server sends, `check` judges manifests offline, `gen-certs`
writes a usable CA and serving pair without overwriting, and `serve` refuses
bad flags, bad files and bad certificates with exit 2 and one line, before
listening; OSSTREAM_* variables work and flags win over them.
"""

import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import mcp, review, run  # noqa: E402

OSIS_YAML = os.path.join(h.DATA, "osimagestream.yaml")
OSIS_JSON = os.path.join(h.DATA, "osimagestream.json")

SERVE_FLAGS = ("--listen", "--tls-cert-file", "--tls-private-key-file", "--tls-min-version",
               "--osimagestream-file", "--kubeconfig", "--serviceaccount-dir",
               "--osimagestream-name", "--max-request-bytes", "--log-level", "--log-format",
               "--shutdown-delay")
INVALID_OSIS = """apiVersion: machineconfiguration.openshift.io/v1
kind: OSImageStream
metadata:
  name: cluster
status:
  defaultStream: rhel-9
  availableStreams:
    - name: rhel-9
      osImage: quay.io/openshift-release-dev/ocp-v4.0-art-dev:latest
      osExtensionsImage: quay.io/openshift-release-dev/ocp-v4.0-art-dev:latest
"""


def cases():
    """(label, endpoint, review dict) covering allowed, denied, patched, warning."""
    return [
        ("validate allowed", "validate", review(mcp("a1", stream="rhel-10"))),
        ("validate denied", "validate", review(mcp("a2", stream="rhel-8"))),
        ("validate invalid", "validate", review(mcp("a3", stream="RHEL-10"))),
        ("validate required", "validate", review(mcp("a4", osimagestream={}))),
        ("validate v1beta1 denied", "validate",
         review(mcp("a5", stream="rhel-8"), api="admission.k8s.io/v1beta1")),
        ("validate warning", "validate",
         review(mcp("a6", stream="rhel-8"), op="UPDATE", old=mcp("a6", stream="rhel-8"))),
        ("mutate patched", "mutate", review(mcp("a7", stream="rhel-10"))),
        ("mutate patched per-key", "mutate",
         review(mcp("a8", stream="rhel-9", annotations={"x/y": "z"}))),
        ("mutate removed", "mutate",
         review(mcp("a9", annotations={h.K_STREAM: "rhel-9"}), op="UPDATE")),
        ("mutate no patch", "mutate", review(mcp("a10", stream="rhel-8"))),
        ("mutate not handled", "mutate", review(mcp("a11", stream="rhel-10"), op="DELETE")),
    ]


class ReviewMatchesServer(h.ServerTestCase):
    def test_review_byte_identical(self):
        for label, ep, rv in cases():
            body = json.dumps(rv).encode()
            r = self.srv.post_json("/" + ep, body)
            self.assertEqual(r.status, 200, "%s: %r" % (label, r))
            with tempfile.NamedTemporaryFile(suffix=".json") as f:
                f.write(body)
                f.flush()
                p = run(["review", "--osimagestream-file", OSIS_YAML, "--endpoint", ep, f.name])
            self.assertEqual(p.returncode, 0, "%s: %r" % (label, p.stderr))
            if p.stdout != r.body and p.stdout.rstrip(b"\n") == r.body.rstrip(b"\n"):
                self.fail("%s: review output differs from the server's only by a trailing "
                          "newline (server %r..., review %r...)" % (label, r.body[-20:], p.stdout[-20:]))
            self.assertEqual(p.stdout, r.body, label)

    def test_review_stdin_dash_and_absent(self):
        label, ep, rv = cases()[6]
        body = json.dumps(rv).encode()
        r = self.srv.post_json("/mutate", body)
        p1 = run(["review", "--osimagestream-file", OSIS_YAML, "--endpoint", "mutate", "-"], stdin=body)
        p2 = run(["review", "--osimagestream-file", OSIS_YAML, "--endpoint=mutate"], stdin=body)
        p3 = run(["review", "--osimagestream-file=" + OSIS_JSON, "--endpoint", "mutate"], stdin=body)
        for p in (p1, p2, p3):
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, r.body)

    def test_review_default_endpoint_is_validate(self):
        body = json.dumps(review(mcp("d1", stream="rhel-10"))).encode()
        r = self.srv.post_json("/validate", body)
        p = run(["review", "--osimagestream-file", OSIS_YAML], stdin=body)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, r.body)
        self.assertNotIn("patch", json.loads(p.stdout)["response"])


class ReviewCLI(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="osw-it-cli-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text, mode="w"):
        p = os.path.join(self.tmp, name)
        with open(p, mode) as f:
            f.write(text)
        return p

    def assertFailsOneLine(self, p, what, code=None):
        if code is None:
            self.assertNotEqual(p.returncode, 0, "%s: exit 0" % what)
        else:
            self.assertEqual(p.returncode, code, "%s: exit %d, stderr %r" % (what, p.returncode, p.stderr))
        self.assertLess(p.returncode, 128, "%s: killed by a signal? %r" % (what, p.stderr))
        self.assertEqual(p.stdout, b"", "%s: stdout not empty" % what)
        self.assertTrue(h.one_line(p.stderr), "%s: stderr not one line: %r" % (what, p.stderr))

    def test_review_errors(self):
        good = json.dumps(review(mcp("e", stream="rhel-10"))).encode()
        bad_osis = self.write("bad.yaml", INVALID_OSIS)
        unparsable = self.write("unparsable.yaml", "{ this: [is not yaml")
        for what, args, stdin in (
                ("bad json", ["review", "--osimagestream-file", OSIS_YAML, "-"], b"{nope"),
                ("not a review", ["review", "--osimagestream-file", OSIS_YAML], b'{"kind":"Pod"}'),
                ("no uid", ["review", "--osimagestream-file", OSIS_YAML],
                 json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                             "request": {}}).encode()),
                ("empty stdin", ["review", "--osimagestream-file", OSIS_YAML], b""),
                ("unreadable file", ["review", "--osimagestream-file", OSIS_YAML,
                                     os.path.join(self.tmp, "missing.json")], b""),
                ("directory as file", ["review", "--osimagestream-file", OSIS_YAML, self.tmp], b""),
                ("invalid osimagestream", ["review", "--osimagestream-file", bad_osis], good),
                ("unparsable osimagestream", ["review", "--osimagestream-file", unparsable], good),
                ("missing osimagestream", ["review", "--osimagestream-file",
                                           os.path.join(self.tmp, "nope.yaml")], good),
                ("wrong annotations type", ["review", "--osimagestream-file", OSIS_YAML,
                                            "--endpoint", "mutate"],
                 json.dumps(review(mcp("e", stream="rhel-10", annotations=[1]))).encode()),
        ):
            p = run(args, stdin=stdin)
            self.assertFailsOneLine(p, what)

    def osis_text(self, streams, default=None, api="machineconfiguration.openshift.io/v1"):
        out = ("apiVersion: %s\nkind: OSImageStream\nmetadata:\n  name: cluster\nstatus:\n"
               "  defaultStream: %s\n  availableStreams:\n" % (api, default or streams[0][0]))
        for n, a, b in streams:
            out += "    - name: %s\n      osImage: '%s'\n      osExtensionsImage: '%s'\n" % (n, a, b)
        return out

    def test_osimagestream_validation_limits(self):
        """Snapshot rules through `review`: names, count <= 100, image regex
        and length <= 447. A valid file answers; an invalid one exits non-zero."""
        hexd = "0123456789abcdef" * 4
        img = "quay.io/ns/name@sha256:" + hexd
        rv = json.dumps(review(mcp("v", stream="s0"))).encode()

        def verdict(text):
            f = self.write("osis.yaml", text)
            p = run(["review", "--osimagestream-file", f], stdin=rv)
            if p.returncode != 0:
                self.assertEqual(p.stdout, b"")
                self.assertTrue(h.one_line(p.stderr), p.stderr)
                return None
            return json.loads(p.stdout)["response"]["allowed"]

        ok = [("s0", img, img)]
        self.assertTrue(verdict(self.osis_text(ok)))
        self.assertTrue(verdict(self.osis_text(ok, api="machineconfiguration.openshift.io/v1alpha1")),
                        "v1alpha1 OSImageStream refused")
        streams100 = [("s%d" % i, img, img) for i in range(100)]
        self.assertTrue(verdict(self.osis_text(streams100)), "100 streams refused")
        self.assertIsNone(verdict(self.osis_text(streams100 + [("s100", img, img)])), "101 streams accepted")
        long_ok = "quay.io/" + "a" * 367 + "@sha256:" + hexd
        self.assertEqual(len(long_ok), 447)
        self.assertTrue(verdict(self.osis_text([("s0", long_ok, img)])), "447-char image refused")
        self.assertIsNone(verdict(self.osis_text([("s0", "quay.io/" + "a" * 368 + "@sha256:" + hexd, img)])),
                          "448-char image accepted")
        for good in ("registry.example.com:5000/a/b/c@sha256:" + hexd, "localhost/name@sha256:" + hexd,
                     "Quay.IO/ns/na.me_x-y@sha256:" + hexd):
            self.assertTrue(verdict(self.osis_text([("s0", good, img)])), good)
        for bad in ("quay.io/ns/name:latest", "quay.io/ns/name@sha256:" + hexd.upper(),
                    "quay.io/ns/name@sha256:" + hexd[:-1], "quay.io@sha256:" + hexd,
                    "quay.io/NS/name@sha256:" + hexd, "quay.io/ns/name@sha512:" + hexd + hexd,
                    "quay.io/ns//name@sha256:" + hexd, "-quay.io/ns/name@sha256:" + hexd,
                    "quay.io/ns/name@sha256:" + hexd + " ", ""):
            self.assertIsNone(verdict(self.osis_text([("s0", bad, img)])), "image %r accepted" % bad)
            self.assertIsNone(verdict(self.osis_text([("s0", img, bad)])), "ext image %r accepted" % bad)
        for bad_name in ("S0", "s..0", "a" * 254, "s_0"):
            self.assertIsNone(verdict(self.osis_text([(bad_name, img, img)], default=bad_name)),
                              "stream name %r accepted" % bad_name)
        self.assertIsNone(verdict(self.osis_text(ok, default="s9")), "defaultStream not a stream")
        self.assertIsNone(verdict(self.osis_text([("s0", img, img), ("s0", img, img)])), "duplicate names")

    def test_review_bad_flags(self):
        p = run(["review", "--endpoint", "admit", "--osimagestream-file", OSIS_YAML], stdin=b"{}")
        self.assertFailsOneLine(p, "--endpoint admit", 2)
        p = run(["review", "--bogus"], stdin=b"{}")
        self.assertFailsOneLine(p, "--bogus", 2)

    def test_review_without_osimagestream_is_not_cached(self):
        # Inference from the contract: with no OSImageStream, the decision is
        # row 6 (503 ServiceUnavailable) for a pool naming a stream, and row 1
        # for a pool naming none.
        p = run(["review"], stdin=json.dumps(review(mcp("n", stream="rhel-10"))).encode())
        self.assertEqual(p.returncode, 0, p.stderr)
        resp = json.loads(p.stdout)["response"]
        self.assertFalse(resp["allowed"])
        self.assertEqual(resp["status"]["code"], 503)
        self.assertEqual(resp["status"]["reason"], "ServiceUnavailable")
        self.assertIn("OSImageStream", resp["status"]["message"])
        p = run(["review"], stdin=json.dumps(review(mcp("n"))).encode())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(json.loads(p.stdout)["response"]["allowed"])
        # row 5 without a cache: allowed with a warning
        p = run(["review"], stdin=json.dumps(review(mcp("n", stream="rhel-10"), op="UPDATE")).encode())
        self.assertEqual(p.returncode, 0, p.stderr)
        resp = json.loads(p.stdout)["response"]
        self.assertTrue(resp["allowed"], resp)
        self.assertTrue(resp.get("warnings"), resp)
        for w in resp["warnings"]:
            self.assertLess(len(w), 120)

    def test_review_without_osimagestream_says_so(self):
        """The server's bytes on stdout, and one stderr line saying that no
        OSImageStream was given (so the 503 denial is no surprise)."""
        body = json.dumps(review(mcp("n", stream="rhel-10"))).encode()
        p = run(["review"], stdin=body)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["response"]["status"]["code"], 503)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertIn("no --osimagestream-file", p.stderr.decode())
        p = run(["review", "--osimagestream-file", OSIS_YAML], stdin=body)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, b"")

    def test_review_given_yaml_says_what_it_reads(self):
        p = run(["review", "--osimagestream-file", OSIS_YAML,
                 os.path.join(h.DATA, "mcp-infra-custom.yaml")])
        self.assertFailsOneLine(p, "yaml pool")
        self.assertIn("JSON AdmissionReview", p.stderr.decode())
        p = run(["review", "--osimagestream-file", OSIS_YAML, self.tmp])
        self.assertFailsOneLine(p, "directory")
        self.assertIn("is a directory", p.stderr.decode())
        self.assertNotIn("read error", p.stderr.decode())

    def test_osimagestream_list_with_one_item_is_accepted(self):
        """`oc get osimagestream -o yaml` prints a List holding the object."""
        with open(OSIS_YAML) as f:
            obj = f.read()
        item = "\n".join("    " + l if l else l for l in obj.splitlines())
        lst = "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n  -" + item[3:] + "\n"
        f = self.write("osis-list.yaml", lst)
        body = json.dumps(review(mcp("l", stream="rhel-8"))).encode()
        p = run(["review", "--osimagestream-file", f], stdin=body)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('supported values: \\"rhel-9\\", \\"rhel-10\\"', p.stdout.decode())
        # The API's OSImageStreamList: items without kind and apiVersion.
        api = {"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "OSImageStreamList",
               "items": [{"metadata": {"name": "cluster"}, "status": {
                   "defaultStream": "rhel-9", "availableStreams": [
                       {"name": n, "osImage": a, "osExtensionsImage": b}
                       for n, (a, b) in h.STREAMS.items()]}}]}
        f2 = self.write("osis-list.json", json.dumps(api))
        p = self.check(os.path.join(h.DATA, "mcp-infra-custom.yaml"), osis=f2)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # Two items are refused, saying so.
        api["items"].append(api["items"][0])
        f3 = self.write("osis-two.json", json.dumps(api))
        p = run(["review", "--osimagestream-file", f3], stdin=body)
        self.assertFailsOneLine(p, "two items", 2)
        self.assertIn("2 items", p.stderr.decode())

    def test_osimagestream_manifest_without_status_gets_a_hint(self):
        f = self.write("gitops-osis.yaml", "apiVersion: machineconfiguration.openshift.io/v1\n"
                       "kind: OSImageStream\nmetadata:\n  name: cluster\nspec:\n"
                       "  defaultStream: rhel-9\n")
        p = self.check(os.path.join(h.DATA, "mcp-infra-custom.yaml"), osis=f)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertIn("oc get osimagestream cluster -o yaml", p.stderr.decode())

    def test_review_help(self):
        p = run(["review", "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        for flag in ("--osimagestream-file", "--endpoint"):
            self.assertIn(flag, out)

    # -- check --------------------------------------------------------------------
    def check(self, *manifests, stdin=None, osis=OSIS_YAML):
        return run(["check", "--osimagestream-file", osis] + list(manifests), stdin=stdin)

    def pool_yaml(self, name, stream=None):
        s = ("apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfigPool\n"
             "metadata:\n  name: %s\nspec:\n  paused: false\n" % name)
        if stream is not None:
            s += "  osImageStream:\n    name: %s\n" % stream
        return s

    def lines_for(self, out, name):
        return [l for l in out.decode().splitlines() if name in l]

    def test_check_fixture_allowed(self):
        p = self.check(os.path.join(h.DATA, "mcp-infra-custom.yaml"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        lines = self.lines_for(p.stdout, "infra")
        self.assertEqual(len(lines), 1, p.stdout)
        self.assertIn("allowed", lines[0])
        self.assertNotIn("denied", lines[0])
        p = self.check(os.path.join(h.DATA, "mcp-worker-rhel10.json"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("allowed", self.lines_for(p.stdout, "worker")[0])

    def test_check_denied(self):
        f = self.write("bad.yaml", self.pool_yaml("legacy", "rhel-8"))
        p = self.check(f)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        lines = self.lines_for(p.stdout, "legacy")
        self.assertEqual(len(lines), 1, p.stdout)
        line = lines[0]
        self.assertIn("denied", line)
        self.assertIn(h.SENTENCE, line)
        msg = ('MachineConfigPool.machineconfiguration.openshift.io "legacy" is invalid: '
               'spec.osImageStream.name: Unsupported value: "rhel-8": supported values: '
               '"rhel-9", "rhel-10"')
        self.assertIn(msg, line)
        # name and verdict come before the message
        self.assertLess(line.index("denied"), line.index(msg))
        self.assertLess(line.index("legacy"), line.index(msg))

    def test_check_multidoc_and_list(self):
        docs = "\n---\n".join([
            self.pool_yaml("p-ok", "rhel-9"),
            "",  # empty document
            self.pool_yaml("p-bad", "RHEL-9"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-rhel-8\ndata:\n  a: b\n",
            self.pool_yaml("p-none"),
        ]) + "\n---\n"
        f = self.write("multi.yaml", docs)
        p = self.check(f)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        out = p.stdout.decode()
        self.assertIn("allowed", self.lines_for(p.stdout, "p-ok")[0])
        self.assertIn("denied", self.lines_for(p.stdout, "p-bad")[0])
        self.assertIn("Invalid value", self.lines_for(p.stdout, "p-bad")[0])
        self.assertIn("allowed", self.lines_for(p.stdout, "p-none")[0])
        for l in self.lines_for(p.stdout, "cm-rhel-8"):
            self.assertNotIn("denied", l)
        self.assertEqual(len([l for l in out.splitlines() if "denied" in l]), 1, out)
        # A List (JSON) counts as its items; stdin with "-"
        lst = {"apiVersion": "v1", "kind": "List", "items": [
            mcp("l-ok", stream="rhel-10"), mcp("l-bad", stream="rhel-8")]}
        p = self.check("-", stdin=json.dumps(lst).encode())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("allowed", self.lines_for(p.stdout, "l-ok")[0])
        self.assertIn("denied", self.lines_for(p.stdout, "l-bad")[0])
        lst["items"] = lst["items"][:1]
        f2 = self.write("list.json", json.dumps(lst))
        p = self.check(f2, os.path.join(h.DATA, "mcp-infra-custom.yaml"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.lines_for(p.stdout, "l-ok")), 1)
        self.assertEqual(len(self.lines_for(p.stdout, "infra")), 1)

    def test_check_errors_exit_2(self):
        bad = self.write("broken.yaml", "kind: MachineConfigPool\nmetadata: [unclosed\n")
        p = self.check(bad)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertIn("broken.yaml", p.stderr.decode())
        missing = os.path.join(self.tmp, "missing.yaml")
        p = self.check(missing)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertIn("missing.yaml", p.stderr.decode())
        invalid = self.write("invalid-osis.yaml", INVALID_OSIS)
        p = self.check(os.path.join(h.DATA, "mcp-infra-custom.yaml"), osis=invalid)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        p = run(["check", "--bogus", os.path.join(h.DATA, "mcp-infra-custom.yaml")])
        self.assertEqual(p.returncode, 2)
        self.assertTrue(h.one_line(p.stderr), p.stderr)

    def test_check_help(self):
        p = run(["check", "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--osimagestream-file", p.stdout.decode())
        self.assertIn("Exit status", p.stdout.decode())
        # `help check` is `check --help`.
        q = run(["help", "check"])
        self.assertEqual(q.returncode, 0, q.stderr)
        self.assertEqual(q.stdout, p.stdout)
        q = run(["help", "frobnicate"])
        self.assertEqual(q.returncode, 2, q.stderr)
        self.assertTrue(h.one_line(q.stderr), q.stderr)
        for cmd in ("serve", "review", "gen-certs"):
            q = run(["help", cmd])
            self.assertEqual(q.returncode, 0, q.stderr)
            self.assertIn("Exit status:", q.stdout.decode(), cmd)

    def test_check_lines_name_their_file(self):
        f = self.write("pools.yaml", self.pool_yaml("worker", "rhel-8"))
        p = self.check(f)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertTrue(p.stdout.decode().startswith(f + ": worker: denied: "), p.stdout)
        p = self.check("-", stdin=self.pool_yaml("worker", "rhel-9").encode())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout.decode(), "-: worker: allowed\n")

    def test_check_raw_api_list_is_judged(self):
        """`oc get mcp -o json` prints a MachineConfigPoolList whose items have
        no kind or apiVersion: a pool asking for an unknown stream in it is
        denied, not skipped."""
        lst = {"apiVersion": "machineconfiguration.openshift.io/v1",
               "kind": "MachineConfigPoolList", "metadata": {"resourceVersion": "1"},
               "items": [{"metadata": {"name": "master"}, "spec": {}},
                         {"metadata": {"name": "worker"},
                          "spec": {"osImageStream": {"name": "rhel-11"}}}]}
        f = self.write("mcps.json", json.dumps(lst))
        p = self.check(f)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertEqual(lines[0], f + ": master: allowed")
        self.assertTrue(lines[1].startswith(f + ": worker: denied: "), lines[1])
        self.assertIn('Unsupported value: "rhel-11"', lines[1])

    def test_check_without_pools_says_so(self):
        f = self.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
        p = self.check(f)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertIn(f + ": no MachineConfigPools found", p.stderr.decode())
        p = self.check("-", stdin=b"")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("-: no MachineConfigPools found", p.stderr.decode())

    def test_check_reads_a_directory(self):
        d = os.path.join(self.tmp, "gitops")
        os.makedirs(os.path.join(d, "nested"))
        self.write("gitops/20-b.yml", self.pool_yaml("b", "rhel-8"))
        self.write("gitops/10-a.yaml", self.pool_yaml("a", "rhel-9"))
        self.write("gitops/30-c.json", json.dumps(mcp("c", stream="rhel-10")))
        self.write("gitops/40-d.txt", self.pool_yaml("d-ignored", "rhel-8"))
        self.write("gitops/nested/50-e.yaml", self.pool_yaml("e", "rhel-10"))
        p = self.check(d)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        names = [l.split(": ")[1] for l in p.stdout.decode().splitlines()]
        self.assertEqual(names, ["a", "b", "c"])
        self.assertIn(os.path.join(d, "20-b.yml") + ": b: denied: ", p.stdout.decode())
        p = run(["check", "-R", "--osimagestream-file", OSIS_YAML, d])
        names = [l.split(": ")[1] for l in p.stdout.decode().splitlines()]
        self.assertEqual(names, ["a", "b", "c", "e"])

    def test_check_many_pools_in_one_file(self):
        """The YAML reader's node budget is per document: 100,000 small pools
        in one file are checked as they are when split in two."""
        n = 100000
        doc = ("apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfigPool\n"
               "metadata:\n  name: p%d\nspec:\n  osImageStream:\n    name: rhel-9\n")
        f = self.write("many.yaml", "---\n".join(doc % i for i in range(n)))
        p = run(["check", "--osimagestream-file", OSIS_YAML, f], timeout=h.t(120))
        self.assertEqual(p.returncode, 0, p.stderr[-500:])
        self.assertEqual(p.stdout.count(b": allowed\n"), n)

    # -- gen-certs ------------------------------------------------------------------
    def test_gen_certs(self):
        d = os.path.join(self.tmp, "c")
        p = run(["gen-certs", "--dir", d, "--dns-name", "localhost", "--dns-name",
                 "osw.example.svc"], timeout=h.t(30))
        self.assertEqual(p.returncode, 0, p.stderr)
        files = [os.path.join(d, n) for n in ("ca.crt", "tls.crt", "tls.key")]
        for f in files:
            self.assertTrue(os.path.isfile(f), f)
        self.assertEqual(stat.S_IMODE(os.stat(files[2]).st_mode), 0o600)
        if shutil.which("openssl"):
            for check in (["-verify_hostname", "localhost"], ["-verify_hostname", "osw.example.svc"],
                          ["-verify_ip", "127.0.0.1"], ["-verify_ip", "::1"]):
                o = subprocess.run(["openssl", "verify", "-CAfile", files[0]] + check + [files[1]],
                                   capture_output=True, timeout=10)
                self.assertEqual(o.returncode, 0, (check, o.stdout, o.stderr))
            o = subprocess.run(["openssl", "verify", "-CAfile", files[0], "-verify_hostname",
                                "other.example", files[1]], capture_output=True, timeout=10)
            self.assertNotEqual(o.returncode, 0, "certificate valid for a name not asked for")
            o = subprocess.run(["openssl", "x509", "-in", files[0], "-noout", "-text"],
                               capture_output=True, timeout=10)
            self.assertIn(b"CA:TRUE", o.stdout)
        before = [open(f, "rb").read() for f in files]
        # refuses to overwrite
        p = run(["gen-certs", "--dir", d, "--dns-name", "localhost"], timeout=h.t(30))
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertTrue(any(n in p.stderr.decode() for n in ("ca.crt", "tls.crt", "tls.key")), p.stderr)
        self.assertEqual([open(f, "rb").read() for f in files], before)
        # refuses when only one of them exists, and writes nothing
        d2 = os.path.join(self.tmp, "c2")
        os.mkdir(d2)
        with open(os.path.join(d2, "tls.key"), "w") as f:
            f.write("keep")
        p = run(["gen-certs", "--dir", d2, "--dns-name", "localhost"], timeout=h.t(30))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("tls.key", p.stderr.decode())
        self.assertEqual(sorted(os.listdir(d2)), ["tls.key"])
        self.assertEqual(open(os.path.join(d2, "tls.key")).read(), "keep")
        # --force replaces all three
        p = run(["gen-certs", "--dir", d, "--dns-name", "localhost", "--force"], timeout=h.t(30))
        self.assertEqual(p.returncode, 0, p.stderr)
        after = [open(f, "rb").read() for f in files]
        for a, b, f in zip(before, after, files):
            self.assertNotEqual(a, b, "%s not replaced by --force" % f)
        self.assertEqual(stat.S_IMODE(os.stat(files[2]).st_mode), 0o600)

    def test_gen_certs_serves_localhost_and_ip(self):
        d = os.path.join(self.tmp, "c")
        p = run(["gen-certs", "--dir", d, "--dns-name", "localhost"], timeout=h.t(30))
        self.assertEqual(p.returncode, 0, p.stderr)
        port = h.free_port()
        with open(os.path.join(self.tmp, "err"), "wb") as err:
            proc = subprocess.Popen([h.BIN, "serve", "--listen", "127.0.0.1:%d" % port,
                                     "--tls-cert-file", os.path.join(d, "tls.crt"),
                                     "--tls-private-key-file", os.path.join(d, "tls.key"),
                                     "--osimagestream-file", OSIS_YAML],
                                    stdout=err, stderr=err, stdin=subprocess.DEVNULL)
        try:
            ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
            deadline = time.monotonic() + h.t(10)
            ok = set()
            while time.monotonic() < deadline and len(ok) < 2:
                for name in ("localhost", "127.0.0.1"):
                    try:
                        with socket.create_connection(("127.0.0.1", port), 2) as s:
                            with ctx.wrap_socket(s, server_hostname=name) as tls:
                                tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                                if tls.recv(100).startswith(b"HTTP/1.1 200"):
                                    ok.add(name)
                    except ConnectionRefusedError:
                        pass
                time.sleep(0.05)
            self.assertEqual(ok, {"localhost", "127.0.0.1"})
            with socket.create_connection(("127.0.0.1", port), 2) as s:
                with self.assertRaises(ssl.SSLCertVerificationError):
                    ctx.wrap_socket(s, server_hostname="not-localhost")
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    def test_gen_certs_ip_sans_verify(self):
        """An IP literal given to --dns-name, or --ip-address, is an IP SAN that
        openssl verifies as an address."""
        if not shutil.which("openssl"):
            self.skipTest("openssl not installed")
        d = os.path.join(self.tmp, "ip")
        p = run(["gen-certs", "--dir", d, "--dns-name", "localhost", "--dns-name", "192.0.2.10",
                 "--ip-address", "2001:db8::5"], timeout=h.t(30))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"IP: 192.0.2.10", p.stdout)
        ca, crt = os.path.join(d, "ca.crt"), os.path.join(d, "tls.crt")
        for ip in ("192.0.2.10", "2001:db8::5", "127.0.0.1", "::1"):
            o = subprocess.run(["openssl", "verify", "-CAfile", ca, "-verify_ip", ip, crt],
                               capture_output=True, timeout=10)
            self.assertEqual(o.returncode, 0, (ip, o.stdout, o.stderr))
        for ip in ("192.0.2.11", "::2"):
            o = subprocess.run(["openssl", "verify", "-CAfile", ca, "-verify_ip", ip, crt],
                               capture_output=True, timeout=10)
            self.assertNotEqual(o.returncode, 0, ip)
        # An address is no DNS name.
        o = subprocess.run(["openssl", "verify", "-CAfile", ca, "-verify_hostname", "192.0.2.10",
                            crt], capture_output=True, timeout=10)
        self.assertNotEqual(o.returncode, 0)

    def test_gen_certs_refuses_bad_names_saying_what_is_allowed(self):
        d = os.path.join(self.tmp, "bad")
        for name in ("a" * 64 + ".example", "under_score.example", "a..b"):
            p = run(["gen-certs", "--dir", d, "--dns-name", name])
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertTrue(h.one_line(p.stderr), p.stderr)
            self.assertIn("63 characters", p.stderr.decode())
        self.assertFalse(os.path.exists(d))

    def make_certs(self, d):
        if not shutil.which("make"):
            self.skipTest("make not installed")
        return subprocess.run(["make", "-s", "-C", h.SRC, "certs-refresh", "CERTS=" + d,
                               "BIN=" + h.BIN], capture_output=True, timeout=h.t(60))

    def test_make_certs_recovers(self):
        """`make run` goes through `make certs`: a missing file or an expired
        serving certificate gives three new files, not "ca.crt already exists"."""
        d = os.path.join(self.tmp, "mk")
        p = self.make_certs(d)
        self.assertEqual(p.returncode, 0, p.stderr)
        files = [os.path.join(d, n) for n in ("ca.crt", "tls.crt", "tls.key")]
        first = [open(f, "rb").read() for f in files]
        # Nothing to do when all three are there and valid.
        p = self.make_certs(d)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([open(f, "rb").read() for f in files], first)
        # A missing key: all three again, and they belong together.
        os.unlink(files[2])
        p = self.make_certs(d)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        second = [open(f, "rb").read() for f in files]
        self.assertNotEqual(second[0], first[0])
        self.assertNotEqual(second[1], first[1])
        if shutil.which("openssl"):
            o = subprocess.run(["openssl", "verify", "-CAfile", files[0], files[1]],
                               capture_output=True, timeout=10)
            self.assertEqual(o.returncode, 0, o.stderr)
            # An expired serving certificate is replaced too.
            crt, _ = h.expired_pair(os.path.join(self.tmp, "exp"))
            shutil.copy(crt, files[1])
            p = self.make_certs(d)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            o = subprocess.run(["openssl", "x509", "-checkend", "86400", "-noout", "-in", files[1]],
                               capture_output=True, timeout=10)
            self.assertEqual(o.returncode, 0, "expired certificate kept")
            self.assertEqual(stat.S_IMODE(os.stat(files[2]).st_mode), 0o600)

    def test_gen_certs_help(self):
        p = run(["gen-certs", "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        for flag in ("--dir", "--dns-name", "--ip-address", "--force"):
            self.assertIn(flag, p.stdout.decode())
        for words in ("discarded", "not for a cluster", "365 days", "10 years", "Exit status"):
            self.assertIn(words, p.stdout.decode())

    # -- global -------------------------------------------------------------------
    def test_version_and_help(self):
        p = run(["--version"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.strip(), "empty --version output")
        p = run(["--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        for cmd in ("serve", "review", "check", "gen-certs"):
            self.assertIn(cmd, out)

    def test_unknown_command_and_flag(self):
        for args in (["frobnicate"], ["--frobnicate"], ["serve", "--bogus", "1"],
                     ["gen-certs", "--bogus"]):
            p = run(args)
            self.assertEqual(p.returncode, 2, "%s: %r" % (args, p.stderr))
            self.assertTrue(h.one_line(p.stderr), "%s: %r" % (args, p.stderr))

    def test_serve_help_lists_flags(self):
        p = run(["serve", "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        for flag in SERVE_FLAGS:
            self.assertIn(flag, out)

    # -- serve refuses bad configuration -----------------------------------------------
    def serve_fails(self, extra, what, env=None, base=True, cert=None, key=None, osis=OSIS_YAML):
        c = h.certs()
        port = h.free_port()
        args = ["serve", "--listen", "127.0.0.1:%d" % port]
        if base:
            args += ["--tls-cert-file", cert or c["crt"], "--tls-private-key-file", key or c["key"]]
            if osis:
                args += ["--osimagestream-file", osis]
        start = time.monotonic()
        try:
            p = run(args + extra, env=env, timeout=h.t(10))
        except subprocess.TimeoutExpired:
            self.fail("%s: serve did not exit (it should refuse to start)" % what)
        self.assertEqual(p.returncode, 2, "%s: exit %d, stderr %r" % (what, p.returncode, p.stderr))
        self.assertTrue(h.one_line(p.stderr), "%s: stderr not one line: %r" % (what, p.stderr))
        self.assertLess(time.monotonic() - start, h.t(5), what)
        return p

    def test_serve_bad_flag_values(self):
        for extra in (["--listen", "nonsense"], ["--listen", "127.0.0.1:99999"],
                      ["--listen", "127.0.0.1:"], ["--tls-min-version", "1.1"],
                      ["--log-level", "loud"], ["--log-format", "xml"],
                      ["--shutdown-delay", "forever"], ["--shutdown-delay", "5"],
                      ["--max-request-bytes", "-1"], ["--max-request-bytes", "lots"]):
            with self.subTest(" ".join(extra)):
                p = self.serve_fails(extra, " ".join(extra))
                self.assertIn(extra[0], p.stderr.decode())  # names the flag

    def test_serve_missing_cert_files(self):
        c = h.certs()
        self.serve_fails([], "missing cert", cert=os.path.join(self.tmp, "none.crt"))
        self.serve_fails([], "missing key", key=os.path.join(self.tmp, "none.key"))
        garbage = self.write("garbage.crt", "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
        self.serve_fails([], "unparsable cert", cert=garbage)
        # a key that does not match the certificate
        d = os.path.join(self.tmp, "other")
        p = run(["gen-certs", "--dir", d, "--dns-name", "localhost"], timeout=h.t(30))
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.serve_fails([], "mismatched pair", key=os.path.join(d, "tls.key"))
        # no cert flags at all
        p = self.serve_fails(["--osimagestream-file", OSIS_YAML], "no cert flags", base=False)

    def test_serve_invalid_osimagestream_file(self):
        dup = open(OSIS_YAML).read().replace("- name: rhel-10", "- name: rhel-9")
        nodef = open(OSIS_YAML).read().replace("  defaultStream: rhel-9", "  defaultStream: rhel-7")
        for what, path in (("invalid file", self.write("bad.yaml", INVALID_OSIS)),
                           ("unparsable file", self.write("bad2.yaml", "{ a: [ ")),
                           ("missing file", os.path.join(self.tmp, "none.yaml")),
                           ("empty file", self.write("empty.yaml", "")),
                           ("duplicate stream names", self.write("dup.yaml", dup)),
                           ("default not a stream", self.write("nodef.yaml", nodef))):
            with self.subTest(what):
                self.serve_fails([], what, osis=path)

    def test_serve_without_source_exits_2(self):
        # No file, no kubeconfig, no in-cluster environment.
        env = {"KUBECONFIG": None, "KUBERNETES_SERVICE_HOST": None, "KUBERNETES_SERVICE_PORT": None}
        self.serve_fails(["--serviceaccount-dir", os.path.join(self.tmp, "nosa")],
                         "no source", env=env, osis=None)

    def test_serve_with_two_sources_exits_2(self):
        # A file and a kubeconfig name two sources: refused, not one silently preferred.
        self.serve_fails(["--kubeconfig", os.path.join(self.tmp, "kubeconfig")], "two sources")

    def test_no_command_is_one_line(self):
        p = subprocess.run([h.BIN], capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, b"")
        self.assertTrue(h.one_line(p.stderr), p.stderr)

    def test_env_variables_and_flag_precedence(self):
        c = h.certs()
        # A bad value through the environment is refused: the variable is read,
        # and the error names it (not the flag) with what it accepts.
        p = self.serve_fails([], "OSSTREAM_LOG_LEVEL=loud", env={"OSSTREAM_LOG_LEVEL": "loud"})
        self.assertIn('OSSTREAM_LOG_LEVEL: "loud" is not one of debug|info|warn|error',
                      p.stderr.decode())
        p = self.serve_fails([], "OSSTREAM_SHUTDOWN_DELAY=5", env={"OSSTREAM_SHUTDOWN_DELAY": "5"})
        self.assertIn('OSSTREAM_SHUTDOWN_DELAY: "5" is not a duration; use', p.stderr.decode())
        self.assertNotIn("--shutdown-delay", p.stderr.decode())
        # Also for checks made after parsing (address form, range, name).
        p = run(["serve"], env={"OSSTREAM_LISTEN": "nonsense"}, timeout=h.t(10))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertTrue(h.one_line(p.stderr), p.stderr)
        self.assertIn('OSSTREAM_LISTEN must be HOST:PORT', p.stderr.decode())
        for var, val in (("OSSTREAM_MAX_REQUEST_BYTES", "0"),
                         ("OSSTREAM_OSIMAGESTREAM_NAME", "Not_A_Name"),
                         ("OSSTREAM_SHUTDOWN_DELAY", "1h")):
            p = self.serve_fails([], var, env={var: val}, base=True)
            self.assertIn(var, p.stderr.decode())
            self.assertNotIn("--" + var[len("OSSTREAM_"):].lower().replace("_", "-"),
                             p.stderr.decode())
        # Everything through the environment.
        srv = h.Server(log_level=None, args=[])
        srv.env = { "OSSTREAM_TLS_CERT_FILE": c["crt"],
                   "OSSTREAM_TLS_PRIVATE_KEY_FILE": c["key"],
                   "OSSTREAM_OSIMAGESTREAM_FILE": srv.osis_path, "OSSTREAM_LOG_LEVEL": "debug"}

        def cmd_env(p):
            srv.env["OSSTREAM_LISTEN"] = "127.0.0.1:%d" % p
            return [h.BIN, "serve"]
        srv.command = cmd_env
        srv.start()
        try:
            self.assertEqual(srv.get("/healthz").status, 200)
        finally:
            problems = srv.stop()
        self.assertEqual(problems, [])
        # A flag wins over its variable: bad variables, good flags.
        srv = h.Server(env={"OSSTREAM_LOG_LEVEL": "loud", "OSSTREAM_LISTEN": "nonsense",
                            "OSSTREAM_TLS_CERT_FILE": "/nonexistent.crt"})
        srv.start()
        try:
            self.assertEqual(srv.get("/healthz").status, 200)
        finally:
            problems = srv.stop()
        self.assertEqual(problems, [])


if __name__ == "__main__":
    h.main()

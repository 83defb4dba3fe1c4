# SPDX-License-Identifier: Apache-2.0
"""Logs of `serve` (CONTRACT.md, "Logs"): one line per event on stderr; the
json format has ts, level, msg and, for decisions, uid, operation, resource,
name, stream, verdict, code, duration_ms; the text format is one readable
line that is not JSON; denials log at info, allows at debug; request bodies
and keys are never logged.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import mcp, review  # noqa: E402

DECISION_FIELDS = ("uid", "operation", "resource", "name", "stream", "verdict", "code", "duration_ms")
SECRET = "s3cr3t-label-value-never-logged"


def secret_review(stream, uid):
    obj = mcp("logpool", stream=stream)
    obj["metadata"]["labels"]["secret"] = SECRET
    return review(obj, uid=uid)


class LogsJSON(h.ServerTestCase):
    server_kwargs = {"log_level": "info"}

    def lines_for(self, uid, deadline=2.0):
        end = time.monotonic() + h.t(deadline)
        while True:
            out = []
            for line in self.srv.stderr().splitlines():
                if uid in line:
                    out.append(line)
            if out or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def test_json_lines_parse(self):
        self.srv.review("validate", secret_review("rhel-8", "uid-json-parse"))
        self.lines_for("uid-json-parse")
        for line in self.srv.stderr().splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)  # every line is one JSON object
            for k in ("ts", "level", "msg"):
                self.assertIn(k, rec, line)
            self.assertIn(rec["level"], ("debug", "info", "warn", "error"), line)

    def test_denial_logged_at_info_with_fields(self):
        uid = "uid-denied-0001"
        self.srv.review("validate", secret_review("rhel-8", uid))
        lines = self.lines_for(uid)
        self.assertEqual(len(lines), 1, lines)
        rec = json.loads(lines[0])
        self.assertEqual(rec["level"], "info")
        for k in DECISION_FIELDS:
            self.assertIn(k, rec, lines[0])
        self.assertEqual(rec["uid"], uid)
        self.assertEqual(rec["operation"], "CREATE")
        self.assertEqual(rec["name"], "logpool")
        self.assertEqual(rec["stream"], "rhel-8")
        self.assertEqual(rec["verdict"], "denied")
        self.assertEqual(int(rec["code"]), 422)
        self.assertIn("machineconfigpools", str(rec["resource"]))
        self.assertGreaterEqual(float(rec["duration_ms"]), 0)

    def test_allow_not_logged_at_info(self):
        uid = "uid-allowed-0001"
        self.srv.review("validate", secret_review("rhel-10", uid))
        self.srv.review("validate", secret_review("rhel-8", "uid-marker-0001"))
        self.lines_for("uid-marker-0001")
        self.assertEqual(self.lines_for(uid, deadline=0.2), [])

    def test_no_bodies_or_keys(self):
        self.srv.review("validate", secret_review("rhel-8", "uid-secret-0001"))
        self.srv.review("mutate", secret_review("rhel-10", "uid-secret-0002"))
        self.srv.post_json("/validate", b'{"not": "a review", "x": "' + SECRET.encode() + b'"}')
        self.lines_for("uid-secret-0001")
        err = self.srv.stderr()
        self.assertNotIn(SECRET, err)
        self.assertNotIn("PRIVATE KEY", err)
        key = open(h.certs()["key"]).read().splitlines()[1]
        self.assertNotIn(key, err)


class LogsDebugText(h.ServerTestCase):
    server_kwargs = {"log_level": "debug", "args": ["--log-format", "text"]}

    def test_text_format_and_debug_allows(self):
        uid = "uid-text-allowed-1"
        self.srv.review("validate", secret_review("rhel-10", uid))
        uid2 = "uid-text-denied-1"
        self.srv.review("validate", secret_review("rhel-8", uid2))
        time.sleep(0.2)
        err = self.srv.stderr()
        allowed = [l for l in err.splitlines() if uid in l]
        denied = [l for l in err.splitlines() if uid2 in l]
        self.assertEqual(len(allowed), 1, err[-2000:])
        self.assertEqual(len(denied), 1, err[-2000:])
        for line in allowed + denied:
            with self.assertRaises(ValueError, msg="text log line is JSON: %r" % line):
                json.loads(line)
        self.assertIn("debug", allowed[0].lower())
        self.assertIn("info", denied[0].lower())
        self.assertIn("denied", denied[0])
        self.assertIn("allowed", allowed[0])
        self.assertNotIn(SECRET, err)


if __name__ == "__main__":
    h.main()

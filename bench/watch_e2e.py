#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end watch benchmark: the real binary with --kubeconfig against the
kube-apiserver double (tests/integration/kubeapi.py), over TLS.

1. Event -> decision latency: N times, a store change makes the double send a
   MODIFIED event adding a new stream, and a keep-alive client posts
   /validate for a pool naming it until it is allowed (a check that the
   snapshot really reached decisions). The latency is taken from the
   webhook's own log line for that resourceVersion ("OSImageStream changed",
   written right after the snapshot is published, millisecond timestamps)
   minus the wall time of the change; the client's round trip, about 40 ms
   with Python's http.client, would otherwise drown it.
2. Memory: 100,000 MODIFIED events streamed in batches; the webhook's VmRSS
   before, during and after.

Usage: python3 bench/watch_e2e.py [--samples N] [--events N]   (needs build/)
"""

import argparse
import calendar
import copy
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness as h  # noqa: E402
import kubeapi  # noqa: E402
import test_kube_source as tks  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--events", type=int, default=100000)
    args = ap.parse_args()

    api = kubeapi.KubeAPI(certdir=tks.Base.certdir()).start()
    api.set_object("osimagestreams", tks.fixture())
    kc = api.write_kubeconfig(h.tmpdir("osw-bench-kc-"))
    srv = tks.KubeServer(kc, args=["--log-level", "info"]).start()
    try:
        api.wait_watch("osimagestreams", timeout=10)
        conn = srv.conn()
        sent = {}
        for i in range(args.samples):
            name = "s-%d" % i
            body = json.dumps(h.review(h.mcp("infra", stream=name))).encode()
            t_set = time.time()
            rv = api.set_object("osimagestreams", tks.fixture(("rhel-9", name)))
            sent[rv] = t_set
            t0 = time.monotonic()
            while True:
                r = srv.request("POST", "/validate", body=body,
                                headers={"Content-Type": "application/json"}, conn=conn)
                if json.loads(r.body)["response"]["allowed"]:
                    break
                if time.monotonic() - t0 > 2:
                    raise SystemExit("sample %d: not used within 2 s" % i)
        lat = []
        for line in srv.stderr().splitlines():
            if "OSImageStream changed" not in line:
                continue
            rec = json.loads(line)
            if rec.get("resourceVersion") in sent:
                ts = calendar.timegm(time.strptime(rec["ts"][:19], "%Y-%m-%dT%H:%M:%S")) + \
                    int(rec["ts"][20:23]) / 1000.0
                lat.append(max(0.0, (ts - sent[rec["resourceVersion"]]) * 1000))
        lat.sort()
        print("event->decision (ms, from the webhook's log, 1 ms resolution): "
              "p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  (n=%d)"
              % (lat[len(lat) // 2], lat[len(lat) * 9 // 10], lat[len(lat) * 99 // 100], lat[-1],
                 len(lat)))

        pid = srv.proc.pid
        obj = kubeapi.KubeAPI._typed(tks.fixture(), "osimagestreams", "v1")
        base_rv = api.rv + 10
        rss = [("start", rss_kib(pid))]
        batch = 1000
        t0 = time.monotonic()
        for b in range(args.events // batch):
            lines = []
            for k in range(batch):
                o = copy.deepcopy(obj)
                o["metadata"]["resourceVersion"] = str(base_rv + b * batch + k)
                lines.append(json.dumps({"type": "MODIFIED", "object": o},
                                        separators=(",", ":")))
            api.send_raw("osimagestreams", [("\n".join(lines) + "\n").encode()])
            if b in (args.events // batch // 10, args.events // batch // 2):
                rss.append(("at %d" % (b * batch), rss_kib(pid)))
        last = str(base_rv + args.events - 1)
        while True:
            m = srv.metrics()
            if m.get("osstream_webhook_osimagestream_updates_total", result="success") >= \
                    args.samples + args.events:
                break
            if time.monotonic() - t0 > 300:
                raise SystemExit("events not consumed; last rv %s" % last)
            time.sleep(0.2)
        took = time.monotonic() - t0
        rss.append(("end", rss_kib(pid)))
        print("%d events in %.1f s (%.0f/s, the double's Python is the limit)"
              % (args.events, took, args.events / took))
        print("webhook VmRSS KiB: " + "  ".join("%s %d" % kv for kv in rss))
        print("watch restarts: %d" % srv.metrics().get("osstream_webhook_watch_restarts_total"))
    finally:
        srv.stop_and_check()
        api.stop()


if __name__ == "__main__":
    main()

-- SPDX-License-Identifier: Apache-2.0
-- wrk script for bench/run.sh: POSTs one AdmissionReview (the file named by
-- $BENCH_BODY, default the 7.5 KB fixture) as application/json on every
-- request, and prints one parseable line when the run is done:
--   BENCH requests=N duration_us=D rps=R p50_us=.. p99_us=.. p999_us=.. ...
-- Latencies are wrk's (microseconds, per request, keep-alive connections).

local path = os.getenv("BENCH_BODY") or "tests/data/admissionreview-update-worker-rhel10.json"
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f " ..
    "max_us=%.1f mean_us=%.1f bytes=%d err_connect=%d err_read=%d err_write=%d " ..
    "err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.requests / secs,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout))
end

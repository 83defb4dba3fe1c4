#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Connection spread: does a handful of keep-alive connections use both cores?
# Starts one webhook (BENCH_SERVER_BIN, default build-bench's), then for each
# connection count runs wrk (bench/post.lua, -t2) BENCH_SPREAD_RUNS times;
# every wrk run opens fresh connections, so every run is a new draw of how
# they land on the server's threads. Per run it prints requests/s, server CPU
# per request, and each server thread's share of the server's CPU
# (utime+stime from /proc/PID/task/TID/stat). `busiest=100%` means one
# thread did all the work and the other core sat idle.
#
#   BENCH_SERVER_BIN=build-perf/osstream-webhook bench/spread.sh
#
# Knobs: BENCH_SPREAD_CONNS (default "2 4 8"), BENCH_SPREAD_RUNS (6),
# BENCH_DURATION (3 s), BENCH_ENDPOINT (mutate), BENCH_BODY.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER=${BENCH_SERVER_BIN:-$SRC/build-bench/osstream-webhook}
CONNS=${BENCH_SPREAD_CONNS:-2 4 8}
RUNS=${BENCH_SPREAD_RUNS:-6}
DURATION=${BENCH_DURATION:-3}
EP=${BENCH_ENDPOINT:-mutate}
export BENCH_BODY=${BENCH_BODY:-$SRC/tests/data/admissionreview-update-worker-rhel10.json}
SNAPSHOT=$SRC/tests/data/osimagestream.json
CLK_TCK=$(getconf CLK_TCK)

TMP=$(mktemp -d /tmp/osw-spread.XXXXXX)
PID=
cleanup() {
  [ -z "$PID" ] || { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# "TID TICKS" for every thread of $1 (utime+stime; count fields from the last
# ')' since the command name may hold spaces).
thread_ticks() {
  local t stat rest
  for t in /proc/"$1"/task/*; do
    stat=$(cat "$t/stat" 2>/dev/null) || continue
    rest=${stat##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo "${t##*/} $((${12} + ${13}))"
  done
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$SERVER" gen-certs --dir "$TMP" --dns-name localhost >/dev/null
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$SERVER" serve --listen "127.0.0.1:$PORT" --tls-cert-file "$TMP/tls.crt" \
  --tls-private-key-file "$TMP/tls.key" --osimagestream-file "$SNAPSHOT" --log-level warn \
  >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 500); do
  [ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "https://127.0.0.1:$PORT/readyz")" = 200 ] && break
  kill -0 "$PID" 2>/dev/null || { cat "$TMP/server.log"; exit 1; }
  sleep 0.02
done
TASKS=(/proc/"$PID"/task/*)
echo "SPREAD server=$SERVER pid=$PID threads=${#TASKS[@]} nproc=$(nproc) loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\" date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"

for c in $CONNS; do
  t=2
  [ "$c" -lt 2 ] && t=1
  for run in $(seq "$RUNS"); do
    thread_ticks "$PID" | sort >"$TMP/before"
    wrk -t"$t" -c"$c" -d"${DURATION}s" -s "$SRC/bench/post.lua" "https://127.0.0.1:$PORT/$EP" >"$TMP/wrk.out" 2>&1 || true
    thread_ticks "$PID" | sort >"$TMP/after"
    line=$(grep '^BENCH ' "$TMP/wrk.out" || echo "BENCH requests=0 rps=0")
    # Per-thread deltas, busiest first; threads that did nothing are left out.
    join "$TMP/before" "$TMP/after" | awk -v line="$line" -v c="$c" -v run="$run" -v hz="$CLK_TCK" '
      { d = $3 - $2; if (d > 0) { n++; tid[n] = $1; dt[n] = d; tot += d } }
      END {
        match(line, /requests=[0-9]+/); req = substr(line, RSTART + 9, RLENGTH - 9)
        match(line, /rps=[0-9.]+/); rps = substr(line, RSTART + 4, RLENGTH - 4)
        errs = (line ~ /err_[a-z]*=[1-9]/) ? " ERRORS" : ""
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
          if (dt[j] > dt[i]) { x = dt[i]; dt[i] = dt[j]; dt[j] = x; x = tid[i]; tid[i] = tid[j]; tid[j] = x }
        s = ""
        for (i = 1; i <= n; i++) s = s sprintf(" %d:%d%%", tid[i], 100 * dt[i] / tot)
        printf "SPREAD conns=%d run=%d rps=%.0f cpu_us_per_req=%.1f busiest=%d%% threads_busy=%d shares=%s%s\n",
          c, run, rps, (req > 0 ? tot * 1e6 / hz / req : 0), (tot > 0 ? 100 * dt[1] / tot : 0), n, s, errs
      }'
  done
done

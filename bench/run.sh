#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: builds a Release binary and measures the webhook on loopback
# against the ceiling server (bench/ceiling.c: libmicrohttpd + GnuTLS, no JSON
# work), with wrk + bench/post.lua, in alternating runs (ceiling, webhook,
# ceiling, webhook, ...). Then memory (idle, peak, 1000 idle TLS connections,
# 100k vs 1M requests), start -> ready time, and the decision-path
# microbenchmark. With the cluster state (BENCH_CLUSTER=1, the default):
# bench/syncbench.py first measures the sync of 2,000 MachineConfigs against
# the wire, then holds a webhook synced from the API double that joins the
# matrix as `webhook-cluster` at BENCH_CLUSTER_CONNS. Everything is printed and
# saved to bench/out/. Knobs are environment variables; see bench/README.md.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD:-$SRC/build-bench}
DURATION=${BENCH_DURATION:-5}    # seconds per measured run
WARMUP=${BENCH_WARMUP:-1}        # seconds of warm-up before each run
ROUNDS=${BENCH_ROUNDS:-2}        # A B A B ... rounds over the whole matrix
CONNS=${BENCH_CONNS:-1 16 64 256}
ENDPOINTS=${BENCH_ENDPOINTS:-validate mutate}
LEAK_BASE=${BENCH_LEAK_BASE:-100000}
LEAK_REQUESTS=${BENCH_LEAK_REQUESTS:-1000000} # 0 skips the leak check
LEAK_CEILING=${BENCH_LEAK_CEILING:-1}          # 1: the ceiling gets the leak check too
IDLE_CONNS=${BENCH_IDLE_CONNS:-1000}
READY_RUNS=${BENCH_READY_RUNS:-5}
MICRO_SECONDS=${BENCH_MICRO_SECONDS:-0.5}
CLUSTER=${BENCH_CLUSTER:-1}               # 0 skips the cluster-state sync and matrix points
CLUSTER_CONNS=${BENCH_CLUSTER_CONNS:-1 64}
SYNC_RUNS=${BENCH_SYNC_RUNS:-3}
SYNC_ARGS=${BENCH_SYNC_ARGS:-}             # e.g. "--mcs 200": syncbench.py's workload flags
BODY=${BENCH_BODY:-$SRC/tests/data/admissionreview-update-worker-rhel10.json}
SNAPSHOT=$SRC/tests/data/osimagestream.json
export BENCH_BODY=$BODY

main() {
  SERVER_LOG=$OUT_DIR/server-$STAMP.log
  TMP=$(mktemp -d /tmp/osw-bench.XXXXXX)
  PIDS=()
  # shellcheck disable=SC2317 # called by the EXIT trap
  cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  say() { printf '%s\n' "$*"; }
  free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
  CLK_TCK=$(getconf CLK_TCK)

  # utime+stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat;
  # the command name may hold spaces, so count from the last ')').
  cpu_ticks() {
    local stat rest
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0 # gone: prints nothing
    rest=${stat##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo $((${12} + ${13}))
  }
  # A /proc/PID/status field in KiB (VmRSS, VmHWM).
  status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

  # wait_ready PORT PID: polls GET /readyz until 200 (10 s at most).
  wait_ready() {
    for _ in $(seq 1000); do
      kill -0 "$2" 2>/dev/null || { say "bench: server (pid $2) exited"; return 1; }
      [ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "https://127.0.0.1:$1/readyz")" = 200 ] && return 0
      sleep 0.01
    done
    say "bench: server on port $1 not ready after 10 s"
    return 1
  }

  # ---- build -------------------------------------------------------------------
  say "== build (Release, $BUILD)"
  SERVER=${BENCH_SERVER_BIN:-}
  CEILING=${BENCH_CEILING_BIN:-}
  MICRO=${BENCH_MICRO_BIN:-}
  if cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DOSW_BENCH=ON -DOSW_INTEGRATION=OFF \
    >"$TMP/cmake.log" 2>&1; then
    for t in osstream-webhook osw-ceiling osw-microbench; do
      if cmake --build "$BUILD" --target "$t" -j "$(nproc)" >"$TMP/build-$t.log" 2>&1; then
        say "built $t"
      else
        say "bench: building $t failed (last lines):"; tail -5 "$TMP/build-$t.log"
      fi
    done
    [ -n "$SERVER" ] || { [ -x "$BUILD/osstream-webhook" ] && SERVER=$BUILD/osstream-webhook; } || true
    [ -n "$CEILING" ] || { [ -x "$BUILD/bench/osw-ceiling" ] && CEILING=$BUILD/bench/osw-ceiling; } || true
    [ -n "$MICRO" ] || { [ -x "$BUILD/bench/osw-microbench" ] && MICRO=$BUILD/bench/osw-microbench; } || true
  else
    say "bench: cmake configure failed (last lines):"; tail -5 "$TMP/cmake.log"
  fi
  if [ -z "$CEILING" ]; then
    # The ceiling needs nothing of the project: build it alone if CMake could not.
    say "bench: building osw-ceiling directly"
    # shellcheck disable=SC2046
    cc -std=c11 -O2 -D_GNU_SOURCE -o "$TMP/osw-ceiling" "$SRC/bench/ceiling.c" \
      $(pkg-config --cflags --libs libmicrohttpd gnutls) -lpthread && CEILING=$TMP/osw-ceiling
  fi
  [ -n "$CEILING" ] || { say "bench: no ceiling server, giving up"; exit 1; }

  # ---- machine -----------------------------------------------------------------
  say "== machine"
  say "MACHINE date=$(date -u +%Y-%m-%dT%H:%M:%SZ) nproc=$(nproc) cpu=\"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\" kernel=$(uname -r) loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
  say "MACHINE wrk=\"$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)\" mhd=$(pkg-config --modversion libmicrohttpd) gnutls=$(pkg-config --modversion gnutls) jansson=$(pkg-config --modversion jansson)"
  say "MACHINE commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo none) duration=$DURATION warmup=$WARMUP rounds=$ROUNDS"
  load1=$(cut -d' ' -f1 /proc/loadavg)
  if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    say "WARNING: load average $load1 before the run: something else is using the CPU; numbers will be noisy"
  fi

  ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
  say "fd limit $(ulimit -n)"

  # ---- certificates and the fixed answer -----------------------------------------
  CERTS=$TMP/certs
  mkdir -p "$CERTS"
  if [ -n "$SERVER" ] && "$SERVER" gen-certs --dir "$CERTS" --dns-name localhost >/dev/null 2>&1; then
    :
  else
    say "bench: generating a certificate with openssl (no webhook binary)"
    rm -f "$CERTS"/*
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$CERTS/tls.key" -out "$CERTS/tls.crt" 2>/dev/null
  fi
  RESP_ARGS=()
  if [ -n "$SERVER" ] && "$SERVER" review --endpoint mutate --osimagestream-file "$SNAPSHOT" "$BODY" \
    >"$TMP/mutate-response.json" 2>/dev/null && [ -s "$TMP/mutate-response.json" ]; then
    RESP_ARGS=(--response "$TMP/mutate-response.json")
  fi

  start_ceiling() {
    CEIL_PORT=$(free_port)
    "$CEILING" --listen "$CEIL_PORT" --cert "$CERTS/tls.crt" --key "$CERTS/tls.key" "${RESP_ARGS[@]}" \
      >"$TMP/ceiling.out" 2>&1 &
    CEIL_PID=$!
    PIDS+=("$CEIL_PID")
    wait_ready "$CEIL_PORT" "$CEIL_PID"
    say "ceiling: pid $CEIL_PID port $CEIL_PORT $(head -1 "$TMP/ceiling.out")"
  }
  # start_server VAR_PORT VAR_PID
  start_server() {
    local port pid
    port=$(free_port)
    "$SERVER" serve --listen "127.0.0.1:$port" --tls-cert-file "$CERTS/tls.crt" \
      --tls-private-key-file "$CERTS/tls.key" --osimagestream-file "$SNAPSHOT" --log-level warn \
      >>"$SERVER_LOG" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_ready "$port" "$pid" || { tail -5 "$SERVER_LOG"; return 1; }
    printf -v "$1" '%s' "$port"
    printf -v "$2" '%s' "$pid"
  }
  # ensure_server: if the webhook died, says how (exit status, log tail),
  # counts it and starts a new one, so one crash does not end the run.
  ensure_server() {
    local st=0
    kill -0 "$SRV_PID" 2>/dev/null && return 0
    wait "$SRV_PID" 2>/dev/null || st=$?
    say "DIED server=webhook pid=$SRV_PID status=$st (>128: killed by signal status-128)"
    tail -5 "$SERVER_LOG" | sed 's/^/  server log: /'
    start_server SRV_PORT SRV_PID && say "webhook: restarted as pid $SRV_PID port $SRV_PORT"
  }
  stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

  # ---- throughput and latency matrix ---------------------------------------------
  # run_point NAME PORT PID ENDPOINT CONNS ROUND
  run_point() {
    local name=$1 port=$2 pid=$3 ep=$4 c=$5 round=$6 t=2 c0 c1 line times
    [ "$c" = 1 ] && t=1
    [ "$t" -gt "$c" ] && t=$c
    [ "$WARMUP" = 0 ] || wrk -t"$t" -c"$c" -d"${WARMUP}s" -s "$SRC/bench/post.lua" "https://127.0.0.1:$port/$ep" >/dev/null 2>&1 || true
    c0=$(cpu_ticks "$pid")
    TIMEFORMAT='WRKTIME %3U %3S %3R'
    { time wrk -t"$t" -c"$c" -d"${DURATION}s" -s "$SRC/bench/post.lua" "https://127.0.0.1:$port/$ep" \
      >"$TMP/wrk.out" 2>&1; } 2>"$TMP/wrk.time"
    c1=$(cpu_ticks "$pid")
    if [ -z "$c0" ] || [ -z "$c1" ]; then
      say "bench: $name (pid $pid) is gone; $ep c=$c round $round not measured"
      return 0
    fi
    line=$(grep '^BENCH ' "$TMP/wrk.out" || true)
    times=$(grep '^WRKTIME ' "$TMP/wrk.time" || true)
    if [ -z "$line" ] || [ -z "$times" ]; then
      say "bench: wrk failed for $name $ep c=$c:"; cat "$TMP/wrk.out" "$TMP/wrk.time"
      return 0
    fi
    say "POINT round=$round server=$name endpoint=$ep conns=$c threads=$t ${line#BENCH } srv_cpu_ticks=$((c1 - c0)) clk_tck=$CLK_TCK wrk_times=\"${times#WRKTIME }\""
  }

  # ---- cluster state: sync against the wire, then a synced webhook held ----------
  # start_cluster: bench/syncbench.py's SYNC lines, then HOLD_PID (the script)
  # and CL_PID/CL_PORT (its webhook, synced from the double); empty on failure.
  CL_PID= CL_PORT= HOLD_PID=
  start_cluster() {
    local out=$TMP/syncbench.out line
    # shellcheck disable=SC2086 # SYNC_ARGS is a list of flags
    CL_PORT=$(free_port)
    : >"$out"
    python3 "$SRC/bench/syncbench.py" --bin "$SERVER" --runs "$SYNC_RUNS" $SYNC_ARGS --hold \
      --listen "$CL_PORT" --certs "$CERTS" <"$TMP/hold.fifo" >"$out" 2>&1 &
    HOLD_PID=$!
    PIDS+=("$HOLD_PID")
    exec {HOLD_FD}>"$TMP/hold.fifo" # stdin of the script: it holds until this closes
    for _ in $(seq 6000); do
      grep -q '^HOLD ' "$out" && break
      kill -0 "$HOLD_PID" 2>/dev/null || break
      sleep 0.1
    done
    grep -v '^HOLD ' "$out" || true
    line=$(grep '^HOLD ' "$out" || true)
    if [ -z "$line" ]; then
      say "bench: the cluster-state webhook did not start (syncbench output above)"
      CL_PORT=
      return 0
    fi
    CL_PID=$(sed -n 's/.* pid=\([0-9]*\).*/\1/p' <<<"$line")
    say "webhook-cluster: pid $CL_PID port $CL_PORT (synced from the API double) ${line#HOLD }"
  }
  stop_cluster() {
    [ -n "$HOLD_PID" ] || return 0
    exec {HOLD_FD}>&-
    stop_pid "$HOLD_PID"
    HOLD_PID=
  }
  if [ -n "$SERVER" ] && [ "$CLUSTER" = 1 ]; then
    say "== cluster state (issue 10 item 8): sync of 2,000 MachineConfigs against the wire, $SYNC_RUNS runs"
    mkfifo "$TMP/hold.fifo"
    start_cluster
  fi

  say "== matrix: endpoints [$ENDPOINTS], connections [$CONNS], ${DURATION}s runs (+${WARMUP}s warm-up), $ROUNDS rounds, ceiling and webhook alternating${CL_PID:+, webhook-cluster at [$CLUSTER_CONNS]}"
  start_ceiling
  if [ -n "$SERVER" ]; then
    start_server SRV_PORT SRV_PID
    say "webhook: pid $SRV_PID port $SRV_PORT ($SERVER)"
  else
    say "MISSING webhook binary: measuring the ceiling alone"
  fi
  for round in $(seq "$ROUNDS"); do
    for ep in $ENDPOINTS; do
      for c in $CONNS; do
        run_point ceiling "$CEIL_PORT" "$CEIL_PID" "$ep" "$c" "$round"
        [ -z "$SERVER" ] || { ensure_server && run_point webhook "$SRV_PORT" "$SRV_PID" "$ep" "$c" "$round"; }
        if [ -n "$CL_PID" ] && [[ " $CLUSTER_CONNS " == *" $c "* ]]; then
          run_point webhook-cluster "$CL_PORT" "$CL_PID" "$ep" "$c" "$round"
        fi
      done
    done
  done
  if [ -n "$CL_PID" ]; then
    say "MEM what=peak_under_load server=webhook-cluster vmhwm_kb=$(status_kb "$CL_PID" VmHWM) vmrss_kb=$(status_kb "$CL_PID" VmRSS)"
  fi
  stop_cluster
  say "MEM what=peak_under_load server=ceiling vmhwm_kb=$(status_kb "$CEIL_PID" VmHWM) vmrss_kb=$(status_kb "$CEIL_PID" VmRSS)"
  if [ -n "$SERVER" ]; then
    say "MEM what=peak_under_load server=webhook vmhwm_kb=$(status_kb "$SRV_PID" VmHWM) vmrss_kb=$(status_kb "$SRV_PID" VmRSS)"
    stop_pid "$SRV_PID"
  fi

  # ---- memory: idle, 1000 idle TLS connections -------------------------------------
  # idle_conns NAME PORT PID
  idle_conns() {
    local name=$1 port=$2 pid=$3 py
    local out=$TMP/idle-$name.out
    : >"$out" # exists and is empty before the client starts (no stale content)
    python3 "$SRC/bench/tlsclient.py" idle "$port" "$IDLE_CONNS" >"$out" 2>&1 &
    py=$!
    for _ in $(seq 600); do
      grep -q '^fresh_' "$out" && break
      kill -0 "$py" 2>/dev/null || break
      sleep 0.1
    done
    sleep 1
    say "MEM what=idle_conns server=$name conns=$IDLE_CONNS vmrss_kb=$(status_kb "$pid" VmRSS) $(tr '\n' ' ' <"$out")"
    kill -TERM "$py" 2>/dev/null || true
    wait "$py" 2>/dev/null || true
  }
  say "== memory"
  stop_pid "$CEIL_PID"
  start_ceiling
  sleep 0.5
  say "MEM what=idle server=ceiling vmrss_kb=$(status_kb "$CEIL_PID" VmRSS)"
  idle_conns ceiling "$CEIL_PORT" "$CEIL_PID"
  stop_pid "$CEIL_PID"
  if [ -n "$SERVER" ]; then
    start_server SRV_PORT SRV_PID
    sleep 0.5
    say "MEM what=idle server=webhook vmrss_kb=$(status_kb "$SRV_PID" VmRSS)"
    idle_conns webhook "$SRV_PORT" "$SRV_PID"
  fi

  # ---- leak check: RSS after LEAK_BASE and after LEAK_REQUESTS requests ------------
  # Chunks of wrk runs (mutate, 64 connections) sized from the measured rate,
  # until the request count passes each mark; RSS after every chunk too. The
  # ceiling gets the same treatment, to tell the stack's allocator behaviour
  # from the webhook's own.
  # leak_check NAME PORT PID
  leak_check() {
    local name=$1 port=$2 pid=$3 done_reqs=0 rate=0 mark secs n errs
    for mark in "$LEAK_BASE" "$LEAK_REQUESTS"; do
      while [ "$done_reqs" -lt "$mark" ]; do
        secs=1 # until the first chunk has measured the rate
        [ "$rate" -gt 0 ] && secs=$(((mark - done_reqs) / rate))
        [ "$secs" -lt 1 ] && secs=1
        [ "$secs" -gt 5 ] && secs=5
        wrk -t2 -c64 -d"${secs}s" -s "$SRC/bench/post.lua" "https://127.0.0.1:$port/mutate" >"$TMP/wrk.out" 2>&1 || true
        n=$(sed -n 's/^BENCH requests=\([0-9]*\) .*/\1/p' "$TMP/wrk.out")
        errs=$(grep -o 'err_[a-z]*=[1-9][0-9]*' "$TMP/wrk.out" | tr '\n' ' ' || true)
        [ -n "$errs" ] && say "bench: errors during the leak check ($name): $errs"
        if [ -z "$n" ] || [ "$n" -eq 0 ]; then
          say "bench: wrk made no requests ($name)"
          return 0
        fi
        done_reqs=$((done_reqs + n))
        rate=$((n / secs + 1))
        say "MEM what=leak_progress server=$name requests=$done_reqs vmrss_kb=$(status_kb "$pid" VmRSS)"
      done
      sleep 0.5
      say "MEM what=after_requests server=$name requests=$done_reqs mark=$mark vmrss_kb=$(status_kb "$pid" VmRSS) vmhwm_kb=$(status_kb "$pid" VmHWM)"
    done
  }
  if [ "$LEAK_REQUESTS" -gt 0 ]; then
    say "== leak check: /mutate at 64 connections, RSS after $LEAK_BASE and after $LEAK_REQUESTS requests"
    if [ -n "$SERVER" ]; then
      stop_pid "$SRV_PID"
      start_server SRV_PORT SRV_PID
      leak_check webhook "$SRV_PORT" "$SRV_PID"
    fi
    if [ "$LEAK_CEILING" = 1 ]; then
      start_ceiling
      leak_check ceiling "$CEIL_PORT" "$CEIL_PID"
      stop_pid "$CEIL_PID"
    fi
  fi
  [ -z "$SERVER" ] || stop_pid "$SRV_PID"

  # ---- start -> ready -------------------------------------------------------------
  if [ -n "$SERVER" ]; then
    say "== start -> /readyz 200 ($READY_RUNS runs)"
    port=$(free_port)
    python3 "$SRC/bench/tlsclient.py" ready "$port" "$READY_RUNS" -- "$SERVER" serve \
      --listen "127.0.0.1:$port" --tls-cert-file "$CERTS/tls.crt" --tls-private-key-file "$CERTS/tls.key" \
      --osimagestream-file "$SNAPSHOT" --log-level warn || say "bench: start -> ready failed"
  fi

  # ---- microbenchmark ---------------------------------------------------------------
  say "== decision path microbenchmark"
  if [ -n "$MICRO" ]; then
    "$MICRO" --data "$SRC/tests/data" --seconds "$MICRO_SECONDS" || say "bench: microbenchmark failed"
  else
    say "MISSING osw-microbench (the core library did not build)"
  fi

}

OUT_DIR=$SRC/bench/out
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$OUT_DIR/bench-$STAMP.txt
mkdir -p "$OUT_DIR"
main 2>&1 | tee "$OUT"
echo "== report" | tee -a "$OUT"
python3 "$SRC/bench/report.py" "$OUT" | tee -a "$OUT.report"
cat "$OUT.report" >>"$OUT" && rm -f "$OUT.report"
echo "saved to $OUT"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the real binary the way the rendered Deployment runs it and calls it
# the way the cluster would: with the Deployment's own args (only --listen
# moved to 127.0.0.1 and the certificate paths to a temporary directory), a
# certificate for the Service's DNS name, the probes' paths, the webhook
# configurations' paths and the ServiceMonitor's path on the metrics port
# (--metrics-listen moved to 127.0.0.1 as well). Then SIGTERM: /readyz
# must turn 503 and the process must exit 0 well within the Deployment's
# terminationGracePeriodSeconds.
#
# Until the in-cluster API source exists (a later issue) the OSImageStream
# comes from --osimagestream-file, the one flag added here.
source "$(dirname "$0")/lib.sh"

need_bin
need_kubectl
install_node_modules
command -v curl >/dev/null || fail "curl not found"
command -v python3 >/dev/null || fail "python3 not found"

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

render openshift "$work/openshift.yaml"
declare -A fact
deploy_args=()
while IFS=$'\t' read -r key value; do
  if [ "$key" = arg ]; then deploy_args+=("$value"); else fact[$key]=$value; fi
done < <(node "$DEPLOY_TESTS/check_manifests.js" --facts "$work/openshift.yaml")
((${#deploy_args[@]})) || fail "no args found in the rendered Deployment"
dns=${fact[service_dns]}

"$OSW_BIN" gen-certs --dir "$work/tls" --dns-name "$dns" >/dev/null || fail "gen-certs failed"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
mport=$(free_port)
[ "$mport" != "$port" ] || mport=$(free_port)
args=()
for a in "${deploy_args[@]}"; do
  case "$a" in
    --listen=*) args+=("--listen=127.0.0.1:$port") ;;
    --metrics-listen=*) args+=("--metrics-listen=127.0.0.1:$mport") ;;
    --tls-cert-file=*) args+=("--tls-cert-file=$work/tls/$(basename "${a#*=}")") ;;
    --tls-private-key-file=*) args+=("--tls-private-key-file=$work/tls/$(basename "${a#*=}")") ;;
    *) args+=("$a") ;;
  esac
done
args+=("--osimagestream-file=$OSW_SRC/tests/data/osimagestream.yaml")

"$OSW_BIN" serve "${args[@]}" 2>"$work/server.log" &
pid=$!

# curl PATH [curl args...]: prints the HTTP status; body in $work/body.
# PORT (default: the admission port) picks the listener.
call() {
  local path=$1 p=${PORT:-$port}
  shift
  curl -sS --max-time 5 --cacert "$work/tls/ca.crt" --resolve "$dns:$p:127.0.0.1" \
    -o "$work/body" -w '%{http_code}' "$@" "https://$dns:$p$path" 2>>"$work/curl.log" || true
}

ready=
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "server exited at start-up: $OSW_BIN serve ${args[*]}"; }
  if [ "$(call "${fact[readiness_path]}")" = 200 ]; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { cat "$work/server.log" "$work/curl.log" >&2; fail "readiness probe ${fact[readiness_path]} never answered 200 within 10 s"; }
echo "ok readiness probe GET ${fact[readiness_path]} on https://$dns:$port (certificate valid for the Service name)"

st=$(call "${fact[liveness_path]}")
[ "$st" = 200 ] || fail "liveness probe GET ${fact[liveness_path]} answered $st"
echo "ok liveness probe GET ${fact[liveness_path]}"

[ "${fact[metrics_port_name]}" = metrics ] || fail "the ServiceMonitor scrapes port ${fact[metrics_port_name]}, not metrics (--metrics-listen)"
st=$(PORT=$mport call "${fact[metrics_path]}")
[ "$st" = 200 ] && grep -q '^# TYPE osstream_webhook_requests_total' "$work/body" ||
  fail "ServiceMonitor path GET ${fact[metrics_path]} on the metrics port answered $st without osstream_webhook_requests_total"
echo "ok ServiceMonitor GET ${fact[metrics_path]} on the metrics port"
st=$(call "${fact[metrics_path]}")
[ "$st" = 404 ] || fail "GET ${fact[metrics_path]} on the admission port answered $st, expected 404 with --metrics-listen"
st=$(PORT=$mport call "${fact[readiness_path]}")
[ "$st" = 404 ] || fail "GET ${fact[readiness_path]} on the metrics port answered $st, expected 404"
echo "ok the metrics port serves /metrics only, the admission port no /metrics"

review="$OSW_SRC/tests/data/admissionreview-update-worker-rhel10.json"
uid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["uid"])' "$review")
for p in "${fact[validate_path]}" "${fact[mutate_path]}"; do
  st=$(call "$p" -H 'Content-Type: application/json' --data-binary "@$review")
  [ "$st" = 200 ] || fail "webhook POST $p answered $st"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["response"]; sys.exit(0 if r["uid"]==sys.argv[2] and "allowed" in r else 1)' \
    "$work/body" "$uid" || fail "webhook POST $p did not answer an AdmissionReview for uid $uid: $(head -c 300 "$work/body")"
  echo "ok webhook POST $p answers the AdmissionReview"
done
# The checks above mean something only if a wrong path is refused.
st=$(call /no-such-path -H 'Content-Type: application/json' --data-binary "@$review")
[ "$st" = 404 ] || fail "POST /no-such-path answered $st, expected 404"

# Shutdown as the kubelet does it: SIGTERM, then the grace period.
grace=${fact[grace_seconds]}
start=$(date +%s%N)
kill -TERM "$pid"
not_ready=
for _ in $(seq 1 20); do
  if [ "$(call "${fact[readiness_path]}")" = 503 ]; then not_ready=1; break; fi
  sleep 0.1
done
[ -n "$not_ready" ] || fail "readiness probe did not turn 503 within 2 s of SIGTERM"
echo "ok readiness probe answers 503 after SIGTERM"
for _ in $(seq 1 $((grace * 10))); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then fail "server still running ${grace} s (terminationGracePeriodSeconds) after SIGTERM"; fi
rc=0
wait "$pid" || rc=$?
pid=
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 0 ] || { cat "$work/server.log" >&2; fail "server exited $rc after SIGTERM"; }
echo "ok exited 0 ${elapsed_ms} ms after SIGTERM (terminationGracePeriodSeconds ${grace} s)"

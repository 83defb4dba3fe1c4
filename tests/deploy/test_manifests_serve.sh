#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the real binary the way the rendered OpenShift Deployment runs it in a
# cluster and calls it the way the cluster would: with the Deployment's own
# args (only --listen and --metrics-listen moved to 127.0.0.1 and the
# certificate paths to a temporary directory), a certificate for the
# Service's DNS name, and the in-cluster configuration a pod gets:
# KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT pointing at a
# kube-apiserver double (kubeapi_cluster.py, on tests/integration/kubeapi.py)
# that serves the OSImageStream `cluster` (tests/data/osimagestream.json),
# and the service account's `token` and `ca.crt` in a temporary directory
# given as --serviceaccount-dir, the one flag added to the Deployment's args.
#
# Then the probes' paths, the webhook configurations' paths, and the
# ServiceMonitor's scrape on the metrics port as platform Prometheus does it
# with --metrics-auth=kubernetes: the double answers the TokenReviews and
# SubjectAccessReviews the webhook sends, deciding the latter with the RBAC
# of the rendered manifests, so prometheus-k8s's bearer token gets 200 and
# the metrics, no token or an unknown one 401, and a service account the
# manifests do not bind to osstream-webhook-metrics-reader 403. Then one
# AdmissionReview per webhook entry, version and operation the rendered
# configurations register, on the path the entry names
# (admission_requests.py): the OSImageStream DELETE denied, the rest allowed
# with the warnings that show the kind was judged. Last,
# SIGTERM: /readyz must turn 503 and the process must exit 0 well within the
# Deployment's terminationGracePeriodSeconds.
source "$(dirname "$0")/lib.sh"

need_bin
need_kubectl
install_node_modules
command -v curl >/dev/null || fail "curl not found"
command -v python3 >/dev/null || fail "python3 not found"

work=$(mktemp -d)
pid=     # the webhook
api_pid= # the API server double
cleanup() {
  # Our own children only, by PID; a child not yet waited for keeps its PID.
  {
    if [ -n "$pid" ]; then kill -KILL "$pid" || true; wait "$pid" || true; fi
    if [ -n "$api_pid" ]; then
      kill -TERM "$api_pid" || true
      for _ in $(seq 1 30); do kill -0 "$api_pid" || break; sleep 0.1; done
      kill -KILL "$api_pid" || true
      wait "$api_pid" || true
    fi
  } 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

render openshift "$work/openshift.yaml"
declare -A fact
deploy_args=()
: >"$work/grants"
: >"$work/webhooks"
while IFS=$'\t' read -r key value; do
  case "$key" in
    arg) deploy_args+=("$value") ;;
    grant) printf '%s\n' "$value" >>"$work/grants" ;;
    webhook) printf '%s\n' "$value" >>"$work/webhooks" ;;
    *) fact[$key]=$value ;;
  esac
done < <(node "$DEPLOY_TESTS/check_manifests.js" --facts "$work/openshift.yaml")
((${#deploy_args[@]})) || fail "no args found in the rendered Deployment"
[ -s "$work/grants" ] || fail "no RBAC grants found in the rendered manifests"
grep -qx -- '--metrics-auth=kubernetes' <<<"$(printf '%s\n' "${deploy_args[@]}")" ||
  fail "the OpenShift Deployment's args lack --metrics-auth=kubernetes: ${deploy_args[*]}"
dns=${fact[service_dns]}

"$OSW_BIN" gen-certs --dir "$work/tls" --dns-name "$dns" >/dev/null || fail "gen-certs failed"

# The cluster: the API server double with the webhook's service account
# token and CA (what kubelet mounts), the OSImageStream, and tokens for
# platform Prometheus (the ServiceMonitor's bearerTokenFile is its own
# service account's token) and for a service account nothing binds.
python3 "$DEPLOY_TESTS/kubeapi_cluster.py" --certdir "$work/apiserver" \
  --serviceaccount-dir "$work/serviceaccount" --as osstream-webhook/osstream-webhook \
  --token "openshift-monitoring/prometheus-k8s=$work/prometheus.token" \
  --token "default/default=$work/unbound.token" \
  --grants "$work/grants" --object "osimagestreams=$OSW_SRC/tests/data/osimagestream.json" \
  >"$work/api.json" 2>"$work/api.log" </dev/null &
api_pid=$!
api_port=
for _ in $(seq 1 300); do
  kill -0 "$api_pid" 2>/dev/null || { cat "$work/api.log" >&2; fail "the API server double exited at start-up"; }
  if [ -s "$work/api.json" ]; then
    api_port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$work/api.json") && break
  fi
  sleep 0.1
done
[ -n "$api_port" ] || { cat "$work/api.log" >&2; fail "the API server double did not start within 30 s"; }
for f in token ca.crt; do [ -s "$work/serviceaccount/$f" ] || fail "no $f in the service account directory"; done
prometheus_token=$(cat "$work/prometheus.token")
unbound_token=$(cat "$work/unbound.token")

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
args+=("--serviceaccount-dir=$work/serviceaccount")

# In-cluster configuration, as kubelet sets it in every pod; nothing else of
# this shell's environment that serve reads (KUBECONFIG, OSSTREAM_*).
env_args=(-u KUBECONFIG)
for v in $(compgen -e); do case "$v" in OSSTREAM_*) env_args+=(-u "$v") ;; esac; done
env "${env_args[@]}" KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$api_port" \
  "$OSW_BIN" serve "${args[@]}" 2>"$work/server.log" &
pid=$!

# curl PATH [curl args...]: prints the HTTP status; body in $work/body.
# PORT (default: the admission port) picks the listener.
call() {
  local path=$1 p=${PORT:-$port}
  shift
  curl -sS --max-time 5 --cacert "$work/tls/ca.crt" --resolve "$dns:$p:127.0.0.1" \
    -D "$work/headers" -o "$work/body" -w '%{http_code}' "$@" "https://$dns:$p$path" 2>>"$work/curl.log" || true
}
logs() { cat "$work/server.log" "$work/api.log" "$work/curl.log" >&2 2>/dev/null || true; }

ready=
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { logs; fail "server exited at start-up: $OSW_BIN serve ${args[*]}"; }
  if [ "$(call "${fact[readiness_path]}")" = 200 ]; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { logs; fail "readiness probe ${fact[readiness_path]} never answered 200 within 10 s (in-cluster API source at 127.0.0.1:$api_port)"; }
echo "ok readiness probe GET ${fact[readiness_path]} on https://$dns:$port (certificate valid for the Service name; OSImageStream listed from the API)"

st=$(call "${fact[liveness_path]}")
[ "$st" = 200 ] || fail "liveness probe GET ${fact[liveness_path]} answered $st"
echo "ok liveness probe GET ${fact[liveness_path]}"

# The ServiceMonitor's scrape, as platform Prometheus sends it: its own
# service account's token as a bearer token (--metrics-auth=kubernetes).
[ "${fact[metrics_port_name]}" = metrics ] || fail "the ServiceMonitor scrapes port ${fact[metrics_port_name]}, not metrics (--metrics-listen)"
st=$(PORT=$mport call "${fact[metrics_path]}" -H "Authorization: Bearer $prometheus_token")
[ "$st" = 200 ] && grep -q '^# TYPE osstream_webhook_requests_total' "$work/body" ||
  { logs; fail "ServiceMonitor path GET ${fact[metrics_path]} on the metrics port with prometheus-k8s's token answered $st without osstream_webhook_requests_total"; }
grep -qx 'osstream_webhook_osimagestream_synced 1' "$work/body" ||
  fail "the metrics do not say osstream_webhook_osimagestream_synced 1 (the OSImageStream from the API)"
echo "ok ServiceMonitor GET ${fact[metrics_path]} on the metrics port with prometheus-k8s's bearer token: 200 and the metrics"
st=$(PORT=$mport call "${fact[metrics_path]}")
[ "$st" = 401 ] || fail "GET ${fact[metrics_path]} on the metrics port without a token answered $st, expected 401"
grep -qi '^WWW-Authenticate: Bearer' "$work/headers" || fail "the 401 without a token carries no WWW-Authenticate: Bearer"
echo "ok GET ${fact[metrics_path]} without a token: 401 (WWW-Authenticate: Bearer)"
st=$(PORT=$mport call "${fact[metrics_path]}" -H "Authorization: Bearer not-a-service-account-token")
[ "$st" = 401 ] || fail "GET ${fact[metrics_path]} with a token the TokenReview rejects answered $st, expected 401"
st=$(PORT=$mport call "${fact[metrics_path]}" -H "Authorization: Bearer $unbound_token")
[ "$st" = 403 ] || fail "GET ${fact[metrics_path]} as default/default (not bound to the metrics reader role) answered $st, expected 403"
echo "ok GET ${fact[metrics_path]} with an unknown token: 401; as a service account the manifests do not bind: 403"
st=$(call "${fact[metrics_path]}")
[ "$st" = 404 ] || fail "GET ${fact[metrics_path]} on the admission port answered $st, expected 404 with --metrics-listen"
st=$(PORT=$mport call "${fact[readiness_path]}")
[ "$st" = 404 ] || fail "GET ${fact[readiness_path]} on the metrics port answered $st, expected 404"
echo "ok the metrics port serves /metrics only, the admission port no /metrics"

review="$OSW_SRC/tests/data/admissionreview-update-worker-rhel10.json"
uid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["uid"])' "$review")
# The review moves the worker pool to rhel-10, a stream of the OSImageStream
# the double serves: allowed, and /mutate writes the stream's annotations.
for p in "${fact[validate_path]}" "${fact[mutate_path]}"; do
  st=$(call "$p" -H 'Content-Type: application/json' --data-binary "@$review")
  [ "$st" = 200 ] || fail "webhook POST $p answered $st"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["response"]; sys.exit(0 if r["uid"]==sys.argv[2] and r.get("allowed") is True and (sys.argv[3]!="patch" or r.get("patchType")=="JSONPatch") else 1)' \
    "$work/body" "$uid" "$([ "$p" = "${fact[mutate_path]}" ] && echo patch)" ||
    fail "webhook POST $p did not allow the AdmissionReview for uid $uid (with a patch from /mutate): $(head -c 300 "$work/body")"
  echo "ok webhook POST $p allows the AdmissionReview$([ "$p" = "${fact[mutate_path]}" ] && echo ' with a patch') (stream from the API's OSImageStream)"
done
# One request per registered kind, version and operation, sent to the path
# each webhook entry of the rendered configurations names, shaped to pass
# its matchConditions (admission_requests.py): the deletion guard must deny
# an OSImageStream DELETE in every version; everything else is allowed, a
# MachineConfig by tag with W-TAG and a defaultStream downgrade with
# W-DOWNGRADE (proof that /validate judged that kind, not just allowed it).
[ -s "$work/webhooks" ] || fail "no webhook entries found in the rendered configurations"
n=0
while IFS=$'\t' read -r wname wpath wresource wversions wops; do
  for v in ${wversions//,/ }; do
    for op in ${wops//,/ }; do
      n=$((n + 1))
      ruid="deploy-$n-$op"
      python3 "$DEPLOY_TESTS/admission_requests.py" review "$wname" "$wresource" "$v" "$op" "$ruid" >"$work/review-$n.json" ||
        fail "no AdmissionReview for $wresource $v $op"
      st=$(call "$wpath" -H 'Content-Type: application/json' --data-binary "@$work/review-$n.json")
      [ "$st" = 200 ] || { logs; fail "webhook $wname: POST $wpath for $wresource $v $op answered $st"; }
      why=$(python3 "$DEPLOY_TESTS/admission_requests.py" judge "$wresource" "$op" "$ruid" "$work/body") ||
        { logs; fail "webhook $wname: POST $wpath for $wresource $v $op: $why: $(head -c 400 "$work/body")"; }
      echo "ok webhook $wname: POST $wpath $wresource $v $op: $([ "$wresource/$op" = osimagestreams/DELETE ] && echo denied || echo allowed)"
    done
  done
done <"$work/webhooks"
grep -q "$(printf '\tosimagestreams\t')[^\t]*$(printf '\t')[^\t]*DELETE" "$work/webhooks" ||
  fail "no webhook entry registers OSImageStream DELETE (the deletion guard)"

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
[ "$rc" = 0 ] || { logs; fail "server exited $rc after SIGTERM"; }
echo "ok exited 0 ${elapsed_ms} ms after SIGTERM (terminationGracePeriodSeconds ${grace} s)"

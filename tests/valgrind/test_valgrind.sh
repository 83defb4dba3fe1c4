#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# valgrind-clean runs (memcheck: no errors, no definite leaks):
#   1. the golden suite (every contract case, both readers, idempotency);
#   2. `review` on the example, both endpoints;
#   3. the server: start, answer validate/mutate/deny/metrics/404 over TLS,
#      SIGTERM, exit 0.
# Env: OSW_BIN (the binary), OSW_BUILD (the build dir with test_golden).
set -euo pipefail
: "${OSW_BIN:?}" "${OSW_BUILD:?}" "${OSW_SRC:?}"
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/install-deps.sh test)"; exit 1; }
# has PATTERN CMD...: CMD's whole output contains PATTERN. The output is read to
# its end before grep looks: `CMD | grep -q` under pipefail fails at random when
# grep exits at the first match and CMD (curl) then fails writing the rest.
has() {
  local pat=$1 out
  shift
  out=$("$@")
  grep -q -- "$pat" <<<"$out" || { echo "no '$pat' in the output of: $*"; return 1; }
}
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill -9 "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

echo "== golden suite under valgrind"
"${VG[@]}" "$OSW_BUILD/test_golden" >/dev/null

echo "== review under valgrind"
for ep in validate mutate; do
  has '"allowed":true' "${VG[@]}" "$OSW_BIN" review --osimagestream-file "$OSW_SRC/examples/osimagestream.yaml" \
    --endpoint "$ep" "$OSW_SRC/examples/admissionreview.json"
done

echo "== server under valgrind"
"$OSW_BIN" gen-certs --dir "$tmp/c" --dns-name localhost >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${VG[@]}" "$OSW_BIN" serve --listen "127.0.0.1:$port" --tls-cert-file "$tmp/c/tls.crt" \
  --tls-private-key-file "$tmp/c/tls.key" --osimagestream-file "$OSW_SRC/examples/osimagestream.yaml" \
  --log-level warn 2>"$tmp/server.log" &
server=$!
c=(curl -sS --max-time 20 --cacert "$tmp/c/ca.crt")
for _ in $(seq 1 120); do
  [ "$("${c[@]}" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/readyz" 2>/dev/null)" = 200 ] && break
  sleep 0.5
done
post() { "${c[@]}" -H 'Content-Type: application/json' --data-binary @"$2" "https://127.0.0.1:$port/$1"; }
has '"allowed":true' post validate "$OSW_SRC/examples/admissionreview.json"
has '"patchType":"JSONPatch"' post mutate "$OSW_SRC/examples/admissionreview.json"
sed 's/"name": "rhel-10"/"name": "rhel-8"/' "$OSW_SRC/examples/admissionreview.json" >"$tmp/deny.json"
has '"allowed":false' post validate "$tmp/deny.json"
has '^# TYPE osstream_webhook_requests_total counter' "${c[@]}" "https://127.0.0.1:$port/metrics"
[ "$("${c[@]}" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/nope")" = 404 ]
kill -TERM "$server"
rc=0
wait "$server" || rc=$?
server=
if [ "$rc" != 0 ]; then
  echo "server under valgrind exited $rc:"; cat "$tmp/server.log"; exit 1
fi
echo "1 passed, 0 failed"

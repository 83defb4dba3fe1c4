# SPDX-License-Identifier: Apache-2.0
# Shared set-up of the deploy tests (sourced by tests/deploy/test_*.sh):
# checks that kubectl (with kustomize v5) and node are there, installs the
# schema packages pinned in package-lock.json once into a cache directory,
# and renders the overlays. Everything fails loudly: a missing tool is a
# failed test, never a skipped one.
#
# Environment: OSW_SRC (repo root; default: two levels up from here), OSW_BIN
# (the built binary; the cache defaults to its build directory),
# OSW_DEPLOY_CACHE (where node_modules goes; default <build dir>/deploy-node,
# or $TMPDIR/osstream-webhook-deploy-node without OSW_BIN).

set -euo pipefail

OSW_SRC=${OSW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DEPLOY_TESTS="$OSW_SRC/tests/deploy"
OVERLAYS=(openshift openshift-single-node cert-manager)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The binary is part of what is tested: no binary, no pass.
need_bin() {
  [ -n "${OSW_BIN:-}" ] || fail "OSW_BIN is not set (ctest sets it to the built osstream-webhook)"
  [ -x "$OSW_BIN" ] || fail "OSW_BIN=$OSW_BIN is not an executable file (build it first)"
}

need_kubectl() {
  command -v kubectl >/dev/null ||
    fail "kubectl not found: install kubectl >= 1.27 (kustomize v5) from https://kubernetes.io/docs/tasks/tools/ (Debian's kubernetes-client is too old)"
  local kv
  kv=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"kustomizeVersion": *"\([^"]*\)".*/\1/p')
  case "$kv" in
    v5.*) ;;
    *) fail "kubectl's kustomize is '${kv:-unknown}', need v5 (kubectl >= 1.27)" ;;
  esac
}

need_node() {
  command -v node >/dev/null || fail "node not found: install Node.js >= 20 (and npm)"
  command -v npm >/dev/null || fail "npm not found: install npm (Node.js >= 20)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || fail "node $(node --version) is too old, need >= 20"
}

# Installs the pinned packages into $OSW_DEPLOY_CACHE once per lock file
# (`npm ci`, under a lock so parallel ctest runs do not race) and exports
# NODE_PATH so check_manifests.js finds them.
install_node_modules() {
  need_node
  local cache=${OSW_DEPLOY_CACHE:-}
  if [ -z "$cache" ]; then
    if [ -n "${OSW_BIN:-}" ]; then cache="$(cd "$(dirname "$OSW_BIN")" && pwd)/deploy-node"; else cache="${TMPDIR:-/tmp}/osstream-webhook-deploy-node"; fi
  fi
  mkdir -p "$cache"
  local want
  want=$(cat "$DEPLOY_TESTS/package.json" "$DEPLOY_TESTS/package-lock.json" | sha256sum | cut -d' ' -f1)
  (
    flock -w 600 9 || fail "timed out waiting for $cache/.lock"
    if [ "$(cat "$cache/.stamp" 2>/dev/null)" != "$want" ] || [ ! -d "$cache/node_modules" ]; then
      cp "$DEPLOY_TESTS/package.json" "$DEPLOY_TESTS/package-lock.json" "$cache/"
      echo "installing schema packages into $cache (npm ci)" >&2
      (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
        fail "npm ci failed in $cache (needs access to the npm registry)"
      echo "$want" >"$cache/.stamp"
    fi
  ) 9>"$cache/.lock"
  export NODE_PATH="$cache/node_modules"
}

# render NAME OUTFILE: kubectl kustomize of deploy/base or deploy/overlays/NAME.
render() {
  local dir="$OSW_SRC/deploy/overlays/$1"
  [ "$1" = base ] && dir="$OSW_SRC/deploy/base"
  kubectl kustomize "$dir" >"$2" || fail "kubectl kustomize $dir failed"
  [ -s "$2" ] || fail "kubectl kustomize $dir rendered nothing"
}

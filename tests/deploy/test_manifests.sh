#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Renders deploy/base and every overlay with `kubectl kustomize`, validates
# every object against the Kubernetes / cert-manager / prometheus-operator
# schemas (unknown fields included), and checks the manifests against what the
# server serves and the binary accepts: Service name and port, webhook paths,
# probes, no wildcard RBAC, the restricted security context, and the
# Deployment's flags against `$OSW_BIN serve --help` (check_manifests.js).
source "$(dirname "$0")/lib.sh"

need_bin
need_kubectl
install_node_modules

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=()
for name in base "${OVERLAYS[@]}"; do
  render "$name" "$work/$name.yaml"
  args+=("$name=$work/$name.yaml")
done
node "$DEPLOY_TESTS/check_manifests.js" --bin "$OSW_BIN" "${args[@]}"

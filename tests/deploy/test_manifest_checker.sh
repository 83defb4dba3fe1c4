#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Proves the manifest checks can fail: check_manifests.js --self-test breaks
# the rendered manifests one way at a time (a typo'd field, a wildcard verb, a
# privileged container, a wrong webhook path, a fail-open validating webhook,
# ...) and requires each broken variant to be reported, and the pristine
# manifests to pass.
source "$(dirname "$0")/lib.sh"

need_kubectl
install_node_modules

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=()
for name in base "${OVERLAYS[@]}"; do
  render "$name" "$work/$name.yaml"
  args+=("$name=$work/$name.yaml")
done
node "$DEPLOY_TESTS/check_manifests.js" --self-test "${args[@]}"

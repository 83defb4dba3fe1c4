#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The alerts the OpenShift overlay ships (deploy/overlays/openshift/
# prometheusrule.yaml), checked as Prometheus will load them: the rendered
# PrometheusRule's groups go through `promtool check rules`, then `promtool
# test rules` runs tests/deploy/alerts_test.yaml, which has a firing and a
# quiet case for every alert. Every alert must have a test and a runbook
# section in docs/operations.md (the runbook_url's anchor).
source "$(dirname "$0")/lib.sh"

need_kubectl
install_node_modules
command -v promtool >/dev/null || fail "promtool not found (Debian package prometheus; scripts/install-deps.sh test)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for overlay in openshift openshift-single-node; do
  render "$overlay" "$work/$overlay.yaml"
  node "$DEPLOY_TESTS/check_manifests.js" --rules "$work/$overlay.yaml" >"$work/$overlay-rules.json" ||
    fail "no PrometheusRule in $overlay"
done
cmp -s "$work/openshift-rules.json" "$work/openshift-single-node-rules.json" ||
  fail "the single-node overlay's alerts differ from the OpenShift overlay's"
cp "$work/openshift-rules.json" "$work/rules.json"
cp "$DEPLOY_TESTS/alerts_test.yaml" "$work/alerts_test.yaml"

promtool check rules "$work/rules.json" || fail "promtool check rules failed"

mapfile -t alerts < <(python3 -c 'import json,sys; [print(r["alert"]) for g in json.load(open(sys.argv[1]))["groups"] for r in g["rules"] if "alert" in r]' "$work/rules.json")
((${#alerts[@]})) || fail "the PrometheusRule has no alerts"
for a in "${alerts[@]}"; do
  grep -q "alertname: $a\$" "$work/alerts_test.yaml" || fail "alert $a has no promtool unit test in tests/deploy/alerts_test.yaml"
  anchor=$(tr '[:upper:]' '[:lower:]' <<<"$a")
  grep -qi "^#\+ .*\b$a\b" "$OSW_SRC/docs/operations.md" ||
    fail "alert $a has no runbook heading in docs/operations.md (anchor #$anchor)"
done
echo "ok ${#alerts[@]} alerts have a unit test and a runbook"

(cd "$work" && promtool test rules alerts_test.yaml) || fail "promtool test rules failed"
echo "ok promtool test rules"

#!/usr/bin/env bash
# Checks the Grafana dashboards: the committed JSON under dashboards/json must
# equal what the Go generator writes, and every file must pass
# `dashboard-linter lint --strict` with the exclusions in dashboards/.lint.
# dashboard-linter is installed into tools/bin from the pinned tools module on
# first use (about 90 s with a cold Go build cache, seconds afterwards).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

linter="$repo_root/tools/bin/dashboard-linter"
# `go install tool` is a no-op when tools/bin is current, and rebuilds after
# a pin change in tools/go.mod, so it is safe to run every time.
(cd tools && GOBIN="$repo_root/tools/bin" go install tool)

generated_dir="$(mktemp -d)"
trap 'rm -rf "$generated_dir"' EXIT

go run ./dashboards/gen -out "$generated_dir"
if ! diff -ru dashboards/json "$generated_dir"; then
	echo "check-dashboards: dashboards/json is stale; run: go run ./dashboards/gen" >&2
	exit 1
fi

shopt -s nullglob
dashboards=(dashboards/json/*.json)
if [ "${#dashboards[@]}" -eq 0 ]; then
	echo "check-dashboards: no dashboards under dashboards/json" >&2
	exit 1
fi

failed=0
for dashboard in "${dashboards[@]}"; do
	# The linter prints each rule's description before its findings; only the
	# findings and the exit status matter here.
	status=0
	output="$("$linter" lint --strict --config dashboards/.lint "$dashboard" 2>&1)" || status=$?
	grep -v '^Checks that' <<<"$output" || true
	if [ "$status" -ne 0 ]; then
		echo "check-dashboards: $dashboard fails dashboard-linter" >&2
		failed=1
	fi
done
if [ "$failed" -ne 0 ]; then
	exit 1
fi
echo "check-dashboards: ${#dashboards[@]} dashboards up to date and lint-clean"

#!/usr/bin/env bash
# Checks the Helm chart in charts/servicedesk-exporter without a cluster:
#   1. installs the pinned Helm (tools/helm/go.mod) into tools/bin;
#   2. the chart's copies of rules/*.yml and dashboards/json/*.json are
#      current (else: go run ./charts/gen);
#   3. helm lint --strict and helm template with the default values and
#      with each ci/*-values.yaml;
#   4. the Go test in test/helm (its own module, so k8s.io/api stays out of
#      the exporter's go.mod): every rendered manifest decodes strictly into
#      its Kubernetes or Prometheus Operator type, the chart keeps its
#      promises (one replica, Recreate, probes on the health port, secrets
#      only from Secrets, ...), the schema refuses bad values, and the
#      exporter's --config.check accepts each rendered config.
# Building Helm takes about 5 minutes with a cold Go build cache, seconds
# afterwards.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

step() { printf '\n== check-helm: %s\n' "$*"; }

step "install the pinned helm"
# `go install tool` is a no-op when tools/bin/helm is current and rebuilds
# after a pin change in tools/helm/go.mod.
(cd tools/helm && GOBIN="$repo_root/tools/bin" nice -n 10 go install tool)
helm="$repo_root/tools/bin/helm"
"$helm" version --template '{{ .GoVersion }} {{ .KubeClientVersion }}'
echo " (helm.sh/helm/v4 $(awk '$1 == "helm.sh/helm/v4" { print $2 }' tools/helm/go.mod))"

# Keep the developer's repositories, plugins and caches out of it.
helm_home="$(mktemp -d)"
trap 'rm -rf "$helm_home"' EXIT
export HELM_CONFIG_HOME="$helm_home" HELM_CACHE_HOME="$helm_home" HELM_DATA_HOME="$helm_home"

step "chart copies of rules/ and dashboards/json/ (drift)"
go test -count=1 ./charts/gen

chart=charts/servicedesk-exporter
shopt -s nullglob
value_files=("$chart"/ci/*-values.yaml)
if [ "${#value_files[@]}" -eq 0 ]; then
	echo "check-helm: no $chart/ci/*-values.yaml" >&2
	exit 1
fi

step "helm lint --strict and helm template"
for values in "" "${value_files[@]}"; do
	args=()
	[ -n "$values" ] && args=(--values "$values")
	"$helm" lint --strict --quiet "$chart" "${args[@]}"
	"$helm" template sd "$chart" --namespace monitoring "${args[@]}" >/dev/null
	echo "ok  ${values:-default values}"
done

step "strict decoding of every manifest (test/helm)"
(cd test/helm && go vet ./... && HELM="$helm" CI=true go test -count=1 ./...)

echo "check-helm: chart lint-clean, renders for $((${#value_files[@]} + 1)) value sets, manifests decode strictly"

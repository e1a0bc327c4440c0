#!/usr/bin/env bash
# Checks the Prometheus rules and the example configuration with promtool:
#   promtool check rules  rules/*.yml
#   promtool test rules   rules/tests/*.yml   (every alert and recording rule)
#   promtool check config examples/prometheus.yml (with the rules it loads)
# promtool comes from the Debian prometheus package; when it is missing and
# we are root, it is installed with apt-get.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if ! command -v promtool >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "check-rules: promtool not found; install the Debian 'prometheus' package" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

shopt -s nullglob
rule_files=(rules/*.yml)
rule_tests=(rules/tests/*.yml)
if [ "${#rule_files[@]}" -eq 0 ] || [ "${#rule_tests[@]}" -eq 0 ]; then
	echo "check-rules: expected rule files in rules/ and tests in rules/tests/" >&2
	exit 1
fi

promtool check rules "${rule_files[@]}"
promtool test rules "${rule_tests[@]}"

# examples/prometheus.yml names its rule files relative to itself, the layout
# the docker-compose quickstart mounts; rebuild that layout so `check config`
# also loads and checks the rules it points at.
layout="$(mktemp -d)"
trap 'rm -rf "$layout"' EXIT
cp examples/prometheus.yml "$layout/prometheus.yml"
mkdir "$layout/rules"
cp "${rule_files[@]}" "$layout/rules/"
promtool check config "$layout/prometheus.yml"

echo "check-rules: rules, rule tests and examples/prometheus.yml are valid"

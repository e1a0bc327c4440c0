#!/usr/bin/env bash
# The whole test suite. On a fresh Debian machine with Go it first installs
# what the tests need (Debian's prometheus for promtool and a real server,
# Debian's Request Tracker 5, pinned golangci-lint, dashboard-linter and
# Helm), then runs: formatting, vet and
# lint, every Go test under the race detector, short fuzzing of the parsers,
# and the dashboard and rule checks.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
export PATH="$repo_root/tools/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "install test dependencies"
# prometheus: promtool and a real server; curl: the backfill quickstart
# script the Prometheus proof runs.
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null || ! command -v curl >/dev/null; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus curl ca-certificates >/dev/null
fi
promtool --version | head -n 1
# Request Tracker 5 (Debian) for the tests against a real RT server.
scripts/install-rt.sh
if ! golangci-lint version 2>/dev/null | grep -q ' 2\.15\.0 '; then
	GOBIN="$repo_root/tools/bin" go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
fi

step "gofmt, go vet, golangci-lint"
unformatted="$(gofmt -l $(git ls-files '*.go'))"
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
golangci-lint run ./...

step "go test -race"
# CI=true makes tests that need promtool or prometheus fail instead of skip.
CI="${CI:-true}" go test -race -count=1 ./...

step "fuzz (briefly; go test above already ran every seed corpus)"
# A count, not a duration: with a duration Go's fuzzer can report "context
# deadline exceeded" as a failure when the deadline lands mid-minimization.
fuzz() { go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "${FUZZTIME:-50000x}" -fuzzminimizetime 5s; }
fuzz ./config FuzzParse
fuzz ./source/jira FuzzDecodeIssue
fuzz ./source/api FuzzDecodeCursor
fuzz ./source/jira FuzzJQLLowerBound
fuzz ./ticket FuzzCalendar
fuzz ./source/rt FuzzDecodeTicket
fuzz ./source/jira FuzzScanner
fuzz ./source/jira FuzzUnmarshalFast
fuzz ./source/jira FuzzSkipValid
fuzz ./source/jira FuzzUnmarshalTrusted
fuzz ./source/jira FuzzParseJiraLayout
fuzz ./source/jira FuzzSLADate
fuzz ./source/jira FuzzSegmentValue
fuzz ./source/jira FuzzDecodeRating
fuzz ./store FuzzRecordEncoding

step "dashboards"
scripts/check-dashboards.sh

step "rules"
scripts/check-rules.sh

step "Helm chart (lint, template, strict decode of every manifest)"
scripts/check-helm.sh

step "Dockerfile lint (offline; no Docker engine is needed)"
if ! command -v npm >/dev/null; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
npm exec --yes --package=dockerfilelint@1.8.0 -- dockerfilelint Dockerfile

step "all checks passed"

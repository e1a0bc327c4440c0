#!/bin/sh
# Loads the service desk exporter's history into an empty Prometheus data
# directory, before Prometheus first starts (docs/backfill.md):
#
#   1. fetches the history the running exporter would have served, from its
#      /-/backfill endpoint, up to now;
#   2. turns it into TSDB blocks with promtool;
#   3. backfills the recording rules over the same range, with a temporary
#      Prometheus on the data directory (no scraping) for promtool to query,
#      twice: rules that read other rules see those only from the second run.
#
# Prometheus started afterwards scrapes from now on, so the live series
# continue the imported ones without overlap. A marker file makes later runs
# do nothing. The docker-compose quickstart runs this in its history-loader
# service (prom/prometheus image: busybox sh, wget, prometheus, promtool);
# test/prometheus runs the same script against the Debian Prometheus.
#
# Settings (environment):
#   EXPORTER_URL    the exporter, as Prometheus scrapes it (http://servicedesk-exporter:9811)
#   INSTANCE        the instance label of the scraped series (host:port of EXPORTER_URL)
#   JOB             the scrape job (servicedesk)
#   DATA_DIR        Prometheus' --storage.tsdb.path (/prometheus)
#   RULES           recording rule files, space-separated (/etc/prometheus/rules/servicedesk_rules.yml)
#   HISTORY_DAYS    days of history to load (14); HISTORY_FROM (Unix seconds) overrides
#   STEP            sample spacing (5m)
#   EVAL_INTERVAL   recording rule spacing, the evaluation_interval (1m)
#   TEMP_LISTEN     address of the temporary Prometheus (127.0.0.1:9099)
set -eu

EXPORTER_URL="${EXPORTER_URL:-http://servicedesk-exporter:9811}"
INSTANCE="${INSTANCE:-${EXPORTER_URL#*://}}"
JOB="${JOB:-servicedesk}"
DATA_DIR="${DATA_DIR:-/prometheus}"
RULES="${RULES:-/etc/prometheus/rules/servicedesk_rules.yml}"
HISTORY_DAYS="${HISTORY_DAYS:-14}"
STEP="${STEP:-5m}"
EVAL_INTERVAL="${EVAL_INTERVAL:-1m}"
TEMP_LISTEN="${TEMP_LISTEN:-127.0.0.1:9099}"

marker="$DATA_DIR/servicedesk-history"
if [ -e "$marker" ]; then
	echo "history already loaded ($(cat "$marker")); nothing to do"
	exit 0
fi

# fetch URL FILE: busybox and Debian have wget; curl where wget is missing.
fetch() {
	if command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1"
	else
		curl -fsS -o "$2" "$1"
	fi
}

# wait_for URL SECONDS: until URL answers 200.
wait_for() {
	n=0
	until fetch "$1" /dev/null 2>/dev/null; do
		n=$((n + 1))
		if [ "$n" -ge "$2" ]; then
			echo "$1 did not answer within $2 s" >&2
			return 1
		fi
		sleep 1
	done
}

echo "waiting for the exporter's first sync at $EXPORTER_URL"
wait_for "$EXPORTER_URL/-/ready" 600

to=$(date +%s)
from="${HISTORY_FROM:-$((to - HISTORY_DAYS * 86400))}"
work="$DATA_DIR/servicedesk-history.tmp"
rm -rf "$work"
mkdir -p "$work/rules"

echo "fetching the history from $from to $to (Unix seconds) every $STEP"
fetch "$EXPORTER_URL/-/backfill?from=$from&to=$to&step=$STEP&label=job=$JOB&label=instance=$INSTANCE" "$work/history.om"
if [ "$(tail -c 6 "$work/history.om")" != "# EOF" ]; then
	echo "the history is incomplete (no # EOF at its end)" >&2
	exit 1
fi

# Blocks as long as the range allows: promtool reads the whole file once
# per block (and writes a block per rule and block), so its default of 2
# hours would mean hundreds of passes. It picks the largest of 2h, 6h, 18h,
# 54h, 162h, 486h... not longer than this.
max_block="$(((to - from) / 3600 + 1))h"
echo "creating blocks from $(wc -c <"$work/history.om") bytes of OpenMetrics"
promtool tsdb create-blocks-from openmetrics --max-block-duration="$max_block" "$work/history.om" "$DATA_DIR"
rm "$work/history.om"

printf 'global: {}\n' >"$work/prometheus.yml"
pid=""
stop_prometheus() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=""
	fi
}
trap stop_prometheus EXIT
for pass in 1 2; do
	# A long retention: the default 15 days would delete older history.
	prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$DATA_DIR" \
		--storage.tsdb.retention.time=10y --web.listen-address="$TEMP_LISTEN" --log.level=warn &
	pid=$!
	wait_for "http://$TEMP_LISTEN/-/ready" 120
	echo "recording rules, pass $pass of 2"
	# shellcheck disable=SC2086 # RULES is a list of files
	promtool tsdb create-blocks-from rules --url="http://$TEMP_LISTEN" --start="$from" --end="$to" \
		--eval-interval="$EVAL_INTERVAL" --max-block-duration="$max_block" --output-dir="$work/rules" $RULES
	stop_prometheus
	# Moved in while no Prometheus runs on the directory; the next start
	# loads them.
	for block in "$work"/rules/*/; do
		if [ -e "$block/meta.json" ]; then
			mv "$block" "$DATA_DIR/"
		fi
	done
done
rm -rf "$work"
echo "from=$from to=$to step=$STEP" >"$marker"
echo "history loaded: $(cat "$marker")"

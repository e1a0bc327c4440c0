#!/usr/bin/env bash
# Installs Debian's Request Tracker 5 for the tests in internal/rtserver
# (and the RT source's tests built on it): the application, its SQLite
# driver, the standalone server (rt-server), rt-mailgate-5 for customer
# mail intake, and the sqlite3 CLI the tests backdate RT's database with.
# Idempotent: a quick no-op when everything is installed.
#
# Runs as root or through sudo, non-interactively. RT's packaging asks
# through debconf whether dbconfig-common should create a database; the
# tests create a throwaway SQLite database per instance, so the answer is
# preseeded to "no". The packaged service is not started and needs neither
# Apache nor a mail transfer agent.
set -euo pipefail

packages=(request-tracker5 rt5-db-sqlite rt5-standalone rt5-clients sqlite3)

missing=()
for p in "${packages[@]}"; do
	status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

echo "installing ${missing[*]} (Request Tracker 5 for internal/rtserver tests)" >&2
echo "request-tracker5 request-tracker5/dbconfig-install boolean false" | $sudo debconf-set-selections
install() {
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
# Refresh the package lists only when needed: a fresh image has none, and
# lists gone stale make the download fail; a warm machine needs no update.
if ! apt-cache show "${missing[@]}" >/dev/null 2>&1 || ! install; then
	$sudo apt-get update -qq
	install
fi

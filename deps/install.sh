#!/bin/sh
# Installs the Debian packages of a list (default deps/debian-packages.txt) that are missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -eu
here=$(dirname "$0")
list=${1:-$here/debian-packages.txt}
pkgs=$(grep -v '^#' "$list" | grep -v '^$' | tr '\n' ' ')
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
else
	echo "missing Debian packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

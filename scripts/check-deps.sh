#!/bin/sh
# The component graph of lib/ (docs/architecture.md), checked on the #include lines: a file in
# lib/<c>/ or a header in include/mirrorgate/<c>/ may include the public headers of <c> and of
# the components <c> depends on, and nothing else of mirrorgate. It also checks which system
# libraries a component may include (core and rules never see libcurl or libmicrohttpd).
# The CMake targets enforce the same graph at link time; this check names the offending line.
# Usage: scripts/check-deps.sh [ROOT]   (ROOT defaults to the repository; tests pass a copy)
set -u
root=${1:-"$(dirname "$0")/.."}
cd "$root" || exit 2
files=$(find lib include/mirrorgate -mindepth 2 -maxdepth 2 \( -name '*.c' -o -name '*.h' \) | sort)
[ -n "$files" ] || { echo "check-deps: no component sources under $root"; exit 2; }
loose=$(find lib include/mirrorgate -maxdepth 1 \( -name '*.c' -o -name '*.h' \))
if [ -n "$loose" ]; then
	echo "check-deps: sources outside a component folder (lib/<component>/, include/mirrorgate/<component>/):"
	echo "$loose"
	exit 1
fi
# shellcheck disable=SC2086
awk '
BEGIN {
	# component -> the components it may include (itself first)
	allow["util"] = " util "
	allow["core"] = " util core "
	allow["rules"] = " util core rules "
	allow["k8s"] = " util core rules k8s "
	allow["ontap"] = " util core ontap "
	allow["reconcile"] = " util core ontap reconcile "
	# system headers reserved to some components ("" = none may)
	sys["curl"] = " k8s ontap "
	sys["microhttpd.h"] = ""
	sys["gnutls"] = ""
	sys["yaml.h"] = " core "
	sys["openssl"] = " util k8s "
	bad = 0
}
FNR == 1 {
	n = split(FILENAME, part, "/")
	comp = part[n - 1]
	if (!(comp in allow)) {
		printf "check-deps: %s is not in a known component folder\n", FILENAME
		bad = 1
	}
}
/^[ \t]*#[ \t]*include/ {
	if (!match($0, /[<"][^>"]*[>"]/))
		next
	inc = substr($0, RSTART + 1, RLENGTH - 2)
	if (inc ~ /^mirrorgate\/[^\/]+\//) {
		split(inc, seg, "/")
		if (index(allow[comp], " " seg[2] " ") == 0) {
			printf "check-deps: %s:%d: component %s may not include %s (allowed:%s)\n", FILENAME, FNR, comp, inc, allow[comp]
			bad = 1
		}
	} else if (inc ~ /^mirrorgate\//) {
		printf "check-deps: %s:%d: %s is outside the component folders\n", FILENAME, FNR, inc
		bad = 1
	} else {
		split(inc, seg, "/")
		if ((seg[1] in sys) && index(sys[seg[1]], " " comp " ") == 0) {
			printf "check-deps: %s:%d: component %s may not include <%s>\n", FILENAME, FNR, comp, inc
			bad = 1
		}
	}
}
END {
	if (!bad)
		print "check-deps: ok"
	exit bad
}' $files

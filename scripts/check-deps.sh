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

allowed() {
	case $1 in
	util) echo "util" ;;
	core) echo "util core" ;;
	rules) echo "util core rules" ;;
	k8s) echo "util core rules k8s" ;;
	ontap) echo "util core ontap" ;;
	reconcile) echo "util core ontap reconcile" ;;
	*) return 1 ;;
	esac
}

# System headers that only some components may include.
system_allowed() {
	case $2 in
	curl/*) case $1 in k8s | ontap) return 0 ;; esac; return 1 ;;
	microhttpd.h | gnutls/*) return 1 ;;
	yaml.h) case $1 in core) return 0 ;; esac; return 1 ;;
	openssl/*) case $1 in util | k8s) return 0 ;; esac; return 1 ;;
	esac
	return 0
}

out=$(mktemp) || exit 2
status=0
for dir in lib/* include/mirrorgate/*; do
	[ -d "$dir" ] || continue
	comp=$(basename "$dir")
	ok=$(allowed "$comp") || { echo "check-deps: $dir is not a known component"; status=1; continue; }
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -f "$f" ] || continue
		grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r line; do
			inc=$(echo "$line" | sed -n 's/.*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p')
			n=${line%%:*}
			case $inc in
			mirrorgate/*/*)
				dep=$(echo "$inc" | cut -d/ -f2)
				case " $ok " in
				*" $dep "*) ;;
				*) echo "check-deps: $f:$n: component '$comp' may not include $inc (allowed: $ok)" ;;
				esac ;;
			mirrorgate/*) echo "check-deps: $f:$n: $inc is outside the component folders" ;;
			*) system_allowed "$comp" "$inc" ||
				echo "check-deps: $f:$n: component '$comp' may not include <$inc>" ;;
			esac
		done
	done
done >"$out" 2>&1
if [ -s "$out" ]; then
	cat "$out"
	status=1
fi
rm -f "$out"
[ $status = 0 ] && echo "check-deps: ok"
exit $status

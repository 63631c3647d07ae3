#!/bin/sh
# scripts/check-deps.sh passes on the tree, and fails, naming the line, when a component
# includes a header of one it must not depend on (core -> ontap, rules -> k8s) or a system
# library it must not see (core -> curl).
set -u
src=$1
sh "$src/scripts/check-deps.sh" "$src" || { echo "FAIL: the tree itself does not pass"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
try() { # file, line to add, text expected in the output
	rm -rf "$work/t"
	mkdir -p "$work/t"
	cp -r "$src/lib" "$src/include" "$work/t/"
	printf '%s\n' "$2" >>"$work/t/$1"
	if out=$(sh "$src/scripts/check-deps.sh" "$work/t" 2>&1); then
		echo "FAIL: '$2' in $1 was accepted"
		fails=$((fails + 1))
	elif ! echo "$out" | grep -qF "$3"; then
		echo "FAIL: '$2' in $1: output does not name it: $out"
		fails=$((fails + 1))
	else
		echo "ok: $1 refused: $(echo "$out" | head -1)"
	fi
}
try lib/core/doc.c '#include "mirrorgate/ontap/client.h"' "lib/core/doc.c"
try lib/rules/review.c '#include "mirrorgate/k8s/informer.h"' "may not include mirrorgate/k8s/informer.h"
try include/mirrorgate/core/model.h '#include "mirrorgate/rules/review.h"' "model.h"
try lib/core/names.c '#include <curl/curl.h>' "may not include <curl/curl.h>"
try lib/util/log.c '#include <microhttpd.h>' "may not include <microhttpd.h>"
try lib/ontap/job.c '#include "mirrorgate/k8s/client.h"' "lib/ontap/job.c"
# A new module dropped into lib/ itself belongs to no component.
rm -rf "$work/t" && mkdir -p "$work/t" && cp -r "$src/lib" "$src/include" "$work/t/"
echo 'int x;' >"$work/t/lib/loose.c"
if sh "$src/scripts/check-deps.sh" "$work/t" >/dev/null 2>&1; then
	echo "FAIL: lib/loose.c was accepted"
	fails=$((fails + 1))
fi
[ $fails = 0 ] || exit 1
echo "check-deps refuses every forbidden include"

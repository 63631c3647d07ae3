#!/bin/sh
# House rules a compiler does not check: no unbounded string functions, no atoi-style parsing
# without error checks, no private keys in the tree.
set -u
cd "$(dirname "$0")/.."
status=0
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atof)[[:space:]]*\('
hits=$(grep -rnE "$banned" --include='*.c' --include='*.h' lib cli webhook reconciler sim tests bench 2>/dev/null)
if [ -n "$hits" ]; then
	echo "lint: banned functions (use strbuf, snprintf, strtol with checks):"
	echo "$hits"
	status=1
fi
keys=$(git ls-files | xargs grep -lE -- '-----BEGIN ([A-Z]+ )?PRIVATE KEY-----' 2>/dev/null)
if [ -n "$keys" ]; then
	echo "lint: private keys are committed (tests must generate their own):"
	echo "$keys"
	status=1
fi
sh scripts/check-deps.sh || status=1
[ $status = 0 ] && echo "lint: ok"
exit $status

#!/bin/sh
# The lab and the runbook runner refuse what they cannot do, and the runner can fail: a
# runbook whose check does not hold exits non-zero naming its block, after the blocks before
# it ran, and leaves no process behind. Usage: sh usage_test.sh BUILD_DIR
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/mg-runbook-usage-XXXXXX")
fail=0
check() { # check DESCRIPTION WANT_STATUS GREP_PATTERN CMD...
	what=$1 want=$2 pat=$3
	shift 3
	"$@" >"$T/out" 2>&1
	got=$?
	if [ "$got" != "$want" ] || { [ -n "$pat" ] && ! grep -q -- "$pat" "$T/out"; }; then
		echo "FAIL: $what: status $got (want $want), output:"
		sed 's/^/  /' "$T/out"
		fail=1
	else
		echo "ok: $what"
	fi
}
check "lab.sh without a command" 1 "usage: lab.sh" sh "$ROOT/scripts/lab.sh"
check "lab.sh start without a lab dir" 1 "usage: lab.sh start" sh "$ROOT/scripts/lab.sh" start "$BUILD"
check "lab.sh start without binaries" 1 "is missing; build first" \
	sh "$ROOT/scripts/lab.sh" start "$T/no-build" "$T/lab0"
check "lab.sh stop of a dir without a lab" 0 "" sh "$ROOT/scripts/lab.sh" stop "$T"
check "lab.sh site-down of a side that does not exist" 1 "usage: lab.sh site-down" \
	sh "$ROOT/scripts/lab.sh" site-down "$T"
printf '# Nothing to run\n\n```text\nnot a command\n```\n' >"$T/empty.md"
check "run.sh on a document without sh blocks" 1 "no \`\`\`sh blocks" \
	sh "$ROOT/tests/runbook/run.sh" "$BUILD" "$T/empty.md"
cat >"$T/failing.md" <<'DOC'
# A runbook that does not hold

## Works

```sh
kubectl --context site-a get namespace app -o name
FIRST=ran
```

## Does not hold

```sh
test "$FIRST" = ran
kubectl --context site-b -n app get tmr no-such-mirror
```
DOC
check "run.sh stops at the block that fails" 1 "FAILED: block 2 (Does not hold)" \
	sh "$ROOT/tests/runbook/run.sh" "$BUILD" "$T/failing.md"
grep -q "namespace/app" "$T/out" || { echo "FAIL: the first block's output is missing"; fail=1; }
lab=$(sed -n 's/^run.sh: the lab.s files and logs are in //p' "$T/out")
if [ -n "$lab" ] && [ -f "$lab/pids" ]; then
	echo "FAIL: the failed run left its lab running ($lab/pids)"
	sh "$ROOT/scripts/lab.sh" stop "$lab"
	fail=1
fi
[ -n "$lab" ] && rm -rf "$lab"
rm -rf "$T"
exit $fail

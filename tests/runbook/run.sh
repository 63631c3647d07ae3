#!/bin/sh
# Plays a runbook (default docs/disaster-recovery.md) against a two-site lab of its own: every
# ```sh and ```sh lab block, in order, in one shell (variables carry from block to block),
# printing each block's commands and then their output. Exits 0 only when every command and
# every check held; otherwise names the block that failed and keeps the lab's logs.
# Used by `make demo` and by ctest (runbook_disaster_recovery).
# Usage: sh tests/runbook/run.sh BUILD_DIR [RUNBOOK.md]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:?usage: run.sh BUILD_DIR [RUNBOOK.md]}
DOC=${2:-$ROOT/docs/disaster-recovery.md}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
LAB=$(mktemp -d "${TMPDIR:-/tmp}/mg-runbook-XXXXXX")
SCRIPT="$LAB/runbook.sh"

# The blocks become one script: each is printed (headed by its section and marked when it is
# lab-only), then run under `set -e`; a trap names the block that failed.
awk -v q="'" '
	/^#+ / && !inblock { section = $0; sub(/^#+ /, "", section) }
	/^```sh( lab)?[ \t]*$/ && !inblock {
		inblock = 1; n++; lab = ($0 ~ /lab/); body = ""; next
	}
	/^```/ && inblock {
		inblock = 0
		printf "STEP=%d; SECTION=%s\n", n, q section q
		printf "printf \"\\n== %%s%s\\n\" \"$SECTION\"\n", lab ? " (lab only)" : ""
		printf "cat <<\x27MG_RUNBOOK_EOF\x27 | sed \"s/^/\\$ /\"\n%sMG_RUNBOOK_EOF\n", body
		printf "%s", body
		next
	}
	inblock { body = body $0 "\n" }
' "$DOC" >"$SCRIPT.body"
if ! grep -q '^STEP=' "$SCRIPT.body"; then
	echo "run.sh: no \`\`\`sh blocks in $DOC" >&2
	exit 1
fi
{
	echo 'set -e'
	echo "trap 'rc=\$?; [ \$rc -eq 0 ] || printf \"\\n== FAILED: block %s (%s), status %s\\n\" \"\$STEP\" \"\$SECTION\" \$rc >&2' EXIT"
	echo ". \"$LAB/env\""
	echo "cd \"$ROOT\""
	cat "$SCRIPT.body"
} >"$SCRIPT"

cleanup() {
	sh "$ROOT/scripts/lab.sh" stop "$LAB"
	if [ "${1:-1}" -eq 0 ] && [ -z "${MG_KEEP_TEST_DIRS:-}" ]; then
		rm -rf "$LAB"
	else
		echo "run.sh: the lab's files and logs are in $LAB" >&2
	fi
}
trap 'cleanup 1; exit 130' INT TERM
echo "== starting the two-site lab in $LAB"
if ! sh "$ROOT/scripts/lab.sh" start "$BUILD" "$LAB"; then
	cleanup 1
	exit 1
fi
start=$(date +%s)
sh "$SCRIPT"
rc=$?
cleanup "$rc"
if [ "$rc" -eq 0 ]; then
	echo
	echo "== every step of $(basename "$DOC") held ($(($(date +%s) - start)) s)"
fi
exit "$rc"

#!/bin/sh
# Runs the whole webhook integration test with every mirrorgate-webhook it starts under
# valgrind memcheck (about a minute), and fails if memcheck reported anything. The quick
# memcheck run that is part of the suite is tests/integration/test_webhook_valgrind.c.
# Usage: sh scripts/valgrind-webhook.sh BUILD_DIR
set -u
BUILD=${1:-build}
LOG=$(mktemp "${TMPDIR:-/tmp}/mg-valgrind-XXXXXX")
MG_WHT_VALGRIND=1 "$BUILD/tests/integration_test_webhook_server" --jobs 1 >"$LOG" 2>&1
rc=$?
grep -v '^{"ts"' "$LOG" | grep -E 'Synthesis|FAIL' || true
if grep -q 'MG-VALGRIND-ERRORS' "$LOG"; then
	grep -A40 'MG-VALGRIND-ERRORS' "$LOG"
	echo "valgrind-webhook: memcheck reported errors" >&2
	rm -f "$LOG"
	exit 1
fi
rm -f "$LOG"
[ $rc -eq 0 ] || { echo "valgrind-webhook: tests failed" >&2; exit 1; }
echo "valgrind-webhook: clean"

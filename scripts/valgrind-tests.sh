#!/bin/sh
# Runs test executables under valgrind memcheck, following the processes Criterion forks
# (and the binaries the integration tests start), and fails on any memory error or
# definite/indirect leak. Criterion ignores a worker's exit status once its assertions pass,
# so the verdict comes from valgrind's logs, not from exit codes. Test executables run in
# parallel (VALGRIND_JOBS, default: the number of CPUs), each with its own log directory.
# usage: scripts/valgrind-tests.sh BUILD_DIR TEST_NAME...
set -u

# One test: prints its verdict and writes it to $logs/$t/verdict.
run_one() {
	build=$1 logs=$2 t=$3
	exe="$build/tests/$t"
	mkdir -p "$logs/$t"
	if [ ! -x "$exe" ]; then
		echo "valgrind: no test executable $exe" >&2
		echo failed >"$logs/$t/verdict"
		return
	fi
	ok=1
	if ! valgrind --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=99 \
		--log-file="$logs/$t/%p.log" "$exe" -j1 >"$logs/$t/stdout" 2>&1; then
		echo "valgrind: $t failed:" >&2
		tail -20 "$logs/$t/stdout" >&2
		ok=0
	fi
	bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]' "$logs/$t"/*.log 2>/dev/null)
	if [ -n "$bad" ]; then
		echo "valgrind: $t: memory errors or leaks:" >&2
		for f in $bad; do
			cat "$f" >&2
		done
		ok=0
	else
		echo "valgrind: $t: clean ($(ls "$logs/$t"/*.log | wc -l) processes)"
	fi
	if [ $ok = 1 ]; then echo passed; else echo failed; fi >"$logs/$t/verdict"
}

if [ "${1:-}" = "--one" ]; then
	run_one "$2" "$3" "$4"
	exit 0
fi

build=$1
shift
logs=$(mktemp -d)
jobs=${VALGRIND_JOBS:-$(nproc 2>/dev/null || echo 1)}
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh "$0" --one "$build" "$logs" {}
passed=0
failed=0
for t in "$@"; do
	if [ "$(cat "$logs/$t/verdict" 2>/dev/null)" = passed ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
rm -rf "$logs"
echo "valgrind: $passed passed, $failed failed"
[ $failed = 0 ]

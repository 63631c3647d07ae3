#!/bin/sh
# bench/reconciler: the reconciler binary on kube-sim + ontap-sim with N TMRs, this
# reconciler (cached: informer reads, kept-alive connections) against a Trident-like
# baseline (every read a GET, a new connection per request) in the same run.
# Usage: sh bench/reconciler/run.sh BUILD_DIR [N...]   (default N: 100 1000 10000)
# MG_BENCH_STEADY_S / MG_BENCH_RESYNC_S (60/60) set the steady-state window and resync.
set -eu
BUILD=${1:-build}
shift || true
SIZES=${*:-"100 1000 10000"}
BIN="$BUILD/bin/mirrorgate-bench-reconciler"
[ -x "$BIN" ] || { echo "bench/reconciler: $BIN not built (configure with tests on)"; exit 1; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
echo "== bench/reconciler: steady window ${MG_BENCH_STEADY_S:-60}s, resync ${MG_BENCH_RESYNC_S:-60}s, 2 workers =="
for n in $SIZES; do
	for mode in cached baseline; do
		line=$(MG_BENCH_N=$n MG_BENCH_MODE=$mode "$BIN" --jobs 1 2>/dev/null | grep '^reconciler ' || true)
		[ -n "$line" ] || { echo "N=$n $mode: no result"; continue; }
		echo "$line"
		eval "${mode}_line=\"\$line\""
	done
	c=${cached_line:-}; b=${baseline_line:-}
	if [ -n "$c" ] && [ -n "$b" ]; then
		echo "N=$n ratios baseline/cached: converge $(ratio "$(field "$b" converge_s)" "$(field "$c" converge_s)")," \
			"kube calls to converge $(ratio "$(field "$b" kube_calls_per_tmr)" "$(field "$c" kube_calls_per_tmr)")," \
			"steady kube calls/min $(ratio "$(field "$b" steady_kube_calls_per_min)" "$(field "$c" steady_kube_calls_per_min)")," \
			"new connections/request $(ratio "$(field "$b" new_conns_per_request)" "$(field "$c" new_conns_per_request)")," \
			"reconciler CPU $(ratio "$(field "$b" rec_cpu_s)" "$(field "$c" rec_cpu_s)")"
	fi
	cached_line=; baseline_line=
done

#!/bin/sh
# bench/hostile: the attacks of issue 14 at full scale (500 TLS slowloris connections per
# thread from 16 addresses, 10,000 idle TCP connections, 100 stalled handshakes, 4 clients
# posting 3 MB bodies, 80 slowloris clients on the reconciler's health server), each for
# BENCH_HOSTILE_DURATION seconds (default 20) while a legitimate client opens a new TLS
# connection every 100 ms. Prints, per attack, the legitimate client's success rate, the
# webhook's peak RSS and its CPU, and PASS/FAIL against the criteria (>= 95% served, RSS under
# the pod's 64 MiB, stalled handshakes under 20% of a core). ctest runs the same tool at quick
# scale (hostile_clients).
# Usage: sh bench/hostile/run.sh BUILD_DIR
set -eu
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
TOOL="$BUILD/bin/mirrorgate-hostile"
[ -x "$TOOL" ] || { echo "bench: build first ($TOOL)" >&2; exit 1; }
echo "== hostile clients (full scale, $(nproc) CPUs) =="
exec "$TOOL" --webhook "$BUILD/bin/mirrorgate-webhook" --state "$ROOT/bench/webhook/state" \
	--body "$ROOT/bench/webhook/bodies/tmr-create.json" --scale full \
	--duration "${BENCH_HOSTILE_DURATION:-20}"

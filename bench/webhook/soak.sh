#!/bin/sh
# Memory soak: drive mirrorgate-webhook with the benchmark's request mix until it has
# answered N requests (default 100,000) in rounds of new keep-alive connections, printing
# RSS after each round. Growth after warm-up must stay under SOAK_MAX_GROWTH_KB (1024);
# exits 1 otherwise.
# Usage: sh bench/webhook/soak.sh BUILD_DIR [N]
set -eu
BUILD=${1:-build}
N=${2:-100000}
MAX_GROWTH=${SOAK_MAX_GROWTH_KB:-1024}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
WH="$BUILD/bin/mirrorgate-webhook"
command -v wrk >/dev/null 2>&1 || { echo "soak: wrk is missing" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mg-soak-XXXXXX")
WPID=""
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$WH" --address 127.0.0.1 --port 0 --ready-file "$WORK/port" --self-signed \
	--ca-out "$WORK/ca.crt" --state-dir "$HERE/state" --log-level warn \
	>/dev/null 2>"$WORK/webhook.log" &
WPID=$!
i=0
while [ ! -s "$WORK/port" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
[ -s "$WORK/port" ] || { echo "soak: webhook did not start" >&2; exit 1; }
PORT=$(cat "$WORK/port")
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$WPID/status"; }

echo "== memory soak: $N requests, rounds of 2 s with 8 new keep-alive connections"
printf '%10s %10s\n' requests rss_kB
printf '%10s %10s\n' 0 "$(rss)"
total=0
warm_rss=""
rounds=0
while [ "$total" -lt "$N" ] && [ $rounds -lt 200 ]; do
	line=$(BODY_DIR="$HERE/bodies" wrk -t1 -c8 -d2s -s "$HERE/mix.lua" \
		"https://127.0.0.1:$PORT" | grep '^RESULT')
	got=$(echo "$line" | tr ' ' '\n' | awk -F= '$1 == "requests" {print $2}')
	errs=$(echo "$line" | tr ' ' '\n' | awk -F= '$1 == "errors" {print $2}')
	[ "$errs" = 0 ] || { echo "soak: $errs errors in a round" >&2; exit 1; }
	total=$((total + got))
	rounds=$((rounds + 1))
	now=$(rss)
	printf '%10s %10s\n' "$total" "$now"
	# The first round allocates the steady-state buffers and thread stacks: the baseline.
	[ -n "$warm_rss" ] || warm_rss=$now
done
end_rss=$(rss)
growth=$((end_rss - warm_rss))
echo "RSS after the first round: ${warm_rss} kB; after $total requests: ${end_rss} kB;" \
	"growth ${growth} kB (limit ${MAX_GROWTH} kB)"
kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
[ "$growth" -le "$MAX_GROWTH" ] || { echo "soak: FAIL: memory grows" >&2; exit 1; }
echo "soak: PASS"

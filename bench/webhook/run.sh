#!/bin/sh
# Benchmark: mirrorgate-webhook against nginx serving a fixed AdmissionReview, same
# certificate, same request mix, same core, in one run. Prints requests/s, p50/p99/max,
# peak RSS and the ratio mirrorgate/nginx, then p99 at a fixed 1,000 requests/s (open
# loop), then the 100k-request memory soak.
# Usage: sh bench/webhook/run.sh BUILD_DIR  (env: BENCH_DURATION=10 BENCH_CONNECTIONS=16
#        BENCH_PIN=1)
set -eu
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DUR=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNECTIONS:-16}
WH="$BUILD/bin/mirrorgate-webhook"
OPENLOOP="$BUILD/bin/mirrorgate-openloop"
for tool in wrk nginx openssl; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
		echo "bench: $tool is missing (apt-get install wrk nginx openssl)" >&2
		exit 1
	}
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$WH" ] && [ -x "$OPENLOOP" ] || { echo "bench: build first ($WH)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mg-bench-XXXXXX")
chmod 755 "$WORK"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Server on CPU 1, load generator on CPU 0 (research/admission.md D.2): the two never
# compete for a core, and both servers get exactly one.
# BENCH_PIN=0 turns pinning off (on a machine shared with other jobs a pinned server
# cannot move away from a busy core).
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
	SRV="taskset -c 1"; CLI="taskset -c 0"; CORES="server on CPU 1, client on CPU 0"
else
	SRV=""; CLI=""; CORES="unpinned"
fi

# One ECDSA P-256 certificate for both servers.
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/ca.key" 2>/dev/null
openssl req -x509 -new -key "$WORK/ca.key" -subj "/CN=mirrorgate-bench-ca" -days 1 \
	-out "$WORK/ca.crt" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/tls.key" 2>/dev/null
openssl req -new -key "$WORK/tls.key" -subj "/CN=127.0.0.1" -out "$WORK/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$WORK/san.ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" \
	-CAcreateserial -days 1 -extfile "$WORK/san.ext" -out "$WORK/tls.crt" 2>/dev/null

hwm_kb() { # peak RSS of one process
	awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

wait_port() { # wait (bounded) until https://127.0.0.1:$1 answers /healthz or the file exists
	i=0
	while [ $i -lt 100 ]; do
		if [ -s "$WORK/port" ]; then return 0; fi
		i=$((i + 1)); sleep 0.1
	done
	echo "bench: server did not start" >&2; exit 1
}

run_wrk() { # $1 = port; prints the RESULT line
	BODY_DIR="$HERE/bodies" $CLI wrk -t1 -c2 -d2s -s "$HERE/mix.lua" \
		"https://127.0.0.1:$1" >/dev/null 2>&1 || true # warm-up
	BODY_DIR="$HERE/bodies" $CLI wrk -t1 -c"$CONNS" -d"${DUR}s" --latency \
		-s "$HERE/mix.lua" "https://127.0.0.1:$1" | grep '^RESULT'
}

run_openloop() { # $1 = port
	$CLI "$OPENLOOP" --base "https://127.0.0.1:$1" --cacert "$WORK/ca.crt" --rate 1000 \
		--duration "$DUR" --connections 8 \
		/validate="$HERE/bodies/tmr-create.json" /mutate="$HERE/bodies/pvc-create.json" \
		/validate="$HERE/bodies/tmr-update.json" /validate="$HERE/bodies/tmr-create-denied.json" \
		/validate="$HERE/bodies/pvc-create.json" | grep 'latency_us'
}

new_tls() { # $1 = port, $2 = -new (full handshakes) or -reuse (session resumption)
	# connections/s from `openssl s_time` (OpenSSL's default groups: X25519 first, as
	# the API server's Go client): each connection a TLS handshake and one request
	$CLI openssl s_time -connect "127.0.0.1:$1" -CAfile "$WORK/ca.crt" $2 -time "$DUR" \
		-www /healthz 2>/dev/null | awk '/connections\/user sec/ {
			for (i = 1; i <= NF; i++) if ($i ~ /connections\/user/) { print $(i-1); exit } }'
}

field() { # $1 = line, $2 = key -> value
	echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'
}

echo "== mirrorgate-webhook vs nginx: $(nproc) CPUs, $CORES, wrk -c$CONNS -d${DUR}s, TLS keep-alive"

# --- mirrorgate-webhook -------------------------------------------------------------
$SRV "$WH" --address 127.0.0.1 --port 0 --ready-file "$WORK/port" --threads 1 \
	--tls-cert-file "$WORK/tls.crt" --tls-key-file "$WORK/tls.key" \
	--state-dir "$HERE/state" --log-level info 2>"$WORK/webhook.log" &
WPID=$!
PIDS="$PIDS $WPID"
wait_port
WPORT=$(cat "$WORK/port")
MG=$(run_wrk "$WPORT")
MG_OPEN=$(run_openloop "$WPORT")
MG_NEW=$(new_tls "$WPORT" -new)
MG_RES=$(new_tls "$WPORT" -reuse)
MG_RSS=$(hwm_kb "$WPID")
kill -TERM "$WPID"; wait "$WPID" || true

# --- nginx: the same certificate, a fixed AdmissionReview response --------------------
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $WORK/nginx;
	proxy_temp_path $WORK/nginx;
	fastcgi_temp_path $WORK/nginx;
	uwsgi_temp_path $WORK/nginx;
	scgi_temp_path $WORK/nginx;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:18499 ssl;
		ssl_certificate $WORK/tls.crt;
		ssl_certificate_key $WORK/tls.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		location ~ ^/(validate|mutate)\$ {
			default_type application/json;
			return 200 '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"a1b2c3d4-0000-4000-8000-00000000b001","allowed":true}}';
		}
	}
}
NGX
# nginx cannot report a port it picked: use a fixed one, retried upward if taken.
NPORT=18499
for try in 1 2 3 4 5; do
	sed -i "s/listen 127.0.0.1:[0-9]* ssl;/listen 127.0.0.1:$NPORT ssl;/" "$WORK/nginx.conf"
	$SRV "$NGINX" -c "$WORK/nginx.conf" 2>>"$WORK/nginx-error.log" &
	NPID=$!
	sleep 0.5
	if kill -0 "$NPID" 2>/dev/null; then break; fi
	NPORT=$((NPORT + 1))
done
PIDS="$PIDS $NPID"
NG=$(run_wrk "$NPORT")
NG_OPEN=$(run_openloop "$NPORT")
NG_NEW=$(new_tls "$NPORT" -new)
NG_RES=$(new_tls "$NPORT" -reuse)
NWORKER=$(pgrep -P "$NPID" | head -1)
NG_RSS=$(( $(hwm_kb "$NPID") + $(hwm_kb "${NWORKER:-$NPID}") ))
kill -QUIT "$NPID"; wait "$NPID" || true

printf '\n%-20s %10s %9s %9s %9s %9s %14s\n' server req/s p50_us p99_us max_us errors peak_RSS_kB
for name in mirrorgate nginx; do
	if [ $name = mirrorgate ]; then L=$MG; R=$MG_RSS; else L=$NG; R=$NG_RSS; fi
	printf '%-20s %10s %9s %9s %9s %9s %14s\n' "$name" "$(field "$L" rps)" \
		"$(field "$L" p50_us)" "$(field "$L" p99_us)" "$(field "$L" max_us)" \
		"$(field "$L" errors)" "$R"
done
echo "(nginx RSS is master + worker)"
awk -v a="$(field "$MG" rps)" -v b="$(field "$NG" rps)" \
	'BEGIN { printf "ratio mirrorgate/nginx (req/s): %.2f  (target >= 0.6)\n", a / b }'
echo
echo "== open loop, 1,000 requests/s for ${DUR}s over 8 keep-alive connections"
echo "mirrorgate: $MG_OPEN"
echo "nginx:      $NG_OPEN"
echo "(target: mirrorgate p99 < 1000 us; RSS < 15360 kB)"
echo
echo "== new TLS connections per second of server CPU (openssl s_time, ${DUR}s, one at a time)"
echo "mirrorgate: full handshakes ${MG_NEW:-?}/s, resumed ${MG_RES:-?}/s"
echo "nginx:      full handshakes ${NG_NEW:-?}/s, resumed ${NG_RES:-?}/s"
awk -v a="${MG_NEW:-0}" -v b="${NG_NEW:-0}" \
	'BEGIN { if (b > 0) printf "ratio mirrorgate/nginx (new handshakes/s): %.2f\n", a / b }'

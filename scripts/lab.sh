#!/bin/sh
# The two-site lab, as processes on this machine (docs/disaster-recovery.md):
#   ontap-sim   cluster-a (svm-a) and cluster-b (svm-b), peered; fast jobs and transfers
#   site A      kube-sim with its Trident-like provisioner on svm-a, mirrorgate-webhook
#               registered in it (manifests/base/webhook/webhooks.yaml with clientConfig.url),
#               mirrorgate-reconciler for svm-a
#   site B      the same on cluster-b / svm-b
# Usage:
#   sh scripts/lab.sh start BUILD_DIR LAB_DIR   starts everything, returns once it is ready
#   sh scripts/lab.sh stop LAB_DIR              stops what `start` started (by its pids)
#   sh scripts/lab.sh site-down LAB_DIR a|b     cuts the site's storage off from its peer and
#                                               stops (SIGSTOP) its reconciler
#   sh scripts/lab.sh site-up LAB_DIR a|b       undoes it: the site comes back
# `start` writes LAB_DIR/env (source it: KUBECONFIG with contexts site-a and site-b,
# KUBECONFIG_A/B, ONTAP_SIM for the simulator's /__sim control API, METRICS_A/B), and
# LAB_DIR/pids. Everything it makes stays under LAB_DIR.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() {
	echo "lab: $*" >&2
	exit 1
}

# wait_file FILE SECONDS PID: until FILE is non-empty, while PID lives.
wait_file() {
	i=0
	while [ ! -s "$1" ]; do
		kill -0 "$3" 2>/dev/null || die "$(basename "$1"): the process $3 exited; see $LAB/logs"
		i=$((i + 1))
		[ "$i" -le $(($2 * 20)) ] || die "timed out waiting for $1"
		sleep 0.05
	done
}

spawn() { # spawn NAME CMD...: background, logs in LAB/logs/NAME.log, pid recorded
	name=$1
	shift
	"$@" >"$LAB/logs/$name.out" 2>"$LAB/logs/$name.log" &
	echo "$! $name" >>"$LAB/pids"
	LAST_PID=$!
}

site() { # site a|b INDEX URL: kube-sim, classes, namespace, webhook, reconciler
	s=$1
	idx=$2
	url=$3
	S=$(echo "$s" | tr a-z A-Z)
	pw="$LAB/site-$s/password"
	printf 'password-%s\n' "$s" >"$pw"
	chmod 600 "$pw"
	cat >"$LAB/site-$s/provisioner.yaml" <<EOF
backends:
- name: ontap-$s
  managementLIF: $url
  svm: svm-$s
  username: admin
  passwordFile: $pw
  trustedCAFile: $LAB/ontap/ca.pem
settings: {retryBaseMs: 200, retryCapMs: 2000, resyncMs: 500}
EOF
	spawn "kube-sim-$s" "$BUILD/bin/kube-sim" --crds "$ROOT/manifests/crds" \
		--port-file "$LAB/site-$s/port" --kubeconfig-out "$LAB/site-$s/kubeconfig.raw" \
		--provisioner "$LAB/site-$s/provisioner.yaml" --log-level warn
	wait_file "$LAB/site-$s/port" 20 "$LAST_PID"
	# names an operator would see: cluster, user and context site-a / site-b
	sed -e "s/name: kube-sim-user/name: site-$s-admin/; s/user: kube-sim-user/user: site-$s-admin/" \
		-e "s/kube-sim/site-$s/g" "$LAB/site-$s/kubeconfig.raw" >"$LAB/site-$s/kubeconfig"
	chmod 600 "$LAB/site-$s/kubeconfig"
	kc="$LAB/site-$s/kubeconfig"
	k() { kubectl --kubeconfig "$kc" --cache-dir "$LAB/kubectl-cache" "$@"; }
	k apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: trident}
provisioner: csi.trident.netapp.io
parameters: {backendType: ontap-nas, trident.netapp.io/replication: "true"}
reclaimPolicy: Delete
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata: {name: trident-snapclass}
driver: csi.trident.netapp.io
deletionPolicy: Delete
---
apiVersion: v1
kind: Namespace
metadata: {name: app}
EOF
	# the webhook, watching its own site through the kubeconfig
	spawn "webhook-$s" "$BUILD/bin/mirrorgate-webhook" --self-signed --address 127.0.0.1 \
		--port 0 --ready-file "$LAB/site-$s/webhook-port" --ca-out "$LAB/site-$s/webhook-ca.pem" \
		--kubeconfig "$kc" --log-level warn --shutdown-timeout 1
	wait_file "$LAB/site-$s/webhook-port" 20 "$LAST_PID"
	whport=$(cat "$LAB/site-$s/webhook-port")
	i=0
	until curl -fsS --cacert "$LAB/site-$s/webhook-ca.pem" "https://127.0.0.1:$whport/readyz" \
		>/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -le 200 ] || die "the webhook of site $s never became ready"
		sleep 0.05
	done
	ca=$(base64 -w0 <"$LAB/site-$s/webhook-ca.pem")
	sed -e "s|^\( *\)service: {.*path: \(/[a-z]*\),.*}|\1url: https://127.0.0.1:$whport\2\n\1caBundle: $ca|" \
		-e '/cert-manager.io\/inject-ca-from/d' -e '/^  annotations:$/d' \
		"$ROOT/manifests/base/webhook/webhooks.yaml" >"$LAB/site-$s/webhooks.yaml"
	k apply -f "$LAB/site-$s/webhooks.yaml" >/dev/null
	# the reconciler: ONTAP credentials in a file, as a mounted Secret
	printf 'username: admin\npassword: password-%s\n' "$s" >"$LAB/site-$s/credentials"
	chmod 600 "$LAB/site-$s/credentials"
	cat >"$LAB/site-$s/reconciler.yaml" <<EOF
backends:
- name: ontap-$s
  managementLIF: $url
  svm: svm-$s
  credentialsFile: $LAB/site-$s/credentials
  trustedCAFile: $LAB/ontap/ca.pem
  replicationPolicy: MirrorAllSnapshots
EOF
	spawn "reconciler-$s" "$BUILD/bin/mirrorgate-reconciler" --config "$LAB/site-$s/reconciler.yaml" \
		--kubeconfig "$kc" --identity "reconciler-$s" --metrics-addr 127.0.0.1:0 \
		--lease-duration 3s --renew-deadline 2s --retry-period 250ms \
		--backoff-base 100ms --backoff-cap 2s --resync-period 2s --topology-period 2s
	i=0
	port=""
	while [ -z "$port" ]; do
		port=$(sed -n 's/.*"metrics_port":"\([0-9]*\)".*/\1/p' "$LAB/logs/reconciler-$s.log" | head -1)
		i=$((i + 1))
		[ "$i" -le 400 ] || die "the reconciler of site $s did not start; see $LAB/logs"
		[ -n "$port" ] || sleep 0.05
	done
	echo "export KUBECONFIG_$S=$kc" >>"$LAB/env"
	echo "export METRICS_$S=http://127.0.0.1:$port/metrics" >>"$LAB/env"
	echo "export WEBHOOK_$S=https://127.0.0.1:$whport" >>"$LAB/env"
}

start() {
	BUILD=$1
	LAB=$2
	case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
	for b in ontap-sim kube-sim mirrorgate-webhook mirrorgate-reconciler; do
		[ -x "$BUILD/bin/$b" ] || die "$BUILD/bin/$b is missing; build first (make build)"
	done
	command -v kubectl >/dev/null || die "kubectl is not installed"
	[ ! -e "$LAB/pids" ] || die "$LAB already holds a lab; stop it first: sh scripts/lab.sh stop $LAB"
	mkdir -p "$LAB/logs" "$LAB/ontap" "$LAB/site-a" "$LAB/site-b"
	: >"$LAB/pids"
	: >"$LAB/env"
	trap 'stop "$LAB"' EXIT
	spawn ontap-sim "$BUILD/bin/ontap-sim" --realtime --bind 127.0.0.1 \
		--ports-file "$LAB/ontap/ports.json" --ca-out "$LAB/ontap/ca.pem" --log-level error
	wait_file "$LAB/ontap/ports.json" 20 "$LAST_PID"
	urls=$(grep -o '"url":"[^"]*"' "$LAB/ontap/ports.json" | cut -d'"' -f4)
	url_a=$(echo "$urls" | sed -n 1p)
	url_b=$(echo "$urls" | sed -n 2p)
	[ -n "$url_a" ] && [ -n "$url_b" ] || die "ontap-sim announced no clusters"
	curl -fsS --cacert "$LAB/ontap/ca.pem" -X POST "$url_a/__sim/settings" \
		-d '{"job_queue_ms":10,"job_run_ms":30,"transfer_queue_ms":20,"transfer_ms":100}' >/dev/null
	echo "export ONTAP_SIM=$url_a/__sim" >>"$LAB/env"
	echo "export ONTAP_SIM_CA=$LAB/ontap/ca.pem" >>"$LAB/env"
	echo "export ONTAP_A=$url_a ONTAP_B=$url_b" >>"$LAB/env"
	site a 0 "$url_a"
	site b 1 "$url_b"
	KUBECONFIG="$LAB/site-a/kubeconfig:$LAB/site-b/kubeconfig" kubectl config view --flatten \
		>"$LAB/kubeconfig"
	chmod 600 "$LAB/kubeconfig"
	echo "export KUBECONFIG=$LAB/kubeconfig" >>"$LAB/env"
	echo "export LAB=$LAB BUILD=$BUILD" >>"$LAB/env"
	trap - EXIT
}

stop() {
	LAB=$1
	[ -f "$LAB/pids" ] || return 0
	# reverse order: reconcilers and webhooks before the API servers, ontap-sim last
	# a stopped (site-down) process must run again to see its SIGTERM
	for pid in $(awk '{print $1}' "$LAB/pids"); do
		kill -s CONT "$pid" 2>/dev/null || true
	done
	for pid in $(awk '{p[NR] = $1} END {for (i = NR; i > 0; i--) print p[i]}' "$LAB/pids"); do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $(awk '{print $1}' "$LAB/pids"); do
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
			i=$((i + 1))
			sleep 0.05
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -f "$LAB/pids"
}

# The disaster, for the runbook: site S's storage cut off from its peer (ontap-sim peer
# fault) and its reconciler stopped (SIGSTOP: the process stays, as a site that is down and
# comes back); `site-up` undoes both.
site_fault() { # site_fault LAB a|b down|up
	LAB=$1
	. "$LAB/env"
	reach=true
	sig=CONT
	[ "$3" = down ] && reach=false && sig=STOP
	curl -fsS --cacert "$ONTAP_SIM_CA" -X POST "$ONTAP_SIM/clusters" \
		-d "{\"cluster\":\"cluster-$2\",\"reachable\":$reach}" >/dev/null
	pid=$(awk -v n="reconciler-$2" '$2 == n {print $1}' "$LAB/pids")
	[ -n "$pid" ] || die "no reconciler-$2 in $LAB/pids"
	kill -s "$sig" "$pid"
}

case "${1:-}" in
site-down) [ $# -eq 3 ] || die "usage: lab.sh site-down LAB_DIR a|b"; site_fault "$2" "$3" down ;;
site-up) [ $# -eq 3 ] || die "usage: lab.sh site-up LAB_DIR a|b"; site_fault "$2" "$3" up ;;
start) [ $# -eq 3 ] || die "usage: lab.sh start BUILD_DIR LAB_DIR"; start "$2" "$3" ;;
stop) [ $# -eq 2 ] || die "usage: lab.sh stop LAB_DIR"; stop "$2" ;;
*) die "usage: lab.sh start BUILD_DIR LAB_DIR | lab.sh stop LAB_DIR" ;;
esac

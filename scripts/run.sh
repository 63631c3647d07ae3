#!/bin/sh
# make run: the product running locally. Starts the two-site lab (scripts/lab.sh: ontap-sim
# with cluster-a and cluster-b peered; per site a kube-sim with its Trident-like
# provisioner, a mirrorgate-webhook registered in it, a mirrorgate-reconciler), prints both
# kubeconfigs and what to try, and stops everything on Ctrl-C.
# Usage: sh scripts/run.sh BUILD_DIR
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
LAB=${MG_LAB_DIR:-${TMPDIR:-/tmp}/mirrorgate-lab}

if [ -f "$LAB/pids" ]; then
	echo "run.sh: stopping the lab a previous run left in $LAB"
	sh "$ROOT/scripts/lab.sh" stop "$LAB"
fi
rm -rf "$LAB"
trap 'echo; echo "stopping the lab"; sh "$ROOT/scripts/lab.sh" stop "$LAB"; exit 0' INT TERM
sh "$ROOT/scripts/lab.sh" start "$BUILD" "$LAB" || exit 1
. "$LAB/env"

cat <<MSG
== mirrorgate, two sites, running locally (logs in $LAB/logs)

  site A: kubeconfig $KUBECONFIG_A
          webhook $WEBHOOK_A, reconciler metrics $METRICS_A
  site B: kubeconfig $KUBECONFIG_B
          webhook $WEBHOOK_B, reconciler metrics $METRICS_B
  both, as contexts site-a and site-b: export KUBECONFIG=$KUBECONFIG
  ONTAP (ontap-sim): cluster-a $ONTAP_A, cluster-b $ONTAP_B (admin / password-a, password-b)

Try, in another terminal (docs/disaster-recovery.md has every operation):

  export KUBECONFIG=$KUBECONFIG
  kubectl --context site-a apply -f manifests/examples/primary/02-pvc.yaml   # namespace app
  kubectl --context site-a apply -f manifests/examples/primary/03-tmr-source.yaml
  kubectl --context site-a -n app get tmr -o yaml      # status from site A's reconciler
  kubectl --context site-b apply -f manifests/examples/invalid/tmr-remote-handle.yaml  # site B's webhook refuses it
  curl -s $METRICS_A | grep ^mirrorgate_
  make demo     # plays the whole replication story on a lab of its own

Ctrl-C stops everything.
MSG
while :; do
	sleep 1 &
	wait $! 2>/dev/null
	# a component that dies takes the lab down with a message, instead of a silent half-lab
	while read -r pid name; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "run.sh: $name exited; see $LAB/logs/$name.log" >&2
			sh "$ROOT/scripts/lab.sh" stop "$LAB"
			exit 1
		fi
	done <"$LAB/pids"
done

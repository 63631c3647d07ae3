#!/bin/sh
# make run: validate the example manifests with the CLI and print the verdicts, then start
# mirrorgate-webhook in --self-signed mode on 127.0.0.1:8443 with manifests/examples as its
# cluster state, after printing curl commands to try it.
# Usage: sh scripts/run.sh BUILD_DIR
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
cd "$ROOT"

cli="$BUILD/bin/mirrorgate"
if [ -x "$cli" ]; then
	for cluster in primary secondary; do
		echo "== mirrorgate validate manifests/examples/$cluster (one cluster's story, in order)"
		"$cli" validate --verbose "manifests/examples/$cluster"
		echo
	done
	echo "== mirrorgate validate manifests/examples/invalid/* (each file breaks one rule)"
	for f in manifests/examples/invalid/*.yaml; do
		"$cli" validate "$f" | grep -v '^[0-9]* documents:'
	done
	echo
fi

BIN="$BUILD/bin/mirrorgate-webhook"
if [ ! -x "$BIN" ]; then
	echo "run.sh: $BIN is missing; build first (make build)" >&2
	exit 1
fi
RUNDIR=${TMPDIR:-/tmp}/mirrorgate-run
mkdir -p "$RUNDIR"
CA="$RUNDIR/ca.crt"
EX="$ROOT/manifests/examples/admission"

cat <<MSG
== mirrorgate-webhook: https://127.0.0.1:8443 (self-signed; CA written to $CA)
In another terminal, try:

  # allowed
  curl --cacert $CA -H 'Content-Type: application/json' \\
       --data-binary @$EX/tmr-create.json https://127.0.0.1:8443/validate
  # denied, with the API server's message
  curl --cacert $CA -H 'Content-Type: application/json' \\
       --data-binary @$EX/tmr-create-denied.json https://127.0.0.1:8443/validate
  # mutation: a base64 JSON Patch that adds Trident's finalizer
  curl --cacert $CA -H 'Content-Type: application/json' \\
       --data-binary @$EX/tmr-create.json https://127.0.0.1:8443/mutate
  curl --cacert $CA https://127.0.0.1:8443/metrics

Ctrl-C stops it. The caBundle line below is what a webhook configuration needs.
MSG
exec "$BIN" --self-signed --address 127.0.0.1 --port 8443 \
	--state-dir "$ROOT/manifests/examples" --ca-out "$CA"

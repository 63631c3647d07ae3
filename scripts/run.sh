#!/bin/sh
# make run: validate the example manifests with the CLI and print the verdicts.
set -u
build=${1:-build}
cli="$build/bin/mirrorgate"
status=0
for cluster in primary secondary; do
	echo "== mirrorgate validate manifests/examples/$cluster (one cluster's story, in order)"
	"$cli" validate --verbose "manifests/examples/$cluster" || status=1
	echo
done
echo "== mirrorgate validate manifests/examples/invalid/* (each file breaks one rule)"
for f in manifests/examples/invalid/*.yaml; do
	"$cli" validate "$f" | grep -v '^[0-9]* documents:'
done
exit $status

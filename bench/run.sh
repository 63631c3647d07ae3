#!/bin/sh
# make bench: every benchmark, each printing its own figures.
# Usage: sh bench/run.sh BUILD_DIR
set -eu
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
sh "$HERE/webhook/run.sh" "$BUILD"
echo
sh "$HERE/webhook/soak.sh" "$BUILD" 100000
echo
sh "$HERE/reconciler/run.sh" "$BUILD"
echo
sh "$HERE/hostile/run.sh" "$BUILD"

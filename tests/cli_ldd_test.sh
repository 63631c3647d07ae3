#!/bin/sh
# The offline validator links core, rules and util only: no libcurl, libmicrohttpd or GnuTLS
# may be loaded by it (docs/architecture.md).
set -u
bin=$1
out=$(ldd "$bin") || { echo "FAIL: ldd $bin"; exit 1; }
bad=$(echo "$out" | grep -E 'libcurl|libmicrohttpd|libgnutls')
if [ -n "$bad" ]; then
	echo "FAIL: $bin loads libraries it must not:"
	echo "$bad"
	exit 1
fi
echo "$bin loads no libcurl, libmicrohttpd or GnuTLS"

#!/bin/sh
# The manifest tests (CI runs them through `make test-manifests`):
# 1. every kustomization renders and every object validates against the Kubernetes OpenAPI
#    schemas (tests/manifests/validate.mjs, with kubernetes-models from npm);
# 2. the install test (tests/manifests/install.mjs): the rendered Deployments' exact args and
#    environment against kube-sim, in its own network and mount namespaces (root only), so
#    the fixed ports and the kubelet-like mounts stay private.
#   scripts/test-manifests.sh BUILD_DIR IMAGE_REPO VERSION
set -eu
build=$(cd "$1" && pwd) image_repo=$2 version=$3
repo=$(cd "$(dirname "$0")/.." && pwd)
tests="$repo/tests/manifests"
command -v kubectl >/dev/null || { echo "test-manifests: kubectl (with kustomize v5) is needed" >&2; exit 1; }
command -v node >/dev/null || { echo "test-manifests: node and npm are needed" >&2; exit 1; }
# kubernetes-models and friends, at the versions of package-lock.json
if [ ! -d "$tests/node_modules" ] || [ "$tests/package-lock.json" -nt "$tests/node_modules" ]; then
	(cd "$tests" && npm ci --no-audit --no-fund --loglevel=error)
fi
status=0
node "$tests/validate.mjs" "$repo" "$image_repo" "$version" || status=1
if [ "$(id -u)" != 0 ]; then
	echo "test-manifests: the install test needs root (namespaces, chroot); skipped" >&2
	exit 1
fi
work=$(mktemp -d /tmp/mg-install-XXXXXX)
# The namespace (and every mount in it) ends with the shell; only then is $work removed.
if unshare --net --mount --propagation private \
	sh -c 'ip link set lo up && exec node "$1/install.mjs" "$2" "$3" "$4"' sh \
	"$tests" "$repo" "$build/bin" "$work"; then
	rm -rf "$work"
else
	echo "test-manifests: install test failed; logs in $work" >&2
	status=1
fi
exit $status

#!/bin/sh
# Proves the OCI archives of `make image` work: unpacks each with umoci and runs its binary
# from the image's root file system as the image's user (chroot --userspec, the uid:gid of
# the image config), with no host library: `--version`, then a short real start.
#   scripts/test-image.sh IMAGE_DIR VERSION BIN_DIR
# BIN_DIR provides kube-sim and ontap-sim for the reconciler's start (they run on the host).
set -eu
images=$(cd "$1" && pwd) version=$2 bin=$(cd "$3" && pwd)
[ "$(id -u)" = 0 ] || { echo "test-image: needs root (umoci unpack, chroot)" >&2; exit 1; }
work=$(mktemp -d /tmp/mg-image-test-XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

unpack() { # NAME -> $work/NAME/rootfs; prints the image's user
	mkdir -p "$work/$1/oci"
	tar -C "$work/$1/oci" -xf "$images/$1-$version.oci.tar"
	umoci unpack --image "$work/$1/oci:$version" "$work/$1/bundle" >/dev/null
	sed -n 's/.*"User":"\([^"]*\)".*/\1/p' "$work/$1/oci/blobs/sha256/"* 2>/dev/null | head -1
}
wait_file() { i=0; while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; [ -s "$1" ]; }

for name in mirrorgate-webhook mirrorgate-reconciler; do
	user=$(unpack "$name")
	root="$work/$name/bundle/rootfs"
	[ "$user" = "65532:65532" ] && ok "$name: image user $user" || bad "$name: image user '$user'"
	out=$(chroot --userspec="$user" "$root" "/usr/local/bin/$name" --version 2>&1) &&
		[ "$out" = "$name $version" ] && ok "$name --version: $out" ||
		bad "$name --version: $out"
	# no library missing from the image (ldd of the image's own loader)
	if chroot "$root" /usr/bin/ldd "/usr/local/bin/$name" 2>&1 | grep -q "not found"; then
		bad "$name: a library is missing from the image"
	else
		ok "$name: every library is in the image"
	fi
done

# The certificate rotator travels in the webhook image (components/self-signed-certs).
root="$work/mirrorgate-webhook/bundle/rootfs"
out=$(chroot --userspec=65532:65532 "$root" /usr/local/bin/mirrorgate-cert-rotator --version 2>&1) &&
	[ "$out" = "mirrorgate-cert-rotator $version" ] && ok "mirrorgate-cert-rotator --version: $out" ||
	bad "mirrorgate-cert-rotator --version: $out"

# The webhook: a real start (self-signed, a free port), /healthz over TLS, SIGTERM.
root="$work/mirrorgate-webhook/bundle/rootfs"
chroot --userspec=65532:65532 "$root" /usr/local/bin/mirrorgate-webhook --self-signed \
	--port 0 --address 127.0.0.1 --ready-file /tmp/ready > "$work/webhook.log" 2>&1 &
wh=$!
pids="$pids $wh"
if wait_file "$root/tmp/ready" &&
	curl -sfk "https://127.0.0.1:$(cat "$root/tmp/ready")/healthz" >/dev/null; then
	ok "mirrorgate-webhook: serves /healthz from the image as 65532"
else
	bad "mirrorgate-webhook: no /healthz; log: $(cat "$work/webhook.log")"
fi
kill -TERM $wh && wait $wh && ok "mirrorgate-webhook: SIGTERM exits 0" ||
	bad "mirrorgate-webhook: SIGTERM exit status"

# The reconciler: a real start against kube-sim and ontap-sim (on the host; the image's
# files are copied into its /tmp): ready on /readyz, then SIGTERM.
root="$work/mirrorgate-reconciler/bundle/rootfs"
"$bin/kube-sim" --crds "$(dirname "$0")/../manifests/crds" --port-file "$work/kube.port" \
	--kubeconfig-out "$root/tmp/kubeconfig" --log-level warn > "$work/kube-sim.log" 2>&1 &
pids="$pids $!"
"$bin/ontap-sim" --ports-file "$work/ontap.json" --ca-out "$root/tmp/ontap-ca.pem" \
	--realtime > "$work/ontap-sim.log" 2>&1 &
pids="$pids $!"
wait_file "$work/kube.port" && wait_file "$work/ontap.json"
url=$(sed 's/.*"cluster-b","url":"\([^"]*\)".*/\1/' "$work/ontap.json")
printf 'username: admin\npassword: password-b\n' > "$root/tmp/credentials"
cat > "$root/tmp/config.yaml" <<CFG
backends:
- name: ontap-b
  managementLIF: $url
  svm: svm-b
  credentialsFile: /tmp/credentials
  trustedCAFile: /tmp/ontap-ca.pem
CFG
chown 65532:65532 "$root/tmp/credentials" "$root/tmp/kubeconfig" "$root/tmp/config.yaml"
chmod 0400 "$root/tmp/credentials"
chroot --userspec=65532:65532 "$root" /usr/local/bin/mirrorgate-reconciler \
	--config /tmp/config.yaml --kubeconfig /tmp/kubeconfig --metrics-addr 127.0.0.1:0 \
	--leader-elect=false > "$work/reconciler.out" 2> "$work/reconciler.log" &
rc=$!
pids="$pids $rc"
i=0
port=""
while [ -z "$port" ] && [ $i -lt 100 ]; do
	port=$(sed -n 's/{"metrics_port":\([0-9]*\)}/\1/p' "$work/reconciler.out" 2>/dev/null)
	sleep 0.1
	i=$((i + 1))
done
ready=""
for _ in $(seq 50); do
	[ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && { ready=1; break; }
	sleep 0.2
done
[ -n "$ready" ] && ok "mirrorgate-reconciler: ready from the image as 65532" ||
	bad "mirrorgate-reconciler: not ready; log: $(cat "$work/reconciler.log")"
kill -TERM $rc && wait $rc && ok "mirrorgate-reconciler: SIGTERM exits 0" ||
	bad "mirrorgate-reconciler: SIGTERM exit status"
echo "image: $passed passed, $failed failed"
[ "$failed" = 0 ]

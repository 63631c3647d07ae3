#!/bin/sh
# Builds one mirrorgate image as an OCI archive, with no registry and no container daemon:
#   scripts/build-image.sh BIN_DIR OUT_DIR NAME VERSION IMAGE_REPO [EXTRA_BINARY...]
# NAME is mirrorgate-webhook or mirrorgate-reconciler, the entrypoint; EXTRA_BINARY are also
# put in /usr/local/bin (the webhook image carries mirrorgate-cert-rotator, which
# components/self-signed-certs runs); BIN_DIR holds the binaries, built on
# this Debian release (the image's base is the same release, so the libraries match).
#
# Tools, from Debian's archive: mmdebstrap makes the root file system from Debian packages
# (the same packages the Containerfile's runtime stage installs; it needs no daemon and
# downloads only from the Debian archive), and umoci turns that tree into an OCI image
# layout (layer, config, labels) that any OCI tool imports (podman load, skopeo copy
# oci-archive:, ctr import). buildah would also do it, but needs a container storage and
# pulls a base image from a registry; these two need neither.
#
# The runtime packages are exactly those that ship the binary's DT_NEEDED libraries (apt adds
# their own dependencies), found with dpkg -S, so the image follows the code's links.
set -eu
bin_dir=$1 out_dir=$2 name=$3 version=$4 repo=$5
shift 5
extras=""
for e in "$@"; do extras="$extras $bin_dir/$e"; done
suite=${MG_IMAGE_SUITE:-$(. /etc/os-release && echo "$VERSION_CODENAME")}
uid=65532
bin="$bin_dir/$name"
[ -x "$bin" ] || { echo "build-image: no $bin (build first)" >&2; exit 1; }
for tool in mmdebstrap umoci; do
	command -v $tool >/dev/null || { echo "build-image: $tool missing (make image-deps)" >&2; exit 1; }
done
arch_dir=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

# The packages of the binary's direct libraries (the binaries run only what they link).
pkgs=$(for b in "$bin" $extras; do readelf -d "$b"; done | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | while read -r so; do
	dpkg -S "*/$arch_dir/$so" 2>/dev/null | cut -d: -f1 | tr ',' '\n'
done | sed 's/ //g' | grep -v -- '-dev$' | sort -u | paste -sd, -)
# No ca-certificates: every TLS peer is verified against a CA the configuration names
# (ONTAP's trustedCAFile, the service account's ca.crt), never the public roots.
echo "build-image: $name: runtime packages $pkgs"

work="$out_dir/$name.work"
rm -rf "$work"
mkdir -p "$work"
rootfs_tar="$work/rootfs.tar"
# essential + the libraries: Debian slim without apt (nothing installs at run time); docs,
# man pages and locales are left out like in the slim images. The customize hooks add the
# binary and the non-root user the image runs as.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
# Fast and offline when it can be: the host's apt lists (same release; `apt-get update` has
# run, as CI's first step does) and its .deb cache are synced in, so mmdebstrap neither
# updates nor downloads what the host already has; the .debs it fetches are kept in
# OUT_DIR/apt-cache for the next image. Docs, man pages and locales are removed afterwards
# rather than filtered at unpack (the filter runs a Python process per package).
cache=$(mkdir -p "$out_dir/apt-cache" && cd "$out_dir/apt-cache" && pwd)
mode_opts=""
if [ -n "$(ls /var/lib/apt/lists/*_dists_"$suite"_main_binary-*_Packages* 2>/dev/null)" ]; then
	mode_opts="--skip=update"
fi
# hard links where the file systems allow it, copies otherwise
link_debs='ls "$0"/*.deb >/dev/null 2>&1 || exit 0; cp -lf "$0"/*.deb "$1/" 2>/dev/null || cp -f "$0"/*.deb "$1/"'
mmdebstrap ${MG_MMDEBSTRAP_VERBOSE:---quiet} --variant=essential --include="$pkgs" $mode_opts \
	--dpkgopt=force-unsafe-io --skip=download/empty \
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
	--setup-hook='mkdir -p "$1/var/cache/apt/archives/" "$1/var/lib/apt/lists"' \
	--setup-hook="sync-in /var/lib/apt/lists /var/lib/apt/lists" \
	--setup-hook="sh -c '$link_debs' /var/cache/apt/archives \"\$1/var/cache/apt/archives\"" \
	--setup-hook="sh -c '$link_debs' $cache \"\$1/var/cache/apt/archives\"" \
	--customize-hook="sh -c '$link_debs' \"\$1/var/cache/apt/archives\" $cache" \
	--customize-hook='rm -rf "$1/usr/share/man" "$1/usr/share/doc" "$1/usr/share/info" "$1/usr/share/locale" "$1/var/cache/apt" "$1/var/lib/apt/lists" "$1/var/log"/*' \
	--customize-hook="mkdir -p \"\$1/usr/local/bin\"" \
	--customize-hook="copy-in $bin $extras /usr/local/bin" \
	--customize-hook="chroot \"\$1\" sh -c 'echo nonroot:x:$uid:$uid:nonroot:/nonexistent:/usr/sbin/nologin >> /etc/passwd && echo nonroot:x:$uid: >> /etc/group'" \
	"$suite" "$rootfs_tar"

layout="$work/oci"
tag="$version"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$work/bundle"
tar -C "$work/bundle/rootfs" -xf "$rootfs_tar"
umoci repack --image "$layout:$tag" "$work/bundle"
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
umoci config --image "$layout:$tag" --config.user "$uid:$uid" \
	--config.entrypoint "/usr/local/bin/$name" --config.workingdir / \
	--config.label "org.opencontainers.image.title=$name" \
	--config.label "org.opencontainers.image.version=$version" \
	--config.label "org.opencontainers.image.revision=$revision" \
	--config.label "org.opencontainers.image.created=$created" \
	--config.label "org.opencontainers.image.licenses=Apache-2.0" \
	--config.label "org.opencontainers.image.source=https://github.com/mirrorgate/mirrorgate" \
	--config.label "org.opencontainers.image.ref.name=$repo/$name:$version" \
	--created "$created" --author mirrorgate
umoci gc --layout "$layout"
archive="$out_dir/$name-$version.oci.tar"
tar -C "$layout" -cf "$archive" .
rm -rf "$work"
echo "build-image: wrote $archive ($repo/$name:$version)"

#!/usr/bin/env bash
# bundle-from-testbed.sh OUT_DIR - turn the k8slab test bench cache (../shared/testbed: k8s-binaries.sh,
# images.sh, box.sh) into a k8slab offline bundle. Files are hard-linked when OUT_DIR is on the same
# filesystem as the cache (no extra disk), copied otherwise. Idempotent: an up-to-date bundle is kept.
#
#   OUT_DIR/bin/       kubeadm kubelet kubectl            (k8s-binaries.sh: v1.20.2 from Debian's source)
#   OUT_DIR/images/    *.tar + index.json                  (images.sh; CoreDNS is not built offline)
#   OUT_DIR/debs/      containerd, runc, conntrack, socat, curl... and their libraries (box.sh's .deb cache)
#   OUT_DIR/cni/       bridge host-local loopback portmap  (from Debian's containernetworking-plugins)
#   OUT_DIR/bundle.json
#
# Environment: K8SLAB_TESTBED_CACHE (default /var/cache/k8slab-testbed); K8SLAB_TESTBED_DEBS, a .deb
# folder to use instead of box.sh's (the node tier fetches its own: test/nodes/machine/bundle-debs.sh). Needs the testbed scripts to
# have run (it says which one is missing). Then: `k8slab bundle check OUT_DIR`.
# `bundle-from-testbed.sh --packages` prints the node package list, one a line (test/nodes reads it).
set -euo pipefail

# What a node needs besides Kubernetes itself (the same list box.sh preinstalls).
NODE_PKGS=(containerd runc containernetworking-plugins conntrack socat ebtables ethtool iptables ipset curl)
if [[ ${1:-} == --packages ]]; then printf '%s\n' "${NODE_PKGS[@]}"; exit 0; fi

OUT=${1:?usage: bundle-from-testbed.sh OUT_DIR}
CACHE=${K8SLAB_TESTBED_CACHE:-/var/cache/k8slab-testbed}
K8S_VERSION=1.20.2
BIN=$CACHE/k8s/v$K8S_VERSION/bin
IMAGES=$CACHE/images
DEBS=${K8SLAB_TESTBED_DEBS:-$CACHE/box/debs}
# shellcheck disable=SC2034 # read by bundle-lib.sh
BUNDLE_LOG_NAME=bundle-from-testbed
. "$(dirname "${BASH_SOURCE[0]}")/bundle-lib.sh"

[[ -x $BIN/kubeadm && -x $BIN/kubelet && -x $BIN/kubectl ]] || die "no Kubernetes binaries in $BIN: run ../shared/testbed/k8s-binaries.sh"
[[ -s $IMAGES/index.json ]] || die "no $IMAGES/index.json: run ../shared/testbed/images.sh"
[[ -d $DEBS ]] || die "no .deb cache in $DEBS: run ../shared/testbed/box.sh"

mkdir -p "$OUT/bin"
log "bin/: kubeadm kubelet kubectl v$K8S_VERSION"
for b in kubeadm kubelet kubectl; do link_or_copy "$BIN/$b" "$OUT/bin/$b"; done

bundle_images "$IMAGES/index.json"
bundle_debs "$DEBS" "run ../shared/testbed/box.sh --rebuild" "${NODE_PKGS[@]}"

# the plugins from Debian's containernetworking-plugins package
cni_deb=$(compgen -G "$OUT/debs/containernetworking-plugins_*.deb" | sort -V | tail -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$cni_deb" "$tmp"
bundle_cni_plugins "$tmp/usr/lib/cni"

containerd_version=$(compgen -G "$OUT/debs/containerd_*.deb" | sed -E 's/.*containerd_([0-9]+\.[0-9]+\.[0-9]+).*/\1/')
cni_version=$(sed -E 's/.*containernetworking-plugins_([0-9]+\.[0-9]+\.[0-9]+).*/\1/' <<<"$cni_deb")
cat >"$OUT/bundle.json.tmp" <<JSON
{
  "format": 1,
  "kubernetes": "$K8S_VERSION",
  "containerd": "$containerd_version",
  "arch": "amd64",
  "cniPlugins": "$cni_version",
  "source": "k8slab testbed cache $CACHE (Kubernetes built from Debian's source package; images from images.sh; packages from box.sh's cache)"
}
JSON
mv "$OUT/bundle.json.tmp" "$OUT/bundle.json"
log "bundle ready in $OUT ($(du -sh "$OUT" | cut -f1) apparent); check it with: k8slab bundle check $OUT"
echo "$OUT"

#!/usr/bin/env bash
# bundle-from-stack.sh OUT_DIR - turn bench/stack's build (the current Kubernetes and its runtime, built here
# from their Go modules) into a k8slab offline bundle for `kubernetes.source: bundle`:
#
#   OUT_DIR/bin/        kubeadm kubelet kubectl crictl           bench/stack (Kubernetes, cri-tools)
#   OUT_DIR/runtime/    containerd/vV/containerd-V-linux-amd64.tar.gz(.sha256sum), containerd.service;
#                       runc/vV/runc.amd64, runc.sha256sum   the release files install_pkg.sh installs
#                                                            online, made from bench/stack's containerd and runc
#   OUT_DIR/images/     the control plane's, kube-proxy's, CoreDNS's and pause's images (bench/stack/images.sh),
#                       plus the lessons' stand-ins k8slab.local/app:1 and tools:1 (the testbed's images.sh)
#   OUT_DIR/cni/        bridge host-local loopback portmap        bench/stack (CNI plugins)
#   OUT_DIR/manifests/  <addon>/<version>/<file>: the add-ons' manifests bench/stack took from their modules
#   OUT_DIR/debs/       conntrack, socat, curl... and their dependencies (a Debian .deb folder, DEBS below)
#   OUT_DIR/bundle.json
#
# Environment: K8SLAB_STACK_CACHE (default /var/cache/k8slab-stack); K8SLAB_TESTBED_CACHE (default
# /var/cache/k8slab-testbed) for the lesson images; K8SLAB_BUNDLE_DEBS, a .deb folder holding NODE_PKGS and
# their dependencies (test/nodes/machine/bundle-debs.sh fills one). Idempotent: what is up to date is kept.
# Then: `k8slab bundle check OUT_DIR`. `bundle-from-stack.sh --packages` prints the package list.
set -euo pipefail

# What a node needs besides Kubernetes, containerd and runc (which come as release files).
NODE_PKGS=(conntrack socat ebtables ethtool iptables ipset curl)
if [[ ${1:-} == --packages ]]; then printf '%s\n' "${NODE_PKGS[@]}"; exit 0; fi

OUT=${1:?usage: bundle-from-stack.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the stack's pinned versions and caches (STACK_CACHE, GOMODCACHE, KUBE_VERSION...)
. "$here/../bench/stack/lib.sh"
TESTBED_IMAGES=${K8SLAB_TESTBED_CACHE:-/var/cache/k8slab-testbed}/images
DEBS=${K8SLAB_BUNDLE_DEBS:?set K8SLAB_BUNDLE_DEBS to a folder of .debs holding: ${NODE_PKGS[*]} (test/nodes/machine/bundle-debs.sh fills one)}
RUNC_VERSION=${RUNC_VERSIONS%% *}
ARCH=amd64
# shellcheck disable=SC2034 # read by bundle-lib.sh
BUNDLE_LOG_NAME=bundle-from-stack
. "$here/bundle-lib.sh"
. "$here/../bench/serve/release.sh"

K8S=$STACK_CACHE/bin/kubernetes/$KUBE_VERSION
CRICTL=$STACK_CACHE/bin/cri-tools/$CRI_TOOLS_VERSION/crictl
for f in "$K8S/kubeadm" "$K8S/kubelet" "$K8S/kubectl" "$CRICTL"; do
  [[ -x $f ]] || die "$f is missing: build the stack first (npm run stack:build)"
done
[[ -s $STACK_CACHE/images/index.json ]] || die "no $STACK_CACHE/images/index.json: run npm run stack:images"
[[ -s $TESTBED_IMAGES/index.json ]] || die "no $TESTBED_IMAGES/index.json (the lessons' k8slab.local images): run ../shared/testbed/images.sh"

mkdir -p "$OUT/bin"
for b in kubeadm kubelet kubectl; do link_or_copy "$K8S/$b" "$OUT/bin/$b"; done
link_or_copy "$CRICTL" "$OUT/bin/crictl"
log "bin/: kubeadm kubelet kubectl $KUBE_VERSION, crictl $CRI_TOOLS_VERSION"

# containerd's unit file is the one in its own source at the release (the Go module the stack built from)
cd_ver=${CONTAINERD_VERSION#v}
rt=$OUT/runtime/containerd/v$cd_ver
if ! [[ -s $rt/containerd-$cd_ver-linux-$ARCH.tar.gz.sha256sum ]] ||
  ! (cd "$rt" && sha256sum -c --quiet "containerd-$cd_ver-linux-$ARCH.tar.gz.sha256sum" 2>/dev/null) ||
  [[ $STACK_CACHE/bin/containerd/$CONTAINERD_VERSION/containerd -nt $rt/containerd-$cd_ver-linux-$ARCH.tar.gz ]]; then
  containerd_release "$STACK_CACHE/bin/containerd/$CONTAINERD_VERSION" "$cd_ver" "$rt" "$ARCH"
fi
src=$(cd /tmp && go mod download -json "github.com/containerd/containerd/v2@$CONTAINERD_VERSION" | jq -r '.Dir // empty') ||
  die "containerd's Go module $CONTAINERD_VERSION is not in $GOMODCACHE (npm run stack:build fetches it)"
install -m 0644 "$src/containerd.service" "$rt/containerd.service"
runc_release "$STACK_CACHE/bin/runc/$RUNC_VERSION" "$OUT/runtime/runc/$RUNC_VERSION" "$ARCH"
log "runtime/: containerd $cd_ver (tarball, .sha256sum, containerd.service), runc ${RUNC_VERSION#v}"

# the testbed's control-plane images are v1.20.2's (and share the stack's file names): only the lessons'
# stand-ins come along
lessons=$(mktemp)
trap 'rm -f "$lessons"' EXIT
jq '.images |= map(select(any(.images[]; startswith("k8slab.local/"))))' "$TESTBED_IMAGES/index.json" >"$lessons"
bundle_images "$STACK_CACHE/images/index.json" "$lessons"
bundle_cni_plugins "$STACK_CACHE/bin/cni-plugins/$CNI_PLUGINS_VERSION"
# the add-ons' upstream manifests bench/stack took from their Go modules, as manifests/<addon>/<version>/<file>
if [[ -d $STACK_CACHE/manifests ]]; then
  n=0
  while IFS= read -r f; do
    mkdir -p "$(dirname "$OUT/manifests/$f")"
    link_or_copy "$STACK_CACHE/manifests/$f" "$OUT/manifests/$f"
    n=$((n + 1))
  done < <(cd "$STACK_CACHE/manifests" && find . -type f -name '*.yaml' | sed 's|^\./||' | sort)
  log "manifests/: $n add-on manifests"
fi
bundle_debs "$DEBS" "fill it with test/nodes/machine/bundle-debs.sh" "${NODE_PKGS[@]}"

cat >"$OUT/bundle.json.tmp" <<JSON
{
  "format": 1,
  "kubernetes": "${KUBE_VERSION#v}",
  "containerd": "$cd_ver",
  "runc": "${RUNC_VERSION#v}",
  "arch": "$ARCH",
  "cniPlugins": "${CNI_PLUGINS_VERSION#v}",
  "source": "bench/stack in $STACK_CACHE: Kubernetes, etcd, CoreDNS, pause, containerd, runc, CNI plugins and crictl built here from their pinned Go modules; packages from Debian"
}
JSON
mv "$OUT/bundle.json.tmp" "$OUT/bundle.json"
log "bundle ready in $OUT ($(du -sh "$OUT" | cut -f1)); check it with: k8slab bundle check $OUT"
echo "$OUT"

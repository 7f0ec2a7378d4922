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

log() { printf '%s bundle-from-testbed: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x $BIN/kubeadm && -x $BIN/kubelet && -x $BIN/kubectl ]] || die "no Kubernetes binaries in $BIN: run ../shared/testbed/k8s-binaries.sh"
[[ -s $IMAGES/index.json ]] || die "no $IMAGES/index.json: run ../shared/testbed/images.sh"
[[ -d $DEBS ]] || die "no .deb cache in $DEBS: run ../shared/testbed/box.sh"

# link_or_copy SRC DST: a hard link when possible, else a copy; nothing when DST is already SRC's content.
link_or_copy() {
  if [[ -f $2 ]] && { [[ $1 -ef $2 ]] || cmp -s "$1" "$2"; }; then return 0; fi
  rm -f "$2"
  ln "$1" "$2" 2>/dev/null || cp "$1" "$2"
}

mkdir -p "$OUT"/{bin,images,debs,cni}

log "bin/: kubeadm kubelet kubectl v$K8S_VERSION"
for b in kubeadm kubelet kubectl; do link_or_copy "$BIN/$b" "$OUT/bin/$b"; done

log "images/: $(grep -c '"file"' "$IMAGES/index.json") tarballs"
for t in "$IMAGES"/*.tar; do link_or_copy "$t" "$OUT/images/${t##*/}"; done
# the bench's index, without its host paths (the bundle is read from wherever it is mounted)
sed -E 's/"path": "[^"]*", //' "$IMAGES/index.json" >"$OUT/images/index.json.tmp"
mv "$OUT/images/index.json.tmp" "$OUT/images/index.json"

# The runtime packages and their dependency closure, minus what every Debian system has (priority
# required/important: replacing those from a cache could downgrade a newer box).
log "debs/: ${NODE_PKGS[*]} and their dependencies"
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances "${NODE_PKGS[@]}" 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)
# every priority from one apt-cache call (one call per package takes minutes on a busy host)
declare -A priority=()
while read -r pkg prio; do [[ -n ${priority[$pkg]:-} ]] || priority[$pkg]=$prio; done < <(
  apt-cache show --no-all-versions "${closure[@]}" 2>/dev/null | awk '/^Package: /{p=$2} /^Priority: /{print p, $2}' || true)
n=0
for pkg in "${closure[@]}"; do
  prio=${priority[$pkg]:-}
  [[ $prio == required || $prio == important ]] && continue
  shopt -s nullglob
  files=("$DEBS/${pkg}_"*_amd64.deb "$DEBS/${pkg}_"*_all.deb)
  shopt -u nullglob
  ((${#files[@]} > 0)) || continue
  # newest cached version only
  f=$(printf '%s\n' "${files[@]}" | sort -V | tail -n 1)
  link_or_copy "$f" "$OUT/debs/${f##*/}"
  n=$((n + 1))
done
for pkg in "${NODE_PKGS[@]}"; do
  compgen -G "$OUT/debs/${pkg}_*.deb" >/dev/null || die "$pkg is not in $DEBS (box.sh's cache): run ../shared/testbed/box.sh --rebuild"
done
log "debs/: $n packages"

log "cni/: bridge host-local loopback portmap"
cni_deb=$(compgen -G "$OUT/debs/containernetworking-plugins_*.deb" | sort -V | tail -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$cni_deb" "$tmp"
for p in bridge host-local loopback portmap; do
  [[ -x $tmp/usr/lib/cni/$p ]] || die "$cni_deb has no usr/lib/cni/$p"
  cmp -s "$tmp/usr/lib/cni/$p" "$OUT/cni/$p" || install -m 0755 "$tmp/usr/lib/cni/$p" "$OUT/cni/$p"
done

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

#!/usr/bin/env bash
# Lays out the GitHub files the lab's scripts fetch (src/render/urls.ts), at their exact URL paths:
#
#   github.com/containerd/containerd/releases/download/vV/containerd-V-linux-amd64.tar.gz(.sha256sum)
#       bin/containerd, bin/ctr, bin/containerd-shim-runc-v2 from BIN/containerd/vV/ (the tarball's layout:
#       install_pkg.sh unpacks it into /usr/local)
#   github.com/opencontainers/runc/releases/download/vV/runc.amd64, runc.sha256sum    from BIN/runc/vV/runc
#   raw.githubusercontent.com/OWNER/REPO/REF/PATH     every file under RAW/ (what the module proxy cannot
#       give: Calico's, the NFS provisioner's manifests), the add-on manifests bench/stack took from the module
#       zips it built (MANIFESTS/index.json: each file and its URL) and the files under $SERVE_CACHE/raw/
#       (manifests.sh: from the projects' Go modules, e.g. containerd.service, metallb-native.yaml), as they are
#
#   github.sh [BIN [RAW [MANIFESTS]]]     defaults $STACK_CACHE/bin, $STACK_CACHE/raw, $STACK_CACHE/manifests;
#                             writes $SERVE_CACHE/site/{github.com,raw.githubusercontent.com}/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:-$STACK_CACHE/bin} raw=${2:-$STACK_CACHE/raw} addon_manifests=${3:-$STACK_CACHE/manifests}
gh=$SERVE_CACHE/site/github.com rawsite=$SERVE_CACHE/site/raw.githubusercontent.com
ARCH=amd64

. "$here/release.sh"

units=() # containerd.service of each containerd served: install_pkg.sh fetches it beside the tarball
for d in "$bin"/containerd/v*/; do
  [[ -d $d ]] || continue
  v=$(basename "$d") v=${v#v}
  containerd_release "${d%/}" "$v" "$gh/containerd/containerd/releases/download/v$v" "$ARCH"
  log "containerd $v: containerd-$v-linux-$ARCH.tar.gz and its .sha256sum"
  units+=("containerd/containerd/v$v/containerd.service")
done

for d in "$bin"/runc/v*/; do
  [[ -d $d ]] || continue
  v=$(basename "$d") v=${v#v}
  runc_release "${d%/}" "$gh/opencontainers/runc/releases/download/v$v" "$ARCH"
  log "runc $v: runc.$ARCH and runc.sha256sum"
done

# stack_manifests: each add-on manifest of MANIFESTS/index.json at the path of its upstream URL.
stack_manifests() {
  local index=$addon_manifests/index.json path url n=0
  [[ -f $index ]] || { log "no $index (bench/stack/build.sh lab-addons writes it): no add-on manifests from the stack"; return; }
  while IFS=$'\t' read -r path url; do
    [[ $url == https://raw.githubusercontent.com/* && -s $addon_manifests/$path ]] || die "$index: bad entry '$path' '$url'"
    install -D -m 0644 "$addon_manifests/$path" "$rawsite/${url#https://raw.githubusercontent.com/}"
    n=$((n + 1))
  done < <(jq -r '.[] | [.path, .url] | @tsv' "$index")
  log "raw.githubusercontent.com: $n add-on manifests from $addon_manifests"
}

install -d "$rawsite"
# The module-verified copies go last, so they win over a stand-in or a hand-placed file of the same path.
if [[ -d $raw ]]; then
  cp -rT --preserve=mode "$raw" "$rawsite"
  log "raw.githubusercontent.com: $(find "$raw" -type f | wc -l) files from $raw"
else
  log "warning: no $raw (put files the module proxy cannot give in it as OWNER/REPO/REF/PATH)"
fi
stack_manifests
if [[ -d $SERVE_CACHE/raw ]]; then
  cp -rT --preserve=mode "$SERVE_CACHE/raw" "$rawsite"
  log "raw.githubusercontent.com: $(find "$SERVE_CACHE/raw" -type f | wc -l) files from $SERVE_CACHE/raw"
else
  log "warning: no $SERVE_CACHE/raw (manifests.sh fills it)"
fi
for u in "${units[@]}"; do
  [[ -s $rawsite/$u ]] || die "raw.githubusercontent.com/$u is missing: run manifests.sh (it takes it from containerd's Go module)"
done

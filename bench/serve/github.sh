#!/usr/bin/env bash
# Lays out the GitHub files the lab's scripts fetch (src/render/urls.ts), at their exact URL paths:
#
#   github.com/containerd/containerd/releases/download/vV/containerd-V-linux-amd64.tar.gz(.sha256sum)
#       bin/containerd, bin/ctr, bin/containerd-shim-runc-v2 from BIN/containerd/vV/ (the tarball's layout:
#       install_pkg.sh unpacks it into /usr/local)
#   github.com/opencontainers/runc/releases/download/vV/runc.amd64, runc.sha256sum    from BIN/runc/vV/runc
#   raw.githubusercontent.com/OWNER/REPO/REF/PATH     every file under RAW/ (what the module proxy cannot
#       give: Calico's, the NFS provisioner's and local-path's manifests) and under $SERVE_CACHE/raw/
#       (manifests.sh: from the projects' Go modules, e.g. containerd.service, metallb-native.yaml), as they are
#
#   github.sh [BIN [RAW]]     defaults $STACK_CACHE/bin, $STACK_CACHE/raw;
#                             writes $SERVE_CACHE/site/{github.com,raw.githubusercontent.com}/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:-$STACK_CACHE/bin} raw=${2:-$STACK_CACHE/raw}
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

install -d "$rawsite"
# The module-verified copies go last, so they win over a stand-in or a hand-placed file of the same path.
for r in "$raw" "$SERVE_CACHE/raw"; do
  if [[ -d $r ]]; then
    cp -rT --preserve=mode "$r" "$rawsite"
    log "raw.githubusercontent.com: $(find "$r" -type f | wc -l) files from $r"
  else
    log "warning: no $r (manifests.sh fills $SERVE_CACHE/raw; put other files in $raw as OWNER/REPO/REF/PATH)"
  fi
done
for u in "${units[@]}"; do
  [[ -s $rawsite/$u ]] || die "raw.githubusercontent.com/$u is missing: run manifests.sh (it takes it from containerd's Go module)"
done

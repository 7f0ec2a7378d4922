#!/usr/bin/env bash
# Lays out the GitHub files the lab's scripts fetch (src/render/urls.ts), at their exact URL paths:
#
#   github.com/containerd/containerd/releases/download/vV/containerd-V-linux-amd64.tar.gz(.sha256sum)
#       bin/containerd, bin/ctr, bin/containerd-shim-runc-v2 from BIN/containerd/vV/ (the tarball's layout:
#       install_pkg.sh unpacks it into /usr/local)
#   github.com/opencontainers/runc/releases/download/vV/runc.amd64, runc.sha256sum    from BIN/runc/vV/runc
#   raw.githubusercontent.com/containerd/containerd/vV/containerd.service
#       from the containerd Go module's source (MODCACHE/github.com/containerd/containerd/v2@vV/), which the
#       stack build downloaded: the very file upstream's raw URL serves
#   raw.githubusercontent.com/OWNER/REPO/REF/PATH     every file under RAW/ (manifests: Calico, MetalLB,
#       local-path-provisioner, the NFS provisioner), copied as they are
#
#   github.sh [BIN [RAW [MODCACHE]]]   defaults $STACK_CACHE/bin, $STACK_CACHE/raw, $STACK_CACHE/gomod;
#                                      writes $SERVE_CACHE/site/{github.com,raw.githubusercontent.com}/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:-$STACK_CACHE/bin} raw=${2:-$STACK_CACHE/raw} modcache=${3:-$STACK_CACHE/gomod}
gh=$SERVE_CACHE/site/github.com rawsite=$SERVE_CACHE/site/raw.githubusercontent.com
ARCH=amd64

# sums FILE: writes FILE.sha256sum as sha256sum(1) prints it, the format upstream publishes.
sums() { (cd "$(dirname "$1")" && sha256sum "$(basename "$1")" >"$(basename "$1").sha256sum"); }

for d in "$bin"/containerd/v*/; do
  [[ -d $d ]] || continue
  v=$(basename "$d") v=${v#v}
  for b in containerd ctr containerd-shim-runc-v2; do [[ -x $d/$b ]] || die "$d$b is missing (build it: npm run stack:build)"; done
  out=$gh/containerd/containerd/releases/download/v$v
  tarball=$out/containerd-$v-linux-$ARCH.tar.gz
  tmp=$(mktemp -d)
  install -d "$tmp/bin" "$out"
  install -m 0755 "$d/containerd" "$d/ctr" "$d/containerd-shim-runc-v2" "$tmp/bin/"
  # Same binaries, same bytes: sorted, owner 0, mtime 0, gzip without a name or time.
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp" -cf - bin | gzip -9n >"$tarball.new"
  rm -rf "$tmp"
  mv "$tarball.new" "$tarball"
  sums "$tarball"
  log "containerd $v: $(basename "$tarball") and its .sha256sum"

  unit=$modcache/github.com/containerd/containerd/v2@v$v/containerd.service
  if [[ -s $unit ]]; then
    install -D -m 0644 "$unit" "$rawsite/containerd/containerd/v$v/containerd.service"
    log "containerd $v: containerd.service from the Go module's source"
  elif [[ ! -s $raw/containerd/containerd/v$v/containerd.service ]]; then
    die "no containerd.service for v$v: neither $unit (npm run stack:build downloads it) nor under $raw"
  fi
done

for d in "$bin"/runc/v*/; do
  [[ -d $d ]] || continue
  v=$(basename "$d") v=${v#v}
  [[ -x $d/runc ]] || die "${d}runc is missing (build it: npm run stack:build)"
  out=$gh/opencontainers/runc/releases/download/v$v
  install -D -m 0755 "$d/runc" "$out/runc.$ARCH"
  (cd "$out" && sha256sum "runc.$ARCH" >runc.sha256sum)
  log "runc $v: runc.$ARCH and runc.sha256sum"
done

if [[ -d $raw ]]; then
  install -d "$rawsite"
  cp -rT --preserve=mode "$raw" "$rawsite"
  log "raw.githubusercontent.com: $(find "$raw" -type f | wc -l) files from $raw"
else
  log "warning: no $raw: the Calico, MetalLB and storage manifests are not served (put them there as OWNER/REPO/REF/PATH)"
fi

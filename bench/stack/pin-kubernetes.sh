#!/usr/bin/env bash
# Writes (or refreshes) the build module for one Kubernetes release:
#   bench/stack/modules/kubernetes/vX.Y.Z/{go.mod,go.sum}
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, client-go, ...) with ./staging paths that its
# module zip does not carry; this module points each of them at the published k8s.io/* module of the same
# release (v0.Y.Z for vX.Y.Z), so the whole build comes from the Go module proxy with go.sum checked
# against sum.golang.org. Run once per release; the result is committed and build.sh uses it read-only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
version=${1:?usage: pin-kubernetes.sh vX.Y.Z}
[[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "version must look like v1.37.2, got '$version'"
staging_version="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
dir="$here/modules/kubernetes/$version"
mkdir -p "$dir"
upstream_dir=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -d $upstream_dir ]] || die "go mod download k8s.io/kubernetes@$version gave no directory"
# The staging modules are exactly the ones upstream replaces with ./staging/src/k8s.io/NAME and requires.
mapfile -t staging < <(awk '/=> \.\/staging\/src\//{print $1}' "$upstream_dir/go.mod" | sort)
mapfile -t required < <(awk '$2=="v0.0.0"{print $1}' "$upstream_dir/go.mod" | sort)
{
  echo "// Build module for Kubernetes $version, written by bench/stack/pin-kubernetes.sh. Do not edit by hand."
  echo "module k8slab.local/stack/kubernetes"
  echo
  echo "go $(awk '$1=="go"{print $2; exit}' "$upstream_dir/go.mod")"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do
    if printf '%s\n' "${required[@]}" | grep -qx "$m"; then echo "	$m => $m $staging_version"; fi
  done
  echo ")"
  echo
  echo "tool ("
  for c in $KUBE_COMMANDS; do echo "	k8s.io/kubernetes/cmd/$c"; done
  echo ")"
} > "$dir/go.mod"
# godebug lines of upstream's go.mod apply to the main module only: carry them over so the binaries behave alike.
if grep -q '^godebug' "$upstream_dir/go.mod"; then
  sed -i "/^go /a\\
\\
$(grep '^godebug' "$upstream_dir/go.mod")" "$dir/go.mod"
fi
(cd "$dir" && rm -f go.sum && go mod tidy)
log "pinned Kubernetes $version in $dir"

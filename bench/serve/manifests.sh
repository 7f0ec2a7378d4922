#!/usr/bin/env bash
# Fetches the upstream files the lab downloads from raw.githubusercontent.com out of the projects' Go module
# zips (the Go module proxy, go.sum checked against sum.golang.org), which carry the repository's files at the
# release tag, into $SERVE_CACHE/raw/OWNER/REPO/REF/PATH for github.sh to serve.
#
#   manifests.sh [METALLB_VERSION [CONTAINERD_VERSION [LOCAL_PATH_VERSION]]]
#       defaults: the lab's MetalLB and containerd (0.16.2, 2.3.7); local-path-provisioner 0.0.30, the only
#       version the proxy serves (the lab's 0.0.37 is not there)
#
# What the proxy cannot give is reported, not faked: Calico (its v3.x tags have no /v3 module path, and the
# proxy here serves no version of it: bench/stack/README.md) and the NFS provisioner (the proxy refuses its
# module; its manifests are tagged by its chart, "nfs-subdir-external-provisioner-4.0.18"). Put those under
# $K8SLAB_STACK_CACHE/raw/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
metallb=${1:-0.16.2} containerd=${2:-2.3.7} localpath=${3:-0.0.30}
export GOMODCACHE=${K8SLAB_SERVE_GOMODCACHE:-$SERVE_CACHE/gomod} GOFLAGS=-mod=mod GOTOOLCHAIN=local GOSUMDB=sum.golang.org GONOSUMDB='' GOPRIVATE='' GOINSECURE=''
command -v go >/dev/null || die "go is missing (the Go toolchain reads the module proxy)"
raw=$SERVE_CACHE/raw

# take MODULE@VERSION FILE URLPATH: copies FILE of the module's source to raw/URLPATH.
take() {
  local dir
  dir=$(cd /tmp && go mod download -json "$1" | jq -r '.Dir // empty') || die "the Go module proxy did not give $1"
  [[ -n $dir && -s $dir/$2 ]] || die "$1 has no $2"
  install -D -m 0644 "$dir/$2" "$raw/$3"
  log "raw.githubusercontent.com/$3 from $1"
}
take "go.universe.tf/metallb@v$metallb" config/manifests/metallb-native.yaml \
  "metallb/metallb/v$metallb/config/manifests/metallb-native.yaml"
take "github.com/containerd/containerd/v2@v$containerd" containerd.service "containerd/containerd/v$containerd/containerd.service"
take "github.com/rancher/local-path-provisioner@v$localpath" deploy/local-path-storage.yaml \
  "rancher/local-path-provisioner/v$localpath/deploy/local-path-storage.yaml"
log "not from the module proxy (see the header): Calico's calico.yaml, the NFS provisioner's deploy/*.yaml"

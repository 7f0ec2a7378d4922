# Shared helpers for bench/stack (sourced).
STACK_CACHE=${K8SLAB_STACK_CACHE:-/var/cache/k8slab-stack}
# The Go module and build caches live in the stack cache, not in $HOME, so a cold build is measurable and
# `rm -rf $STACK_CACHE` really starts over.
export GOMODCACHE=${K8SLAB_STACK_GOMODCACHE:-$STACK_CACHE/gomod}
export GOCACHE=${K8SLAB_STACK_GOCACHE:-$STACK_CACHE/gocache}
export GOFLAGS=-mod=readonly GOTOOLCHAIN=local
# go.sum is checked against the public checksum database: never turned off here.
export GOSUMDB=sum.golang.org GONOSUMDB= GONOSUMCHECK= GOPRIVATE= GOINSECURE=
# Kubernetes commands in the order they are needed: the control plane for the real-apiserver test tier first.
KUBE_COMMANDS="kube-apiserver kube-controller-manager kube-scheduler kubectl kubeadm kubelet kube-proxy"

log() { printf '%s stack: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Pinned versions. Kubernetes: the newest release the Go module proxy serves (v1.38 is still beta).
KUBE_VERSION=v1.37.2
# etcd: kubeadm v1.37.2's DefaultEtcdVersion (cmd/kubeadm/app/constants/constants.go: "3.7.0-0").
ETCD_VERSION=v3.7.0


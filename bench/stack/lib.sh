# Shared helpers for bench/stack (sourced).
STACK_CACHE=${K8SLAB_STACK_CACHE:-/var/cache/k8slab-stack}
# The Go module and build caches live in the stack cache, not in $HOME, so a cold build is measurable and
# `rm -rf $STACK_CACHE` really starts over.
export GOMODCACHE=${K8SLAB_STACK_GOMODCACHE:-$STACK_CACHE/gomod}
export GOCACHE=${K8SLAB_STACK_GOCACHE:-$STACK_CACHE/gocache}
export GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local
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
# CoreDNS and pause: kubeadm v1.37.2's CoreDNSVersion "v1.14.6" and PauseVersion "3.10.2" (same file).
COREDNS_VERSION=v1.14.6
PAUSE_VERSION=3.10.2
# containerd: the lab's default, 2.3, the newest LTS line (RELEASES.md of containerd v2.4.2: 2.3 "LTS" until
# 2028-04-30; 2.4 is "Active"), at its newest patch on the proxy.
CONTAINERD_VERSION=v2.3.7
# runc: 1.4 is what containerd 2.3 ships with (the lab default); 1.5 is the newest minor.
RUNC_VERSIONS="v1.4.4 v1.5.3"
CNI_PLUGINS_VERSION=v1.10.0
# crictl: cri-tools follows Kubernetes minors; v1.37.0 is the newest release for v1.37.
CRI_TOOLS_VERSION=v1.37.0
DISTRIBUTION_VERSION=v3.1.2
# MariaDB: Debian 12's (bookworm-security 1:10.11.19-0+deb12u1), the mysql lesson's stand-in image (images.sh).
MARIADB_VERSION=10.11.19
# Traefik: the lab's ingress controller (addons.ingress, src/config/schema.ts), newest v3 patch on the proxy.
TRAEFIK_VERSION=v3.7.13
# lego's ACME DNS providers whose SDK modules the proxy refuses (pin-traefik.sh lists them): build_traefik
# takes them out of lego's provider table, so a lab's traefik answers "unrecognized DNS provider" for them.
TRAEFIK_LEGO_DROP="alidns aliesa azion dnsimple edgedns edgeone huaweicloud oraclecloud regfish sakuracloud tencentcloud ucloud yandexcloud"


# take_lock NAME: hold $STACK_CACHE/locks/NAME.lock until this script exits (waits for another holder).
take_lock() {
  mkdir -p "$STACK_CACHE/locks"
  exec {_lock_fd}>"$STACK_CACHE/locks/$1.lock"
  flock -n "$_lock_fd" || { log "waiting for another holder of ($STACK_CACHE/locks/$1.lock)"; flock "$_lock_fd"; }
}

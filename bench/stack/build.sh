#!/usr/bin/env bash
# Builds the upstream Kubernetes stack from published Go modules, each at the version pinned by its build
# module in bench/stack/modules/<component>/<version>/ (go.mod + go.sum, committed).
#
#   build.sh [GROUP...]     GROUP: control-plane (default first), kubernetes, etcd, all
#
# Binaries go to $STACK_CACHE/bin/<component>/<version>/. A component whose inputs (go.mod, go.sum, flags,
# Go version) have not changed since its last build is skipped, so a warm run only checks and exits.
# Every build runs under `nice -n 19`: the machine is shared. Times are appended to $STACK_CACHE/build-times.tsv
# (date, component, version, binaries, cold|warm Go cache, wall s, CPU s, cores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

main() {
  local groups=("$@")
  [[ ${#groups[@]} -gt 0 ]] || groups=(all)
  mkdir -p "$STACK_CACHE"
  take_lock build
  local g
  for g in "${groups[@]}"; do
    case $g in
      control-plane) build_kubernetes_control_plane; build_etcd ;;
      kubernetes) build_kubernetes_control_plane; build_kubernetes_nodes ;;
      etcd) build_etcd ;;
      all) build_kubernetes_control_plane; build_etcd; build_kubernetes_nodes ;;
      *) die "unknown group '$g' (allowed: control-plane, kubernetes, etcd, all)" ;;
    esac
  done
  write_manifest
}

# ---------------------------------------------------------------- components

# The test tier's control plane: kube-apiserver, kube-controller-manager, kube-scheduler and kubectl.
build_kubernetes_control_plane() {
  kube_build "$KUBE_VERSION" kube-apiserver kube-controller-manager kube-scheduler kubectl
}

build_kubernetes_nodes() {
  kube_build "$KUBE_VERSION" kubeadm kubelet kube-proxy
}

# etcd at the version kubeadm of $KUBE_VERSION deploys (cmd/kubeadm/app/constants: DefaultEtcdVersion).
build_etcd() {
  # Upstream's scripts/build_lib.sh also stamps the git commit (api/v3/version.GitSHA); the module proxy
  # serves no commit, so that field keeps its default "Not provided".
  go_component etcd "$ETCD_VERSION" "" "" \
    etcd=go.etcd.io/etcd/server/v3 etcdctl=go.etcd.io/etcd/etcdctl/v3 etcdutl=go.etcd.io/etcd/etcdutl/v3
}

# The version ldflags of upstream's hack/lib/version.sh (kube::version::ldflags), the tags of
# hack/lib/golang.sh (selinux,notest,grpcnotrace) and CGO_ENABLED=0 for every command.
kube_build() {
  local version=$1; shift
  [[ $version =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || die "bad Kubernetes version '$version'"
  local minor=${BASH_REMATCH[1]} date ldflags="" key val pkgs=() c
  date=$(module_time "k8s.io/kubernetes" "$version" "$here/modules/kubernetes/$version")
  for kv in "gitVersion=$version" "gitMajor=1" "gitMinor=$minor" "buildDate=$date"; do
    key=${kv%%=*} val=${kv#*=}
    ldflags+=" -X k8s.io/client-go/pkg/version.$key=$val -X k8s.io/component-base/version.$key=$val"
  done
  for c in "$@"; do pkgs+=("$c=k8s.io/kubernetes/cmd/$c"); done
  go_component kubernetes "$version" "selinux,notest,grpcnotrace" "$ldflags" "${pkgs[@]}"
}

# ---------------------------------------------------------------- helpers

# go_component COMPONENT VERSION TAGS LDFLAGS NAME=PACKAGE...
# Builds the packages of one build module into $STACK_CACHE/bin/COMPONENT/VERSION/NAME, unless each binary's
# stamp says it was built from the same inputs.
go_component() {
  local component=$1 version=$2 tags=$3 ldflags=$4; shift 4
  local mod="$here/modules/$component/$version" out="$STACK_CACHE/bin/$component/$version"
  [[ -f $mod/go.mod && -f $mod/go.sum ]] || die "no build module $mod (go.mod and go.sum); write it first"
  local inputs stamp todo=() names=() nv
  inputs=$(cat "$mod/go.mod" "$mod/go.sum"; go version; echo "tags=$tags ldflags=$ldflags")
  stamp=$(sha256sum <<<"$inputs" | cut -c1-64)
  for nv in "$@"; do
    if [[ -x $out/${nv%%=*} && $(cat "$out/.${nv%%=*}.stamp" 2>/dev/null) == "$stamp" ]]; then continue; fi
    todo+=("${nv#*=}"); names+=("${nv%%=*}")
  done
  if [[ ${#todo[@]} -eq 0 ]]; then log "$component $version: ${*%%=*} up to date"; return; fi
  mkdir -p "$out" "$STACK_CACHE/logs"
  local logf="$STACK_CACHE/logs/$component-$version.log" cold=warm
  [[ -d $GOCACHE && -n $(ls -A "$GOCACHE" 2>/dev/null) ]] || cold=cold
  log "$component $version: building ${names[*]} ($cold Go cache; log $logf)"
  local timef="$STACK_CACHE/logs/.time" wall cpu
  (
    cd "$mod"
    go mod download -x >>"$logf" 2>&1   # verifies every module against go.sum
    # CPU seconds (user+sys) are recorded next to wall seconds: on this shared host the wall time says
    # more about the other tenants than about the build.
    CGO_ENABLED=0 /usr/bin/time -f '%e %U %S' -o "$timef" nice -n 19 go build -trimpath ${tags:+-tags "$tags"} \
      -ldflags "all=-s -w$ldflags" -o "$out/" "${todo[@]}" >>"$logf" 2>&1
  ) || { tail -n 30 "$logf" >&2; die "$component $version: build failed (log $logf)"; }
  read -r wall cpu < <(awk '{printf "%d %d\n", $1, $2 + $3}' "$timef")
  for nv in "${names[@]}"; do echo "$stamp" >"$out/.$nv.stamp"; done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$component" "$version" "${names[*]}" "$cold" \
    "$wall" "$cpu" "$(nproc)" >>"$STACK_CACHE/build-times.tsv"
  log "$component $version: built ${names[*]} in $wall s ($cpu CPU s)"
}

# The commit time of a module version, from the proxy's .info (upstream sets buildDate from the commit).
module_time() {
  (cd "$3" && go mod download -json "$1@$2" | sed -n 's/^\t"Info": "\(.*\)",$/\1/p' | xargs cat |
    sed -n 's/.*"Time":"\([^"]*\)".*/\1/p')
}

take_lock() {
  mkdir -p "$STACK_CACHE/locks"
  exec {_lock_fd}>"$STACK_CACHE/locks/$1.lock"
  flock -n "$_lock_fd" || { log "waiting for another build.sh ($STACK_CACHE/locks/$1.lock)"; flock "$_lock_fd"; }
}

write_manifest() { :; }

main "$@"

#!/usr/bin/env bash
# Builds the upstream Kubernetes stack from published Go modules, each at the version pinned by its build
# module in bench/stack/modules/<component>/<version>/ (go.mod + go.sum, committed).
#
#   build.sh [GROUP...]   GROUP: control-plane (kube-apiserver, -controller-manager, -scheduler, kubectl, kubeadm, etcd),
#                         kubernetes, etcd, node (containerd, runc, CNI plugins, crictl, pause), addons
#                         (CoreDNS, registry, traefik), ingress (traefik), lab-addons (MetalLB,
#                         local-path-provisioner and their manifests: lab-addons.sh), all (the default)
#
# Binaries go to $STACK_CACHE/bin/<component>/<version>/. A component whose inputs (go.mod, go.sum, flags,
# Go version) have not changed since its last build is skipped, so a warm run only checks and exits.
# Every build runs under `nice -n 19`: the machine is shared. Times are appended to $STACK_CACHE/build-times.tsv
# (date, component, version, binaries, cold|warm Go cache, wall s, CPU s, cores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/traefik-trees.sh"
. "$here/lab-addons.sh"

main() {
  local groups=("$@")
  [[ ${#groups[@]} -gt 0 ]] || groups=(all)
  mkdir -p "$STACK_CACHE"
  check_kubeadm_pins
  take_lock build
  local g
  for g in "${groups[@]}"; do
    case $g in
      control-plane) build_kubernetes_control_plane; build_etcd ;;  # what control-plane.sh runs
      kubernetes) build_kubernetes_control_plane; build_kubernetes_nodes ;;
      etcd) build_etcd ;;
      node) build_containerd; build_runc; build_cni_plugins; build_crictl; build_pause ;;
      addons) build_coredns; build_distribution; build_addons_ingress ;;
      ingress) build_addons_ingress ;;
      lab-addons) build_lab_addons ;;
      # Most needed first: the test tier's control plane, then what a node runs, then the rest.
      all) build_kubernetes_control_plane; build_etcd; build_kubernetes_nodes; build_containerd; build_runc
        build_cni_plugins; build_crictl; build_pause; build_coredns; build_distribution; build_addons_ingress
        build_lab_addons ;;
      *) die "unknown group '$g' (allowed: control-plane, kubernetes, etcd, node, addons, ingress, lab-addons, all)" ;;
    esac
  done
  write_manifest
}

# ---------------------------------------------------------------- components

# The test tier's control plane: kube-apiserver, kube-controller-manager, kube-scheduler and kubectl.
# kubeadm is here too: control-plane.sh makes the certificates and kubeconfigs with its init phases.
build_kubernetes_control_plane() {
  kube_build "$KUBE_VERSION" kube-apiserver kube-controller-manager kube-scheduler kubectl kubeadm
}

build_kubernetes_nodes() {
  kube_build "$KUBE_VERSION" kubelet kube-proxy
}

# etcd at the version kubeadm of $KUBE_VERSION deploys (cmd/kubeadm/app/constants: DefaultEtcdVersion).
build_etcd() {
  # Upstream's scripts/build_lib.sh also stamps the git commit (api/v3/version.GitSHA); the module proxy
  # serves no commit, so that field keeps its default "Not provided".
  go_component etcd "$ETCD_VERSION" "" "" \
    etcd=go.etcd.io/etcd/server/v3 etcdctl=go.etcd.io/etcd/etcdctl/v3 etcdutl=go.etcd.io/etcd/etcdutl/v3
}

# containerd at the lab's default (2.3, the newest LTS in containerd's RELEASES.md), with the ldflags and tags of
# its Makefile (version.Version/Package, urfave_cli_no_docs; the shim also no_grpc and always static).
build_containerd() {
  local pkg=github.com/containerd/containerd/v2
  local ld=" -X $pkg/version.Version=$CONTAINERD_VERSION -X $pkg/version.Package=$pkg"
  go_component containerd "$CONTAINERD_VERSION" urfave_cli_no_docs "$ld" \
    containerd=$pkg/cmd/containerd ctr=$pkg/cmd/ctr
  go_component containerd "$CONTAINERD_VERSION" urfave_cli_no_docs,no_grpc "$ld" \
    containerd-shim-runc-v2=$pkg/cmd/containerd-shim-runc-v2
}

# runc needs cgo (libcontainer/nsenter is C) and libseccomp: Debian's gcc and libseccomp-dev, linked static-pie
# as runc's Makefile does for its release binaries. runc embeds its VERSION file itself. Tags as the Makefile,
# minus libpathrs (a Rust library, not a Go module or a Debian package in bookworm).
build_runc() {
  need_debs gcc libseccomp-dev
  local v
  for v in $RUNC_VERSIONS; do
    CGO=1 BUILDMODE=pie go_component runc "$v" "seccomp,urfave_cli_no_docs" \
      " -linkmode external -extldflags -static-pie" runc=github.com/opencontainers/runc
  done
}

# Every Linux plugin, as build_linux.sh builds them, with the BuildVersion of upstream's release workflow.
build_cni_plugins() {
  local base=github.com/containernetworking/plugins pkgs=() d
  for d in main/bridge main/dummy main/host-device main/ipvlan main/loopback main/macvlan main/ptp main/tap \
    main/vlan ipam/dhcp ipam/host-local ipam/static meta/bandwidth meta/firewall meta/portmap meta/sbr \
    meta/tuning meta/vrf; do pkgs+=("${d#*/}=$base/plugins/$d"); done
  go_component cni-plugins "$CNI_PLUGINS_VERSION" "" \
    " -X $base/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" "${pkgs[@]}"
}

# crictl stamps its version without the v (cri-tools' Makefile: git describe | sed 's/^v//').
build_crictl() {
  go_component cri-tools "$CRI_TOOLS_VERSION" "" \
    " -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRI_TOOLS_VERSION#v}" crictl=sigs.k8s.io/cri-tools/cmd/crictl
}

# CoreDNS at the version kubeadm of $KUBE_VERSION deploys; its version is a constant in coremain.
build_coredns() {
  go_component coredns "$COREDNS_VERSION" "" "" coredns=github.com/coredns/coredns
}

# The registry (distribution), with the version ldflags of its Makefile.
build_distribution() {
  local pkg=github.com/distribution/distribution/v3
  go_component distribution "$DISTRIBUTION_VERSION" "" \
    " -X $pkg/version.version=$DISTRIBUTION_VERSION -X $pkg/version.mainpkg=$pkg" registry=$pkg/cmd/registry
}

# The lab's ingress controller. Flags of traefik's .goreleaser.yml.tmpl (its release build): CGO_ENABLED=0,
# -trimpath, -X version.Version (the tag without its v), Codename (release.yaml's CODENAME), BuildDate.
# webui/static holds only a README in the module zip (the dashboard is built with yarn); go:embed accepts it,
# and the lab does not turn the dashboard on. lego and go-http-auth come from generated trees (traefik-trees.sh).
build_addons_ingress() {
  local pkg=github.com/traefik/traefik/v3 mod="$here/modules/traefik/$TRAEFIK_VERSION" date
  date=$(module_time "$pkg" "$TRAEFIK_VERSION" "$mod")
  traefik_lego_tree "$mod"
  traefik_goauth_tree "$mod"
  STAMP_EXTRA=$(cat "$mod/lego/.k8slab-tree" "$mod/go-http-auth/.k8slab-tree") go_component traefik "$TRAEFIK_VERSION" "" \
    " -X $pkg/pkg/version.Version=${TRAEFIK_VERSION#v} -X $pkg/pkg/version.Codename=langres -X $pkg/pkg/version.BuildDate=$date" \
    traefik=$pkg/cmd/traefik
}

# pause is C, in the Kubernetes source (build/pause/linux/pause.c), built as its Makefile does:
# gcc -Os -Wall -Werror -static -DVERSION=v$TAG-$REV. REV is a git describe there; here the release.
build_pause() {
  need_debs gcc libc6-dev
  local src out="$STACK_CACHE/bin/pause/$PAUSE_VERSION" stamp
  src=$(cd "$here/modules/kubernetes/$KUBE_VERSION" && go mod download -json k8s.io/kubernetes |
    sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')/build/pause/linux/pause.c
  stamp=$(cat "$src"; gcc --version | head -1; echo "$KUBE_VERSION")
  stamp=$(sha256sum <<<"$stamp" | cut -c1-64)
  if [[ -x $out/pause && $(cat "$out/.pause.stamp" 2>/dev/null) == "$stamp" ]]; then
    log "pause $PAUSE_VERSION: up to date"; return
  fi
  mkdir -p "$out"
  nice -n 19 gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-$KUBE_VERSION" -o "$out/pause" "$src"
  strip "$out/pause"
  sha256sum "$out/pause" | cut -c1-64 >"$out/.pause.sha256"
  echo "$stamp" >"$out/.pause.stamp"
  log "pause $PAUSE_VERSION: built from k8s.io/kubernetes@$KUBE_VERSION build/pause/linux/pause.c"
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
  # Committed files a replace points at inside the module count as inputs; a generated tree (traefik's
  # ./lego and ./go-http-auth) is named by STAMP_EXTRA instead.
  inputs=$(cat "$mod/go.mod" "$mod/go.sum"; go version; echo "tags=$tags ldflags=$ldflags cgo=${CGO:-0}${STAMP_EXTRA:+ $STAMP_EXTRA}"
    find "$mod" -mindepth 2 -type f -not -path "$mod/lego/*" -not -path "$mod/go-http-auth/*" -print0 | sort -z | xargs -0r cat)
  stamp=$(sha256sum <<<"$inputs" | cut -c1-64)
  for nv in "$@"; do
    if [[ -x $out/${nv%%=*} && $(cat "$out/.${nv%%=*}.stamp" 2>/dev/null) == "$stamp" ]]; then
      [[ -s $out/.${nv%%=*}.sha256 ]] || sha256sum "$out/${nv%%=*}" | cut -c1-64 >"$out/.${nv%%=*}.sha256"
      continue
    fi
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
    CGO_ENABLED=${CGO:-0} /usr/bin/time -f '%e %U %S' -o "$timef" nice -n 19 go build -trimpath \
      ${BUILDMODE:+-buildmode=$BUILDMODE} ${tags:+-tags "$tags"} \
      -ldflags "all=-s -w$ldflags" -o "$out/" "${todo[@]}" >>"$logf" 2>&1
  ) || { tail -n 30 "$logf" >&2; die "$component $version: build failed (log $logf)"; }
  read -r wall cpu < <(awk '{printf "%d %d\n", $1, $2 + $3}' "$timef")
  # go build -o DIR/ names a command after its package path, without a /vN suffix (go.etcd.io/etcd/server/v3
  # becomes "server"): give each the name asked for.
  for nv in "$@"; do
    local pkg=${nv#*=} default
    default=${pkg##*/}
    [[ $default =~ ^v[0-9]+$ ]] && { default=${pkg%/*}; default=${default##*/}; }
    if [[ $default != "${nv%%=*}" && -f $out/$default ]]; then mv -f "$out/$default" "$out/${nv%%=*}"; fi
  done
  for nv in "${names[@]}"; do
    sha256sum "$out/$nv" | cut -c1-64 >"$out/.$nv.sha256"
    echo "$stamp" >"$out/.$nv.stamp"
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$component" "$version" "${names[*]}" "$cold" \
    "$wall" "$cpu" "$(nproc)" >>"$STACK_CACHE/build-times.tsv"
  log "$component $version: built ${names[*]} in $wall s ($cpu CPU s)"
}

# etcd, CoreDNS and pause are pinned at what kubeadm of $KUBE_VERSION deploys: read its constants and stop
# when a pin disagrees, so a Kubernetes bump cannot leave them behind.
check_kubeadm_pins() {
  local f got want pair
  f=$(cd "$here/modules/kubernetes/$KUBE_VERSION" && go mod download -json k8s.io/kubernetes |
    sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')/cmd/kubeadm/app/constants/constants.go
  for pair in "DefaultEtcdVersion=${ETCD_VERSION#v}-0" "CoreDNSVersion=$COREDNS_VERSION" "PauseVersion=$PAUSE_VERSION"; do
    want=${pair#*=}
    got=$(sed -n "s/^[[:space:]]*${pair%%=*} = \"\(.*\)\"/\1/p" "$f")
    [[ $got == "$want" ]] || die "kubeadm $KUBE_VERSION's ${pair%%=*} is '$got' but lib.sh pins '$want': update lib.sh"
  done
}

# need_debs PACKAGE...: installs the Debian packages a cgo or C build needs, if missing.
need_debs() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return
  log "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# tool_modules GO_MOD: "MODULE VERSION" of each module a `tool` of GO_MOD comes from (the longest required
# module path that prefixes the tool's package), read from the file: `go list tool` takes seconds per module.
tool_modules() {
  awk '/^tool \(/{t=1; next} t && /^\)/{t=0} t{tools[$1]=1} /^tool [^(]/{tools[$2]=1}
    /^require \(/{r=1; next} r && /^\)/{r=0} r{req[$1]=$2} /^require [^(]/{req[$2]=$3}
    END{for (p in tools) {best=""; for (m in req) if ((p == m || index(p, m "/") == 1) && length(m) > length(best)) best=m
      if (best != "") print best, req[best]}}' "$1" | sort -u
}

# The commit time of a module version, from the proxy's .info (upstream sets buildDate from the commit).
module_time() {
  (cd "$3" && go mod download -json "$1@$2" | sed -n 's/^\t"Info": "\(.*\)",$/\1/p' | xargs cat |
    sed -n 's/.*"Time":"\([^"]*\)".*/\1/p')
}

# $STACK_CACHE/stack.json (copied to test-results/stack.json): each component with a build module, its
# version, the published modules it comes from (with their go.sum hashes) and the binaries built from them.
write_manifest() {
  local mod component version out entries=() srcs bins nv
  for mod in "$here"/modules/*/*/; do
    mod=${mod%/} version=${mod##*/} component=${mod%/*} component=${component##*/}
    out="$STACK_CACHE/bin/$component/$version"
    srcs=$(tool_modules "$mod/go.mod" | while read -r path ver; do
        jq -n --arg m "$path" --arg v "$ver" --arg s "$(awk -v m="$path" -v v="$ver" '$1==m && $2==v{print $3}' "$mod/go.sum")" \
          '{module: $m, version: $v, sum: $s}'
      done | jq -s .)
    bins=$(for nv in "$out"/.*.sha256; do
      [[ -f $nv ]] || continue
      nv=${nv##*/.} nv=${nv%.sha256}
      jq -n --arg n "$nv" --arg s "$(cat "$out/.$nv.sha256")" '{name: $n, sha256: $s}'
    done | jq -s .)
    entries+=("$(jq -n --arg c "$component" --arg v "$version" --argjson src "$srcs" --argjson bin "$bins" \
      --arg m "bench/stack/modules/$component/$version" --arg dir "$out" \
      '{component: $c, version: $v, origin: {goModules: $src, buildModule: $m,
        proxy: "proxy.golang.org", checksums: "go.sum, verified against sum.golang.org"},
        binaries: $bin, binDir: $dir}')")
  done
  # pause is C from the Kubernetes module, compiled by Debian's gcc.
  out="$STACK_CACHE/bin/pause/$PAUSE_VERSION"
  bins='[]'
  [[ -f $out/.pause.sha256 ]] && bins=$(jq -n --arg s "$(cat "$out/.pause.sha256")" '[{name: "pause", sha256: $s}]')
  entries+=("$(jq -n --arg v "$PAUSE_VERSION" --arg k "$KUBE_VERSION" --argjson bin "$bins" --arg dir "$out" \
    --arg s "$(awk -v v="$KUBE_VERSION" '$1=="k8s.io/kubernetes" && $2==v{print $3}' "$here/modules/kubernetes/$KUBE_VERSION/go.sum")" \
    '{component: "pause", version: $v, origin: {goModules: [{module: "k8s.io/kubernetes", version: $k, sum: $s}],
      file: "build/pause/linux/pause.c", compiler: "Debian gcc, -Os -static"}, binaries: $bin, binDir: $dir}')")
  local images='[]' manifests='[]'
  [[ -f $STACK_CACHE/images/index.json ]] && images=$(cat "$STACK_CACHE/images/index.json")
  # the add-on manifests (lab-addons.sh): file, upstream URL, the module zip it came from
  [[ -f $STACK_CACHE/manifests/index.json ]] && manifests=$(cat "$STACK_CACHE/manifests/index.json")
  printf '%s\n' "${entries[@]}" | jq -s --arg go "$(go version)" --arg at "$(date -u +%FT%TZ)" --argjson img "$images" \
    --argjson man "$manifests" '{generatedAt: $at, go: $go, components: ., images: $img, manifests: $man}' >"$STACK_CACHE/stack.json.new"
  mv "$STACK_CACHE/stack.json.new" "$STACK_CACHE/stack.json"
  mkdir -p "$here/../../test-results"
  cp "$STACK_CACHE/stack.json" "$here/../../test-results/stack.json"
  log "wrote $STACK_CACHE/stack.json and test-results/stack.json"
}

main "$@"

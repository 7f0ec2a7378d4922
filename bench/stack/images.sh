#!/usr/bin/env bash
# Assembles the images a kubeadm v1.37 cluster pulls, under upstream's names, from the binaries build.sh made
# and, where a program needs more than itself, from Debian's packages (never from a registry):
#
#   registry.k8s.io/kube-apiserver, kube-controller-manager, kube-scheduler:$KUBE_VERSION  the binary
#   registry.k8s.io/kube-proxy:$KUBE_VERSION   kube-proxy + Debian's iptables (legacy and nft; a wrapper picks
#                                              the backend the host uses), ipset, conntrack, busybox
#   registry.k8s.io/etcd:3.7.0-0               etcd, etcdctl, etcdutl
#   registry.k8s.io/coredns/coredns:v1.14.6    coredns
#   registry.k8s.io/pause:3.10.2               pause
#   and the lab's add-ons (lab-addons.sh): quay.io/metallb/controller, speaker, docker.io/rancher/
#   local-path-provisioner, docker.io/library/busybox
#
# One tarball per image in $STACK_CACHE/images (OCI layout + docker-archive: see oci-image.sh) and
# $STACK_CACHE/images/index.json. A tarball whose inputs did not change is kept, so a warm run only checks.
#
#   images.sh [IMAGE...]     IMAGE: a short name above (kube-apiserver, etcd, ...); default all whose
#                            binaries exist
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lab-addons.sh"

main() {
  take_lock images
  mkdir -p "$IMAGES"
  local all=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd coredns pause) want=("$@") i
  local addons; read -ra addons <<<"$LAB_ADDON_IMAGES"; all+=("${addons[@]}")
  [[ ${#want[@]} -gt 0 ]] || want=("${all[@]}")
  for i in "${want[@]}"; do
    [[ " ${all[*]} " == *" $i "* ]] || die "unknown image '$i' (allowed: ${all[*]})"
    "image_${i//-/_}"
  done
  jq -s . "$IMAGES"/*.json.part >"$IMAGES/index.json" 2>/dev/null || true
  log "images: $(jq -r 'map(.image) | join(", ")' "$IMAGES/index.json")"
}

IMAGES=$STACK_CACHE/images
K8S=$STACK_CACHE/bin/kubernetes/$KUBE_VERSION

image_kube_apiserver() { control_plane_image kube-apiserver; }
image_kube_controller_manager() { control_plane_image kube-controller-manager; }
image_kube_scheduler() { control_plane_image kube-scheduler; }

# kubeadm's static pods run the command by name, so it sits on PATH, as in upstream's images.
control_plane_image() {
  local n=$1
  pack "$n" "registry.k8s.io/$n:$KUBE_VERSION" "$K8S/$n" -- base_files "copy $K8S/$n /usr/local/bin/$n"
}

image_kube_proxy() {
  pack kube-proxy "registry.k8s.io/kube-proxy:$KUBE_VERSION" "$K8S/kube-proxy" -- \
    base_files "copy $K8S/kube-proxy /usr/local/bin/kube-proxy" \
    "debs iptables ipset conntrack libip4tc2 libip6tc2 libipset13 libmnl0 libnetfilter-conntrack3 libnfnetlink0 \
      libnftnl11 libxtables12 libc6 libgcc-s1 netbase busybox-static" iptables_wrapper busybox_links
}

image_etcd() {
  local e=$STACK_CACHE/bin/etcd/$ETCD_VERSION
  pack etcd "registry.k8s.io/etcd:${ETCD_VERSION#v}-0" "$e/etcd" -- base_files \
    "copy $e/etcd /usr/local/bin/etcd" "copy $e/etcdctl /usr/local/bin/etcdctl" "copy $e/etcdutl /usr/local/bin/etcdutl"
}

image_coredns() {
  local c=$STACK_CACHE/bin/coredns/$COREDNS_VERSION
  pack coredns "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" "$c/coredns" --entrypoint '["/coredns"]' -- \
    base_files "copy $c/coredns /coredns"
}

image_pause() {
  local p=$STACK_CACHE/bin/pause/$PAUSE_VERSION
  pack pause "registry.k8s.io/pause:$PAUSE_VERSION" "$p/pause" --entrypoint '["/pause"]' --user 65535:65535 -- \
    "copy $p/pause /pause"
}

# ---------------------------------------------------------------- assembly

# pack SHORT REF MAIN_BINARY [oci-image.sh options] -- STEP...
# Each STEP is "function args" run with the rootfs as $ROOT. Skipped (with a note) when MAIN_BINARY is missing;
# kept when the tarball was made from the same inputs (steps, the binaries' and debs' hashes).
pack() {
  local short=$1 ref=$2 main=$3 opts=() steps=(); shift 3
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done; shift
  steps=("$@")
  if [[ ! -x $main ]]; then log "$ref: skipped, $main is not built (npm run stack:build)"; return; fi
  local stamp tar=$IMAGES/$short.tar
  stamp=$(printf '%s\n' "$ref" "${opts[@]}" "${steps[@]}"; sha256sum "$here/oci-image.sh"
    local s w; for s in "${steps[@]}"; do
      read -ra w <<<"$s"; if [[ ${w[0]} == copy ]]; then sha256sum "${w[1]}" | cut -d' ' -f1; fi; done)
  stamp=$(sha256sum <<<"$stamp" | cut -c1-64)
  if [[ -f $tar && $(cat "$IMAGES/.$short.stamp" 2>/dev/null) == "$stamp" ]]; then log "$ref: up to date"; return; fi
  ROOT=$(mktemp -d "$IMAGES/.rootfs.XXXXXX")
  local s
  for s in "${steps[@]}"; do
    # shellcheck disable=SC2086  # a step is a function name and its words
    $s
  done
  local out
  out=$("$here/oci-image.sh" "$ROOT" "$tar" "$ref" "${opts[@]}")
  rm -rf "$ROOT"
  jq -n --arg image "$ref" --arg file "$tar" --arg digest "${out##* }" --arg sha "$(sha256sum "$tar" | cut -c1-64)" \
    --argjson size "$(stat -c %s "$tar")" '{image: $image, file: $file, manifestDigest: $digest, sha256: $sha, size: $size}' \
    >"$IMAGES/$short.json.part"
  echo "$stamp" >"$IMAGES/.$short.stamp"
  log "$ref: $tar (manifest ${out##* })"
}

copy() { install -D -m 0755 "$1" "$ROOT$2"; }

# /etc/passwd, group and nsswitch.conf, and a /tmp: what the distroless bases of upstream's images give.
base_files() {
  mkdir -p "$ROOT/etc" "$ROOT/tmp" && chmod 1777 "$ROOT/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$ROOT/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$ROOT/etc/group"
  echo 'hosts: files dns' >"$ROOT/etc/nsswitch.conf"
}

# debs PACKAGE...: Debian's packages (apt-get download, kept in $STACK_CACHE/debs) unpacked into the rootfs,
# without their docs.
debs() {
  local d=$STACK_CACHE/debs p f
  mkdir -p "$d"
  for p in "$@"; do
    compgen -G "$d/${p}_*.deb" >/dev/null || (cd "$d" && apt-get download -q "$p" >&2)
    for f in "$d/${p}"_*.deb; do dpkg-deb -x "$f" "$ROOT"; done
  done
  rm -rf "$ROOT/usr/share/doc" "$ROOT/usr/share/man" "$ROOT/usr/share/info" "$ROOT/usr/share/lintian"
}

# Like upstream's iptables-wrapper: on first use, pick the backend (nft or legacy) that already holds the
# host's rules (kubelet's), point the iptables names at it, and run the command.
iptables_wrapper() {
  cat >"$ROOT/usr/sbin/iptables-wrapper" <<'WRAP'
#!/bin/sh
# Picks the iptables backend the host uses: the one with more rules wins, nft when neither has any.
set -e
nft=$( (iptables-nft-save; ip6tables-nft-save) 2>/dev/null | grep -c '^-' || true)
legacy=$( (iptables-legacy-save; ip6tables-legacy-save) 2>/dev/null | grep -c '^-' || true)
mode=nft
[ "${legacy:-0}" -gt "${nft:-0}" ] && mode=legacy
for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sf "xtables-$mode-multi" "/usr/sbin/$c"
done
exec "$0" "$@"
WRAP
  chmod 0755 "$ROOT/usr/sbin/iptables-wrapper"
  local c
  for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sf iptables-wrapper "$ROOT/usr/sbin/$c"
  done
}

# busybox-static gives the shell and the tools a debugging learner reaches for.
busybox_links() {
  local a
  mkdir -p "$ROOT/bin"
  for a in sh ls cat grep sed awk ps mount; do [[ -e $ROOT/bin/$a || -e $ROOT/usr/bin/$a ]] || ln -s busybox "$ROOT/bin/$a"; done
}

main "$@"

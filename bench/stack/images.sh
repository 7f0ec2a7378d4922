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
#   k8slab.local/tools:2                       the lessons' tools: the testbed's tools:1 plus Debian's curl
#   docker.io/library/mariadb:$MARIADB_VERSION  a STAND-IN for the official MariaDB image, for the mysql lesson's
#                                              mariadb flavor: Debian 12's mariadb-server-core, mariadb-backup
#                                              (mariadb-backup, mbstream), the clients, socat, bash, busybox.
#                                              Not upstream's image: no docker-entrypoint.sh (the lesson's
#                                              manifests initialize the datadir themselves), amd64 only.
#   docker.io/library/traefik:v3.7.13          traefik (the lab's Ingress controller; see image_traefik)
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
  local all=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd coredns pause lesson-tools mariadb traefik) want=("$@") i
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

# k8slab.local/tools:2, the lessons' tools stand-in for a current cluster: the testbed's k8slab.local/tools:1
# (busybox, dig, nslookup, the mariadb client) plus Debian's curl. The course calls the API server from a
# pod with curl; busybox 1.35's wget sends no signature_algorithms in TLS 1.2, which the Go TLS of current
# kube-apiservers refuses ("missing signature_algorithms from TLS 1.2 peer").
image_lesson_tools() {
  local base=${K8SLAB_TESTBED_CACHE:-/var/cache/k8slab-testbed}/images/tools.tar closure
  mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances curl 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)
  pack lesson-tools k8slab.local/tools:2 "$base" \
    --cmd '["sh","-c","trap '"'"'exit 0'"'"' TERM INT; while :; do sleep 3600 & wait $!; done"]' -- \
    "untar $base" "debs ${closure[*]}"
}

# Debian 12's MariaDB under the official image's name, at Debian's version (the tag says which MariaDB it is;
# the lesson's README says it is a stand-in). The pieces the official image has and the lesson uses: mariadbd,
# mariadb-install-db, mariadb/mariadb-admin, mariadb-backup and mbstream, socat (the clone's transport), bash
# and the GNU tools of its Ubuntu base (busybox for the rest); the mysql user as uid 999 and the official
# Dockerfile's edits of the configuration (mariadb_files).
image_mariadb() {
  pack mariadb "docker.io/library/mariadb:$MARIADB_VERSION" - --cmd '["mariadbd"]' -- base_files \
    "debs mariadb-server-core mariadb-server mariadb-backup mariadb-client-core mariadb-client mariadb-common \
      mysql-common libmariadb3 libaio1 libc6 libcrypt1 libgcc-s1 libnuma1 libpcre2-8-0 libssl3 libstdc++6 \
      libsystemd0 liburing2 zlib1g libedit2 libncurses6 libtinfo6 libbsd0 libmd0 liblzma5 libzstd1 liblz4-1 \
      libcap2 libgcrypt20 libgpg-error0 libpam0g libaudit1 libcap-ng0 socat libwrap0 libnsl2 libtirpc3 \
      libtirpc-common libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2 libkrb5support0 libkeyutils1 bash \
      coreutils findutils grep sed hostname libacl1 libattr1 libgmp10 libselinux1 busybox-static" \
    mariadb_files busybox_all
}

# What the packages' maintainer scripts would have done, and the official image's edits.
mariadb_files() {
  local v
  v=$(dpkg-deb -f "$STACK_CACHE"/debs/mariadb-server-core_*.deb Version)
  [[ $v =~ ^1:${MARIADB_VERSION//./\\.}- ]] ||
    die "Debian's mariadb-server-core is $v, lib.sh pins MARIADB_VERSION=$MARIADB_VERSION: update the pin (or clear $STACK_CACHE/debs)"
  echo 'mysql:x:999:999:MariaDB:/var/lib/mysql:/bin/false' >>"$ROOT/etc/passwd"
  echo 'mysql:x:999:' >>"$ROOT/etc/group"
  ln -sf mariadb.cnf "$ROOT/etc/mysql/my.cnf"   # update-alternatives in mariadb-common's postinst
  # As the official image's Dockerfile: bind-address, log and user lines commented out, no reverse lookups,
  # and conf.d (the mount point) read after mariadb.conf.d, so what is mounted there wins.
  sed -Ei 's/^(bind-address|log|user\s)/#&/' "$ROOT"/etc/mysql/mariadb.conf.d/*.cnf
  printf '[mariadb]\nhost-cache-size=0\nskip-name-resolve\n' >"$ROOT/etc/mysql/mariadb.conf.d/05-skipcache.cnf"
  sed -i -e '/^!includedir \/etc\/mysql\/conf.d\/$/d' -e '$a !includedir /etc/mysql/conf.d/' "$ROOT/etc/mysql/mariadb.cnf"
  install -d -o 999 -g 999 "$ROOT/var/lib/mysql"
  install -d -o 999 -g 999 -m 0777 "$ROOT/run/mysqld"
  install -d "$ROOT/etc/mysql/conf.d"
  ln -sf bash "$ROOT/bin/sh"
}

# Every busybox applet that no package put on PATH (hostname, grep, sed, chown, ... for the lesson's scripts).
busybox_all() {
  local a
  for a in $("$ROOT/bin/busybox" --list); do
    [[ -e $ROOT/bin/$a || -e $ROOT/usr/bin/$a || -e $ROOT/sbin/$a || -e $ROOT/usr/sbin/$a ]] || ln -s busybox "$ROOT/bin/$a"
  done
}

# Traefik's official image is Docker Hub's library/traefik ("traefik:v3.x" in its docs), with the binary on
# PATH. master_node.sh runs it as `command: [traefik]`, so the entrypoint script of the upstream image is not
# needed; the entrypoint here is the binary itself.
image_traefik() {
  local t=$STACK_CACHE/bin/traefik/$TRAEFIK_VERSION
  pack traefik "docker.io/library/traefik:$TRAEFIK_VERSION" "$t/traefik" --entrypoint '["/usr/local/bin/traefik"]' -- \
    base_files "copy $t/traefik /usr/local/bin/traefik"
}

# ---------------------------------------------------------------- assembly

# pack SHORT REF MAIN_BINARY [oci-image.sh options] -- STEP...
# Each STEP is "function args" run with the rootfs as $ROOT. Skipped (with a note) when MAIN_BINARY is missing
# (MAIN_BINARY "-": the image is made of Debian's packages only, nothing to wait for);
# kept when the tarball was made from the same inputs (steps and their code, the binaries' hashes).
pack() {
  local short=$1 ref=$2 main=$3 opts=() steps=(); shift 3
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done; shift
  steps=("$@")
  if [[ $main != - && ! -x $main && ! ( $main == *.tar && -f $main ) ]]; then log "$ref: skipped, $main is not built (npm run stack:build)"; return; fi
  local stamp tar=$IMAGES/$short.tar
  stamp=$(printf '%s\n' "$ref" "${opts[@]}" "${steps[@]}"; sha256sum "$here/oci-image.sh"
    local s w; for s in "${steps[@]}"; do
      # a step's own code too, so editing a step rebuilds what it made
      read -ra w <<<"$s"; declare -f "${w[0]}"; if [[ ${w[0]} == copy || ${w[0]} == untar ]]; then sha256sum "${w[1]}" | cut -d' ' -f1; fi; done)
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

# untar IMAGE.tar: the layers of a docker-archive image (manifest.json order) unpacked into the rootfs.
untar() {
  local layer tmp
  tmp=$(mktemp -d)
  tar -xf "$1" -C "$tmp" manifest.json
  for layer in $(jq -r '.[0].Layers[]' "$tmp/manifest.json"); do tar -xOf "$1" "$layer" | tar -x -C "$ROOT"; done
  rm -rf "$tmp"
}

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

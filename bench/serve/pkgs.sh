#!/usr/bin/env bash
# Builds the pkgs.k8s.io deb repositories the lab's install_pkg.sh uses, from the stack's binaries:
#
#   https://pkgs.k8s.io/core:/stable:/v1.N/deb/   Release.key, InRelease, Release, Release.gpg, Packages(.gz),
#                                                 amd64/PACKAGE_VERSION-1.1_amd64.deb
#
# One channel per Kubernetes minor found in BIN/kubernetes/vX.Y.Z/ (several patches of a minor share it).
# Each channel carries kubeadm, kubelet, kubectl of its patches, and cri-tools and kubernetes-cni at the
# newest version in BIN/cri-tools/ and BIN/cni-plugins/. The signing key is made here (gpg) and kept.
#
#   pkgs.sh [BIN]     BIN: default $STACK_CACHE/bin; writes $SERVE_CACHE/site/pkgs.k8s.io/
#
# Package facts (names, "-1.1" revisions, dependencies, file layout) follow kubernetes/release's
# cmd/krel/templates/latest/{kubeadm,kubelet,kubectl,cri-tools,kubernetes-cni}/*.spec and metadata.yaml,
# which pkgs.k8s.io's packages are built from (debbuild: /usr/bin, %_unitdir = /usr/lib/systemd/system).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:-$STACK_CACHE/bin}
[[ -d $bin/kubernetes ]] || die "no Kubernetes binaries in '$bin/kubernetes' (build them: npm run stack:build, or pass BIN)"
for t in dpkg-deb apt-ftparchive gpg; do command -v "$t" >/dev/null || die "$t is missing (apt-get install dpkg apt-utils gpg)"; done

site=$SERVE_CACHE/site/pkgs.k8s.io
export GNUPGHOME=$SERVE_CACHE/gnupg
REVISION=1.1 # upstream's Debian revision for every package (e.g. kubeadm 1.37.2-1.1)
ARCH=amd64   # the stack builds amd64 only
# Every file in a package gets this mtime, so the same binaries give the same .deb bytes.
export SOURCE_DATE_EPOCH=0

# newest DIR: the highest vX.Y.Z subdirectory name of DIR, without the v.
newest() {
  find -L "$1" -mindepth 1 -maxdepth 1 -type d -name 'v*' -printf '%f\n' 2>/dev/null | sed 's/^v//' | sort -V | tail -n1
}

signing_key() {
  mkdir -p "$GNUPGHOME"
  chmod 0700 "$GNUPGHOME"
  if ! gpg --batch --list-secret-keys k8slab-serve >/dev/null 2>&1; then
    log "signing key: new (k8slab-serve, RSA 3072, signs the pkgs.k8s.io stand-in only)"
    gpg --batch --passphrase '' --quick-gen-key 'k8slab-serve pkgs.k8s.io stand-in <k8slab-serve@localhost>' \
      rsa3072 sign never 2>/dev/null
  fi
}

# deb NAME VERSION SECTION DEPENDS RECOMMENDS DESCRIPTION STAGE OUTDIR: builds OUTDIR/NAME_VERSION-1.1_amd64.deb
# from the tree STAGE, unless one built from the same tree and control fields is there.
deb() {
  local name=$1 version=$2 section=$3 depends=$4 recommends=$5 description=$6 stage=$7 out=$8
  local file=$out/${name}_$version-${REVISION}_$ARCH.deb stamp
  local stampfile=$SERVE_CACHE/stamps/${file#"$site"/}.inputs
  built+=("$file")
  mkdir -p "$stage/DEBIAN" "$out"
  {
    echo "Package: $name"
    echo "Version: $version-$REVISION"
    echo "Architecture: $ARCH"
    echo "Maintainer: Kubernetes Authors <dev@kubernetes.io>"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
    [[ -z $depends ]] || echo "Depends: $depends"
    [[ -z $recommends ]] || echo "Recommends: $recommends"
    echo "Section: $section"
    echo "Priority: optional"
    echo "Homepage: https://kubernetes.io"
    echo "Description: $description"
  } >"$stage/DEBIAN/control"
  # /etc files are conffiles, as debbuild marks %config and everything under /etc.
  rm -f "$stage/DEBIAN/conffiles"
  if [[ -d $stage/etc ]]; then (cd "$stage" && find etc -type f | sed 's|^|/|' | sort) >"$stage/DEBIAN/conffiles"; fi
  stamp=$(cd "$stage" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
  if [[ -s $file && -s $stampfile && $(cat "$stampfile") == "$stamp" ]]; then return 0; fi
  find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  dpkg-deb --root-owner-group -Zgzip --build "$stage" "$file.new" >/dev/null
  mv "$file.new" "$file"
  mkdir -p "$(dirname "$stampfile")"
  echo "$stamp" >"$stampfile"
  log "built $(basename "$file")"
}
built=() # the .deb files of this run: deb() keeps them, channel() removes the rest

# channel MINOR: builds the packages of every patch of MINOR, then indexes and signs the channel.
channel() {
  local minor=$1 dir=$site/core:/stable:/v$1/deb stage v
  local tmp
  tmp=$(mktemp -d)
  mkdir -p "$dir/$ARCH"
  for v in $(find -L "$bin/kubernetes" -mindepth 1 -maxdepth 1 -type d -name "v$minor.*" -printf '%f\n' | sed 's/^v//' | sort -V); do
    local k=$bin/kubernetes/v$v
    for b in kubeadm kubelet kubectl; do [[ -x $k/$b ]] || die "$k/$b is missing (build it: npm run stack:build)"; done

    stage=$tmp/kubectl-$v
    install -D -m 0755 "$k/kubectl" "$stage/usr/bin/kubectl"
    deb kubectl "$v" admin "" "" "Command-line utility for interacting with a Kubernetes cluster" "$stage" "$dir/$ARCH"

    # kubelet >= 1.28 depends on kubernetes-cni >= 1.2.0 (metadata.yaml); mount and util-linux (kubelet.spec).
    stage=$tmp/kubelet-$v
    install -D -m 0755 "$k/kubelet" "$stage/usr/bin/kubelet"
    install -D -m 0644 "$here/deb/kubelet.service" "$stage/usr/lib/systemd/system/kubelet.service"
    install -D -m 0644 "$here/deb/kubelet.env" "$stage/etc/default/kubelet"
    # dpkg-deb keeps no empty directories: upstream ships these keep files for the same reason.
    install -D -m 0644 /dev/null "$stage/var/lib/kubelet/.kubelet-keep"
    install -D -m 0644 /dev/null "$stage/etc/kubernetes/manifests/.kubelet-keep"
    deb kubelet "$v" net "kubernetes-cni (>= 1.2.0), mount, util-linux" "iptables (>= 1.8.4)" \
      "Node agent for Kubernetes clusters" "$stage" "$dir/$ARCH"

    # kubeadm >= 1.32 declares no dependencies (metadata.yaml); it carries the kubelet drop-in.
    stage=$tmp/kubeadm-$v
    install -D -m 0755 "$k/kubeadm" "$stage/usr/bin/kubeadm"
    install -D -m 0644 "$here/deb/10-kubeadm.conf" "$stage/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"
    deb kubeadm "$v" admin "" "" "Command-line utility for administering a Kubernetes cluster" "$stage" "$dir/$ARCH"
  done

  v=$(newest "$bin/cri-tools")
  [[ -n $v && -x $bin/cri-tools/v$v/crictl ]] || die "no crictl in '$bin/cri-tools/vX.Y.Z/' (build it: npm run stack:build)"
  stage=$tmp/cri-tools
  install -D -m 0755 "$bin/cri-tools/v$v/crictl" "$stage/usr/bin/crictl"
  deb cri-tools "$v" admin "" "" "Command-line utility for interacting with a container runtime" "$stage" "$dir/$ARCH"

  v=$(newest "$bin/cni-plugins")
  [[ -n $v ]] || die "no CNI plugins in '$bin/cni-plugins/vX.Y.Z/' (build them: npm run stack:build)"
  stage=$tmp/kubernetes-cni
  install -d "$stage/opt/cni/bin"
  find -L "$bin/cni-plugins/v$v" -maxdepth 1 -type f -perm -u+x -exec install -m 0755 {} "$stage/opt/cni/bin/" \;
  install -D -m 0644 /dev/null "$stage/etc/cni/net.d/.kubernetes-cni-keep"
  deb kubernetes-cni "$v" net "" "" "Binaries required to provision kubernetes container networking" "$stage" "$dir/$ARCH"
  rm -rf "$tmp"

  # Only the packages of this run's binaries stay listed.
  local f
  for f in "$dir/$ARCH"/*.deb; do
    [[ ! -e $f || " ${built[*]} " == *" $f "* ]] || { log "dropped $(basename "$f")"; rm -f "$f"; }
  done
  (cd "$dir" && apt-ftparchive packages "$ARCH" >"$tmp.Packages" 2>/dev/null)
  # Same packages, same key: the signed index stands, so a warm run changes nothing the nodes see.
  if [[ -s $dir/InRelease && -s $dir/Packages ]] && cmp -s "$tmp.Packages" "$dir/Packages" &&
    gpg --batch --armor --export k8slab-serve | cmp -s - "$dir/Release.key"; then
    rm -f "$tmp.Packages"
    log "channel v$minor: unchanged ($(grep -c '^Package:' "$dir/Packages") packages)"
    return 0
  fi
  mv "$tmp.Packages" "$dir/Packages"
  gzip -9nc "$dir/Packages" >"$dir/Packages.gz"
  apt-ftparchive -o "APT::FTPArchive::Release::Origin=k8slab-serve" \
    -o "APT::FTPArchive::Release::Label=pkgs.k8s.io core:/stable:/v$minor (k8slab stand-in)" \
    -o "APT::FTPArchive::Release::Architectures=$ARCH" release "$dir" >"$tmp.Release"
  # Release lists its own directory's files: made outside it, then moved in and signed both ways apt reads.
  mv "$tmp.Release" "$dir/Release"
  gpg --batch --yes --armor --export k8slab-serve >"$dir/Release.key"
  gpg --batch --yes --local-user k8slab-serve --clearsign -o "$dir/InRelease" "$dir/Release"
  gpg --batch --yes --local-user k8slab-serve --armor --detach-sign -o "$dir/Release.gpg" "$dir/Release"
  log "channel v$minor: $(grep -c '^Package:' "$dir/Packages") packages, $(basename "$dir")/ signed"
}

signing_key
minors=$(find -L "$bin/kubernetes" -mindepth 1 -maxdepth 1 -type d -name 'v*' -printf '%f\n' |
  sed -E 's/^v([0-9]+\.[0-9]+)\..*/\1/' | sort -uV)
[[ -n $minors ]] || die "no vX.Y.Z directories in '$bin/kubernetes'"
for m in $minors; do channel "$m"; done

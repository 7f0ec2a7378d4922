# shellcheck shell=bash
# The release files upstream publishes for containerd and runc, made from this host's builds (sourced by
# bench/serve/github.sh, which serves them at GitHub's URLs, and by scripts/bundle-from-stack.sh, which puts
# them in an offline bundle's runtime/). The caller defines die.

# containerd_release BUILD_DIR VERSION OUT_DIR ARCH: OUT_DIR/containerd-VERSION-linux-ARCH.tar.gz (bin/containerd,
# bin/ctr, bin/containerd-shim-runc-v2: the layout install_pkg.sh unpacks into /usr/local) and its .sha256sum.
# Same binaries, same bytes: sorted, owner 0, mtime 0, gzip without a name or time.
containerd_release() {
  local d=$1 v=$2 out=$3 arch=$4 b tmp tarball
  for b in containerd ctr containerd-shim-runc-v2; do [[ -x $d/$b ]] || die "$d/$b is missing (build it: npm run stack:build)"; done
  tarball=$out/containerd-$v-linux-$arch.tar.gz
  tmp=$(mktemp -d)
  install -d "$tmp/bin" "$out"
  install -m 0755 "$d/containerd" "$d/ctr" "$d/containerd-shim-runc-v2" "$tmp/bin/"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp" -cf - bin | gzip -9n >"$tarball.new"
  rm -rf "$tmp"
  mv "$tarball.new" "$tarball"
  (cd "$out" && sha256sum "${tarball##*/}" >"${tarball##*/}.sha256sum")
}

# runc_release BUILD_DIR OUT_DIR ARCH: OUT_DIR/runc.ARCH and runc.sha256sum, as runc's releases name them.
runc_release() {
  local d=$1 out=$2 arch=$3
  [[ -x $d/runc ]] || die "$d/runc is missing (build it: npm run stack:build)"
  install -D -m 0755 "$d/runc" "$out/runc.$arch"
  (cd "$out" && sha256sum "runc.$arch" >runc.sha256sum)
}

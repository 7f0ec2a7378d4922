#!/usr/bin/env bash
# Writes (or refreshes) the build module for one Traefik v3 release:
#   bench/stack/modules/traefik/vX.Y.Z/{go.mod,go.sum} (+ ext/, committed by hand: see below)
#
#   pin-traefik.sh vX.Y.Z
#
# pin-go.sh cannot do it, for three reasons in the module the proxy serves:
# - traefik's go.mod replaces github.com/traefik/traefik/dynamic/ext with ./pkg/config/dynamic/ext, a nested
#   module that the v3 zip leaves out and whose path the proxy cannot serve. The build module replaces it with
#   ./ext, a stand-in committed beside go.mod (two empty extension structs, as upstream's own build has them).
# - The replace targets and excludes of upstream's go.mod apply only to the main module: they are copied here.
#   One target, the containous fork of go-http-auth, is refused by the proxy here (403): ./go-http-auth
#   takes its place, the published github.com/abbot/go-http-auth v0.4.0 (the module it forks) plus the two
#   functions traefik calls from the fork (traefik-trees.sh, traefik_goauth_tree).
# - A few DNS providers of lego (ACME DNS challenges) need SDK modules the proxy refuses (403): lego is
#   replaced with ./lego, its published module without those providers (traefik-trees.sh, TRAEFIK_LEGO_DROP
#   in lib.sh), which build.sh writes again before each build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/traefik-trees.sh"
export GOFLAGS=-mod=mod
version=${1:?usage: pin-traefik.sh vX.Y.Z}
[[ $version =~ ^v3\.[0-9]+\.[0-9]+$ ]] || die "version must look like v3.7.13, got '$version'"
[[ $version == "$TRAEFIK_VERSION" ]] || die "lib.sh pins TRAEFIK_VERSION=$TRAEFIK_VERSION: set it to $version first"
dir="$here/modules/traefik/$version"
[[ -f $dir/ext/go.mod && -f $dir/ext/ext.go ]] || die "$dir/ext (the dynamic/ext stand-in) is missing"
upstream=$(go mod download -json "github.com/traefik/traefik/v3@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -d $upstream ]] || die "go mod download github.com/traefik/traefik/v3@$version gave no directory"
# Upstream's replace and exclude lines, one per line, whether in a block or not.
directives=$(awk '/^(replace|exclude) \(/{b=$1; next} b && /^\)/{b=""; next}
  b && NF {print b, $0; next} /^(replace|exclude) [^(]/{print}' "$upstream/go.mod" | sed 's/[[:space:]]*\/\/.*//')
rm -f "$dir/go.mod" "$dir/go.sum"
cd "$dir"
go mod init k8slab.local/stack/traefik 2>/dev/null
sed -i "1i // Build module for traefik $version, written by bench/stack/pin-traefik.sh. Do not edit by hand." go.mod
go mod edit -go="$(awk '$1=="go"{print $2; exit}' "$upstream/go.mod")"
while read -r kind old arrow new newver; do
  case $kind in
    exclude) go mod edit -exclude "$old@$arrow" ;;
    replace)
      [[ $arrow == "=>" ]] || die "unexpected replace line in upstream's go.mod: $kind $old $arrow $new $newver"
      if [[ $new == ./pkg/config/dynamic/ext ]]; then go mod edit -replace "$old=./ext"
      elif [[ $new == github.com/containous/go-http-auth ]]; then go mod edit -replace "$old=./go-http-auth"
      elif [[ $new == ./* ]]; then die "upstream replaces $old with $new, a path the module zip lacks: add a stand-in"
      else go mod edit -replace "$old=$new@$newver"; fi ;;
  esac
done <<<"$directives"
traefik_lego_tree "$dir"
traefik_goauth_tree "$dir"
go mod edit -replace github.com/go-acme/lego/v5=./lego
go mod edit -require "github.com/traefik/traefik/v3@$version" -tool github.com/traefik/traefik/v3/cmd/traefik
go mod tidy
log "pinned traefik $version in $dir"

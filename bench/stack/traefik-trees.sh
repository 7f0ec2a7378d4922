# shellcheck shell=bash
# Sourced by pin-traefik.sh and build.sh (after lib.sh): the two generated trees traefik's build module
# replaces modules with, ./lego (below) and ./go-http-auth (traefik_goauth_tree).
#
# lego (traefik's ACME client) registers every DNS provider in one generated table,
# providers/dns/zz_gen_dns_providers.go, and a few providers need SDK modules the proxy here refuses (403).
# `go build -overlay` may not replace files in the module cache, so the build module points lego at
# ./lego instead: lego's published module, downloaded and checked against sum.golang.org like any other,
# copied, with the providers of TRAEFIK_LEGO_DROP removed (their directory, their import and their case in
# the table). A traefik built so answers "unrecognized DNS provider" for those; nothing else changes.
# ./lego is generated (gitignored), rewritten when the lego version or the list changes.

# traefik_lego_tree BUILD_MODULE_DIR
traefik_lego_tree() {
  local mod=$1 out=$1/lego traefik_dir ver src p want
  traefik_dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" |
    sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  ver=$(awk '$1=="github.com/go-acme/lego/v5"{print $2; exit}' "$traefik_dir/go.mod")
  [[ -n $ver ]] || die "traefik $TRAEFIK_VERSION's go.mod requires no github.com/go-acme/lego/v5"
  want="lego $ver without: $TRAEFIK_LEGO_DROP"
  [[ -f $out/.k8slab-tree && $(cat "$out/.k8slab-tree") == "$want" ]] && return 0
  src=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "github.com/go-acme/lego/v5@$ver" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -f $src/providers/dns/zz_gen_dns_providers.go ]] || die "lego $ver has no providers/dns/zz_gen_dns_providers.go"
  for p in $TRAEFIK_LEGO_DROP; do
    grep -q "^	\"github.com/go-acme/lego/v5/providers/dns/$p\"\$" "$src/providers/dns/zz_gen_dns_providers.go" &&
      grep -q "^		return $p\.NewDNSProvider()\$" "$src/providers/dns/zz_gen_dns_providers.go" ||
      die "lego $ver's provider table has no provider '$p' as expected: update TRAEFIK_LEGO_DROP in lib.sh"
  done
  rm -rf "$out" && cp -r "$src" "$out" && chmod -R u+w "$out"
  for p in $TRAEFIK_LEGO_DROP; do rm -rf "${out:?}/providers/dns/$p"; done
  # A case line is held until the next line shows whether it returns a dropped provider.
  awk -v drop=" $TRAEFIK_LEGO_DROP " '
    /^\t"github.com\/go-acme\/lego\/v5\/providers\/dns\/[a-z0-9]+"$/ {
      p=$0; sub(/.*\/dns\//, "", p); sub(/"$/, "", p); if (index(drop, " " p " ")) next }
    held != "" { r=$0; sub(/^\t\treturn /, "", r); sub(/\.NewDNSProvider\(\)$/, "", r)
      if (!index(drop, " " r " ")) print held; else { held=""; next }; held="" }
    /^\tcase .*:$/ { held=$0; next }
    { print }' "$src/providers/dns/zz_gen_dns_providers.go" >"$out/providers/dns/zz_gen_dns_providers.go"
  # lego's tests and tools are not part of the build; the tests of a removed provider would not compile.
  rm -rf "$out/e2e" "$out/providers/dns/dns_providers_test.go"
  # The modules only the removed providers imported leave lego's go.mod: the proxy refuses them, and Go
  # would still look them up to build the module graph.
  local gone kept m dropped=()
  gone=$(for p in $TRAEFIK_LEGO_DROP; do find "$src/providers/dns/$p" -name '*.go' ! -name '*_test.go' -print0; done |
    xargs -0 grep -ho '^[[:space:]]*\(\w* \)\?"[a-z0-9.-]*\.[a-z]*/[^"]*"' | grep -o '"[^"]*"' | tr -d '"' | sort -u)
  kept=$(find "$out" -name '*.go' ! -name '*_test.go' -print0 |
    xargs -0 grep -ho '^[[:space:]]*\(\w* \)\?"[a-z0-9.-]*\.[a-z]*/[^"]*"' | grep -o '"[^"]*"' | tr -d '"' | sort -u)
  for m in $(awk '/^require \(/{r=1; next} r && /^\)/{r=0} r && NF>=2 {print $1}' "$out/go.mod"); do
    if grep -q -e "^$m\$" -e "^$m/" <<<"$gone" && ! grep -q -e "^$m\$" -e "^$m/" <<<"$kept"; then dropped+=("-droprequire=$m"); fi
  done
  if [[ ${#dropped[@]} -gt 0 ]]; then (cd "$out" && go mod edit "${dropped[@]}"); fi
  gofmt -e -l "$out/providers/dns/zz_gen_dns_providers.go" >/dev/null || die "the trimmed lego provider table does not parse"
  echo "$want" >"$out/.k8slab-tree"
  log "lego $ver for traefik: $out, without the DNS providers $TRAEFIK_LEGO_DROP (and ${#dropped[@]} modules only they required)"
}

# traefik_goauth_tree BUILD_MODULE_DIR: ./go-http-auth, the published github.com/abbot/go-http-auth v0.4.0
# (checked against sum.golang.org) plus go-http-auth-k8slab/k8slab.go.in (committed; .in: it is no package of the build module): CheckSecret and
# (*DigestAuth).RequireAuthStale, the two functions traefik calls from its containous fork, which the proxy
# refuses. Generated (gitignored), rewritten when the added file changes.
traefik_goauth_tree() {
  local mod=$1 out=$1/go-http-auth src want
  want="abbot/go-http-auth v0.4.0 + $(sha256sum "$mod/go-http-auth-k8slab/k8slab.go.in" | cut -c1-64)"
  [[ -f $out/.k8slab-tree && $(cat "$out/.k8slab-tree") == "$want" ]] && return 0
  src=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json github.com/abbot/go-http-auth@v0.4.0 | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -f $src/digest.go ]] || die "github.com/abbot/go-http-auth v0.4.0 did not download"
  rm -rf "$out" && cp -r "$src" "$out" && chmod -R u+w "$out"
  rm -rf "$out/examples"
  # v0.4.0 predates modules: give the copy a go.mod naming what it imports
  # (golang.org/x/crypto and x/net come at the versions traefik's build module selects)
  printf 'module github.com/abbot/go-http-auth\n\ngo 1.17\n' >"$out/go.mod"
  cp "$mod/go-http-auth-k8slab/k8slab.go.in" "$out/k8slab.go"
  echo "$want" >"$out/.k8slab-tree"
  log "go-http-auth for traefik: $out (abbot v0.4.0 with CheckSecret and RequireAuthStale)"
}

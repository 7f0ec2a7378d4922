#!/usr/bin/env bash
# Writes (or refreshes) the build module of one component from published Go modules:
#   bench/stack/modules/COMPONENT/VERSION/{go.mod,go.sum}
#
#   pin-go.sh COMPONENT VERSION [--replace OLD=NEW@VER]... [--go GOVERSION] PACKAGE@VER...
#
# Each PACKAGE is a main package; it becomes a `tool` of the build module, so `go mod tidy` keeps exactly what
# the commands need. --replace points a module at a published one (e.g. a ./api replace upstream's zip lacks).
# The result is committed; build.sh uses it read-only, with go.sum checked against sum.golang.org.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export GOFLAGS=-mod=mod
component=${1:?usage: pin-go.sh COMPONENT VERSION [--replace OLD=NEW@VER]... PACKAGE@VER...}
version=${2:?usage: pin-go.sh COMPONENT VERSION [--replace OLD=NEW@VER]... PACKAGE@VER...}
shift 2
replaces=() pkgs=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --replace) replaces+=("$2"); shift 2 ;;
    *@*) pkgs+=("$1"); shift ;;
    *) die "expected PACKAGE@VERSION or --replace OLD=NEW@VER, got '$1'" ;;
  esac
done
[[ ${#pkgs[@]} -gt 0 ]] || die "no PACKAGE@VERSION given"
dir="$here/modules/$component/$version"
rm -rf "$dir" && mkdir -p "$dir"
cd "$dir"
go mod init "k8slab.local/stack/$component" 2>/dev/null
sed -i "1i // Build module for $component $version, written by bench/stack/pin-go.sh. Do not edit by hand." go.mod
for r in "${replaces[@]}"; do go mod edit -replace "${r%%=*}=${r#*=}"; done
go get -tool "${pkgs[@]}"
# The go line of the main module sets the GODEBUG defaults: take the one of the first command's own module.
go mod edit -go="$(go list -f '{{.Module.GoVersion}}' "${pkgs[0]%@*}")"
go mod tidy
log "pinned $component $version in $dir"

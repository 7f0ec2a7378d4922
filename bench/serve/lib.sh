# shellcheck shell=bash disable=SC2034  # sourced: the variables are the callers'
# Shared helpers for bench/serve (sourced).
# Outputs live in $K8SLAB_SERVE_CACHE (the CA, the signing key, the built site), never in the repository.
SERVE_CACHE=${K8SLAB_SERVE_CACHE:-/var/cache/k8slab-serve}
# The stack helper's cache (bench/stack): binaries in bin/COMPONENT/VERSION/NAME, images in images/*.tar.
STACK_CACHE=${K8SLAB_STACK_CACHE:-/var/cache/k8slab-stack}

# Every name a default lab fetches from, and nothing else. HTTPS for all but Debian's mirror, which apt
# reaches over plain HTTP (its packages are signed; Debian 12's own sources use http://deb.debian.org).
HTTPS_NAMES="pkgs.k8s.io github.com raw.githubusercontent.com registry.k8s.io registry-1.docker.io docker.io quay.io gcr.io ghcr.io"
HTTP_NAMES="deb.debian.org security.debian.org"

log() { printf '%s serve: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# need_ipv4 VALUE WHAT: dies unless VALUE is a dotted IPv4 address.
need_ipv4() {
  if [[ $1 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] &&
    ((BASH_REMATCH[1] <= 255 && BASH_REMATCH[2] <= 255 && BASH_REMATCH[3] <= 255 && BASH_REMATCH[4] <= 255)); then
    return 0
  fi
  die "$2 '$1' is not an IPv4 address (e.g. 10.214.0.1, the host's address on the lab network)"
}

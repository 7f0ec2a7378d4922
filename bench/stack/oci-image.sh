#!/usr/bin/env bash
# Packs a directory into a single-layer image tarball that is both an OCI image layout (index.json,
# oci-layout, blobs/sha256) and a docker-archive (manifest.json), so `ctr images import` and `docker load`
# both take it. The same directory and arguments give the same bytes: files sorted, owners 0, mtimes 0.
#
#   oci-image.sh ROOTFS OUT.tar NAME:TAG [--entrypoint JSON] [--cmd JSON] [--env KEY=VALUE]... [--user U]
#
# e.g. oci-image.sh rootfs pause.tar registry.k8s.io/pause:3.10.2 --entrypoint '["/pause"]'
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
rootfs=${1:?usage: oci-image.sh ROOTFS OUT.tar NAME:TAG [options]} out=${2:?OUT.tar missing} ref=${3:?NAME:TAG missing}
shift 3
[[ -d $rootfs ]] || die "ROOTFS '$rootfs' is not a directory"
[[ $ref =~ ^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+:[A-Za-z0-9._-]+$ ]] || die "NAME:TAG '$ref' must be a full reference such as registry.k8s.io/pause:3.10.2"
entrypoint=null cmd=null user=0 envs=('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
while [[ $# -gt 0 ]]; do
  case $1 in
    --entrypoint) entrypoint=$2; shift 2 ;;
    --cmd) cmd=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --user) user=$2; shift 2 ;;
    *) die "unknown option '$1' (allowed: --entrypoint JSON, --cmd JSON, --env KEY=VALUE, --user U)" ;;
  esac
done
jq -e 'type == "array" or . == null' <<<"$entrypoint" >/dev/null || die "--entrypoint must be a JSON array, got '$entrypoint'"
jq -e 'type == "array" or . == null' <<<"$cmd" >/dev/null || die "--cmd must be a JSON array, got '$cmd'"

work=$(mktemp -d "$(dirname "$out")/.oci.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"

# blob FILE: moves FILE into blobs/sha256 under its digest; prints "DIGEST SIZE".
blob() {
  local d s
  d=$(sha256sum "$1" | cut -c1-64) s=$(stat -c %s "$1")
  mv "$1" "$work/blobs/sha256/$d"
  echo "$d $s"
}

# The layer's "./" sets the container's /: a mktemp -d rootfs is 0700, which would lock a non-root user
# (pause's 65535, MetalLB controller's 65534) out of every file.
chmod 0755 "$rootfs"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$rootfs" -cf "$work/layer" .
read -r layer layer_size < <(blob "$work/layer")

jq -cn --argjson ep "$entrypoint" --argjson cmd "$cmd" --arg user "$user" --arg layer "sha256:$layer" \
  --args '{architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
    config: ({Env: $ARGS.positional, User: $user} + (if $ep then {Entrypoint: $ep} else {} end)
      + (if $cmd then {Cmd: $cmd} else {} end)),
    rootfs: {type: "layers", diff_ids: [$layer]},
    history: [{created: "1970-01-01T00:00:00Z", created_by: "k8slab bench/stack/oci-image.sh"}]}' \
  "${envs[@]}" >"$work/config"
read -r config config_size < <(blob "$work/config")

jq -cn --arg c "sha256:$config" --argjson cs "$config_size" --arg l "sha256:$layer" --argjson ls "$layer_size" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' >"$work/manifest"
read -r manifest manifest_size < <(blob "$work/manifest")

jq -cn --arg m "sha256:$manifest" --argjson ms "$manifest_size" --arg ref "$ref" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
      annotations: {"io.containerd.image.name": $ref, "org.opencontainers.image.ref.name": ($ref | sub(".*:"; ""))}}]}' \
  >"$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
jq -cn --arg c "blobs/sha256/$config" --arg l "blobs/sha256/$layer" --arg ref "$ref" \
  '[{Config: $c, RepoTags: [$ref], Layers: [$l]}]' >"$work/manifest.json"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$work" \
  -cf "$out.new" blobs index.json manifest.json oci-layout
mv "$out.new" "$out"
echo "$ref sha256:$manifest"

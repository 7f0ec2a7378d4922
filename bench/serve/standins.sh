#!/usr/bin/env bash
# Writes STAND-INS for the stack's outputs, in the stack cache's layout, so bench/serve can be tested before
# (or without) a real stack build. Nothing here is a real component: every "binary" is a shell script that
# prints its name and version, and every image has one layer holding one text file.
#
#   standins.sh DIR      DIR/bin/COMPONENT/vVERSION/NAME and DIR/images/*.tar (OCI layout, as bench/stack's
#                        oci-image.sh writes: index.json annotated with io.containerd.image.name)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
out=${1:?usage: standins.sh DIR}

standin() { # standin FILE TEXT
  install -d "$(dirname "$1")"
  printf '#!/bin/sh\necho "%s (k8slab serve stand-in)"\n' "$2" >"$1"
  chmod 0755 "$1"
}
for b in kubeadm kubelet kubectl; do standin "$out/bin/kubernetes/v1.37.2/$b" "$b v1.37.2"; done
for b in kubeadm kubelet kubectl; do standin "$out/bin/kubernetes/v1.36.3/$b" "$b v1.36.3"; done
standin "$out/bin/cri-tools/v1.37.0/crictl" "crictl 1.37.0"
for b in bridge host-local loopback portmap; do standin "$out/bin/cni-plugins/v1.10.0/$b" "$b v1.10.0"; done
for b in containerd ctr containerd-shim-runc-v2; do standin "$out/bin/containerd/v2.3.7/$b" "$b v2.3.7"; done
standin "$out/bin/runc/v1.4.4/runc" "runc 1.4.4"

# image REF: a one-layer OCI image layout tarball named after REF.
image() {
  local ref=$1 w layer config manifest
  w=$(mktemp -d)
  mkdir -p "$w/root" "$w/blobs/sha256"
  echo "$ref (k8slab serve stand-in)" >"$w/root/standin.txt"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$w/root" -cf "$w/layer" .
  layer=$(sha256sum "$w/layer" | cut -c1-64)
  jq -cn --arg l "sha256:$layer" '{architecture: "amd64", os: "linux", config: {Cmd: ["/bin/true"]},
    rootfs: {type: "layers", diff_ids: [$l]}}' >"$w/config"
  config=$(sha256sum "$w/config" | cut -c1-64)
  jq -cn --arg c "sha256:$config" --argjson cs "$(stat -c %s "$w/config")" --arg l "sha256:$layer" \
    --argjson ls "$(stat -c %s "$w/layer")" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' >"$w/manifest"
  manifest=$(sha256sum "$w/manifest" | cut -c1-64)
  jq -cn --arg m "sha256:$manifest" --argjson ms "$(stat -c %s "$w/manifest")" --arg ref "$ref" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
        annotations: {"io.containerd.image.name": $ref, "org.opencontainers.image.ref.name": ($ref | sub(".*:"; ""))}}]}' \
    >"$w/index.json"
  mv "$w/layer" "$w/blobs/sha256/$layer"
  mv "$w/config" "$w/blobs/sha256/$config"
  mv "$w/manifest" "$w/blobs/sha256/$manifest"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$w/oci-layout"
  install -d "$out/images"
  local name=${ref#*/}
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$w" \
    -cf "$out/images/${name//[\/:]/_}.tar" blobs index.json oci-layout
  rm -rf "$w"
}
image registry.k8s.io/kube-apiserver:v1.37.2
image registry.k8s.io/pause:3.10.2
image docker.io/calico/node:v3.33.1
image quay.io/metallb/controller:v0.16.2

# The upstream manifests the generated scripts fetch, as stand-ins (one ConfigMap each, valid YAML).
manifest() { # manifest PATH: DIR/manifests/PATH
  install -d "$(dirname "$out/manifests/$1")"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k8slab-serve-standin\ndata:\n  source: "%s"\n' "$1" >"$out/manifests/$1"
}
manifest projectcalico/calico/v3.33.1/manifests/calico.yaml
manifest projectcalico/calico/v3.33.1/manifests/calico-vxlan.yaml
manifest metallb/metallb/v0.16.2/config/manifests/metallb-native.yaml
manifest rancher/local-path-provisioner/v0.0.37/deploy/local-path-storage.yaml
for f in rbac deployment class; do
  manifest "kubernetes-sigs/nfs-subdir-external-provisioner/nfs-subdir-external-provisioner-4.0.18/deploy/$f.yaml"
done
log "stand-ins written to $out (not real components)"

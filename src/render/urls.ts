// Every upstream download the generated scripts use, pinned by version, in one place.
const GH = 'https://github.com';
const RAW = 'https://raw.githubusercontent.com';

export const upstream = {
  /** The pkgs.k8s.io channel of a minor; the scripts append deb/ or rpm/ (the minor is chosen in-script). */
  pkgsK8sIo: 'https://pkgs.k8s.io/core:/stable:',
  /** containerd's own release tarball (binaries) and systemd unit; "ARCH" is filled in-script. */
  containerdTarball: (v: string) => `${GH}/containerd/containerd/releases/download/v${v}/containerd-${v}-linux-ARCH.tar.gz`,
  containerdUnit: (v: string) => `${RAW}/containerd/containerd/v${v}/containerd.service`,
  runcBinary: (v: string) => `${GH}/opencontainers/runc/releases/download/v${v}/runc.ARCH`,
  runcSums: (v: string) => `${GH}/opencontainers/runc/releases/download/v${v}/runc.sha256sum`,
  /** calico.yaml routes IP-in-IP with BIRD (BGP); calico-vxlan.yaml is VXLAN without BIRD or its probes. */
  calico: (v: string, encapsulation: 'ipip' | 'vxlan') =>
    `${RAW}/projectcalico/calico/v${v}/manifests/${encapsulation === 'vxlan' ? 'calico-vxlan.yaml' : 'calico.yaml'}`,
  metallb: (v: string) => `${RAW}/metallb/metallb/v${v}/config/manifests/metallb-native.yaml`,
  localPath: (v: string) => `${RAW}/rancher/local-path-provisioner/v${v}/deploy/local-path-storage.yaml`,
  /** nfs-subdir-external-provisioner's plain manifests at a chart release tag. */
  nfsProvisioner: (v: string, file: 'rbac' | 'deployment' | 'class') =>
    `${RAW}/kubernetes-sigs/nfs-subdir-external-provisioner/nfs-subdir-external-provisioner-${v}/deploy/${file}.yaml`,
  /** Traefik's official image on Docker Hub (`traefik:vX.Y.Z` in its docs), by its full name. */
  traefikImage: (v: string) => `docker.io/library/traefik:v${v}`,
} as const;

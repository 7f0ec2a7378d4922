// What a lab's CNI and add-ons need from a bundle: their manifests (where they sit in the bundle and where
// they come from), the packages some of them install, and the lab.yaml change that does without them.
// Pure: the lab in, the list out. The file names and versions are the ones master_node.sh downloads.
import type { LabConfig } from '../config/schema.js';
import { upstream } from '../render/urls.js';

export interface AddonFile {
  /** path under the bundle's manifests/: <addon>/<version>/<file>, as master_node.sh keeps it in /etc/k8slab/addons */
  path: string;
  /** where the file comes from */
  url: string;
}

export interface AddonPackages {
  /** Debian/Ubuntu package names (debs/) */
  debs: readonly string[];
  /** RHEL family package names (rpms/) */
  rpms: readonly string[];
  /** which nodes install them */
  where: string;
}

export interface AddonNeed {
  key: 'calico' | 'metallb' | 'local-path' | 'nfs' | 'ingress';
  /** "Calico 3.33.1 (vxlan)" */
  title: string;
  /** the lab.yaml setting that asks for it, e.g. "kubernetes.cni is calico (the default)" */
  why: string;
  /** the lab.yaml change that does without it */
  off: string;
  version: string;
  files: AddonFile[];
  /** images it runs that no manifest file names (an add-on whose manifest master_node.sh writes itself) */
  images?: readonly string[];
  packages?: AddonPackages[];
}

/** The folder under /etc/k8slab/addons (and under the bundle's manifests/) each add-on's files go to. */
const ADDON_DIR = { calico: 'calico', metallb: 'metallb', 'local-path': 'local-path', nfs: 'nfs-provisioner', ingress: 'ingress' } as const;

const file = (key: AddonNeed['key'], version: string, url: string, name = url.slice(url.lastIndexOf('/') + 1)): AddonFile => ({
  path: `${ADDON_DIR[key]}/${version}/${name}`,
  url,
});

/** Everything the lab turns on that a bundle must carry, in the order master_node.sh installs it. */
export function addonNeeds(lab: LabConfig): AddonNeed[] {
  const out: AddonNeed[] = [];
  if (lab.kubernetes.cni === 'calico') {
    const { version, encapsulation } = lab.calico;
    out.push({
      key: 'calico',
      title: `Calico ${version} (${encapsulation})`,
      why: `kubernetes.cni is calico, calico.encapsulation ${encapsulation}`,
      off: 'kubernetes: { cni: bridge }',
      version,
      // the manifest master_node.sh applies: calico-vxlan.yaml for vxlan, calico.yaml for ipip
      files: [file('calico', version, upstream.calico(version, encapsulation))],
    });
  }
  const mlb = lab.addons.metallb;
  if (mlb.enabled) {
    out.push({
      key: 'metallb',
      title: `MetalLB ${mlb.version}`,
      why: 'addons.metallb.enabled is true',
      off: 'addons: { metallb: { enabled: false } }',
      version: mlb.version,
      files: [file('metallb', mlb.version, upstream.metallb(mlb.version))],
    });
  }
  const ing = lab.addons.ingress;
  if (ing.enabled) {
    out.push({
      key: 'ingress',
      title: `Traefik ${ing.version} (Ingress controller)`,
      why: 'addons.ingress.enabled is true',
      off: 'addons: { ingress: { enabled: false } }',
      version: ing.version,
      // master_node.sh writes its manifest; the bundle carries only the image
      files: [],
      images: [upstream.traefikImage(ing.version)],
    });
  }
  const storage = lab.addons.storage;
  if (storage.provider === 'local-path') {
    const v = storage.localPathVersion;
    out.push({
      key: 'local-path',
      title: `local-path-provisioner ${v}`,
      why: 'addons.storage.provider is local-path',
      off: 'addons: { storage: { provider: none } }',
      version: v,
      files: [file('local-path', v, upstream.localPath(v))],
    });
  } else if (storage.provider === 'nfs') {
    const v = storage.nfsProvisionerVersion;
    out.push({
      key: 'nfs',
      title: `nfs-subdir-external-provisioner ${v}`,
      why: 'addons.storage.provider is nfs',
      off: 'addons: { storage: { provider: none } } (or provider: local-path, which needs no packages)',
      version: v,
      files: (['rbac', 'deployment', 'class'] as const).map((f) => file('nfs', v, upstream.nfsProvisioner(v, f))),
      // master_node.sh serves the export; install_pkg.sh mounts it on every node
      packages: [
        { debs: ['nfs-kernel-server'], rpms: ['nfs-utils'], where: 'the control plane (the NFS server)' },
        { debs: ['nfs-common'], rpms: ['nfs-utils'], where: 'every node (the NFS client)' },
      ],
    });
  }
  return out;
}


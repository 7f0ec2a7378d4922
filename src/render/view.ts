// Plan -> the data the templates see. Every key is always present (null/false when unused), because
// the Handlebars instance runs in strict mode: a typo in a template is an error, not an empty string.
import type { Plan, PlannedNode } from '../plan/plan.js';
import { upstream } from './urls.js';

import { PKI_UPLOAD_DIR, type ProvisionStep } from '../plan/provisioning.js';
/** The NFS export on the control plane (storage provider "nfs"). */
export const NFS_EXPORT_DIR = '/srv/k8slab-nfs';

export interface NodeView extends PlannedNode {
  /** VirtualBox VM name: unique per lab, so two labs never clash in VirtualBox Manager. */
  vmName: string;
}

/** One provisioner: a script with its arguments, or the CA upload (a folder made private, then the files). */
export interface ProvisionerView {
  script: string | null;
  args: string[];
  prepare: string | null;
  files: { source: string; destination: string }[];
}

function provisioners(steps: readonly ProvisionStep[]): ProvisionerView[] {
  return steps.map((s) =>
    s.kind === 'script'
      ? { script: s.script, args: s.args, prepare: null, files: [] }
      : { script: null, args: [], prepare: s.prepare, files: s.files.map((f) => ({ source: f.source, destination: f.destination })) },
  );
}

export interface RenderView {
  name: string;
  provider: Plan['provider'];
  box: string;
  /** config.vm.box_version; "" for any version */
  boxVersion: string;
  nodes: NodeView[];
  controlPlane: NodeView;
  workers: NodeView[];
  workerCount: number;
  network: Plan['network'];
  /** What install_pkg.sh is called with: the patch when pinned, else the minor. */
  k8sVersion: string;
  apiServer: string;
  /** kubeadm's --apiserver-cert-extra-sans: the addresses the host may reach the API server by ("" for none) */
  apiServerCertSans: string;
  join: Plan['join'];
  containerd: { version: string; tarball: string; unit: string };
  runc: { version: string; binary: string; sums: string };
  pkgsK8sIo: string;
  calico: { version: string; url: string; encapsulation: Plan['calico']['encapsulation'] };
  metallb: { version: string; url: string; range: string } | null;
  localPath: { version: string; url: string } | null;
  nfs: { version: string; rbac: string; deployment: string; storageClass: string; exportDir: string } | null;
  /** The Ingress controller k8slab renders itself (no upstream manifest): its image and how its Service is exposed. */
  ingress: { version: string; image: string; serviceType: 'LoadBalancer' | 'NodePort' } | null;
  /** Offline branch: the install-bundle / master-bundle / worker-bundle partials replace the download steps. */
  bundle: boolean;
  bundlePath: string;
  /** cni: bridge: the cni-bridge partial replaces Calico. */
  bridge: boolean;
  libvirt: Plan['libvirt'];
  vbGroup: string;
  pkiUploadDir: string;
  /** The plan's provisioning sequence per role, as the Vagrantfile's provisioners (partial vagrant-provision). */
  provisioning: { controlPlane: ProvisionerView[]; worker: ProvisionerView[] };
}

export function makeView(plan: Plan): RenderView {
  const node = (n: PlannedNode): NodeView => ({ ...n, vmName: `${plan.name}-${n.name}` });
  const storage = plan.addons.storage;
  const mlb = plan.addons.metallb;
  return {
    name: plan.name,
    provider: plan.provider,
    box: plan.box,
    boxVersion: plan.boxVersion ?? '',
    nodes: plan.nodes.map(node),
    controlPlane: node(plan.controlPlane),
    workers: plan.workers.map(node),
    workerCount: plan.workers.length,
    network: plan.network,
    k8sVersion: plan.kubernetes.patch ?? plan.kubernetes.minor,
    apiServer: plan.kubernetes.apiServer,
    apiServerCertSans: plan.kubernetes.certSans.join(','),
    join: plan.join,
    containerd: {
      version: plan.versions.containerd,
      tarball: upstream.containerdTarball(plan.versions.containerd),
      unit: upstream.containerdUnit(plan.versions.containerd),
    },
    runc: {
      version: plan.versions.runc,
      binary: upstream.runcBinary(plan.versions.runc),
      sums: upstream.runcSums(plan.versions.runc),
    },
    pkgsK8sIo: upstream.pkgsK8sIo,
    calico: {
      version: plan.versions.calico,
      url: upstream.calico(plan.versions.calico, plan.calico.encapsulation),
      encapsulation: plan.calico.encapsulation,
    },
    metallb: mlb
      ? { version: mlb.version, url: upstream.metallb(mlb.version), range: `${mlb.range.first}-${mlb.range.last}` }
      : null,
    localPath:
      storage.provider === 'local-path'
        ? { version: storage.localPathVersion, url: upstream.localPath(storage.localPathVersion) }
        : null,
    nfs:
      storage.provider === 'nfs'
        ? {
            version: storage.nfsProvisionerVersion,
            rbac: upstream.nfsProvisioner(storage.nfsProvisionerVersion, 'rbac'),
            deployment: upstream.nfsProvisioner(storage.nfsProvisionerVersion, 'deployment'),
            storageClass: upstream.nfsProvisioner(storage.nfsProvisionerVersion, 'class'),
            exportDir: NFS_EXPORT_DIR,
          }
        : null,
    ingress: plan.addons.ingress
      ? {
          version: plan.addons.ingress.version,
          image: upstream.traefikImage(plan.addons.ingress.version),
          // MetalLB gives the controller one address on the private network; without it, a nodePort on every node.
          serviceType: mlb ? 'LoadBalancer' : 'NodePort',
        }
      : null,
    bundle: plan.kubernetes.source === 'bundle',
    bundlePath: plan.kubernetes.bundle ?? '',
    bridge: plan.kubernetes.cni === 'bridge',
    libvirt: plan.libvirt,
    vbGroup: plan.virtualbox.group,
    pkiUploadDir: PKI_UPLOAD_DIR,
    provisioning: { controlPlane: provisioners(plan.provisioning.controlPlane), worker: provisioners(plan.provisioning.worker) },
  };
}

// config + secrets -> Plan: everything later stages need, computed once, with no I/O.
import type { LabConfig } from '../config/schema.js';
import { boxVersionOf, metallbRange, nodeAddresses } from '../config/cross-check.js';
import { parseK8sVersion, type K8sVersion } from '../config/versions.js';
import { parseRange, type IpRange } from '../config/net.js';
import { resolveImages, type ImageKey } from '../config/images.js';
import { machineTargets } from '../config/machines.js';
import { caCertHash, type LabSecrets } from './secrets.js';
import { provisioningOf, type Provisioning } from './provisioning.js';

export type Role = 'control-plane' | 'worker';

export interface PlannedNode {
  name: string;
  role: Role;
  ip: string;
  /** host port forwarded to the guest's port 22 */
  sshPort: number;
  cpus: number;
  memory: number;
  /** 1-based worker index (0 for the control plane) */
  index: number;
}

/** provider: machines: where the host reaches a node's sshd, and as whom. */
export interface MachineNode {
  name: string;
  role: Role;
  /** the address the cluster uses (the node's `ip`) */
  privateIp: string;
  /** where the host reaches the machine's sshd: may differ from privateIp (a cloud VM's public IP) */
  address: string;
  port: number;
  user: string;
  /** absolute once lab.yaml was loaded from a file (config/load.ts) */
  keyFile: string;
}

export interface Plan {
  name: string;
  provider: LabConfig['provider'];
  box: string;
  /** the box version the Vagrantfile pins (undefined: any) */
  boxVersion?: string;
  nodes: PlannedNode[];
  controlPlane: PlannedNode;
  workers: PlannedNode[];
  network: { private: string; podCidr: string; serviceCidr: string };
  kubernetes: {
    version: K8sVersion;
    /** "1.34": the pkgs.k8s.io repository channel */
    minor: string;
    /** "1.34.2" or undefined for the newest patch of `minor` */
    patch?: string;
    source: LabConfig['kubernetes']['source'];
    bundle?: string;
    cni: LabConfig['kubernetes']['cni'];
    apiServer: string;
    /**
     * Addresses the API server's certificate carries besides the control plane's private one: the
     * addresses the host may use instead (a machine's SSH address), so the kubeconfig works from there.
     */
    certSans: string[];
  };
  /** provider: machines only, in node order */
  machines?: MachineNode[];
  versions: { containerd: string; runc: string; calico: string };
  calico: { encapsulation: LabConfig['calico']['encapsulation'] };
  addons: {
    metallb?: { version: string; range: IpRange };
    storage: LabConfig['addons']['storage'];
    ingress?: { controller: LabConfig['addons']['ingress']['controller']; version: string };
  };
  libvirt: LabConfig['libvirt'];
  virtualbox: { group: string };
  images: Record<ImageKey, string>;
  join: { token: string; caCertHash: string };
  /** the provisioning sequence per role: what `up` runs and the Vagrantfile's provisioners say */
  provisioning: Provisioning;
}

export function makePlan(config: LabConfig, secrets: Pick<LabSecrets, 'token' | 'caCert'>): Plan {
  const addresses = nodeAddresses(config);
  const nodes: PlannedNode[] = addresses.map((a, index) =>
    index === 0
      ? {
          name: a.name,
          role: 'control-plane',
          ip: a.ip,
          sshPort: config.controlPlane.sshPort,
          cpus: config.controlPlane.cpus,
          memory: config.controlPlane.memory,
          index: 0,
        }
      : {
          name: a.name,
          role: 'worker',
          ip: a.ip,
          sshPort: config.workers.sshPortBase + index,
          cpus: config.workers.cpus,
          memory: config.workers.memory,
          index,
        },
  );
  const version = parseK8sVersion(config.kubernetes.version)!;
  const controlPlane = nodes[0]!;
  const mlb = config.addons.metallb;
  const machines = config.provider === 'machines' ? machineNodes(config) : undefined;
  // Only the control plane serves the API: its SSH address is the one the host may reach it by.
  const cpAddress = machines?.[0]?.address;
  const certSans = cpAddress !== undefined && cpAddress !== controlPlane.ip ? [cpAddress] : [];
  return {
    name: config.name,
    provider: config.provider,
    box: config.provider === 'machines' ? '' : config.box[config.provider],
    ...(boxVersionOf(config) === undefined ? {} : { boxVersion: boxVersionOf(config)! }),
    nodes,
    controlPlane,
    workers: nodes.slice(1),
    network: {
      private: config.network.private,
      podCidr: config.network.podCidr,
      serviceCidr: config.network.serviceCidr,
    },
    kubernetes: {
      version,
      minor: `1.${version.minor}`,
      ...(version.patch === undefined ? {} : { patch: `1.${version.minor}.${version.patch}` }),
      source: config.kubernetes.source,
      ...(config.kubernetes.bundle === undefined ? {} : { bundle: config.kubernetes.bundle }),
      cni: config.kubernetes.cni,
      apiServer: `${controlPlane.ip}:6443`,
      certSans,
    },
    ...(machines ? { machines } : {}),
    versions: { containerd: config.containerd.version, runc: config.containerd.runcVersion, calico: config.calico.version },
    calico: { encapsulation: config.calico.encapsulation },
    addons: {
      ...(mlb.enabled ? { metallb: { version: mlb.version, range: parseRange(metallbRange(config).text)! } } : {}),
      storage: config.addons.storage,
      ...(config.addons.ingress.enabled ? { ingress: { controller: config.addons.ingress.controller, version: config.addons.ingress.version } } : {}),
    },
    libvirt: config.libvirt,
    virtualbox: { group: config.virtualbox.group ?? `/${config.name}` },
    images: resolveImages(config.images),
    join: { token: secrets.token, caCertHash: caCertHash(secrets.caCert) },
    provisioning: provisioningOf(nodes.length - 1, version.patch === undefined ? `1.${version.minor}` : `1.${version.minor}.${version.patch}`),
  };
}

/** provider: machines: each node's SSH target, in node order (control plane first). */
export function machineNodes(config: LabConfig): MachineNode[] {
  const addresses = nodeAddresses(config);
  return machineTargets(config.machines).flatMap((t, i) => {
    const a = addresses[i];
    return a
      ? [{ name: a.name, role: i === 0 ? ('control-plane' as const) : ('worker' as const), privateIp: a.ip, address: t.address, port: t.port, user: t.user, keyFile: t.keyFile }]
      : [];
  });
}

// Checks that span several fields: addresses, overlaps and version compatibility.
import { closest } from 'fastest-levenshtein';
import type { ConfigProblem } from './errors.js';
import {
  CALICO_SUPPORT,
  CONTAINERD2_MIN_K8S_MINOR,
  DEFAULT_BOX,
  DEFAULT_BOX_VERSION,
  INGRESS_CONTROLLERS,
  NEWEST_CALICO_MINOR,
  PKGS_K8S_IO_MIN_MINOR,
  calicoFor,
  minorNumber,
  minorOf,
  parseK8sVersion,
} from './versions.js';
import { hostAt, isHostIn, overlaps, parseCidr, parseRange, rangeContains, toInt } from './net.js';
import { labSchema, type LabConfig } from './schema.js';
import { checkMachines } from './machines.js';
import { FLAVOR_IMAGES, IMAGE_KEYS, MYSQL_FLAVORS } from './images.js';

/** Default offsets inside the private network, as in the course (.10 and .101..). */
export const CONTROL_PLANE_OFFSET = 10;
export const FIRST_WORKER_OFFSET = 101;

export interface NodeAddress {
  path: string;
  name: string;
  ip: string;
}

/** The address of every node, defaults filled in. Shared by the checks and the plan. */
export function nodeAddresses(c: LabConfig): NodeAddress[] {
  const net = parseCidr(c.network.private)!;
  const cpIp = c.network.controlPlaneIp ?? hostAt(net, CONTROL_PLANE_OFFSET);
  const first = toInt(c.network.firstWorkerIp ?? hostAt(net, FIRST_WORKER_OFFSET));
  const nodes: NodeAddress[] = [{ path: 'network.controlPlaneIp', name: c.controlPlane.name, ip: cpIp }];
  for (let i = 1; i <= c.workers.count; i++) {
    nodes.push({ path: 'network.firstWorkerIp', name: workerName(i), ip: hostAt({ ...net, base: first }, i - 1) });
  }
  // provider: machines: a machine may bring its own private address (a cloud VM's, a LAN's).
  if (c.provider === 'machines' && c.machines) {
    const own = [c.machines.controlPlane?.privateIp, ...c.machines.workers.map((w) => w.privateIp)];
    own.forEach((ip, i) => {
      if (ip !== undefined && nodes[i]) {
        nodes[i] = { ...nodes[i], ip, path: i === 0 ? 'machines.controlPlane.privateIp' : `machines.workers.${i - 1}.privateIp` };
      }
    });
  }
  return nodes;
}

export function workerName(i: number): string {
  return `w${i}-k8s`;
}

/** MetalLB's default addresses: .200-.220 of the private network, above the workers' .101-.109. */
export const METALLB_DEFAULT_OFFSETS = [200, 220] as const;

/** The addresses MetalLB hands out: `addons.metallb.range`, else .200-.220 of network.private. */
export function metallbRange(c: LabConfig): { text: string; derived: boolean } {
  if (c.addons.metallb.range !== undefined) return { text: c.addons.metallb.range, derived: false };
  const net = parseCidr(c.network.private)!;
  const [first, last] = METALLB_DEFAULT_OFFSETS;
  return { text: `${hostAt(net, first)}-${hostAt(net, last)}`, derived: true };
}

/** The box version the Vagrantfile pins: `box.version`, else DEFAULT_BOX_VERSION for the default box, else none. */
export function boxVersionOf(c: LabConfig): string | undefined {
  if (c.provider === 'machines') return undefined;
  if (c.box.version !== undefined) return c.box.version;
  return c.box[c.provider] === DEFAULT_BOX ? DEFAULT_BOX_VERSION : undefined;
}

export function crossCheck(c: LabConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [...checkMachines(c, labSchema.parse({}))];
  const net = parseCidr(c.network.private)!;

  if (net.prefix > 28) {
    problems.push({
      path: 'network.private',
      value: c.network.private,
      message: 'is too small for a lab: use a prefix of /28 or larger, e.g. 192.168.56.0/24',
    });
    return problems;
  }

  // Node addresses: inside the private network, usable, unique.
  const seen = new Map<string, string>();
  for (const node of nodeAddresses(c)) {
    if (!isHostIn(net, node.ip)) {
      problems.push({
        path: node.path,
        value: node.ip,
        message: `${node.name} would get ${node.ip}, which is not a usable host address in network.private ${c.network.private}`,
      });
    } else if (seen.has(node.ip)) {
      problems.push({
        path: node.path,
        value: node.ip,
        message: `${node.name} would get ${node.ip}, already used by ${seen.get(node.ip)}; pick addresses that do not collide`,
      });
    }
    seen.set(node.ip, node.name);
    if (c.provider !== 'machines' && toInt(node.ip) === net.base + 1) {
      problems.push({
        path: node.path,
        value: node.ip,
        message: `${node.ip} is the host's own address on the private network; pick another`,
      });
    }
  }

  // Networks must not overlap: pods, services and the VMs' private network are routed separately.
  const nets = [
    ['network.private', c.network.private],
    ['network.podCidr', c.network.podCidr],
    ['network.serviceCidr', c.network.serviceCidr],
  ] as const;
  for (let i = 0; i < nets.length; i++) {
    for (let j = i + 1; j < nets.length; j++) {
      const [pa, va] = nets[i]!;
      const [pb, vb] = nets[j]!;
      if (overlaps(parseCidr(va)!, parseCidr(vb)!)) {
        problems.push({ path: pb, value: vb, message: `overlaps ${pa} (${va}); the three networks must be disjoint` });
      }
    }
  }

  // Names unique (a custom control-plane name could collide with w1-k8s...).
  const names = new Set<string>();
  for (const n of nodeAddresses(c)) {
    if (names.has(n.name)) {
      problems.push({ path: 'controlPlane.name', value: n.name, message: 'collides with a worker name (w1-k8s..w9-k8s)' });
    }
    names.add(n.name);
  }

  // SSH ports unique.
  const cpPort = c.controlPlane.sshPort;
  const lastWorkerPort = c.workers.sshPortBase + c.workers.count;
  if (c.workers.count > 0 && cpPort > c.workers.sshPortBase && cpPort <= lastWorkerPort) {
    problems.push({
      path: 'controlPlane.sshPort',
      value: cpPort,
      message: `collides with the workers' ports ${c.workers.sshPortBase + 1}-${lastWorkerPort}`,
    });
  }

  // Kubernetes version and package source.
  const v = parseK8sVersion(c.kubernetes.version)!;
  if (c.kubernetes.source === 'pkgs.k8s.io') {
    if (v.minor < PKGS_K8S_IO_MIN_MINOR) {
      problems.push({
        path: 'kubernetes.version',
        value: c.kubernetes.version,
        message: `pkgs.k8s.io serves Kubernetes 1.${PKGS_K8S_IO_MIN_MINOR} and later (the old Google repositories are gone); use 1.${PKGS_K8S_IO_MIN_MINOR} or newer, or kubernetes.source: bundle`,
      });
    }
    if (c.kubernetes.bundle !== undefined) {
      problems.push({
        path: 'kubernetes.bundle',
        value: c.kubernetes.bundle,
        message: 'is only used with kubernetes.source: bundle; remove it or set the source',
      });
    }
  } else {
    if (c.kubernetes.bundle === undefined) {
      problems.push({ path: 'kubernetes.bundle', message: 'is required with kubernetes.source: bundle (a directory path)' });
    }
    if (v.patch === undefined) {
      problems.push({
        path: 'kubernetes.version',
        value: c.kubernetes.version,
        message: 'must be a full version such as 1.20.2 with a bundle (the bundle holds exactly one version)',
      });
    }
    if (v.minor < 18) {
      problems.push({ path: 'kubernetes.version', value: c.kubernetes.version, message: 'must be 1.18 or newer' });
    }
  }

  // containerd 2.x is in containerd's support table from Kubernetes 1.30 on. The only containerd for older
  // minors is 1.7 (itself out of support since September 2026), so the choice is the user's, not ours.
  const containerdMajor = Number(c.containerd.version.split('.')[0]);
  if (c.kubernetes.source === 'pkgs.k8s.io' && containerdMajor >= 2 && v.minor < CONTAINERD2_MIN_K8S_MINOR) {
    problems.push({
      path: 'containerd.version',
      value: c.containerd.version,
      message: `containerd ${c.containerd.version} supports Kubernetes 1.${CONTAINERD2_MIN_K8S_MINOR} and newer (containerd's RELEASES.md), not 1.${v.minor}; use kubernetes.version "1.${CONTAINERD2_MIN_K8S_MINOR}" or newer, or a containerd 1.7 release (e.g. containerd.version: 1.7.35, with containerd.runcVersion: 1.3.7)`,
    });
  }

  // Calico: a minor we know, tested with this Kubernetes minor. A Kubernetes or a Calico newer than every
  // row is allowed (doctor names the risk): a table that lags behind must not block a current release.
  if (c.kubernetes.cni === 'calico') {
    const cm = minorOf(c.calico.version);
    const range = CALICO_SUPPORT[cm];
    const newestCalico = minorNumber(NEWEST_CALICO_MINOR);
    if (!range) {
      if (minorNumber(cm) < newestCalico) {
        problems.push({
          path: 'calico.version',
          value: c.calico.version,
          message: `is not a Calico release k8slab knows; use one of ${Object.keys(CALICO_SUPPORT).map((m) => `${m}.x`).join(', ')} (or a newer one)`,
        });
      }
    } else if (v.minor < range[0] || (v.minor > range[1] && calicoFor(v.minor).length > 0)) {
      const fits = calicoFor(v.minor).map((m) => `${m}.x`);
      problems.push({
        path: 'calico.version',
        value: c.calico.version,
        message: `Calico ${cm} supports Kubernetes 1.${range[0]}-1.${range[1]}, not 1.${v.minor}; ${
          fits.length > 0 ? `use calico.version ${fits.join(' or ')}` : 'use kubernetes.cni: bridge'
        }`,
      });
    }
  }

  // MetalLB: a range inside the private network that no node uses; by default .200-.220 of it.
  if (c.addons.metallb.enabled || c.addons.metallb.range !== undefined) {
    const mlb = metallbRange(c);
    const r = parseRange(mlb.text)!;
    // A default range is judged like a written one, and the message says where it came from.
    const what = `the default range (.${METALLB_DEFAULT_OFFSETS[0]}-.${METALLB_DEFAULT_OFFSETS[1]} of network.private)`;
    const prefix = mlb.derived ? `${what} ` : '';
    const fix = mlb.derived ? '; set addons.metallb.range to free addresses of network.private, or addons.metallb.enabled: false' : '';
    const problem = (message: string) => problems.push({ path: 'addons.metallb.range', value: mlb.text, message: `${message}${fix}` });
    if (!isHostIn(net, r.first) || !isHostIn(net, r.last)) {
      problem(
        mlb.derived
          ? `${what} does not fit in network.private ${c.network.private}`
          : `must lie inside network.private ${c.network.private} (L2 mode answers ARP on that network)`,
      );
    } else {
      const hostIp = hostAt(net, 1);
      if (rangeContains(r, hostIp)) {
        problem(`${prefix}includes ${hostIp}, the host's own address on the private network; start the range above it`);
      }
      for (const node of nodeAddresses(c)) {
        if (rangeContains(r, node.ip)) {
          problem(`${prefix}includes ${node.ip}, the address of ${node.name}; pick addresses no node uses`);
        }
      }
    }
  }

  // The ingress controller reads EndpointSlices (discovery.k8s.io/v1), which older Kubernetes does not serve.
  const ing = c.addons.ingress;
  if (ing.enabled && v.minor < INGRESS_CONTROLLERS[ing.controller].minK8sMinor) {
    problems.push({
      path: 'addons.ingress.enabled',
      value: true,
      message: `${ing.controller} ${ing.version} needs Kubernetes 1.${INGRESS_CONTROLLERS[ing.controller].minK8sMinor} or newer (its Ingress provider watches discovery.k8s.io/v1 EndpointSlices), not 1.${v.minor}; set addons.ingress.enabled: false, or a newer kubernetes.version`,
    });
  }

  // Pod CIDR must hold a /24 per node for the bridge CNI and kube-controller-manager's allocator.
  const pod = parseCidr(c.network.podCidr)!;
  const nodeCount = 1 + c.workers.count;
  const needPrefix = Math.min(22, 24 - Math.ceil(Math.log2(nodeCount)));
  if (pod.prefix > needPrefix) {
    problems.push({
      path: 'network.podCidr',
      value: c.network.podCidr,
      message: `is too small: each of the ${nodeCount} nodes gets a /24 from it; use /${needPrefix} or larger, e.g. 172.16.0.0/16`,
    });
  }
  const svc = parseCidr(c.network.serviceCidr)!;
  if (svc.prefix < 12 || svc.prefix > 24) {
    problems.push({
      path: 'network.serviceCidr',
      value: c.network.serviceCidr,
      message: 'must have a prefix from /12 to /24 (kube-apiserver limits the service range), e.g. 10.96.0.0/12',
    });
  }
  for (const key of Object.keys(c.images)) {
    if (!(IMAGE_KEYS as string[]).includes(key)) {
      const guess = closest(key, IMAGE_KEYS);
      problems.push({
        path: `images.${key}`,
        message: `unknown image key; did you mean "${guess}"? allowed: ${IMAGE_KEYS.join(', ')}`,
      });
    }
  }
  // An override the chosen flavor never uses is a lab.yaml written for the other flavor: say so rather than
  // run the lesson on an image nobody chose.
  const flavor = c.lessons.mysql.flavor;
  for (const other of MYSQL_FLAVORS.filter((f) => f !== flavor)) {
    for (const key of FLAVOR_IMAGES[other].filter((k) => Object.hasOwn(c.images, k))) {
      problems.push({
        path: `images.${key}`,
        value: c.images[key],
        message: `is used only by lessons.mysql.flavor: ${other}, and this lab's flavor is ${flavor}; set lessons.mysql.flavor: ${other}, or remove images.${key} (the ${flavor} flavor uses images.${FLAVOR_IMAGES[flavor].join(' and images.')})`,
      });
    }
  }

  return problems;
}

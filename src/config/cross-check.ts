// Checks that span several fields: addresses, overlaps and version compatibility.
import { closest } from 'fastest-levenshtein';
import type { ConfigProblem } from './errors.js';
import { CALICO_SUPPORT, PKGS_K8S_IO_MIN_MINOR, minorOf, parseK8sVersion } from './versions.js';
import { hostAt, isHostIn, overlaps, parseCidr, parseRange, rangeContains, toInt } from './net.js';
import { labSchema, type LabConfig } from './schema.js';
import { checkMachines } from './machines.js';
import { IMAGE_KEYS } from '../lessons/images.js';

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

  // Calico: a minor we know, tested with this Kubernetes minor.
  if (c.kubernetes.cni === 'calico') {
    const cm = minorOf(c.calico.version);
    const range = CALICO_SUPPORT[cm];
    if (!range) {
      problems.push({
        path: 'calico.version',
        value: c.calico.version,
        message: `is not a Calico release k8slab knows; use one of ${Object.keys(CALICO_SUPPORT).map((m) => `${m}.x`).join(', ')}`,
      });
    } else if (v.minor < range[0] || v.minor > range[1]) {
      const fits = Object.entries(CALICO_SUPPORT)
        .filter(([, [lo, hi]]) => v.minor >= lo && v.minor <= hi)
        .map(([m]) => `${m}.x`);
      problems.push({
        path: 'calico.version',
        value: c.calico.version,
        message: `Calico ${cm} supports Kubernetes 1.${range[0]}-1.${range[1]}, not 1.${v.minor}; ${
          fits.length > 0 ? `use calico.version ${fits.join(' or ')}` : 'use kubernetes.cni: bridge'
        }`,
      });
    }
  }

  // MetalLB: needs a range inside the private network that no node uses.
  const mlb = c.addons.metallb;
  if (mlb.enabled && mlb.range === undefined) {
    problems.push({
      path: 'addons.metallb.range',
      message: 'is required when MetalLB is enabled, e.g. 192.168.56.200-192.168.56.220 (inside network.private)',
    });
  }
  if (mlb.range !== undefined) {
    const r = parseRange(mlb.range)!;
    if (!isHostIn(net, r.first) || !isHostIn(net, r.last)) {
      problems.push({
        path: 'addons.metallb.range',
        value: mlb.range,
        message: `must lie inside network.private ${c.network.private} (L2 mode answers ARP on that network)`,
      });
    }
    const hostIp = hostAt(net, 1);
    if (rangeContains(r, hostIp)) {
      problems.push({
        path: 'addons.metallb.range',
        value: mlb.range,
        message: `includes ${hostIp}, the host's own address on the private network; start the range above it`,
      });
    }
    for (const node of nodeAddresses(c)) {
      if (rangeContains(r, node.ip)) {
        problems.push({
          path: 'addons.metallb.range',
          value: mlb.range,
          message: `includes ${node.ip}, the address of ${node.name}; pick addresses no node uses`,
        });
      }
    }
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

  return problems;
}

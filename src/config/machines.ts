// `provider: machines`: the lab on machines the user already has, reached over SSH. This file holds the
// `machines:` block of lab.yaml and the checks that span it and the rest of the config.
//
// Each node keeps the lab's name (m-k8s, w1-k8s, ...) and its planned private address (network.*), which the
// cluster uses; `address` is where the host reaches the machine's sshd, which may be another address (a
// cloud VM's public IP, a port forward). A machine whose private address is not the planned one says so
// with `privateIp`.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { ConfigProblem } from './errors.js';
import { isIPv4 } from './net.js';

const int = (min: number, max: number, what: string) =>
  z
    .number({ error: `must be a whole number from ${min} to ${max} (${what})` })
    .int({ error: `must be a whole number from ${min} to ${max} (${what})` })
    .min(min, { error: `must be at least ${min} (${what})` })
    .max(max, { error: `must be at most ${max} (${what})` });

/** An IPv4 address or a DNS name: it reaches ssh's command line and the API server certificate. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
export const isSshAddress = (s: string): boolean => isIPv4(s) || (HOSTNAME.test(s) && !/^[\d.]+$/.test(s));

const sshAddress = z
  .string({ error: 'must be an IPv4 address or a DNS name such as 203.0.113.10 or node1.example.net' })
  .refine(isSshAddress, { error: 'must be an IPv4 address or a DNS name such as 203.0.113.10 or node1.example.net' });

const sshPort = int(1, 65535, 'the machine\'s SSH port');

/** A login name as useradd allows it (no spaces, no shell characters). */
const sshUser = z
  .string({ error: 'must be a login name such as root or ubuntu' })
  .regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, { error: 'must be a login name such as root or ubuntu (letters, digits, "_", ".", "-")' });

const keyFile = z
  .string({ error: 'must be the path of an SSH private key such as ~/.ssh/id_ed25519' })
  .min(1, { error: 'must be the path of an SSH private key such as ~/.ssh/id_ed25519' })
  .refine((s) => !/[\n\0]/.test(s), { error: 'must be a single-line file path' });

const privateIp = z
  .string({ error: 'must be an IPv4 address inside network.private, such as 192.168.56.10' })
  .refine(isIPv4, { error: 'must be an IPv4 address inside network.private, such as 192.168.56.10' });

/** One machine: where its sshd is; port, user and key default to machines.ssh. */
export const machineSchema = z.strictObject({
  address: sshAddress,
  port: sshPort.optional(),
  user: sshUser.optional(),
  keyFile: keyFile.optional(),
  privateIp: privateIp.optional(),
});

export const DEFAULT_SSH = { port: 22, user: 'root', keyFile: '~/.ssh/id_ed25519' } as const;

export const machinesSchema = z.strictObject({
  /** How to log in on every machine unless the machine says otherwise. */
  ssh: z
    .strictObject({
      port: sshPort.default(DEFAULT_SSH.port),
      user: sshUser.default(DEFAULT_SSH.user),
      keyFile: keyFile.default(DEFAULT_SSH.keyFile),
    })
    .prefault({}),
  controlPlane: machineSchema.optional(),
  /** Worker i (w<i>-k8s) is the i-th entry. */
  workers: z.array(machineSchema, { error: 'must be a list of machines, one per worker (- address: ...)' }).default([]),
});

export type MachineInput = z.output<typeof machineSchema>;
export type MachinesConfig = z.output<typeof machinesSchema>;

/** A machine with the defaults of machines.ssh filled in. `path` is its place in lab.yaml. */
export interface MachineTarget {
  path: string;
  address: string;
  port: number;
  user: string;
  keyFile: string;
  /** the key file as written, and where: it came from the machine or from machines.ssh */
  keyFilePath: string;
  privateIp?: string;
}

/** The machines in node order (control plane first), or [] when the block is missing. */
export function machineTargets(m: MachinesConfig | undefined): MachineTarget[] {
  if (!m) return [];
  const entries: [string, MachineInput][] = [];
  if (m.controlPlane) entries.push(['machines.controlPlane', m.controlPlane]);
  m.workers.forEach((w, i) => entries.push([`machines.workers.${i}`, w]));
  return entries.map(([path, x]) => ({
    path,
    address: x.address,
    port: x.port ?? m.ssh.port,
    user: x.user ?? m.ssh.user,
    keyFile: x.keyFile ?? m.ssh.keyFile,
    keyFilePath: x.keyFile !== undefined ? `${path}.keyFile` : 'machines.ssh.keyFile',
    ...(x.privateIp === undefined ? {} : { privateIp: x.privateIp }),
  }));
}

/** The settings that size or place a Vagrant VM. With machines they would silently mean nothing. */
export const VAGRANT_ONLY = [
  'box.virtualbox',
  'box.libvirt',
  'box.version',
  'controlPlane.cpus',
  'controlPlane.memory',
  'controlPlane.sshPort',
  'workers.cpus',
  'workers.memory',
  'workers.sshPortBase',
  'libvirt.driver',
  'libvirt.cpuMode',
  'virtualbox.group',
] as const;

const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((cur, k) => (cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined), o);

interface MachinesView {
  provider: string;
  machines?: MachinesConfig | undefined;
  workers: { count: number };
}

/**
 * Checks of the machines block against the rest of the config. `config` is the parsed config and
 * `defaults` the parsed empty config: a Vagrant-only field left at its default (as `k8slab init` writes
 * it) is fine, a changed one is an error because no machine would follow it.
 */
export function checkMachines(config: MachinesView, defaults: object): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const m = config.machines;
  if (config.provider !== 'machines') {
    if (m !== undefined) {
      problems.push({ path: 'machines', message: 'is only used with provider: machines; remove it or set provider: machines' });
    }
    return problems;
  }
  if (m === undefined || m.controlPlane === undefined) {
    problems.push({
      path: m === undefined ? 'machines' : 'machines.controlPlane',
      message: 'is required with provider: machines: say how to reach each node over SSH, e.g. controlPlane: { address: 203.0.113.10 }',
    });
  }
  const workers = m?.workers.length ?? 0;
  if (workers !== config.workers.count) {
    problems.push({
      path: 'machines.workers',
      value: workers,
      message: `lists ${workers} machine${workers === 1 ? '' : 's'} but workers.count is ${config.workers.count}; list one machine per worker, or set workers.count: ${workers}`,
    });
  }
  const seen = new Map<string, string>();
  for (const t of machineTargets(m)) {
    const key = `${t.address.toLowerCase()}:${t.port}`;
    const other = seen.get(key);
    if (other !== undefined) {
      problems.push({
        path: `${t.path}.address`,
        value: t.address,
        message: `${t.address} port ${t.port} is already ${other}'s SSH address; each node needs its own machine (or its own port)`,
      });
    }
    seen.set(key, t.path);
  }
  for (const path of VAGRANT_ONLY) {
    const value = get(config, path);
    if (value !== get(defaults, path)) {
      problems.push({
        path,
        value,
        message: 'sizes or places a Vagrant VM and means nothing with provider: machines (the machines are what they are; `k8slab doctor` checks them); remove it',
      });
    }
  }
  return problems;
}

/** "~/x" is in the home folder; a relative path is relative to lab.yaml's folder. */
export function resolveKeyFile(keyFile: string, baseDir: string, home: string): string {
  if (keyFile === '~') return home;
  if (keyFile.startsWith('~/')) return resolve(home, keyFile.slice(2));
  return isAbsolute(keyFile) ? keyFile : resolve(baseDir, keyFile);
}

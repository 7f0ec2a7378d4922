// What every provider does for a lab, whatever the machines are (Vagrant VMs today; existing hosts over
// SSH next): bring the machines up, say how to reach each one over SSH, destroy them, and report what
// is left of them. Snapshots only where the provider has them. A provider never runs commands on a
// node: that is src/nodes, given the SSH targets listed here.
import type { Role } from '../plan/plan.js';

/** Where a node's sshd is and how to log in (key auth only). */
export interface SshTarget {
  /** node name as the user knows it (e.g. "m-k8s"); used in every message */
  name: string;
  host: string;
  port: number;
  user: string;
  /** an unencrypted OpenSSH or PEM private key */
  privateKeyPath: string;
}

/** A machine's current step, e.g. "Waiting for domain to get an IP address...". */
export interface MachineProgress {
  machine: string;
  step: string;
}

export interface ProviderCallOptions {
  signal?: AbortSignal;
  onProgress?: (p: MachineProgress) => void;
}

/** One machine as the provider sees it. */
export interface MachineState {
  name: string;
  role: Role;
  /** "running" when it answers; else the provider's word ("not_created", "shutoff", "poweroff", ...) */
  state: string;
}

/** What of the lab the provider can see on the host (or on the machines). */
export interface Leftovers {
  vms: string[];
  networks: string[];
  volumes: string[];
}

export interface DestroyResult {
  removed: Leftovers;
  /** what the lab created but others still use: left in place */
  kept: { networks: string[] };
  problems: string[];
}

export interface Snapshots {
  save(name: string, machines: string[], o?: ProviderCallOptions): Promise<void>;
  restore(name: string, machines: string[], o?: ProviderCallOptions): Promise<void>;
  /** machine -> snapshot names */
  list(machines: string[], o?: ProviderCallOptions): Promise<Record<string, string[]>>;
}

export interface Provider {
  /** as in lab.yaml: "virtualbox", "libvirt", ... */
  readonly name: string;
  /** how messages call one machine: "VM", "machine" */
  readonly machineWord: string;
  /** one line for `up`'s progress: what `up` does */
  describeUp(count: number): string;
  /** Creates and starts every machine, without provisioning. Safe to call again on a running lab. */
  up(o?: ProviderCallOptions): Promise<void>;
  /** Every planned machine with its state. */
  status(o?: ProviderCallOptions): Promise<MachineState[]>;
  /** SSH targets of the named running machines (a stopped one is absent). */
  sshTargets(names: readonly string[], o?: ProviderCallOptions): Promise<SshTarget[]>;
  /** Removes every machine and what the provider created for them; each step runs even after a failure. */
  destroy(o?: ProviderCallOptions & { onStep?: (text: string) => void }): Promise<DestroyResult>;
  /** What of the lab still exists (empty after a clean destroy). */
  leftovers(): Promise<Leftovers>;
  /** An interactive shell on a node (no command), or one command; resolves with its exit code. */
  shell(node: string, command: readonly string[]): Promise<number>;
  /** Absent when the provider has none: `snapshot` and `reset` then stop with a usage error. */
  readonly snapshots?: Snapshots;
}

/** "m-k8s (vagrant@127.0.0.1:2222)" */
export function describeTarget(t: SshTarget): string {
  return `${t.name} (${t.user}@${t.host}:${t.port})`;
}

// Everything the lifecycle commands share about one lab: paths, config, plan, state, and the vagrant
// driver bound to the lab folder.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LabConfig } from '../config/schema.js';
import type { LabPaths } from '../cli/context.js';
import { makePlan, type Plan } from '../plan/plan.js';
import { loadOrCreateState, writeState, type LabState } from '../state/lab-state.js';
import { Vagrant, vagrantProviderOf, type VagrantProgress } from '../provider/vagrant.js';

export interface Lab {
  paths: LabPaths;
  config: LabConfig;
  plan: Plan;
  state: LabState;
  /** per-node logs */
  logDir: string;
  save(): Promise<void>;
  vagrant(o?: { signal?: AbortSignal; onProgress?: (p: VagrantProgress) => void }): Vagrant;
}

/** Facts `up` records for `down`: what it created in libvirt. */
export interface LibvirtFacts {
  /** networks that existed before the lab's first `up`: never removed */
  networksBefore: string[];
  /** networks that appeared during the lab's `up`s */
  networksCreated: string[];
  /** libvirt domain names of the lab's VMs */
  domains: string[];
}

export async function openLab(paths: LabPaths, config: LabConfig): Promise<Lab> {
  const { state } = await loadOrCreateState(paths.labDir);
  const logDir = join(paths.labDir, 'logs');
  const lab: Lab = {
    paths,
    config,
    plan: makePlan(config, state.secrets),
    state,
    logDir,
    save: () => writeState(paths.labDir, state),
    vagrant: (o = {}) =>
      new Vagrant({
        cwd: paths.labDir,
        provider: vagrantProviderOf(config.provider),
        logDir,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      }),
  };
  return lab;
}

export function libvirtFacts(state: LabState): LibvirtFacts | undefined {
  return state.facts.libvirt as LibvirtFacts | undefined;
}

export function setLibvirtFacts(state: LabState, f: LibvirtFacts): void {
  state.facts.libvirt = f;
}

/**
 * vagrant-libvirt names a domain <prefix><machine>; the prefix is `libvirt.default_prefix` when the
 * Vagrantfile sets it (k8slab's sets "#{LAB}-", LAB being the lab's name), else "<lab folder name>_".
 */
export async function domainPrefix(labDir: string, labName: string): Promise<string> {
  const vf = join(labDir, 'Vagrantfile');
  if (existsSync(vf)) {
    const m = /default_prefix\s*=\s*["']([^"']*)["']/.exec(await readFile(vf, 'utf8'));
    if (m) return m[1]!.replaceAll('#{LAB}', labName);
  }
  return `${basename(labDir)}_`;
}

/** The domain UUID vagrant-libvirt keeps for a machine, when the machine was created from this folder. */
export async function recordedDomainId(labDir: string, machine: string): Promise<string | undefined> {
  try {
    return (await readFile(join(labDir, '.vagrant', 'machines', machine, 'libvirt', 'id'), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

// The Vagrant provider (VirtualBox, libvirt): the lab folder's Vagrantfile brings the VMs up; `vagrant
// ssh-config` says how to reach them. With libvirt it also records what the lab created (networks,
// domain names) so that destroy removes exactly that and leftovers can prove nothing is left: libvirt
// is shared by everything on the host, so only recorded or lab-named objects are ever removed.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import type { Role } from '../plan/plan.js';
import type { LabState } from '../state/lab-state.js';
import { UserError } from '../util/errors.js';
import { commandLine } from '../util/shell.js';
import { classifyVagrantFailure } from './errors.js';
import {
  destroyDomain,
  domainName,
  listDomains,
  listNetworks,
  listVirtualBoxVms,
  listVolumes,
  networksOfDomain,
  removeNetwork,
  removeVolume,
  virshAvailable,
} from './libvirt.js';
import type { DestroyResult, Leftovers, MachineState, Provider, ProviderCallOptions, SshTarget, Snapshots } from './types.js';
import { Vagrant } from './vagrant.js';

export interface VagrantLab {
  /** the lab's name (lab.yaml `name`) */
  name: string;
  provider: 'virtualbox' | 'libvirt';
  nodes: readonly { name: string; role: Role }[];
  labDir: string;
  logDir: string;
  /** the lab state: libvirt facts are kept in it */
  state: LabState;
  save(): Promise<void>;
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

export function libvirtFacts(state: LabState): LibvirtFacts | undefined {
  return state.facts.libvirt as LibvirtFacts | undefined;
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

export class VagrantProvider implements Provider {
  readonly machineWord = 'VM';
  readonly snapshots: Snapshots;

  constructor(private readonly lab: VagrantLab) {
    this.snapshots = {
      save: (name, machines, o) => this.with(o, (v) => v.snapshotSave(name, machines)),
      restore: (name, machines, o) => this.with(o, (v) => v.snapshotRestore(name, machines)),
      list: (machines, o) => this.with(o, (v) => v.snapshotList(machines)),
    };
  }

  get name(): string {
    return this.lab.provider;
  }

  private get libvirt(): boolean {
    return this.lab.provider === 'libvirt';
  }

  /** A vagrant driver bound to the lab folder, closed (its log files) after `fn`. */
  private async with<T>(o: ProviderCallOptions = {}, fn: (v: Vagrant) => Promise<T>): Promise<T> {
    const v = new Vagrant({
      cwd: this.lab.labDir,
      provider: this.lab.provider,
      logDir: this.lab.logDir,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    try {
      return await fn(v);
    } finally {
      await v.close();
    }
  }

  describeUp(count: number): string {
    return `boot ${count} VMs (${this.lab.provider}${this.libvirt ? ', in parallel' : ', one by one'})`;
  }

  /** `vagrant up --no-provision`: libvirt creates the VMs in parallel; Vagrant runs VirtualBox ones one by one. */
  async up(o: ProviderCallOptions = {}): Promise<void> {
    if (this.libvirt && !libvirtFacts(this.lab.state)) {
      // Before anything of the lab exists: what is here now is never ours to remove.
      this.lab.state.facts.libvirt = { networksBefore: await listNetworks(), networksCreated: [], domains: [] } satisfies LibvirtFacts;
      await this.lab.save();
    }
    try {
      await this.with(o, (v) => v.up({ noProvision: true, parallel: this.libvirt }));
    } finally {
      if (this.libvirt) await this.recordLibvirt().catch(() => undefined);
    }
  }

  async status(o: ProviderCallOptions = {}): Promise<MachineState[]> {
    const seen = existsSync(join(this.lab.labDir, 'Vagrantfile')) ? await this.with(o, (v) => v.status()) : [];
    return this.lab.nodes.map((n) => ({ name: n.name, role: n.role, state: seen.find((m) => m.name === n.name)?.state ?? 'not_created' }));
  }

  async sshTargets(names: readonly string[], o: ProviderCallOptions = {}): Promise<SshTarget[]> {
    if (!existsSync(join(this.lab.labDir, 'Vagrantfile'))) return [];
    const entries = await this.with(o, (v) => v.sshConfig([...names]));
    return entries.map((e) => ({ name: e.name, host: e.host, port: e.port, user: e.user, privateKeyPath: e.identityFile }));
  }

  async shell(node: string, command: readonly string[]): Promise<number> {
    // vagrant ssh runs the command through the remote login shell: quote each word so it arrives intact.
    const args = ['ssh', node, ...(command.length > 0 ? ['-c', commandLine(command)] : [])];
    // Ctrl-C belongs to the remote command (the terminal sends it to vagrant/ssh too): we wait for its exit code.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    const r = await execa('vagrant', args, { cwd: this.lab.labDir, stdio: 'inherit', reject: false }).finally(() => process.off('SIGINT', ignore));
    if (r.exitCode === undefined) {
      // vagrant never ran, or died of a signal
      if ((r as { code?: string }).code === 'ENOENT') {
        throw classifyVagrantFailure({ command: 'vagrant ssh', stdout: '', stderr: '', spawnError: 'ENOENT', provider: this.lab.provider });
      }
      throw new UserError(`\`vagrant ssh ${node}\` failed: ${r.shortMessage}`, 'failed');
    }
    return r.exitCode;
  }

  /** Records the networks that appeared since the first `up` and the lab's domains, for destroy. */
  private async recordLibvirt(): Promise<void> {
    const facts = libvirtFacts(this.lab.state);
    if (!facts) return;
    const now = await listNetworks();
    const created = new Set(facts.networksCreated);
    for (const n of now) if (!facts.networksBefore.includes(n)) created.add(n);
    const domains = new Set(facts.domains);
    const prefix = await domainPrefix(this.lab.labDir, this.lab.name);
    for (const node of this.lab.nodes) {
      const id = await recordedDomainId(this.lab.labDir, node.name);
      const name = id ? await domainName(id) : undefined;
      domains.add(name ?? `${prefix}${node.name}`);
    }
    this.lab.state.facts.libvirt = { ...facts, networksCreated: [...created], domains: [...domains] } satisfies LibvirtFacts;
    await this.lab.save();
  }

  /** The lab's domain names: recorded by `up`, from .vagrant ids, and the names vagrant-libvirt would use. */
  private async domains(): Promise<Set<string>> {
    const facts = libvirtFacts(this.lab.state);
    const prefix = await domainPrefix(this.lab.labDir, this.lab.name);
    const domains = new Set<string>(facts?.domains ?? []);
    for (const { name: n } of this.lab.nodes) {
      domains.add(`${prefix}${n}`);
      domains.add(`${this.lab.name}-${n}`); // what k8slab's Vagrantfile names them, even when it is gone
      const id = await recordedDomainId(this.lab.labDir, n);
      const name = id ? await domainName(id) : undefined;
      if (name) domains.add(name);
    }
    return domains;
  }

  private isLabNetwork(n: string): boolean {
    const facts = libvirtFacts(this.lab.state);
    return (facts?.networksCreated ?? []).includes(n) && !(facts?.networksBefore ?? []).includes(n);
  }

  private async inventory(domains: Set<string>): Promise<Leftovers> {
    if (!(this.libvirt && (await virshAvailable()))) {
      if (this.lab.provider !== 'virtualbox') return { vms: [], networks: [], volumes: [] };
      const vms = (await listVirtualBoxVms()) ?? [];
      return { vms: vms.filter((n) => this.lab.nodes.some((node) => n === `${this.lab.name}-${node.name}`)), networks: [], volumes: [] };
    }
    const isLabVolume = (v: string) => [...domains].some((d) => v === `${d}.img` || v.startsWith(`${d}-`));
    return {
      vms: (await listDomains()).filter((d) => domains.has(d)),
      networks: (await listNetworks()).filter((n) => this.isLabNetwork(n)),
      // Disks: <domain>.img and extra disks <domain>-<dev>.*; never the shared base-box volume.
      volumes: (await listVolumes()).filter(isLabVolume),
    };
  }

  async leftovers(): Promise<Leftovers> {
    return this.inventory(await this.domains());
  }

  /**
   * `vagrant destroy -f` when there is a Vagrantfile; with libvirt then every lab domain, disk and
   * network vagrant did not remove (no .vagrant, a broken Vagrantfile, an interrupted create). A network
   * another VM still uses is kept. Each step runs even when an earlier one failed.
   */
  async destroy(o: ProviderCallOptions & { onStep?: (text: string) => void } = {}): Promise<DestroyResult> {
    const step = o.onStep ?? (() => undefined);
    const result: DestroyResult = { removed: { vms: [], networks: [], volumes: [] }, kept: { networks: [] }, problems: [] };
    const domains = await this.domains();
    const libvirt = this.libvirt && (await virshAvailable());
    const before = libvirt ? await this.inventory(domains) : undefined;

    let vagrantRemoved: string[] = [];
    if (existsSync(join(this.lab.labDir, 'Vagrantfile'))) {
      step('vagrant destroy -f');
      await this.with(o, async (v) => {
        const status = await v.status().catch(() => []);
        try {
          await v.destroy();
          vagrantRemoved = status.filter((m) => m.state !== 'not_created').map((m) => m.name);
        } catch (e) {
          result.problems.push(`vagrant destroy: ${e instanceof Error ? e.message : String(e)}`);
        }
      });
    }
    if (!libvirt || !before) {
      result.removed.vms = vagrantRemoved;
      return result;
    }
    for (const d of (await listDomains()).filter((x) => domains.has(x))) {
      step(`virsh undefine ${d}`);
      const err = await destroyDomain(d);
      if (err) result.problems.push(`domain ${d}: ${err}`);
    }
    const isLabVolume = (v: string) => [...domains].some((d) => v === `${d}.img` || v.startsWith(`${d}-`));
    for (const vol of (await listVolumes()).filter(isLabVolume)) {
      step(`virsh vol-delete ${vol}`);
      const err = await removeVolume(vol);
      if (err) result.problems.push(`volume ${vol}: ${err}`);
    }
    const nets = (await listNetworks()).filter((n) => this.isLabNetwork(n));
    if (nets.length > 0) {
      const others = (await listDomains()).filter((d) => !domains.has(d));
      const used = new Set((await Promise.all(others.map(networksOfDomain))).flat());
      for (const n of nets) {
        if (used.has(n)) {
          result.kept.networks.push(n);
          continue;
        }
        step(`virsh net-destroy/net-undefine ${n}`);
        const err = await removeNetwork(n);
        if (err) result.problems.push(`network ${n}: ${err}`);
      }
    }
    // What went, whoever removed it: vagrant destroy deletes the networks it made once their last VM is gone.
    const after = await this.inventory(domains);
    result.removed = {
      vms: before.vms.filter((d) => !after.vms.includes(d)),
      networks: before.networks.filter((n) => !after.networks.includes(n)),
      volumes: before.volumes.filter((v) => !after.volumes.includes(v)),
    };
    return result;
  }
}

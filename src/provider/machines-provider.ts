// provider: machines: the lab on machines that already exist, reached over SSH. Nothing to create or
// destroy: `up` only checks that each sshd answers, `destroy` leaves the machines as they are (`down`
// first runs the lab's teardown.sh on each, see src/down), and there are no snapshots.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { MachineNode } from '../plan/plan.js';
import type { DestroyResult, Leftovers, MachineState, Provider, ProviderCallOptions, SshTarget } from './types.js';

const EMPTY: Leftovers = { vms: [], networks: [], volumes: [] };
const REACH_TIMEOUT_MS = 5_000;

export class MachinesProvider implements Provider {
  readonly name = 'machines';
  readonly machineWord = 'machine';
  /** machines have none: `snapshot` and `reset` stop with a usage error */
  readonly snapshots = undefined;

  constructor(private readonly machines: readonly MachineNode[]) {}

  describeUp(count: number): string {
    return `reach ${count} machines over SSH (they exist already: nothing to create)`;
  }

  async up(o: ProviderCallOptions = {}): Promise<void> {
    const down = (await this.status(o)).filter((m) => m.state !== 'running');
    if (down.length > 0) {
      const where = down.map((m) => { const t = this.byName(m.name)!; return `${m.name} (${t.address}:${t.port})`; });
      throw new Error(`no sshd answers on ${where.join(', ')}: start the machine, or fix its address in lab.yaml's machines block (\`k8slab doctor\` checks each one)`);
    }
  }

  async status(o: ProviderCallOptions = {}): Promise<MachineState[]> {
    return Promise.all(
      this.machines.map(async (m) => {
        o.onProgress?.({ machine: m.name, step: `is sshd up on ${m.address}:${m.port}?` });
        return { name: m.name, role: m.role, state: (await answers(m.address, m.port)) ? 'running' : 'unreachable' };
      }),
    );
  }

  async sshTargets(names: readonly string[]): Promise<SshTarget[]> {
    return this.machines
      .filter((m) => names.includes(m.name))
      .map((m) => ({ name: m.name, host: m.address, port: m.port, user: m.user, privateKeyPath: m.keyFile }));
  }

  async destroy(): Promise<DestroyResult> {
    return { removed: { ...EMPTY }, kept: { networks: [] }, problems: [] };
  }

  async leftovers(): Promise<Leftovers> {
    return { ...EMPTY };
  }

  shell(node: string, command: readonly string[]): Promise<number> {
    const m = this.byName(node);
    if (!m) return Promise.reject(new Error(`no node ${node} in this lab (${this.machines.map((x) => x.name).join(', ')})`));
    const args = ['-i', m.keyFile, '-p', String(m.port), '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=accept-new', ...(command.length === 0 ? ['-t'] : []), `${m.user}@${m.address}`, ...command];
    return new Promise((resolve, reject) => {
      const child = spawn('ssh', args, { stdio: 'inherit' });
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  }

  private byName(name: string): MachineNode | undefined {
    return this.machines.find((m) => m.name === name);
  }
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(REACH_TIMEOUT_MS, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

// The provisioning phase's ordering, with fake SSH sessions (no VMs in this tier): the real rendered lab
// folder, the Vagrantfile's arguments, every node at once, workers join only once the API answers, and
// a control-plane failure stops the workers' wait.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { renderLab } from '../../src/render/index.js';
import { openLab } from '../../src/up/lab.js';
import { provisionPhase, REMOTE_DIR } from '../../src/up/provision.js';
import { PlainProgress } from '../../src/up/progress.js';
import type { UpContext } from '../../src/up/context.js';
import type { ExecOptions, NodeSession } from '../../src/up/remote.js';

interface Event {
  node: string;
  what: string;
  at: number;
}

class FakeSession implements NodeSession {
  constructor(
    readonly name: string,
    private readonly world: { events: Event[]; apiUp: boolean; failCp?: boolean },
  ) {}
  async exec(command: string, o: ExecOptions = {}) {
    const e = (what: string) => this.world.events.push({ node: this.name, what, at: Date.now() });
    await new Promise((r) => setTimeout(r, 5));
    if (command.includes('/readyz')) return { exitCode: this.world.apiUp ? 0 : 7, stdout: '', stderr: '' };
    if (command.startsWith('bash ')) {
      e(`${o.sudo ? 'sudo ' : ''}${command.replace(`${REMOTE_DIR}/`, '')}`);
      o.onLine?.('[k8slab] working', 'stdout');
      if (command.includes('master_node.sh')) {
        if (this.world.failCp) return { exitCode: 1, stdout: '', stderr: 'kubeadm init failed' };
        await new Promise((r) => setTimeout(r, 50));
        this.world.apiUp = true;
      }
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    return { exitCode: 0, stdout: '', stderr: '' };
  }
  async put(_c: string | Buffer, remotePath: string, mode: number) {
    this.world.events.push({ node: this.name, what: `put ${remotePath} ${mode.toString(8)}`, at: Date.now() });
  }
  async get(): Promise<Buffer> {
    return Buffer.from('');
  }
  async forward() {
    return { localPort: 0, close: async () => {} };
  }
  async close() {}
}

async function setup(failCp = false) {
  const dir = mkdtempSync(join(tmpdir(), 'k8slab-prov-'));
  const config = parseConfig('workers: {count: 2}\nkubernetes: {version: "1.37"}\n');
  const lab = await openLab({ configFile: join(dir, 'lab.yaml'), labDir: join(dir, 'lab') }, config);
  await renderLab(lab.plan, lab.state.secrets, lab.paths.labDir);
  const world = { events: [] as Event[], apiUp: false, failCp };
  const ctx: UpContext = {
    lab,
    signal: new AbortController().signal,
    progress: new PlainProgress(() => undefined),
    connect: () => Promise.reject(new Error('not used: sessions are given')),
    sessions: new Map(lab.plan.nodes.map((n) => [n.name, new FakeSession(n.name, world)])),
    skipDoctor: true,
    notes: [],
  };
  return { lab, ctx, world };
}

describe('provision phase', () => {
  it('runs the scripts with the Vagrantfile arguments, all nodes at once, joins after the API answers', async () => {
    const { lab, ctx, world } = await setup();
    await provisionPhase(lab).run(ctx);
    const of = (node: string) => world.events.filter((e) => e.node === node && e.what.startsWith('sudo ')).map((e) => e.what);
    expect(of('m-k8s')).toEqual(['sudo bash config.sh 2', 'sudo bash install_pkg.sh 1.37 Main', 'sudo bash master_node.sh']);
    expect(of('w1-k8s')).toEqual(['sudo bash config.sh 2', 'sudo bash install_pkg.sh 1.37', 'sudo bash work_nodes.sh']);
    expect(of('w2-k8s')).toEqual(of('w1-k8s'));
    // the CA goes to the control plane only, the key private
    const puts = world.events.filter((e) => e.what.startsWith('put /tmp/k8slab-pki/'));
    expect(puts.map((e) => [e.node, e.what])).toEqual([
      ['m-k8s', 'put /tmp/k8slab-pki/ca.crt 644'],
      ['m-k8s', 'put /tmp/k8slab-pki/ca.key 600'],
    ]);
    // concurrency: every node starts config.sh before the control plane finishes master_node.sh
    const at = (node: string, what: string) => world.events.find((e) => e.node === node && e.what.includes(what))!.at;
    expect(at('w1-k8s', 'config.sh')).toBeLessThan(at('m-k8s', 'master_node.sh'));
    // joins start only after master_node.sh made the API answer
    expect(at('w1-k8s', 'work_nodes.sh')).toBeGreaterThanOrEqual(at('m-k8s', 'master_node.sh'));
  });

  it('a failed control plane fails the phase and the workers stop waiting', async () => {
    const { lab, ctx, world } = await setup(true);
    const t0 = Date.now();
    await expect(provisionPhase(lab).run(ctx)).rejects.toThrow(/provisioning failed on 3 node\(s\):\nm-k8s: master_node.sh exited 1/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(world.events.some((e) => e.what === 'sudo bash work_nodes.sh')).toBe(false);
  });
});

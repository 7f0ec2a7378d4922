// The provisioning phase's ordering, with fake nodes and a fake provider (no VMs in this tier): the real
// rendered lab folder, the plan's provisioning steps, every node at once, workers join only once the API
// answers, and a control-plane failure stops the workers' wait.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { renderLab } from '../../src/render/index.js';
import { openLab } from '../../src/lab/lab.js';
import type { Node, RunOptions } from '../../src/nodes/node.js';
import type { Provider } from '../../src/provider/types.js';
import { commandLine } from '../../src/util/shell.js';
import { provisionPhase, REMOTE_DIR } from '../../src/up/provision.js';
import { PlainProgress } from '../../src/ui/progress.js';
import type { UpContext } from '../../src/up/context.js';

// Events carry their place in one sequence: the order they happened in, never a clock reading (two
// Date.now() stamps can tie or, across a clock step, run backwards).
interface Event {
  node: string;
  what: string;
  seq: number;
}

interface World {
  events: Event[];
  apiUp: boolean;
  failCp?: boolean;
}

function record(world: World, node: string, what: string): void {
  world.events.push({ node, what, seq: world.events.length });
}

class FakeNode implements Node {
  constructor(
    readonly name: string,
    private readonly world: World,
  ) {}
  async run(command: string, o: RunOptions = {}) {
    const e = (what: string) => record(this.world, this.name, what);
    await new Promise((r) => setTimeout(r, 5));
    if (command.includes('/readyz')) return { exitCode: this.world.apiUp ? 0 : 7, stdout: '', stderr: '' };
    if (command.startsWith('bash ')) {
      e(`${o.sudo ? 'sudo ' : ''}${command.replace(`${REMOTE_DIR}/`, '')}`);
      o.onLine?.('[k8slab] working', 'stdout');
      if (command.includes('master_node.sh')) {
        if (this.world.failCp) return { exitCode: 1, stdout: '', stderr: 'kubeadm init failed' };
        await new Promise((r) => setTimeout(r, 50));
        this.world.apiUp = true;
        e('api answers');
      }
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    return { exitCode: 0, stdout: '', stderr: '' };
  }
  async put(_c: string | Buffer, remotePath: string, mode: number) {
    record(this.world, this.name, `put ${remotePath} ${mode.toString(8)}`);
  }
  async close() {}
}

async function setup(failCp = false, serial = false) {
  const dir = mkdtempSync(join(tmpdir(), 'k8slab-prov-'));
  const config = parseConfig('workers: {count: 2}\nkubernetes: {version: "1.37"}\n');
  const world: World = { events: [], apiUp: false, failCp };
  // The provider lists a target per node; connecting to one gives that node's fake.
  const provider = {
    sshTargets: async (names: readonly string[]) => names.map((name) => ({ name, host: '192.0.2.1', port: 22, user: 'u', privateKeyPath: '/k' })),
  } as Partial<Provider> as Provider;
  const lab = await openLab({ configFile: join(dir, 'lab.yaml'), labDir: join(dir, 'lab') }, config, {
    provider: () => provider,
    connect: async (t) => new FakeNode(t.name, world),
  });
  await renderLab(lab.plan, lab.state.secrets, lab.paths.labDir);
  const ctx: UpContext = {
    lab,
    signal: new AbortController().signal,
    progress: new PlainProgress(() => undefined),
    skipDoctor: true,
    serial,
    notes: [],
  };
  return { lab, ctx, world };
}

describe('provision phase', () => {
  it('runs the scripts with the Vagrantfile arguments, all nodes at once, joins after the API answers', async () => {
    const { lab, ctx, world } = await setup();
    await provisionPhase(lab).run(ctx);
    await lab.close();
    const of = (node: string) => world.events.filter((e) => e.node === node && e.what.startsWith('sudo bash ')).map((e) => e.what);
    // What ran is the plan's sequence (the one the Vagrantfile renders), script by script.
    const planned = (steps: typeof lab.plan.provisioning.worker) =>
      steps.flatMap((st) => (st.kind === 'script' ? [`sudo ${commandLine(['bash', st.script, ...st.args])}`] : []));
    expect(of('m-k8s')).toEqual(planned(lab.plan.provisioning.controlPlane));
    expect(of('w1-k8s')).toEqual(planned(lab.plan.provisioning.worker));
    expect(of('w2-k8s')).toEqual(of('w1-k8s'));
    // and that sequence is the course's: config.sh N, install_pkg.sh VERSION [Main], then init or join
    expect(of('m-k8s')).toEqual(['sudo bash config.sh 2', 'sudo bash install_pkg.sh 1.37 Main', 'sudo bash master_node.sh']);
    expect(of('w1-k8s')).toEqual(['sudo bash config.sh 2', 'sudo bash install_pkg.sh 1.37', 'sudo bash work_nodes.sh']);
    // the CA goes to the control plane only, the key private
    const puts = world.events.filter((e) => e.what.startsWith('put /tmp/k8slab-pki/'));
    expect(puts.map((e) => [e.node, e.what])).toEqual([
      ['m-k8s', 'put /tmp/k8slab-pki/ca.crt 644'],
      ['m-k8s', 'put /tmp/k8slab-pki/ca.key 600'],
    ]);
    // Exact events, not substrings: "work_nodes.sh" also names the upload of that file, which happens at
    // the start (matching it made this test compare two uploads, a race it lost now and then).
    const seq = (node: string, what: string) => {
      const e = world.events.find((x) => x.node === node && x.what === what);
      if (!e) throw new Error(`no event "${what}" on ${node}`);
      return e.seq;
    };
    // concurrency: every worker starts config.sh before the control plane's kubeadm init made the API answer
    expect(seq('w1-k8s', 'sudo bash config.sh 2')).toBeLessThan(seq('m-k8s', 'api answers'));
    expect(seq('w2-k8s', 'sudo bash config.sh 2')).toBeLessThan(seq('m-k8s', 'api answers'));
    // joins start only after master_node.sh made the API answer
    expect(seq('w1-k8s', 'sudo bash work_nodes.sh')).toBeGreaterThan(seq('m-k8s', 'api answers'));
    expect(seq('w2-k8s', 'sudo bash work_nodes.sh')).toBeGreaterThan(seq('m-k8s', 'api answers'));
  });

  // Workers that kept waiting would hold the phase for their wait limit (minutes): this test's timeout.
  it('a failed control plane fails the phase and the workers stop waiting', async () => {
    const { lab, ctx, world } = await setup(true);
    await expect(provisionPhase(lab).run(ctx)).rejects.toThrow(/provisioning failed on 3 node\(s\):\nm-k8s: master_node.sh exited 1/);
    expect(world.events.some((e) => e.what === 'sudo bash work_nodes.sh')).toBe(false);
  }, 10_000);

  it('--serial: each node\'s whole sequence after the previous one\'s, control plane first (the book\'s order)', async () => {
    const { lab, ctx, world } = await setup(false, true);
    await provisionPhase(lab).run(ctx);
    await lab.close();
    const runs = world.events.filter((e) => e.what.startsWith('sudo bash ')).map((e) => `${e.node}: ${e.what}`);
    expect(runs).toEqual([
      'm-k8s: sudo bash config.sh 2', 'm-k8s: sudo bash install_pkg.sh 1.37 Main', 'm-k8s: sudo bash master_node.sh',
      'w1-k8s: sudo bash config.sh 2', 'w1-k8s: sudo bash install_pkg.sh 1.37', 'w1-k8s: sudo bash work_nodes.sh',
      'w2-k8s: sudo bash config.sh 2', 'w2-k8s: sudo bash install_pkg.sh 1.37', 'w2-k8s: sudo bash work_nodes.sh',
    ]);
  });

  it('--serial: a failed control plane stops the run before any worker starts', async () => {
    const { lab, ctx, world } = await setup(true, true);
    await expect(provisionPhase(lab).run(ctx)).rejects.toThrow(/provisioning failed on 1 node\(s\):\nm-k8s: master_node.sh exited 1/);
    expect(world.events.some((e) => e.node !== 'm-k8s' && e.what.startsWith('sudo bash '))).toBe(false);
  });
});

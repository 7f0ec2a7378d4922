// The end-to-end proof on this machine, with no internet: testbed -> bundle -> `k8slab up` (1 control plane +
// 2 workers on libvirt, source bundle, cni bridge) -> all nodes Ready -> `k8slab verify` -> snapshot save +
// reset -> `k8slab down` and nothing left -> the ratio benchmark against a plain serial `vagrant up`.
// Every phase is timed into test-results/e2e-summary.json; what cannot run is recorded as skipped with why.
// Run with `npm run test:e2e` (root, libvirt, vagrant; ~30-60 min under software emulation).
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE, ROOT, TESTBED, TESTBED_IMAGES_YAML } from '../testbed.js';
import { Recorder, type CheckRecord } from './summary.js';

const WORK = process.env.K8SLAB_E2E_DIR ?? '/var/tmp/k8slab-e2e';
const LOCK = '/var/lock/k8slab-libvirt.lock';
const NAME = 'k8slab-e2e';
const BUNDLE = join(WORK, 'bundle');
const CONFIG = join(WORK, 'lab.yaml');
/** the lab folder's name is vagrant-libvirt's domain prefix: unique, so no other lab's VMs are touched */
const LAB_DIR = join(WORK, `${NAME}-lab`);
const BENCH_DIR = join(WORK, `${NAME}-plain`);
const CLI = join(ROOT, 'bin/k8slab.js');
const LOGS = join(WORK, 'logs');
const SUMMARY = join(ROOT, 'test-results/e2e-summary.json');
const BENCH = process.env.K8SLAB_E2E_BENCH !== '0';

const LAB_YAML = `# written by test/e2e/offline-lab.test.ts
name: ${NAME}
provider: libvirt
box: { libvirt: k8slab/debian12 }
controlPlane: { cpus: 2, memory: 2560, sshPort: 60030 }
workers: { count: 2, cpus: 1, memory: 1536, sshPortBase: 60130 }
network: { controlPlaneIp: 192.168.56.30, firstWorkerIp: 192.168.56.31 }
kubernetes: { version: "1.20.2", source: bundle, bundle: ${BUNDLE}, cni: bridge }
addons: { metallb: { enabled: false }, storage: { provider: none }, ingress: { enabled: false } } # the testbed bundle carries neither manifest
libvirt: { driver: qemu, cpuMode: maximum }
${TESTBED_IMAGES_YAML}`;

/** judged before the testbed step runs: a cold cache builds Kubernetes first (11-36 min) */
const CACHE_STATE = existsSync(join(CACHE, 'k8s/v1.20.2/bin/kubeadm')) ? 'warm' : 'cold';
const driver = existsSync(join(CACHE, 'libvirt/driver')) ? readFileSync(join(CACHE, 'libvirt/driver'), 'utf8').trim() : 'unknown';
const rec = new Recorder(SUMMARY, {
  host: { cores: cpus().length, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100), libvirtDriver: driver },
  lab: { name: NAME, nodes: '1 control plane (2 vCPU, 2560 MiB) + 2 workers (1 vCPU, 1536 MiB)', kubernetes: '1.20.2', source: 'bundle', cni: 'bridge', labDir: LAB_DIR },
});

/** seconds spent waiting for the libvirt lock since the counter was last reset */
const lockWait = { seconds: 0 };

/** Runs a command with its output in logs/NAME.log; a failure carries the log's tail. */
async function sh(log: string, file: string, args: string[], opts: { cwd?: string; lock?: boolean; timeoutMin?: number; okCodes?: number[] } = {}) {
  mkdirSync(LOGS, { recursive: true });
  const logFile = join(LOGS, `${log}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  out.write(`\n$ ${file} ${args.join(' ')}\n`);
  // under the host-wide lock, the time spent waiting for it (other labs' work) is measured apart
  const mark = join(LOGS, `${log}.lock-acquired`);
  const [cmd, argv] = opts.lock
    ? ['flock', [LOCK, 'sh', '-c', 'date +%s%3N >"$0"; exec "$@"', mark, file, ...args]]
    : [file, args];
  const asked = Date.now();
  const p = execa(cmd, argv, { cwd: opts.cwd ?? ROOT, all: true, reject: false, timeout: (opts.timeoutMin ?? 60) * 60_000, env: { NO_COLOR: '1' } });
  p.all?.on('data', (d: Buffer) => out.write(d.toString().replace(/\r/g, '\n')));
  const r = await p;
  await new Promise((ok) => out.end(ok));
  if (opts.lock && existsSync(mark)) {
    lockWait.seconds += Math.max(0, Number(readFileSync(mark, 'utf8').trim()) - asked) / 1000;
  }
  if (!(opts.okCodes ?? [0]).includes(r.exitCode ?? -1)) {
    const tail = (r.all ?? '').replace(/\r/g, '\n').split('\n').filter((l) => !l.includes('Progress:')).slice(-25).join('\n');
    throw new Error(`${file} ${args.join(' ')} exited ${r.exitCode ?? r.signal} (log ${logFile}):\n${tail}`);
  }
  return r.stdout ?? '';
}
const k8slab = (log: string, args: string[], lock = false, timeoutMin = 60) =>
  sh(log, 'node', [CLI, ...args, '-c', CONFIG, '-l', LAB_DIR], { lock, timeoutMin });

interface NodeStatus { name: string; ready: boolean }
async function nodesReady(): Promise<NodeStatus[]> {
  const out = await k8slab('status', ['status', '--json'], true, 5);
  const s = JSON.parse(out) as { kubernetes: { nodes: { name: string; ready: boolean }[] } | null };
  return (s.kubernetes?.nodes ?? []).map((n) => ({ name: n.name, ready: n.ready }));
}

const round1 = (x: number) => Math.round(x * 10) / 10;

const precondition = (() => {
  if (process.getuid?.() !== 0) return 'needs root (libvirt, the testbed scripts)';
  for (const tool of ['vagrant', 'virsh', 'flock']) {
    try {
      execaSyncWhich(tool);
    } catch {
      return `${tool} is not installed`;
    }
  }
  if (!existsSync(TESTBED)) return `no testbed at ${TESTBED}`;
  return undefined;
})();

function execaSyncWhich(tool: string): void {
  const paths = (process.env.PATH ?? '').split(':');
  if (!paths.some((p) => existsSync(join(p, tool)))) throw new Error(tool);
}

let upAttempted = false;

describe('offline lab end to end (libvirt, bundle, bridge)', () => {
  beforeAll(() => {
    mkdirSync(WORK, { recursive: true });
    rec.write();
  });

  afterAll(async () => {
    // Whatever failed, leave no VM behind: `down` after any partial failure (recorded as its own phase).
    if (upAttempted && !rec.phaseRecord('down')) {
      await rec.phase('cleanup-down', async () => ({ output: await k8slab('down', ['down'], true, 15) }), { always: true }).catch(() => undefined);
    }
    const t = rec.judgeTargets(CACHE_STATE);
    process.stderr.write(`[e2e] ${t.cache} cache: ${t.endToEndMinutes} min end to end (target ${t.limitMinutes}); down ${t.downSeconds ?? '-'} s (target ${rec.summary.targets.downSeconds})\n`);
    rec.write();
    process.stderr.write(`[e2e] summary: ${SUMMARY}\n`);
  });

  it('1. prepares the testbed and turns it into a bundle', async () => {
    if (precondition) {
      await rec.phase('testbed', async (skip) => skip(precondition));
      return;
    }
    for (const [name, script, args] of [
      ['testbed-libvirt', 'libvirt.sh', ['up']],
      ['testbed-box', 'box.sh', []],
      ['testbed-k8s-binaries', 'k8s-binaries.sh', []],
      ['testbed-images', 'images.sh', []],
    ] as const) {
      await rec.phase(name, async () => {
        await sh(name, join(TESTBED, script), [...args], { timeoutMin: 90 });
      });
    }
    await rec.phase('build', async () => {
      // tsc emits even with type errors (others' work in progress): record them; the CLI runs below decide
      const out = await sh('build', 'npx', ['tsc', '-p', 'tsconfig.build.json', '--pretty', 'false'], { okCodes: [0, 1, 2] });
      const errors = out.split('\n').filter((l) => /error TS\d+/.test(l));
      expect(existsSync(join(ROOT, 'dist/cli/main.js'))).toBe(true);
      return { typeErrors: errors.length, firstErrors: errors.slice(0, 5) };
    });
    await rec.phase('bundle', async () => {
      await sh('bundle', join(ROOT, 'scripts/bundle-from-testbed.sh'), [BUNDLE]);
      writeFileSync(CONFIG, LAB_YAML);
      const report = JSON.parse(await sh('bundle-check', 'node', [CLI, 'bundle', 'check', '-c', CONFIG, '--json'])) as {
        usable: boolean; skippedPhases: string[]; findings: { level: string; code: string }[];
      };
      expect(report.usable).toBe(true);
      return { usable: report.usable, skippedPhases: report.skippedPhases, warnings: report.findings.filter((f) => f.level === 'warning').map((f) => f.code) };
    });
    expect(rec.blocked).toBeUndefined();
  });

  it('2-3. k8slab up: 1 control plane + 2 workers, all nodes Ready', async () => {
    await rec.phase('up', async (skip) => {
      if (precondition) skip(precondition);
      upAttempted = true;
      lockWait.seconds = 0;
      const t0 = performance.now();
      await k8slab('up', ['up', '--skip-doctor'], true, 120);
      const wall = (performance.now() - t0) / 1000;
      return { lockWaitSeconds: round1(lockWait.seconds), workSeconds: round1(wall - lockWait.seconds) };
    });
    const nodes = await rec.phase('nodes-ready', async () => {
      const nodes = await nodesReady();
      expect(nodes.map((n) => n.name).sort()).toEqual(['m-k8s', 'w1-k8s', 'w2-k8s']);
      expect(nodes.every((n) => n.ready)).toBe(true);
      return { nodes };
    });
    expect(nodes).toBeDefined();
    await rec.phase('worker-bundle-trimmed', async () => {
      // the Vagrantfile's rsync leaves the control-plane-only tarballs off the workers; the control plane has them
      const ls = async (node: string) => (await sh('ssh', 'node', [CLI, 'ssh', node, '-c', CONFIG, '-l', LAB_DIR, '--', 'ls', '/k8slab-bundle/images'])).split('\n');
      const [cp, worker] = [await ls('m-k8s'), await ls('w1-k8s')];
      expect(cp).toContain('etcd.tar');
      expect(worker).not.toContain('etcd.tar');
      expect(worker).toContain('kube-proxy.tar');
      return { controlPlane: cp.length, worker: worker.length };
    });
  });

  it('4. k8slab verify: the lessons that need no internet pass; the rest are skipped with the reason', async () => {
    const report = await rec.phase('verify', async () => {
      // exit 1 means a check failed: the JSON on stdout is still the whole report, judged below
      // under software emulation verify scales its limits by 3 and takes over an hour on 2 host cores
      const out = await sh('verify', 'node', [CLI, 'verify', '--json', '-c', CONFIG, '-l', LAB_DIR], { timeoutMin: 180, okCodes: [0, 1] });
      const r = JSON.parse(out) as { summary: Record<string, number>; results: { lesson: string; check: string; status: CheckRecord['status']; reason?: string }[] };
      rec.summary.checks = r.results.map((c) => ({ lesson: c.lesson, check: c.check, status: c.status, ...(c.reason ? { reason: c.reason } : {}) }));
      return { summary: r.summary };
    });
    const checks = rec.summary.checks;
    expect(report).toBeDefined();
    expect(checks.length).toBeGreaterThan(0);
    const failed = checks.filter((c) => c.status === 'failed');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    // what needs the internet or CoreDNS is skipped, with a reason, never passed
    for (const c of checks.filter((x) => /dns|calico|mysql/i.test(`${x.lesson} ${x.check}`))) {
      expect(c.status, `${c.lesson}/${c.check}`).toBe('skipped');
      expect(c.reason).toBeTruthy();
    }
  });

  it('5. snapshot save + reset: the nodes are Ready again', async () => {
    // a lab that came up is worth snapshotting whatever verify said of it
    const always = rec.phaseRecord('up')?.status === 'passed';
    await rec.phase('snapshot-save', async () => {
      await k8slab('snapshot', ['snapshot', 'save', 'e2e'], true, 20);
    }, { always });
    await rec.phase('snapshot-reset', async () => {
      await k8slab('snapshot', ['reset', 'e2e'], true, 30);
      const nodes = await nodesReady();
      expect(nodes.filter((n) => n.ready).map((n) => n.name).sort()).toEqual(['m-k8s', 'w1-k8s', 'w2-k8s']);
      return { nodes };
    }, { always: always && rec.phaseRecord('snapshot-save')?.status === 'passed' });
    expect(rec.phaseRecord('snapshot-reset')?.status).toBe('passed');
  });

  it('6. k8slab down: no VM, no libvirt network, no lab state left', async () => {
    await rec.phase('down', async (skip) => {
      if (!upAttempted) skip(rec.blocked ?? 'up was not attempted');
      await k8slab('down', ['down'], true, 15);
    }, { always: true });
    await rec.phase('nothing-left', async (skip) => {
      if (!upAttempted) skip('up was not attempted');
      const domains = (await sh('leftovers', 'virsh', ['list', '--all', '--name'])).split('\n').filter((d) => d.startsWith(`${NAME}-`));
      const nets = (await sh('leftovers', 'virsh', ['net-list', '--all', '--name'])).split('\n').filter((n) => n.includes(NAME));
      const state = existsSync(join(LAB_DIR, '.k8slab')) || existsSync(join(LAB_DIR, '.vagrant'));
      expect({ domains, nets, state }).toEqual({ domains: [], nets: [], state: false });
      return { domains, nets, state };
    }, { always: true });
    const down = rec.phaseRecord('down');
    expect(down?.status).toBe('passed');
  });

  it('7. ratio benchmark: k8slab up vs a plain serial `vagrant up` of the same lab (target <= 0.5, recorded)', async () => {
    const upRecord = rec.phaseRecord('up');
    const skipWhy = !BENCH ? 'K8SLAB_E2E_BENCH=0' : upRecord?.status !== 'passed' ? 'k8slab up did not pass, so there is nothing to compare' : undefined;
    await rec.phase('benchmark-plain-vagrant-up', async (skip) => {
      if (skipWhy) skip(skipWhy);
      await sh('bench', 'node', [CLI, 'render', '-c', CONFIG, '-o', BENCH_DIR, '--force']);
      lockWait.seconds = 0;
      const t0 = performance.now();
      try {
        await sh('bench', 'vagrant', ['up', '--no-parallel', '--provider=libvirt'], { cwd: BENCH_DIR, lock: true, timeoutMin: 120 });
        // the course's way ends when the provisioners return; count until the nodes are Ready too, as `up` does
        await sh('bench', 'vagrant', ['ssh', 'm-k8s', '-c',
          "sudo sh -c 'for i in $(seq 120); do n=$(kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes --no-headers 2>/dev/null | grep -c \" Ready \"); [ \"$n\" = 3 ] && exit 0; sleep 5; done; exit 1'"],
          { cwd: BENCH_DIR, timeoutMin: 15 });
        const plain = round1((performance.now() - t0) / 1000 - lockWait.seconds);
        // `up` without the time it waited for other labs to release libvirt
        const mine = Number(upRecord!.detail?.workSeconds ?? upRecord!.seconds);
        rec.summary.benchmark = { status: mine / plain <= 0.5 ? 'passed' : 'failed', k8slabUpSeconds: mine, plainVagrantUpSeconds: plain, ratio: Math.round((mine / plain) * 100) / 100, target: 0.5 };
        process.stderr.write(`[e2e] benchmark: k8slab up ${mine}s vs plain serial vagrant up ${plain}s: ratio ${rec.summary.benchmark.ratio} (target <= 0.5)\n`);
        return rec.summary.benchmark;
      } finally {
        await sh('bench', 'vagrant', ['destroy', '-f'], { cwd: BENCH_DIR, lock: true, timeoutMin: 15 }).catch(() => undefined);
      }
    }, { always: true }).catch(() => undefined);
    if (skipWhy) rec.summary.benchmark = { status: 'skipped', target: 0.5, reason: skipWhy };
    rec.write();
    // the ratio is recorded against its target, not asserted (issue 14: under software emulation the
    // VMs' boot dominates both sides); what is asserted is that the benchmark measured both sides
    if (!skipWhy) expect(rec.summary.benchmark.ratio).toBeGreaterThan(0);
  });
});


// The VM tier (`npm run test:vm`): the lifecycle commands on real VMs through vagrant-libvirt, with the
// testbed's offline box. Two small VMs (TCG boots take minutes each). Kubernetes is not installed here
// (no internet for pkgs.k8s.io): `up --until vms` stops once the VMs are up and reachable over SSH.
// The tier holds the host-wide lock /var/lock/k8slab-libvirt.lock from start to end (libvirt is shared by
// everything on the host; holding it once avoids another job's long run landing between two steps).
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TESTBED } from '../testbed.js';

const LOCK = '/var/lock/k8slab-libvirt.lock';
const CLI = join(ROOT, 'bin/k8slab.js');
const BOX = 'k8slab/debian12';

const work = mkdtempSync(join(tmpdir(), 'k8slab-vm-'));
const id = work.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x');
/**
 * Unique lab names: the Vagrantfile names the domains "<lab>-<node>" and the private network "<lab>".
 * The subnet is one no other lab here uses: libvirt cannot hold two networks on one subnet.
 */
const labA = { dir: join(work, 'a'), labDir: join(work, 'a', `vmt${id}a`), cp: `vmt${id}-m` };
const labB = { dir: join(work, 'b'), labDir: join(work, 'b', `vmt${id}b`), cp: `vmt${id}-b` };
const timings: Record<string, number> = {};

function labYaml(name: string, cp: string, box: string): string {
  return `name: ${name}
provider: libvirt
box:
  libvirt: ${box}
libvirt:
  driver: qemu
  cpuMode: maximum
controlPlane:
  name: ${cp}
  cpus: 2
  memory: 2048
  sshPort: 60060
workers:
  count: 1
  cpus: 1
  memory: 1024
  sshPortBase: 60160
network:
  private: 192.168.63.0/24
  controlPlaneIp: 192.168.63.60
  firstWorkerIp: 192.168.63.61
`;
}

let lockHolder: ResultPromise | undefined;

/**
 * Takes the libvirt lock with a child `flock` that holds it until its stdin closes: afterAll closes it,
 * and so does the end of this process, however it ends.
 */
async function takeLock(): Promise<void> {
  lockHolder = execa('flock', [LOCK, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { reject: false });
  await new Promise<void>((resolve, reject) => {
    lockHolder!.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    void lockHolder!.then(() => reject(new Error('flock ended before taking the lock')));
  });
}

/** The CLI as users run it (bin/k8slab.js), in the lab's folder. */
function k8slab(lab: { dir: string; labDir: string }, args: string[]): ResultPromise<{ reject: false }> {
  // --lab-dir goes before "--": what follows it is the remote command of `ssh`.
  const dash = args.indexOf('--');
  const at = dash < 0 ? args.length : dash;
  return execa(process.execPath, [CLI, ...args.slice(0, at), '--lab-dir', lab.labDir, ...args.slice(at)], {
    cwd: lab.dir,
    reject: false,
    env: { K8SLAB_PLAIN: '1' },
  }) as never;
}

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = (Date.now() - t0) / 1000;
  }
}

async function virsh(...args: string[]): Promise<string> {
  return (await execa('virsh', ['-c', 'qemu:///system', ...args])).stdout;
}

/** Keeps a lab's logs (down deletes them) beside the test's work folder, for the report. */
async function saveLogs(lab: { labDir: string }, tag: string): Promise<void> {
  await execa('cp', ['-r', join(lab.labDir, 'logs'), join(work, `logs-${tag}`)], { reject: false });
}

function state(lab: { labDir: string }): { phases: Record<string, { status: string }>; facts: { libvirt?: { networksCreated: string[]; domains: string[] } } } {
  return JSON.parse(readFileSync(join(lab.labDir, '.k8slab', 'state.json'), 'utf8'));
}

beforeAll(async () => {
  // The CLI under test is the compiled one (the same thing users run). tsc still emits when a file
  // elsewhere has a type error; what matters here is dist/.
  await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, reject: false });
  expect(existsSync(join(ROOT, 'dist/cli/main.js'))).toBe(true);
  await execa(join(TESTBED, 'libvirt.sh'), ['up'], { stdio: 'inherit' });
  await timed('wait-for-libvirt-lock', takeLock);
  const box = await execa(join(TESTBED, 'box.sh'), ['--name', BOX]); // waits for the box lock
  expect(box.stdout.trim().split('\n').pop()).toBe(BOX);
  for (const [lab, name, box] of [
    [labA, `vmt${id}a`, BOX],
    [labB, `vmt${id}b`, 'k8slab/no-such-box'],
  ] as const) {
    await execa('mkdir', ['-p', lab.dir]);
    writeFileSync(join(lab.dir, 'lab.yaml'), labYaml(name, lab.cp, box));
  }
});

afterAll(async () => {
  // Whatever happened, leave nothing behind.
  await saveLogs(labA, 'a-end');
  for (const lab of [labA, labB]) await k8slab(lab, ['down']);
  lockHolder?.stdin?.end();
  await lockHolder;
  process.stdout.write(`VM tier timings (s): ${JSON.stringify(timings)}; logs kept in ${work}\n`);
});

describe('lifecycle on real VMs (libvirt, TCG)', () => {
  it('down after a failed up (box that does not exist) removes everything and says so', async () => {
    const up = await timed('up-bad-box', () => k8slab(labB, ['up', '--until', 'vms', '--skip-doctor']));
    expect(up.exitCode).toBe(3);
    expect(up.stderr).toContain("box 'k8slab/no-such-box'");
    expect(up.stderr).toContain('vagrant box add');
    expect(state(labB).phases.vms?.status).toBe('failed');

    await saveLogs(labB, 'b');
    const down = await timed('down-after-failed-up', () => k8slab(labB, ['down', '--json']));
    expect(down.exitCode).toBe(0);
    const report = JSON.parse(down.stdout);
    expect(report.left).toEqual({ vms: [], networks: [], volumes: [] });
    expect(report.removed.files).toContain('.k8slab');
    expect(existsSync(join(labB.dir, 'lab.yaml'))).toBe(true);
    expect(await virsh('list', '--all', '--name')).not.toContain(`vmt${id}b-`);
  });

  it('an up interrupted during VM creation exits 130, records it, and the next up resumes', async () => {
    const child = k8slab(labA, ['up', '--until', 'vms', '--skip-doctor']);
    // Ctrl-C once a domain of the lab is being created (its log says so).
    const log = join(labA.labDir, 'logs', `${labA.cp}.log`);
    const t0 = Date.now();
    while (!(existsSync(log) && /Starting domain|Waiting for domain/.test(readFileSync(log, 'utf8')))) {
      if (Date.now() - t0 > 30 * 60_000) throw new Error('VM creation never started');
      await new Promise((r) => setTimeout(r, 1000));
    }
    const tSig = Date.now();
    child.kill('SIGINT'); // as a terminal's Ctrl-C would
    const r = await child;
    timings['interrupt-to-exit'] = (Date.now() - tSig) / 1000;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(state(labA).phases.vms?.status).toBe('interrupted');
    expect(state(labA).phases.render?.status).toBe('done');

    const resumed = await timed('up-resume-until-vms', () => k8slab(labA, ['up', '--until', 'vms', '--skip-doctor']));
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/render: already done/);
    expect(resumed.stdout).toMatch(/reachable over SSH/);
    expect(state(labA).phases.vms?.status).toBe('done');
  });

  it('a second up on a healthy lab changes nothing and says so', async () => {
    const again = await timed('up-again', () => k8slab(labA, ['up', '--until', 'vms', '--skip-doctor']));
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to do');
  });

  it('status --json shows both VMs running', async () => {
    const r = await timed('status', () => k8slab(labA, ['status', '--json']));
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.vms.map((v: { name: string; state: string }) => [v.name, v.state])).toEqual([
      [labA.cp, 'running'],
      ['w1-k8s', 'running'],
    ]);
    expect(s.kubernetes).toBeNull(); // not provisioned (--until vms)
  });

  it('ssh runs a command and returns its exit code', async () => {
    const r = await timed('ssh', () => k8slab(labA, ['ssh', labA.cp, '--', 'cat', '/etc/hostname']));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(labA.cp);
    const ip = await k8slab(labA, ['ssh', 'w1-k8s', '--', 'ip', '-4', '-o', 'addr', 'show', 'eth1']);
    expect(ip.stdout).toContain('192.168.63.61/24');
    const seven = await k8slab(labA, ['ssh', labA.cp, '--', 'sh', '-c', 'exit 7']);
    expect(seven.exitCode).toBe(7);
    const bad = await k8slab(labA, ['ssh', 'nope']);
    expect(bad.exitCode).toBe(2);
  });

  it('snapshot save, then reset brings back the saved disks', async () => {
    const save = await timed('snapshot-save', () => k8slab(labA, ['snapshot', 'save', 'base']));
    expect(save.exitCode, save.stderr).toBe(0);
    const list = JSON.parse((await k8slab(labA, ['snapshot', 'list', '--json'])).stdout);
    expect(list[labA.cp]).toContain('base');
    expect(list['w1-k8s']).toContain('base');

    expect((await k8slab(labA, ['ssh', labA.cp, '--', 'sudo', 'touch', '/root/after-snapshot'])).exitCode).toBe(0);
    const reset = await timed('reset', () => k8slab(labA, ['reset', 'base']));
    expect(reset.exitCode, reset.stderr).toBe(0);
    const gone = await k8slab(labA, ['ssh', labA.cp, '--', 'sudo', 'test', '-e', '/root/after-snapshot']);
    expect(gone.exitCode).toBe(1);
    const missing = await k8slab(labA, ['reset', 'nosuch']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('snapshots: base');
  });

  it('down removes the VMs, the networks the lab created and its disks, and nothing is left', async () => {
    const recorded = state(labA).facts.libvirt!;
    await saveLogs(labA, 'a');
    const r = await timed('down', () => k8slab(labA, ['down', '--json']));
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.removed.vms.sort()).toEqual([`vmt${id}a-${labA.cp}`, `vmt${id}a-w1-k8s`].sort());
    expect(report.removed.networks).toContain(`vmt${id}a`);
    expect(report.left).toEqual({ vms: [], networks: [], volumes: [] });
    expect(existsSync(join(labA.dir, 'lab.yaml'))).toBe(true);
    expect(existsSync(join(labA.labDir, '.k8slab'))).toBe(false);

    const domains = await virsh('list', '--all', '--name');
    expect(domains).not.toContain(`vmt${id}a-`);
    const nets = (await virsh('net-list', '--all', '--name')).split('\n').map((s) => s.trim());
    for (const n of recorded.networksCreated) {
      if (!report.kept.networks.includes(n)) expect(nets).not.toContain(n);
    }
    expect(await virsh('vol-list', 'default')).not.toContain(`vmt${id}a-`);

    const again = await k8slab(labA, ['down']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('nothing to remove');
  });
});

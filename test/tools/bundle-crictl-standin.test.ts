// The crictl stand-in that install-bundle writes when a bundle has no crictl (kubeadm < 1.26 shells out to
// crictl for every runtime call), run against a real containerd 1.6 (the testbed's private one, in its own
// mount namespace) holding a real image from the testbed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderFiles } from '../../src/render/files.js';
import { FIXTURE_SECRETS, planFor } from '../fixtures/render/variants.js';
import { CACHE, TESTBED } from '../testbed.js';

const NAME = `bsc-${process.pid}`;
const SOCK = join(CACHE, `run/containerd-${NAME}/containerd.sock`);
const PAUSE = join(CACHE, 'images/pause.tar');
const usable = process.getuid?.() === 0 && existsSync(join(TESTBED, 'containerd.sh')) && existsSync(PAUSE);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { code: number; out: string; err: string } {
  try {
    return { code: 0, out: execFileSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }), err: '' };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, out: x.stdout, err: x.stderr };
  }
}

describe.skipIf(!usable)('crictl stand-in over ctr, against a real containerd', () => {
  let dir: string;
  let crictl: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-crictl-'));
    const plan = planFor({ kubernetes: { version: '1.20.2', source: 'bundle', bundle: 'b', cni: 'bridge' }, addons: { ingress: { enabled: false } } });
    const install = renderFiles(plan, FIXTURE_SECRETS).get('install_pkg.sh')!.content;
    const body = /<<'CRICTL' \|\| true\n([\s\S]*?)\nCRICTL\n/.exec(install)?.[1];
    expect(body).toBeDefined();
    crictl = join(dir, 'crictl');
    await writeFile(crictl, `${body!}\n`, { mode: 0o755 });
    env = { ...process.env, PATH: `${join(CACHE, 'tools/containerd/usr/bin')}:${process.env.PATH ?? ''}` };
    expect(run(join(TESTBED, 'containerd.sh'), ['up', '--name', NAME]).code).toBe(0);
    expect(run(join(TESTBED, 'containerd.sh'), ['ctr', '--name', NAME, 'images', 'import', PAUSE]).code).toBe(0);
  }, 300_000);

  afterAll(async () => {
    run(join(TESTBED, 'containerd.sh'), ['down', '--name', NAME]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const crictlRun = (...args: string[]) => run(crictl, ['-r', `unix://${SOCK}`, ...args], env);

  it('info: succeeds when containerd answers (kubeadm\'s IsRunning), fails when it does not', () => {
    expect(crictlRun('info').code).toBe(0);
    expect(run(crictl, ['-r', `unix://${join(dir, 'nothing.sock')}`, 'info'], env).code).not.toBe(0);
  });

  it('inspecti: present and absent images (kubeadm\'s ImageExists)', () => {
    expect(crictlRun('inspecti', 'k8s.gcr.io/pause:3.2').code).toBe(0);
    expect(crictlRun('inspecti', 'k8s.gcr.io/coredns:1.7.0').code).toBe(1);
  });

  it('pods -q: no sandboxes, empty output (kubeadm reset)', () => {
    expect(crictlRun('pods', '-q')).toEqual({ code: 0, out: '', err: '' });
  });

  // kubeadm reset: `crictl pods -q`, then stopp and rmp per sandbox. The pod's other containers carry the
  // same io.kubernetes.pod.uid label (kubelet sets it on both); they must stop and go too, or the control
  // plane keeps its ports and the next kubeadm init fails preflight.
  it('stopp and rmp act on every container of the pod, and on no other pod', () => {
    const ctr = (...args: string[]) => run(join(TESTBED, 'containerd.sh'), ['ctr', '--name', NAME, ...args]);
    const start = (id: string, uid: string, kind: string) =>
      expect(ctr('run', '-d', '--label', `io.kubernetes.pod.uid=${uid}`, '--label', `io.cri-containerd.kind=${kind}`, 'k8s.gcr.io/pause:3.2', id).code).toBe(0);
    start('sb-a', 'uid-a', 'sandbox');
    start('c-a', 'uid-a', 'container');
    start('sb-b', 'uid-b', 'sandbox');
    start('c-b', 'uid-b', 'container');
    const tasks = () =>
      Object.fromEntries(
        ctr('tasks', 'ls').out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)).map((f) => [f[0], f[2]]),
      );
    expect(crictlRun('pods').out.trim().split('\n').sort()).toEqual(['sb-a', 'sb-b']);
    expect(tasks()).toEqual({ 'sb-a': 'RUNNING', 'c-a': 'RUNNING', 'sb-b': 'RUNNING', 'c-b': 'RUNNING' });

    expect(crictlRun('stopp', 'sb-a').code).toBe(0);
    expect(tasks()).toEqual({ 'sb-a': 'STOPPED', 'c-a': 'STOPPED', 'sb-b': 'RUNNING', 'c-b': 'RUNNING' });
    expect(crictlRun('rmp', 'sb-a').code).toBe(0);
    expect(ctr('containers', 'ls', '-q').out.trim().split('\n').sort()).toEqual(['c-b', 'sb-b']);

    for (const id of ['sb-b']) {
      expect(crictlRun('stopp', id).code).toBe(0);
      expect(crictlRun('rmp', id).code).toBe(0);
    }
    expect(ctr('containers', 'ls', '-q').out.trim()).toBe('');
  });

  it('anything else is refused with a clear message', () => {
    const r = crictlRun('logs', 'abc');
    expect(r.code).toBe(1);
    expect(r.err).toContain("'logs' is not available; put the real crictl in the bundle's bin/");
  });
});

// down on machines: teardown.sh through stdin on every machine as root,
// leftovers parsed per machine, one machine's failure reported without stopping the others.
import { describe, expect, it } from 'vitest';
import { describeTeardown, parseLeftovers, teardownMachines } from '../../src/down/teardown.js';
import type { MachineNode } from '../../src/plan/plan.js';
import type { Runner } from '../../src/nodes/node.js';

const node = (name: string, user: string): MachineNode => ({ name, role: 'worker', privateIp: '10.0.0.5', address: '203.0.113.5', port: 22, user, keyFile: '/k' });

describe('machines provider: down', () => {
  it('parses the leftover lines and nothing else', () => {
    expect(parseLeftovers('[k8slab teardown.sh 10:00:00] removed /etc/kubernetes\nleftover: interface cni0\nleftover: 3 iptables chains of the lab\n')).toEqual([
      'interface cni0',
      '3 iptables chains of the lab',
    ]);
    expect(parseLeftovers('[k8slab teardown.sh 10:00:00] left of the lab on n1: nothing\n')).toEqual([]);
  });

  it('runs the script through stdin on every machine, as root', async () => {
    const calls: string[] = [];
    const shell = (name: string, result: { exitCode: number; stdout: string; stderr: string } | Error): Runner => ({
      name,
      run: async (command, opts = {}) => {
        calls.push(`${name}: ${command} sudo=${String(opts.sudo)} input=${opts.input === 'SCRIPT'}`);
        if (result instanceof Error) throw result;
        return result;
      },
    });
    const results = await teardownMachines(
      [
        { node: node('m-k8s', 'root'), shell: shell('m-k8s', { exitCode: 0, stdout: 'left of the lab on m: nothing\n', stderr: '' }) },
        { node: node('w1-k8s', 'ubuntu'), shell: shell('w1-k8s', { exitCode: 1, stdout: 'leftover: interface cni0\n', stderr: '' }) },
        { node: node('w2-k8s', 'ubuntu'), shell: shell('w2-k8s', { exitCode: 1, stdout: '', stderr: 'sudo: a password is required\n' }) },
        { node: node('w3-k8s', 'ubuntu'), shell: shell('w3-k8s', new Error('connect ETIMEDOUT')) },
      ],
      'SCRIPT',
      { purge: true },
    );
    expect(calls.sort()).toEqual([
      'm-k8s: bash -s -- --purge sudo=true input=true',
      'w1-k8s: bash -s -- --purge sudo=true input=true',
      'w2-k8s: bash -s -- --purge sudo=true input=true',
      'w3-k8s: bash -s -- --purge sudo=true input=true',
    ]);
    expect(results.map(describeTeardown)).toEqual([
      'm-k8s: nothing of the lab is left',
      'w1-k8s: left of the lab: interface cni0',
      'w2-k8s: not cleaned: teardown.sh exited 1: sudo: a password is required',
      'w3-k8s: not cleaned: connect ETIMEDOUT',
    ]);
  });
});

describe('bundle copy to machines: what a worker leaves out', () => {
  it('only tarballs whose every image is the control plane\'s own', async () => {
    const { controlPlaneOnlyFiles } = await import('../../src/bundle/roles.js');
    const index = JSON.stringify({
      format: 'docker-archive',
      images: [
        { file: 'kube-apiserver.tar', images: ['registry.k8s.io/kube-apiserver:v1.20.2'] },
        { file: 'cp.tar', images: ['registry.k8s.io/etcd:3.4.13-0', 'registry.k8s.io/kube-scheduler:v1.20.2'] },
        { file: 'mixed.tar', images: ['registry.k8s.io/etcd:3.4.13-0', 'registry.k8s.io/pause:3.2'] },
        { file: 'kube-proxy.tar', images: ['registry.k8s.io/kube-proxy:v1.20.2'] },
      ],
    });
    expect(controlPlaneOnlyFiles(index)).toEqual(['images/kube-apiserver.tar', 'images/cp.tar']);
    expect(controlPlaneOnlyFiles('not json')).toEqual([]);
    expect(controlPlaneOnlyFiles('{"images": [{"file": "../x"}]}')).toEqual([]);
  });
});

describe('a node logged in as root', () => {
  it('runs "sudo" commands without sudo (a minimal machine has none); another user goes through sudo -n', async () => {
    const { sshNode } = await import('../../src/nodes/ssh-node.js');
    const seen: { user: string; sudo: boolean }[] = [];
    const session = (user: string) =>
      ({
        name: 'm-k8s',
        target: { name: 'm-k8s', host: 'h', port: 22, user, privateKeyPath: '/k' },
        exec: async (_cmd: string, o: { sudo?: boolean }) => {
          seen.push({ user, sudo: o.sudo === true });
          return { exitCode: 0, stdout: '', stderr: '' };
        },
        close: async () => {},
      }) as unknown as Parameters<typeof sshNode>[0];
    await sshNode(session('root')).run('kubeadm reset -f', { sudo: true });
    await sshNode(session('ubuntu')).run('kubeadm reset -f', { sudo: true });
    expect(seen).toEqual([
      { user: 'root', sudo: false },
      { user: 'ubuntu', sudo: true },
    ]);
  });
});

describe('bundle upload to a machine (no rsync there)', () => {
  it('sends every file a worker needs, leaves out the control plane\'s images, and skips what is there already', async () => {
    const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { uploadBundle } = await import('../../src/up/bundle-upload.js');
    const dir = await mkdtemp(join(tmpdir(), 'k8slab-bundle-up-'));
    try {
      await mkdir(join(dir, 'images'));
      await mkdir(join(dir, 'bin'));
      await writeFile(join(dir, 'bundle.json'), '{}');
      await writeFile(join(dir, 'bin', 'kubeadm'), 'x', { mode: 0o755 });
      await writeFile(join(dir, 'images', 'kube-apiserver.tar'), 'apiserver');
      await writeFile(join(dir, 'images', 'pause.tar'), 'pause');
      await writeFile(
        join(dir, 'images', 'index.json'),
        JSON.stringify({ images: [{ file: 'kube-apiserver.tar', images: ['k8s.gcr.io/kube-apiserver:v1.20.2'] }, { file: 'pause.tar', images: ['k8s.gcr.io/pause:3.2'] }] }),
      );
      const runs: string[] = [];
      const puts: string[] = [];
      const node = {
        name: 'w1-k8s',
        run: async (command: string, o: { sudo?: boolean } = {}) => {
          runs.push(`${o.sudo ? 'sudo ' : ''}${command}`);
          // pause.tar is there already with its size (5 bytes); bundle.json with another size
          return { exitCode: 0, stdout: command.startsWith('find') ? '5 images/pause.tar\n9 bundle.json\n' : '', stderr: '' };
        },
        put: async (content: string | Buffer, path: string, mode: number) => {
          puts.push(`${path} ${mode.toString(8)} ${String(content)}`);
        },
        close: async () => {},
      };
      const r = await uploadBundle(node, dir, 'worker');
      expect(puts).toEqual(['/k8slab-bundle/bin/kubeadm 755 x', '/k8slab-bundle/bundle.json 644 {}', '/k8slab-bundle/images/index.json 644 ' + (await import('node:fs')).readFileSync(join(dir, 'images', 'index.json'), 'utf8')]);
      expect(r.kept).toEqual(['images/pause.tar']);
      expect(runs[0]).toBe('sudo install -d -m 0755 -o "${SUDO_USER:-$(id -un)}" /k8slab-bundle');
      expect(runs[2]).toBe('mkdir -p /k8slab-bundle/bin /k8slab-bundle/images');
      // the control plane gets its images
      puts.length = 0;
      await uploadBundle(node, dir, 'control-plane');
      expect(puts.some((p) => p.startsWith('/k8slab-bundle/images/kube-apiserver.tar'))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

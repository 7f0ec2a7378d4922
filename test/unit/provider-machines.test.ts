// The machines provider's down: teardown.sh through stdin on every machine, sudo only when not root,
// leftovers parsed per machine, one machine's failure reported without stopping the others.
import { describe, expect, it } from 'vitest';
import { describeTeardown, parseLeftovers, teardownMachines, type MachineShell } from '../../src/provider/machines.js';
import type { MachineNode } from '../../src/plan/plan.js';

const node = (name: string, user: string): MachineNode => ({ name, role: 'worker', privateIp: '10.0.0.5', address: '203.0.113.5', port: 22, user, keyFile: '/k' });

describe('machines provider: down', () => {
  it('parses the leftover lines and nothing else', () => {
    expect(parseLeftovers('[k8slab teardown.sh 10:00:00] removed /etc/kubernetes\nleftover: interface cni0\nleftover: 3 iptables chains of the lab\n')).toEqual([
      'interface cni0',
      '3 iptables chains of the lab',
    ]);
    expect(parseLeftovers('[k8slab teardown.sh 10:00:00] left of the lab on n1: nothing\n')).toEqual([]);
  });

  it('runs the script through stdin on every machine, with sudo only for a non-root user', async () => {
    const calls: string[] = [];
    const shell = (name: string, result: { exitCode: number; stdout: string; stderr: string } | Error): MachineShell => ({
      run: async (command, opts) => {
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
      'm-k8s: bash -s -- --purge sudo=false input=true',
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

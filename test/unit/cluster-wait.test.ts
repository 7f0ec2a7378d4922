// readiness(): a lab is Ready when its nodes, its system pods and the add-ons it turns on are: the add-ons'
// pods, and MetalLB's address pool, which master_node.sh may apply in the background after `up` saw the
// nodes Ready (verify then judged a LoadBalancer-less lab while the pool was still on its way).
import { describe, expect, it } from 'vitest';
import { readiness } from '../../src/cluster/wait.js';
import type { Runner } from '../../src/nodes/node.js';

const cond = (ready: boolean) => ({ conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] });
const node = (name: string) => ({ metadata: { name }, status: cond(true) });
const pod = (namespace: string, name: string, ready = true) => ({ metadata: { namespace, name }, status: { phase: 'Running', ...cond(ready) } });

function cluster(pods: object[], pools: string): Runner {
  return {
    name: 'fake',
    async run(command) {
      if (command === 'kubectl get nodes -o json') return { exitCode: 0, stderr: '', stdout: JSON.stringify({ items: [node('m-k8s')] }) };
      if (command === 'kubectl get pods -A -o json') return { exitCode: 0, stderr: '', stdout: JSON.stringify({ items: pods }) };
      if (command.startsWith('kubectl get ipaddresspools')) return { exitCode: 0, stderr: '', stdout: pools };
      throw new Error(`unexpected ${command}`);
    },
  };
}
const system = [pod('kube-system', 'coredns-1')];
const expected = { nodes: ['m-k8s'], cni: 'bridge' as const, addonNamespaces: ['metallb-system', 'traefik'], metallbPool: true };

describe('readiness with add-ons', () => {
  it('is Ready with every add-on pod Ready and MetalLB\'s pool in place', async () => {
    const r = await readiness(cluster([...system, pod('metallb-system', 'controller-1'), pod('traefik', 'traefik-1')], 'ipaddresspool.metallb.io/k8slab\n'), expected);
    expect(r).toMatchObject({ ready: true, waitingFor: [] });
  });

  it('waits for the pool master_node.sh applies once the webhook answers', async () => {
    const r = await readiness(cluster([...system, pod('metallb-system', 'controller-1'), pod('traefik', 'traefik-1')], ''), expected);
    expect(r.ready).toBe(false);
    expect(r.waitingFor).toEqual(["MetalLB's address pool (master_node.sh applies it once MetalLB's webhook answers)"]);
  });

  it('waits for an add-on pod that is not Ready, and for an add-on with no pod yet', async () => {
    const r = await readiness(cluster([...system, pod('metallb-system', 'controller-1', false)], 'ipaddresspool.metallb.io/k8slab\n'), expected);
    expect(r.ready).toBe(false);
    expect(r.waitingFor).toEqual(['pod metallb-system/controller-1 (Running)', 'the pods of traefik']);
  });

  it('a lab without add-ons asks nothing of them', async () => {
    const r = await readiness(cluster(system, ''), { nodes: ['m-k8s'], cni: 'bridge' });
    expect(r.ready).toBe(true);
  });
});

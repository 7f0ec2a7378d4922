// A FAKE kubelet for the apiserver tier, where no real kubelet can run (no container runtime, no pod
// network on the CI host). It plays only the part of a kubelet the StatefulSet controller sees, through
// the API: it binds new pods of one namespace to a fake node, reports them Running and Ready after a
// delay (as a container start would take), and finishes a graceful deletion after a second. With `node`,
// it also keeps that Node's status Ready (a heartbeat), so the node lifecycle controller does not taint it
// unreachable and the DaemonSet controller places pods there. Nothing runs; tests use it to watch the
// controllers, never to claim that pods work.
import { afterAll, beforeAll, expect } from 'vitest';
import type { Executor } from '../../src/lessons/types.js';

interface FakePod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { name: string; image: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

export interface FakeKubelet {
  /** what it did, in order, for assertions and debugging */
  log: string[];
  stop(): Promise<void>;
}

export const FAKE_NODE = 'k8slab-fake-node';
const HEARTBEAT_MS = 5000;

/**
 * A Node object for the enclosing describe block. Without it the pod garbage collector deletes every pod
 * bound to the unknown node (a race the fake kubelet loses on a busy host: the pod is gone before Ready).
 */
export function useFakeNode(executor: () => Executor, name: string = FAKE_NODE): void {
  beforeAll(async () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name } };
    expect((await executor().run('kubectl apply -f -', { input: JSON.stringify(node) })).exitCode).toBe(0);
  });
  afterAll(async () => {
    await executor().run(`kubectl delete node ${name} --ignore-not-found`);
  });
}

export function startFakeKubelet(
  exec: Executor,
  ns: string,
  opts: { readyAfterMs?: number; deleteAfterMs?: number; node?: string } = {},
): FakeKubelet {
  const target = opts.node ?? FAKE_NODE;
  const readyAfter = opts.readyAfterMs ?? 1500;
  const deleteAfter = opts.deleteAfterMs ?? 1000;
  const firstSeen = new Map<string, number>();
  const log: string[] = [];
  let running = true;
  const kubectl = (args: string, input?: string) => exec.run(`kubectl -n ${ns} ${args}`, input === undefined ? {} : { input });

  const heartbeat = async (node: string) => {
    const res = await exec.run(`kubectl get node ${node} -o json`);
    if (res.exitCode !== 0) return;
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const resources = { cpu: '4', memory: '8Gi', pods: '110' };
    const status = { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: at, lastTransitionTime: at }] };
    await exec.run(`kubectl replace --raw /api/v1/nodes/${node}/status -f -`, { input: JSON.stringify({ ...JSON.parse(res.stdout), status }) });
  };

  let lastBeat = 0;
  const tick = async () => {
    // Well inside the controller's 40 s grace period for a silent node.
    if (opts.node !== undefined && Date.now() - lastBeat > HEARTBEAT_MS) {
      await heartbeat(opts.node);
      lastBeat = Date.now();
    }
    const res = await kubectl('get pods -o json');
    if (res.exitCode !== 0) return;
    const now = Date.now();
    for (const pod of (JSON.parse(res.stdout) as { items: FakePod[] }).items) {
      const name = pod.metadata.name;
      const key = `${name}/${pod.metadata.deletionTimestamp ?? 'live'}`;
      if (!firstSeen.has(key)) firstSeen.set(key, now);
      const age = now - firstSeen.get(key)!;
      if (pod.metadata.deletionTimestamp) {
        if (age >= deleteAfter && (await kubectl(`delete pod ${name} --grace-period=0 --force --wait=false`)).exitCode === 0) log.push(`deleted ${name}`);
      } else if (!pod.spec.nodeName) {
        const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: target } };
        if ((await kubectl(`create --raw /api/v1/namespaces/${ns}/pods/${name}/binding -f -`, JSON.stringify(binding))).exitCode === 0) log.push(`bound ${name}`);
      } else if (age >= readyAfter && !pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
        const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const status = {
          phase: 'Running',
          podIP: `10.244.99.${(firstSeen.size % 250) + 1}`,
          startTime: at,
          conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: at })),
          containerStatuses: pod.spec.containers.map((c) => ({
            name: c.name,
            image: c.image,
            imageID: '',
            ready: true,
            restartCount: 0,
            started: true,
            state: { running: { startedAt: at } },
          })),
        };
        const updated = JSON.stringify({ ...pod, status });
        if ((await kubectl(`replace --raw /api/v1/namespaces/${ns}/pods/${name}/status -f -`, updated)).exitCode === 0) log.push(`ready ${name}`);
      }
    }
  };

  const loop = (async () => {
    while (running) {
      try {
        await tick();
      } catch {
        // A pod that vanished between list and update: the next tick sees the new state.
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();

  return {
    log,
    async stop() {
      running = false;
      await loop;
    },
  };
}

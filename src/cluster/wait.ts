// Polls kubectl on the lab (cluster/kubectl.ts) until every node and system pod is Ready.
import type { Runner } from '../nodes/node.js';
import { poll, PollTimeout } from '../util/poll.js';
import { evaluate, parseNodes, parsePods, type ClusterReadiness, type ExpectedCluster, type NodeReadiness } from './readiness.js';

/** Namespaces whose pods must be Ready: kube-system, plus Calico's own when the operator installs it. */
export const SYSTEM_NAMESPACES = ['kube-system', 'calico-system', 'tigera-operator'];

export async function getNodes(kubectl: Runner, signal?: AbortSignal): Promise<NodeReadiness[]> {
  const r = await kubectl.run('kubectl get nodes -o json', signal ? { signal } : {});
  if (r.exitCode !== 0) throw new Error(`kubectl get nodes failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  return parseNodes(r.stdout);
}

export type { ExpectedCluster };

export async function readiness(kubectl: Runner, expected: ExpectedCluster, signal?: AbortSignal): Promise<ClusterReadiness & { nodes: NodeReadiness[] }> {
  const opts = signal ? { signal } : {};
  const nodes = await getNodes(kubectl, signal);
  const r = await kubectl.run('kubectl get pods -A -o json', opts);
  if (r.exitCode !== 0) throw new Error(`kubectl get pods failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  const namespaces = [...SYSTEM_NAMESPACES, ...(expected.addonNamespaces ?? [])];
  const pods = parsePods(r.stdout).filter((p) => namespaces.includes(p.namespace));
  let pools = false;
  if (expected.metallbPool) {
    const list = await kubectl.run('kubectl get ipaddresspools.metallb.io -A -o name', opts);
    pools = list.exitCode === 0 && list.stdout.trim() !== '';
  }
  return { ...evaluate(nodes, pods, expected, pools), nodes };
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** called when what we wait for changes */
  onWaiting?: (what: string[]) => void;
  /** poll interval; grows from 2 s to this */
  maxIntervalMs?: number;
}

export async function waitForCluster(
  kubectl: Runner,
  expected: ExpectedCluster,
  o: WaitOptions,
): Promise<NodeReadiness[]> {
  let last = '';
  try {
    return await poll(
      async () => {
        // The API server restarts while kubeadm finishes: an error is kept and the poll goes on.
        const r = await readiness(kubectl, expected, o.signal);
        if (r.ready) return r.nodes;
        const now = r.waitingFor.join('; ');
        if (now !== last) o.onWaiting?.(r.waitingFor);
        last = now;
        return undefined;
      },
      { timeoutMs: o.timeoutMs, intervalMs: 2000, backoff: 1.5, maxIntervalMs: o.maxIntervalMs ?? 10_000, ...(o.signal ? { signal: o.signal } : {}) },
    );
  } catch (err) {
    if (!(err instanceof PollTimeout)) throw err;
    throw new Error(`the cluster was not Ready within ${Math.round(o.timeoutMs / 1000)} s; still waiting for: ${last || err.lastError || 'an answer from kubectl'}`);
  }
}

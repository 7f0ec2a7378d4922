// Polls kubectl on the lab (cluster/kubectl.ts) until every node and system pod is Ready.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Runner } from '../nodes/node.js';
import { evaluate, parseNodes, parsePods, type ClusterReadiness, type NodeReadiness } from './readiness.js';

/** Namespaces whose pods must be Ready: kube-system, plus Calico's own when the operator installs it. */
export const SYSTEM_NAMESPACES = ['kube-system', 'calico-system', 'tigera-operator'];

export async function getNodes(kubectl: Runner, signal?: AbortSignal): Promise<NodeReadiness[]> {
  const r = await kubectl.run('kubectl get nodes -o json', signal ? { signal } : {});
  if (r.exitCode !== 0) throw new Error(`kubectl get nodes failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  return parseNodes(r.stdout);
}

/** What a Ready lab has: its nodes, its CNI, and the add-ons the lab turns on. */
export interface ExpectedCluster {
  nodes: readonly string[];
  cni: 'calico' | 'bridge';
  /** the add-ons' namespaces, whose pods must be Ready too (metallb-system, local-path-storage, traefik) */
  addonNamespaces?: readonly string[];
  /** MetalLB is on: its IPAddressPool must exist (master_node.sh applies it once MetalLB's webhook answers) */
  metallbPool?: boolean;
}

export async function readiness(kubectl: Runner, expected: ExpectedCluster, signal?: AbortSignal): Promise<ClusterReadiness & { nodes: NodeReadiness[] }> {
  const nodes = await getNodes(kubectl, signal);
  const r = await kubectl.run('kubectl get pods -A -o json', signal ? { signal } : {});
  if (r.exitCode !== 0) throw new Error(`kubectl get pods failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  const namespaces = [...SYSTEM_NAMESPACES, ...(expected.addonNamespaces ?? [])];
  const pods = parsePods(r.stdout).filter((p) => namespaces.includes(p.namespace));
  const verdict = evaluate(nodes, pods, expected);
  if (expected.metallbPool) {
    const pools = await kubectl.run('kubectl get ipaddresspools.metallb.io -A -o name', signal ? { signal } : {});
    if (pools.exitCode !== 0 || pools.stdout.trim() === '') {
      verdict.waitingFor.push('MetalLB\'s address pool (master_node.sh applies it once MetalLB\'s webhook answers)');
      verdict.ready = false;
    }
  }
  for (const ns of expected.addonNamespaces ?? []) {
    if (!pods.some((p) => p.namespace === ns)) {
      verdict.waitingFor.push(`the pods of ${ns}`);
      verdict.ready = false;
    }
  }
  return { ...verdict, nodes };
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
  const deadline = Date.now() + o.timeoutMs;
  let interval = 2000;
  let last = '';
  let lastError = '';
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      const r = await readiness(kubectl, expected, o.signal);
      if (r.ready) return r.nodes;
      const now = r.waitingFor.join('; ');
      if (now !== last) o.onWaiting?.(r.waitingFor);
      last = now;
    } catch (err) {
      // The API server restarts while kubeadm finishes; keep polling until the deadline.
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() + interval > deadline) {
      throw new Error(
        `the cluster was not Ready within ${Math.round(o.timeoutMs / 1000)} s; still waiting for: ${last || lastError || 'an answer from kubectl'}`,
      );
    }
    await sleep(interval, undefined, o.signal ? { signal: o.signal } : {});
    interval = Math.min(interval * 1.5, o.maxIntervalMs ?? 10_000);
  }
}

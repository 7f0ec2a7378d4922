// What the cluster offers, read once before the lessons run. Each capability is present only on
// evidence (a Ready node, a DNS Service with ready endpoints, a MetalLB pool, ...); when it is missing
// the reason says what was looked at, and checks that need it are skipped with that reason.
import { Socket } from 'node:net';
import type { Capability, CheckContext, ClusterFacts } from './types.js';

type Kubectl = Pick<CheckContext, 'kubectl'>;

interface Condition {
  type: string;
  status: string;
}
interface K8sNode {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: { key: string; effect: string }[] };
  status?: { conditions?: Condition[]; addresses?: { type: string; address: string }[]; nodeInfo?: { architecture?: string } };
}
interface K8sPod {
  metadata: { name: string; labels?: Record<string, string> };
  status?: {
    phase?: string;
    conditions?: Condition[];
    containerStatuses?: { state?: { running?: object; waiting?: { reason?: string; message?: string } } }[];
  };
}
interface List<T> {
  items: T[];
}

export interface DetectOptions {
  /** TCP reachability from this host; the default opens a socket */
  reachable?: (ip: string, port: number) => Promise<boolean>;
  /** the port that stands for "this host reaches the node" (default 10250, the kubelet's) */
  kubeletPort?: number;
  /** image reference whose pull is tried in a probe pod (skipped when there are no nodes) */
  probeImage?: string;
  probeTimeoutMs?: number;
}

export async function detectFacts(k: Kubectl, opts: DetectOptions = {}): Promise<ClusterFacts> {
  const have = new Set<Capability>();
  const missing = new Map<Capability, string>();
  const decide = (cap: Capability, why: string | undefined) => (why === undefined ? have.add(cap) : missing.set(cap, why));

  const nodes = (await json<List<K8sNode>>(k, ['get', 'nodes'])).items;
  const ready = nodes.filter((n) => condition(n.status?.conditions, 'Ready'));
  const schedulable = ready.filter((n) => !n.spec?.unschedulable && !(n.spec?.taints ?? []).some((t) => t.effect !== 'PreferNoSchedule'));
  const workers = schedulable.filter((n) => !isControlPlane(n));
  const nodeIps = new Map<string, string>();
  for (const n of ready) {
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (ip) nodeIps.set(n.metadata.name, ip);
  }
  const noNodes = ready.length === 0 ? `no Ready node (the cluster lists ${nodes.length} node${nodes.length === 1 ? '' : 's'})` : undefined;
  decide('nodes', noNodes);
  decide('workers', noNodes ?? (workers.length === 0 ? 'no Ready schedulable worker node' : undefined));
  decide('multiNode', noNodes ?? (schedulable.length < 2 ? `only ${schedulable.length} schedulable node` : undefined));

  const systemPods = (await json<List<K8sPod>>(k, ['-n', 'kube-system', 'get', 'pods'])).items;
  const proxies = systemPods.filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy' && podReady(p));
  decide('podNetwork', noNodes ?? (proxies.length === 0 ? 'no Ready kube-proxy pod in kube-system' : undefined));

  decide('dns', await dnsMissing(k));
  decide('loadBalancer', await loadBalancerMissing(k));
  decide('defaultStorageClass', await storageClassMissing(k));
  decide('hostNetwork', noNodes ?? (await unreachable(nodeIps, opts.kubeletPort ?? 10250, opts.reachable ?? tcpReachable)));
  decide(
    'internetImages',
    noNodes ?? (opts.probeImage ? await imagePullMissing(k, opts.probeImage, opts.probeTimeoutMs ?? 120_000) : 'image pulls were not probed'),
  );

  return {
    capabilities: have,
    missing,
    nodeIps,
    schedulableNodes: schedulable.map((n) => n.metadata.name),
    arch: [...new Set(ready.map((n) => n.status?.nodeInfo?.architecture ?? 'unknown'))],
  };
}

async function json<T>(k: Kubectl, args: string[]): Promise<T> {
  const { stdout } = await k.kubectl([...args, '-o', 'json']);
  return JSON.parse(stdout) as T;
}

async function jsonOrUndefined<T>(k: Kubectl, args: string[]): Promise<T | undefined> {
  const res = await k.kubectl([...args, '-o', 'json'], { allowFailure: true });
  return res.exitCode === 0 ? (JSON.parse(res.stdout) as T) : undefined;
}

function condition(conditions: Condition[] | undefined, type: string): boolean {
  return conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

function podReady(p: K8sPod): boolean {
  return p.status?.phase === 'Running' && condition(p.status.conditions, 'Ready');
}

function isControlPlane(n: K8sNode): boolean {
  const labels = n.metadata.labels ?? {};
  return 'node-role.kubernetes.io/control-plane' in labels || 'node-role.kubernetes.io/master' in labels;
}

async function dnsMissing(k: Kubectl): Promise<string | undefined> {
  const svc = await jsonOrUndefined<object>(k, ['-n', 'kube-system', 'get', 'service', 'kube-dns']);
  if (!svc) return 'no kube-dns Service in kube-system (CoreDNS is not installed)';
  const ep = await jsonOrUndefined<{ subsets?: { addresses?: unknown[] }[] }>(k, ['-n', 'kube-system', 'get', 'endpoints', 'kube-dns']);
  const ready = (ep?.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
  return ready === 0 ? 'the kube-dns Service has no ready endpoint (no CoreDNS pod answers)' : undefined;
}

async function loadBalancerMissing(k: Kubectl): Promise<string | undefined> {
  const pools = await jsonOrUndefined<List<unknown>>(k, ['get', 'ipaddresspools.metallb.io', '-A']);
  if (!pools) return 'no LoadBalancer implementation: MetalLB is not installed (addons.metallb.enabled in lab.yaml)';
  if (pools.items.length === 0) return 'MetalLB is installed but has no IPAddressPool';
  const pods = (await json<List<K8sPod>>(k, ['-n', 'metallb-system', 'get', 'pods'])).items;
  const controller = pods.some((p) => p.metadata.labels?.['component'] === 'controller' && podReady(p));
  return controller ? undefined : 'the MetalLB controller pod is not Ready in metallb-system';
}

async function storageClassMissing(k: Kubectl): Promise<string | undefined> {
  const classes = (await json<List<{ metadata: { annotations?: Record<string, string> } }>>(k, ['get', 'storageclasses'])).items;
  const isDefault = classes.some((c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
  return isDefault ? undefined : `no default StorageClass (${classes.length} StorageClass${classes.length === 1 ? '' : 'es'}; addons.storage in lab.yaml)`;
}

/** The kubelet port answers on every node that runs one, so it stands for "the host can reach this node". */
async function unreachable(
  nodeIps: ReadonlyMap<string, string>,
  port: number,
  reachable: (ip: string, port: number) => Promise<boolean>,
): Promise<string | undefined> {
  const results = await Promise.all([...nodeIps].map(async ([name, ip]) => ((await reachable(ip, port)) ? undefined : `${name} (${ip})`)));
  const bad = results.filter((r): r is string => r !== undefined);
  if (nodeIps.size === 0) return 'no node reports an InternalIP';
  return bad.length === 0 ? undefined : `this host cannot reach ${bad.join(', ')} on port ${port}`;
}

export function tcpReachable(ip: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, ip);
  });
}

const PULL_ERRORS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/** Starts one pod with the image and watches it start or fail to pull; always removes its namespace. */
async function imagePullMissing(k: Kubectl, image: string, timeoutMs: number): Promise<string | undefined> {
  // A fresh name each run: an earlier probe namespace may still be terminating.
  const PROBE_NS = `k8slab-facts-${Date.now().toString(36)}`;
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PROBE_NS, labels: { 'k8slab.io/lesson': 'facts' } } };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'pull-probe', namespace: PROBE_NS },
    spec: { restartPolicy: 'Never', automountServiceAccountToken: false, containers: [{ name: 'probe', image, command: ['sh', '-c', 'true'] }] },
  };
  const deadline = Date.now() + timeoutMs;
  const pause = () => new Promise((r) => setTimeout(r, 2000));
  try {
    await k.kubectl(['apply', '-f', '-'], { input: JSON.stringify(ns) });
    // Pods are refused until the namespace's default ServiceAccount exists.
    while ((await k.kubectl(['-n', PROBE_NS, 'get', 'serviceaccount', 'default', '-o', 'json'], { allowFailure: true })).exitCode !== 0) {
      if (Date.now() > deadline) return `the probe namespace ${PROBE_NS} got no default ServiceAccount`;
      await pause();
    }
    await k.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    while (Date.now() < deadline) {
      const p = await jsonOrUndefined<K8sPod>(k, ['-n', PROBE_NS, 'get', 'pod', 'pull-probe']);
      const phase = p?.status?.phase;
      if (phase === 'Succeeded' || phase === 'Running') return undefined;
      if (phase === 'Failed') return `a pod with ${image} failed to run (wrong architecture?)`;
      const waiting = p?.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason && PULL_ERRORS.has(waiting.reason)) return `cannot pull ${image}: ${waiting.message ?? waiting.reason}`;
      await pause();
    }
    return `a pod with ${image} did not start within ${Math.round(timeoutMs / 1000)}s`;
  } catch (err) {
    return `the image pull probe could not run: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await k.kubectl(['delete', 'namespace', PROBE_NS, '--ignore-not-found', '--wait=false'], { allowFailure: true });
  }
}

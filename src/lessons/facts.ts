// What the cluster offers, read once before the lessons run. Each capability is present only on
// evidence (a Ready node, a DNS Service with ready endpoints, a MetalLB pool, ...); when it is missing
// the reason says what was looked at. A capability the lab was configured without (MetalLB off, no storage
// provider) is also `off`, with the lab.yaml change that turns it on: only those make a check skip.
import { Socket } from 'node:net';
import type { Capability, CheckContext, ClusterFacts } from './types.js';
import { CheckFailed } from './context.js';
import { LIMITS } from './limits.js';
import { internalIp, isControlPlaneNode, isReady, nodeReady, type List, type Node, type Pod } from './k8s.js';

type Kubectl = Pick<CheckContext, 'kubectl' | 'waitFor'>;

/** What lab.yaml asked for, where verify knows it (absent with --kubeconfig and no lab.yaml). */
export interface LabAddons {
  metallb: boolean;
  storage: string;
  /** addons.ingress.enabled; absent from older callers, which then judge by the cluster alone */
  ingress?: boolean;
}

/** The lab.yaml change that turns each optional capability on. */
export const ENABLE: Readonly<Partial<Record<Capability, string>>> = {
  loadBalancer: 'set addons.metallb.enabled: true in lab.yaml',
  defaultStorageClass: 'set addons.storage.provider: local-path (or nfs) in lab.yaml',
  ingress: 'set addons.ingress.enabled: true in lab.yaml',
};

export interface DetectOptions {
  /** TCP reachability from this host; the default opens a socket */
  reachable?: (ip: string, port: number) => Promise<boolean>;
  /** the port that stands for "this host reaches the node" (default 10250, the kubelet's) */
  kubeletPort?: number;
  /** image reference whose pull is tried in a probe pod (skipped when there are no nodes) */
  probeImage?: string;
  probeTimeoutMs?: number;
  /** the lab's add-ons as configured; without it, an add-on that is not installed at all counts as off */
  lab?: LabAddons;
}

export async function detectFacts(k: Kubectl, opts: DetectOptions = {}): Promise<ClusterFacts> {
  const have = new Set<Capability>();
  const missing = new Map<Capability, string>();
  const decide = (cap: Capability, why: string | undefined) => (why === undefined ? have.add(cap) : missing.set(cap, why));

  const nodes = (await json<List<Node>>(k, ['get', 'nodes'])).items;
  const ready = nodes.filter(nodeReady);
  const schedulable = ready.filter((n) => !n.spec?.unschedulable && !(n.spec?.taints ?? []).some((t) => t.effect !== 'PreferNoSchedule'));
  const workers = schedulable.filter((n) => !isControlPlaneNode(n));
  const nodeIps = new Map<string, string>();
  for (const n of ready) {
    const ip = internalIp(n);
    if (ip) nodeIps.set(n.metadata.name, ip);
  }
  const noNodes = ready.length === 0 ? `no Ready node (the cluster lists ${nodes.length} node${nodes.length === 1 ? '' : 's'})` : undefined;
  decide('nodes', noNodes);
  decide('workers', noNodes ?? (workers.length === 0 ? 'no Ready schedulable worker node' : undefined));
  decide('multiNode', noNodes ?? (schedulable.length < 2 ? `only ${schedulable.length} schedulable node` : undefined));

  const systemPods = (await json<List<Pod>>(k, ['-n', 'kube-system', 'get', 'pods'])).items;
  const proxies = systemPods.filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy' && isReady(p));
  decide('podNetwork', noNodes ?? (proxies.length === 0 ? 'no Ready kube-proxy pod in kube-system' : undefined));

  decide('dns', await dnsMissing(k));
  const off = new Map<Capability, string>();
  const lb = await loadBalancerMissing(k, opts.lab);
  decide('loadBalancer', lb?.why);
  if (lb?.off) off.set('loadBalancer', ENABLE.loadBalancer!);
  const storage = await storageClassMissing(k, opts.lab);
  decide('defaultStorageClass', storage?.why);
  if (storage?.off) off.set('defaultStorageClass', ENABLE.defaultStorageClass!);
  const ingress = await ingressMissing(k, opts.lab);
  decide('ingress', ingress?.why);
  if (ingress?.off) off.set('ingress', ENABLE.ingress!);
  decide('hostNetwork', noNodes ?? (await unreachable(nodeIps, opts.kubeletPort ?? 10250, opts.reachable ?? tcpReachable)));
  decide(
    'internetImages',
    noNodes ?? (opts.probeImage ? await imagePullMissing(k, opts.probeImage, opts.probeTimeoutMs ?? LIMITS.pullProbe) : 'image pulls were not probed'),
  );

  return {
    capabilities: have,
    missing,
    off,
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

async function dnsMissing(k: Kubectl): Promise<string | undefined> {
  const svc = await jsonOrUndefined<object>(k, ['-n', 'kube-system', 'get', 'service', 'kube-dns']);
  if (!svc) return 'no kube-dns Service in kube-system (CoreDNS is not installed)';
  const ep = await jsonOrUndefined<{ subsets?: { addresses?: unknown[] }[] }>(k, ['-n', 'kube-system', 'get', 'endpoints', 'kube-dns']);
  const ready = (ep?.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
  return ready === 0 ? 'the kube-dns Service has no ready endpoint (no CoreDNS pod answers)' : undefined;
}

/** Why there is no LoadBalancer, and whether that is the lab's configuration (off) or a fault. */
async function loadBalancerMissing(k: Kubectl, lab: LabAddons | undefined): Promise<{ why: string; off: boolean } | undefined> {
  const pools = await jsonOrUndefined<List<unknown>>(k, ['get', 'ipaddresspools.metallb.io', '-A']);
  if (!pools) {
    return lab?.metallb
      ? { why: 'addons.metallb.enabled is true in lab.yaml, but MetalLB is not installed (no ipaddresspools.metallb.io)', off: false }
      : { why: 'MetalLB is not installed, so no LoadBalancer implementation', off: true };
  }
  if (pools.items.length === 0) return { why: 'MetalLB is installed but has no IPAddressPool', off: false };
  const pods = (await json<List<Pod>>(k, ['-n', 'metallb-system', 'get', 'pods'])).items;
  const controller = pods.some((p) => p.metadata.labels?.['component'] === 'controller' && isReady(p));
  return controller ? undefined : { why: 'the MetalLB controller pod is not Ready in metallb-system', off: false };
}

async function storageClassMissing(k: Kubectl, lab: LabAddons | undefined): Promise<{ why: string; off: boolean } | undefined> {
  const classes = (await json<List<{ metadata: { annotations?: Record<string, string> } }>>(k, ['get', 'storageclasses'])).items;
  const isDefault = classes.some((c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
  if (isDefault) return undefined;
  const found = `no default StorageClass (${classes.length} StorageClass${classes.length === 1 ? '' : 'es'})`;
  const configured = lab !== undefined && lab.storage !== 'none';
  return configured ? { why: `addons.storage.provider is ${lab.storage} in lab.yaml, but there is ${found}`, off: false } : { why: found, off: true };
}

/**
 * An Ingress controller is there when a default IngressClass is (the lab's marks "traefik" default). Whether
 * a controller really serves Ingresses is what the ingress lesson observes; this only tells a lab configured
 * without one (a skip) from one whose controller is missing (a failure).
 */
async function ingressMissing(k: Kubectl, lab: LabAddons | undefined): Promise<{ why: string; off: boolean } | undefined> {
  const classes = await jsonOrUndefined<List<{ metadata: { name: string; annotations?: Record<string, string> } }>>(k, ['get', 'ingressclasses.networking.k8s.io']);
  const found = (classes?.items ?? []).filter((c) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true');
  if (found.length > 0) return undefined;
  const none = `no default IngressClass (${classes?.items.length ?? 0} IngressClass${classes?.items.length === 1 ? '' : 'es'})`;
  if (lab?.ingress === true) return { why: `addons.ingress.enabled is true in lab.yaml, but there is ${none}: the controller is not installed`, off: false };
  return { why: `${none}: no Ingress controller is installed`, off: true };
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
  try {
    await k.kubectl(['apply', '-f', '-'], { input: JSON.stringify(ns) });
    // Pods are refused until the namespace's default ServiceAccount exists.
    await k.waitFor(`the default ServiceAccount of ${PROBE_NS}`, async () =>
      (await k.kubectl(['-n', PROBE_NS, 'get', 'serviceaccount', 'default', '-o', 'json'], { allowFailure: true })).exitCode === 0 ? true : undefined,
    );
    await k.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    return await k.waitFor(
      `a pod with ${image} to start`,
      async () => {
        const p = await jsonOrUndefined<Pod>(k, ['-n', PROBE_NS, 'get', 'pod', 'pull-probe']);
        const phase = p?.status?.phase;
        if (phase === 'Succeeded' || phase === 'Running') return { verdict: undefined };
        if (phase === 'Failed') return { verdict: `a pod with ${image} failed to run (wrong architecture?)` };
        const waiting = p?.status?.containerStatuses?.[0]?.state?.waiting;
        if (waiting?.reason && PULL_ERRORS.has(waiting.reason)) return { verdict: `cannot pull ${image}: ${waiting.message ?? waiting.reason}` };
        return undefined;
      },
      { timeoutMs, intervalMs: 2000 },
    ).then((r) => r.verdict);
  } catch (err) {
    if (err instanceof CheckFailed && err.message.startsWith('timed out')) return `a pod with ${image} did not start within ${Math.round(timeoutMs / 1000)}s`;
    return `the image pull probe could not run: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await k.kubectl(['delete', 'namespace', PROBE_NS, '--ignore-not-found', '--wait=false'], { allowFailure: true });
  }
}

// Pure readings of `kubectl get nodes|pods -o json`: which nodes and kube-system pods are Ready.

export interface NodeReadiness {
  name: string;
  ready: boolean;
  /** "Ready", "NotReady" or "Unknown" */
  status: string;
  roles: string[];
  internalIp?: string;
  kubeletVersion?: string;
}

export interface PodReadiness {
  name: string;
  namespace: string;
  phase: string;
  ready: boolean;
  /** Succeeded pods (jobs) count as fine */
  done: boolean;
}

interface Condition {
  type?: string;
  status?: string;
}

interface K8sList<T> {
  items?: T[];
}

interface NodeObj {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { conditions?: Condition[]; addresses?: { type?: string; address?: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

interface PodObj {
  metadata?: { name?: string; namespace?: string };
  status?: { phase?: string; conditions?: Condition[] };
}

function parseList<T>(json: string, what: string): T[] {
  let data: K8sList<T>;
  try {
    data = JSON.parse(json) as K8sList<T>;
  } catch {
    throw new Error(`kubectl did not print a JSON list of ${what}: ${json.slice(0, 200)}`);
  }
  return data.items ?? [];
}

export function parseNodes(json: string): NodeReadiness[] {
  return parseList<NodeObj>(json, 'nodes').map((n) => {
    const cond = n.status?.conditions?.find((c) => c.type === 'Ready');
    const status = cond?.status === 'True' ? 'Ready' : cond?.status === 'False' ? 'NotReady' : 'Unknown';
    const roles = Object.keys(n.metadata?.labels ?? {})
      .filter((l) => l.startsWith('node-role.kubernetes.io/'))
      .map((l) => l.slice('node-role.kubernetes.io/'.length));
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const kubelet = n.status?.nodeInfo?.kubeletVersion;
    return {
      name: n.metadata?.name ?? '',
      ready: status === 'Ready',
      status,
      roles,
      ...(ip ? { internalIp: ip } : {}),
      ...(kubelet ? { kubeletVersion: kubelet } : {}),
    };
  });
}

export function parsePods(json: string): PodReadiness[] {
  return parseList<PodObj>(json, 'pods').map((p) => {
    const phase = p.status?.phase ?? 'Unknown';
    const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    return { name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? '', phase, ready, done: phase === 'Succeeded' };
  });
}

export interface ClusterReadiness {
  ready: boolean;
  /** what is still missing, in words, for progress lines and timeouts */
  waitingFor: string[];
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

/**
 * Every expected node is Ready and every kube-system pod is Ready (or finished). With Calico, a
 * calico-node pod must exist and be Ready on each node; the bridge CNI has no pods of its own.
 * The add-ons' namespaces need pods, and with MetalLB `pools` (an IPAddressPool exists) must be true.
 */
export function evaluate(nodes: readonly NodeReadiness[], pods: readonly PodReadiness[], expected: ExpectedCluster, pools = false): ClusterReadiness {
  const waitingFor: string[] = [];
  for (const name of expected.nodes) {
    const n = nodes.find((x) => x.name === name);
    if (!n) waitingFor.push(`node ${name} to register`);
    else if (!n.ready) waitingFor.push(`node ${name} to be Ready (${n.status})`);
  }
  const notReady = pods.filter((p) => !p.ready && !p.done);
  for (const p of notReady) waitingFor.push(`pod ${p.namespace}/${p.name} (${p.phase})`);
  if (pods.length === 0) waitingFor.push('kube-system pods to appear');
  if (expected.cni === 'calico') {
    const calico = pods.filter((p) => p.name.startsWith('calico-node-') && p.ready);
    if (calico.length < expected.nodes.length) waitingFor.push(`calico-node on every node (${calico.length}/${expected.nodes.length} Ready)`);
  }
  if (expected.metallbPool && !pools) waitingFor.push("MetalLB's address pool (master_node.sh applies it once MetalLB's webhook answers)");
  for (const ns of expected.addonNamespaces ?? []) {
    if (!pods.some((p) => p.namespace === ns)) waitingFor.push(`the pods of ${ns}`);
  }
  return { ready: waitingFor.length === 0, waitingFor };
}

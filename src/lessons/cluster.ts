// The cluster itself (course notes 000, "the lab"): before any lesson can mean something, every node is
// Ready, the system pods run, CoreDNS answers, pods reach pods on every other node and nodes reach pods,
// and a pod reaches a Service by its name. Each check FAILS when the cluster lacks what it proves: a lab
// is never configured without these.
import type { CheckContext, Lesson } from './types.js';
import { LIMITS } from './limits.js';
import { CheckFailed } from './context.js';
import { internalIp, isReady, isTerminating, nodeReady, whyNotReady, type List, type Node, type Pod, type Service } from './k8s.js';
import { hostnameOf, parseAddresses, requireImages, wgetCommand } from './probes.js';

const LESSON = 'cluster';
/** Namespaces whose pods make the cluster work: kube-system, and where CNIs install theirs. */
const SYSTEM_NAMESPACES = ['kube-system', 'calico-system', 'tigera-operator', 'kube-flannel'];

async function nodes(ctx: CheckContext): Promise<Node[]> {
  return (await ctx.kubectlJson<List<Node>>(['get', 'nodes'])).items;
}

/** What a NotReady node says about itself (the Ready condition's reason and message). */
function nodeProblem(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  return `${n.metadata.name}: ${ready ? `Ready=${ready.status}${ready.reason ? ` ${ready.reason}` : ''}${ready.message ? ` (${ready.message})` : ''}` : 'no Ready condition yet'}`;
}

interface Placed {
  pod: string;
  node: string;
  ip: string;
}

/**
 * The DaemonSets of manifests/cluster, with one Ready pod on every Ready node. Fails when a node gets no
 * Ready pod in time, naming the node and why its pod is not Ready.
 */
async function ensureProbes(ctx: CheckContext, file: 'net.yaml' | 'host.yaml', app: string): Promise<Placed[]> {
  requireImages(ctx, file === 'net.yaml' ? ['app', 'tools'] : ['tools']);
  await ctx.apply(file);
  const wanted = (await nodes(ctx)).filter(nodeReady).map((n) => n.metadata.name);
  if (wanted.length === 0) ctx.fail('no node is Ready, so no pod can run', 'see `kubectl get nodes -o wide`');
  let last: Pod[] = [];
  try {
    return await ctx.waitFor(
      `one Ready ${app} pod on each of ${wanted.join(', ')}`,
      async () => {
        last = (await ctx.kubectlJson<List<Pod>>(['get', 'pods', '-l', `app=${app}`])).items.filter((p) => !isTerminating(p));
        const placed = wanted.map((node) => last.find((p) => p.spec.nodeName === node && isReady(p) && p.status?.podIP));
        if (placed.some((p) => p === undefined)) return undefined;
        return placed.map((p) => ({ pod: p!.metadata.name, node: p!.spec.nodeName!, ip: p!.status!.podIP! }));
      },
      { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
    );
  } catch (err) {
    const missing = wanted.map((node) => {
      const p = last.find((q) => q.spec.nodeName === node);
      return p ? `${node}: ${p.metadata.name} ${whyNotReady(p)}` : `${node}: no ${app} pod`;
    });
    if (!(err instanceof CheckFailed)) throw err;
    return ctx.fail(`${app} pods did not become Ready on every node (${missing.join('; ')})`, `see \`kubectl -n ${ctx.ns} describe pods -l app=${app}\``);
  }
}

/** One GET from a client container; the pod that answered /hostname, or the error. */
async function get(ctx: CheckContext, from: string, url: string): Promise<{ answer?: string; error?: string }> {
  const res = await ctx.exec(from, wgetCommand(url), { container: 'client', allowFailure: true });
  const answer = hostnameOf(res.stdout);
  return answer ? { answer } : { error: (res.stderr || res.stdout).trim().split('\n').pop() || `exit ${res.exitCode}` };
}

/**
 * Tries every (client, target) pair until each gets the answer expected, for at most LIMITS.traffic (a CNI
 * that just started may need a moment), then fails naming every pair that never did.
 */
async function reachAll(
  ctx: CheckContext,
  what: string,
  pairs: readonly { from: string; label: string; url: string; expect: (answer: string) => boolean }[],
  hint: string,
): Promise<string[]> {
  const pending = new Map(pairs.map((p) => [p.label, p]));
  const problems = new Map<string, string>();
  const seen: string[] = [];
  try {
    await ctx.waitFor(
      what,
      async () => {
        for (const [label, p] of pending) {
          const r = await get(ctx, p.from, p.url);
          if (r.answer !== undefined && p.expect(r.answer)) {
            pending.delete(label);
            problems.delete(label);
            seen.push(`${label} (${r.answer})`);
          } else {
            problems.set(label, r.answer !== undefined ? `answered from ${r.answer}` : (r.error ?? 'no answer'));
          }
        }
        return pending.size === 0 ? true : undefined;
      },
      { timeoutMs: LIMITS.traffic, intervalMs: 2000 },
    );
  } catch (err) {
    if (!(err instanceof CheckFailed)) throw err;
    ctx.fail(`${[...problems].map(([label, why]) => `${label}: ${why}`).join('; ')}`, hint);
  }
  return seen;
}

export const cluster: Lesson = {
  id: LESSON,
  title: 'The cluster: nodes Ready, system pods, CoreDNS, pod-to-pod and node-to-pod across nodes, Services by name',
  source: 'seeds/000 (the lab: one control plane and workers, kubeadm, a CNI, CoreDNS)',
  dir: LESSON,
  // DaemonSets with a pod on every node (control plane included), in their own namespace only.
  parallelSafe: true,
  checks: [
    {
      id: 'nodes-ready',
      title: 'The cluster has nodes, and every node is Ready',
      async run(ctx) {
        const all = await nodes(ctx);
        if (all.length === 0) {
          ctx.fail('the cluster has no node: no kubelet has registered', 'on a lab, see `k8slab status` and the join step of `k8slab up`; then `kubectl get nodes`');
        }
        const notReady = all.filter((n) => !nodeReady(n));
        if (notReady.length > 0) {
          ctx.fail(
            `${notReady.length} of ${all.length} nodes are not Ready: ${notReady.map(nodeProblem).join('; ')}`,
            `see \`kubectl describe node ${notReady[0]!.metadata.name}\` (a NotReady node often has no CNI yet: \`kubectl -n kube-system get pods -o wide\`)`,
          );
        }
        ctx.note(all.map((n) => `${n.metadata.name} Ready ${internalIp(n) ?? ''} ${n.status?.nodeInfo?.kubeletVersion ?? ''}`.trim()).join('; '));
      },
    },
    {
      id: 'system-pods-ready',
      title: 'CoreDNS and kube-proxy run, and every pod of kube-system and of the CNI is Ready',
      async run(ctx) {
        const pods: { ns: string; pod: Pod }[] = [];
        for (const ns of SYSTEM_NAMESPACES) {
          const res = await ctx.kubectl(['-n', ns, 'get', 'pods', '-o', 'json'], { allowFailure: true });
          if (res.exitCode === 0) pods.push(...(JSON.parse(res.stdout) as List<Pod>).items.map((pod) => ({ ns, pod })));
        }
        // Pods of finished Jobs (Succeeded) are not expected to be Ready.
        const live = pods.filter(({ pod }) => pod.status?.phase !== 'Succeeded' && !isTerminating(pod));
        const app = (label: string) => live.filter(({ pod }) => pod.metadata.labels?.['k8s-app'] === label);
        const absent = [
          ...(app('kube-dns').length === 0 ? ['no CoreDNS pod (k8s-app=kube-dns)'] : []),
          ...(app('kube-proxy').length === 0 ? ['no kube-proxy pod (k8s-app=kube-proxy)'] : []),
        ];
        const unready = live.filter(({ pod }) => !isReady(pod)).map(({ ns, pod }) => `${ns}/${pod.metadata.name} ${whyNotReady(pod)}`);
        if (absent.length > 0 || unready.length > 0) {
          ctx.fail([...absent, ...unready.map((u) => `not Ready: ${u}`)].join('; '), 'see `kubectl -n kube-system get pods -o wide` and `kubectl -n kube-system describe pod POD`');
        }
        ctx.note(`${live.length} system pods Ready (${app('kube-dns').length} CoreDNS, ${app('kube-proxy').length} kube-proxy)`);
      },
    },
    {
      id: 'kube-proxy-every-node',
      title: 'Every Ready node runs a Ready kube-proxy (Services work from every node, not only some)',
      async run(ctx) {
        const ready = (await nodes(ctx)).filter(nodeReady).map((n) => n.metadata.name);
        if (ready.length === 0) ctx.fail('no node is Ready, so no kube-proxy runs', 'see `kubectl get nodes -o wide`');
        const proxies = (await ctx.kubectlJson<List<Pod>>(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-proxy'])).items.filter((p) => !isTerminating(p));
        const missing = ready.flatMap((node) => {
          const p = proxies.find((q) => q.spec.nodeName === node);
          if (!p) return [`${node}: no kube-proxy pod`];
          return isReady(p) ? [] : [`${node}: ${p.metadata.name} ${whyNotReady(p)}`];
        });
        if (missing.length > 0) ctx.fail(missing.join('; '), 'see `kubectl -n kube-system get daemonset kube-proxy` and `kubectl -n kube-system get pods -l k8s-app=kube-proxy -o wide`');
        ctx.note(ready.map((n) => `${n}: ${proxies.find((p) => p.spec.nodeName === n)!.metadata.name}`).join('; '));
      },
    },
    {
      id: 'dns-kubernetes-default',
      title: "CoreDNS answers `nslookup kubernetes.default` from a pod with the API server Service's ClusterIP",
      needs: ['nodes'],
      async run(ctx) {
        const [first] = await ensureProbes(ctx, 'net.yaml', 'net');
        const api = await ctx.kubectlJson<Service>(['-n', 'default', 'get', 'service', 'kubernetes']);
        const want: string = api.spec.clusterIP || ctx.fail('the default/kubernetes Service has no ClusterIP');
        let last = '';
        try {
          await ctx.waitFor(
            `kubernetes.default to resolve to ${want} in ${first!.pod}`,
            async () => {
              const res = await ctx.exec(first!.pod, ['nslookup', 'kubernetes.default'], { container: 'client', allowFailure: true });
              last = (res.stdout + res.stderr).trim().split('\n').slice(-2).join(' ');
              const got = parseAddresses(res.stdout, 'nslookup');
              if (got.length > 0 && !got.includes(want)) ctx.fail(`kubernetes.default resolved to ${got.join(', ')}, not the API Service's ClusterIP ${want}`);
              return got.includes(want) ? got : undefined;
            },
            { timeoutMs: LIMITS.traffic, intervalMs: 2000 },
          );
        } catch (err) {
          if (!(err instanceof CheckFailed) || !err.message.startsWith('timed out')) throw err;
          ctx.fail(
            `nslookup kubernetes.default in ${first!.pod} (on ${first!.node}) got no answer: ${last || 'nothing printed'}`,
            'CoreDNS does not answer: see `kubectl -n kube-system get pods -l k8s-app=kube-dns` and `kubectl -n kube-system logs -l k8s-app=kube-dns`',
          );
        }
        ctx.note(`${first!.pod} on ${first!.node}: kubernetes.default -> ${want} (the kubernetes Service's ClusterIP)`);
      },
    },
    {
      id: 'pod-to-pod',
      title: 'A pod reaches a pod on every other node, in both directions (pod IPs, :8080)',
      needs: ['nodes'],
      async run(ctx) {
        const placed = await ensureProbes(ctx, 'net.yaml', 'net');
        if (placed.length < 2) ctx.fail(`only ${placed.length} node runs pods, so no pod has a pod on another node to reach`, 'see `kubectl get nodes` (a lab has a control plane and workers)');
        const pairs = placed.flatMap((a) =>
          placed
            .filter((b) => b.node !== a.node)
            .map((b) => ({ from: a.pod, label: `${a.node} -> ${b.node} ${b.ip}`, url: `http://${b.ip}:8080/hostname`, expect: (ans: string) => ans === b.pod })),
        );
        const seen = await reachAll(ctx, 'every pod to reach the pod of every other node', pairs, 'the pod network does not route between nodes: see the CNI pods (`kubectl -n kube-system get pods -o wide`) and the nodes\' routes');
        ctx.note(`${seen.length} of ${pairs.length} directions: ${seen.join('; ')}`);
      },
    },
    {
      id: 'node-to-pod',
      title: "Every node reaches the pods on every node from its own network (hostNetwork), as the kubelet's probes do",
      needs: ['nodes'],
      async run(ctx) {
        const targets = await ensureProbes(ctx, 'net.yaml', 'net');
        const hosts = await ensureProbes(ctx, 'host.yaml', 'net-host');
        const pairs = hosts.flatMap((h) =>
          targets.map((t) => ({ from: h.pod, label: `node ${h.node} -> pod on ${t.node} ${t.ip}`, url: `http://${t.ip}:8080/hostname`, expect: (ans: string) => ans === t.pod })),
        );
        const seen = await reachAll(ctx, 'every node to reach every pod', pairs, 'a node has no route to the pod network: see `ip route` on the node and the CNI pods');
        ctx.note(`${seen.length} of ${pairs.length}: ${seen.join('; ')}`);
      },
    },
    {
      id: 'service-by-name',
      title: 'A pod reaches a Service by its DNS name (`wget http://net/hostname`), answered by a pod behind it',
      needs: ['nodes'],
      async run(ctx) {
        const placed = await ensureProbes(ctx, 'net.yaml', 'net');
        const backends = new Set(placed.map((p) => p.pod));
        const svc = await ctx.kubectlJson<Service>(['get', 'service', 'net']);
        const pairs = placed.map((p) => ({ from: p.pod, label: `${p.node} -> net (${svc.spec.clusterIP ?? 'no ClusterIP'})`, url: 'http://net/hostname', expect: (ans: string) => backends.has(ans) }));
        const seen = await reachAll(
          ctx,
          'every pod to reach Service net by name',
          pairs,
          `resolve and reach step by step: \`kubectl -n ${ctx.ns} exec ${placed[0]!.pod} -c client -- nslookup net\`, then wget http://${svc.spec.clusterIP ?? 'CLUSTER-IP'}/hostname (kube-proxy)`,
        );
        ctx.note(seen.join('; '));
      },
    },
  ],
};

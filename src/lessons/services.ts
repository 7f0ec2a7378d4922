// Services (seeds 000, 001, 002, 004): ClusterIP, NodePort, LoadBalancer, DNS, headless, Endpoints by
// selector and by hand, ExternalName, sessionAffinity. API-level behaviour is checked on its own so a
// cluster without nodes still proves it; traffic checks need nodes, the pod network and, for names, DNS.
import { LIMITS } from './limits.js';
import { isIPv4, parseRange, rangeContains } from '../config/net.js';
import type { CheckContext, Lesson } from './types.js';
import {
  clientPod,
  digInCluster,
  getService,
  hostnameOf,
  readyPodIp,
  readyPodIps,
  requireImages,
  sameSet,
  wgetInCluster,
} from './probes.js';
import { endpointIps, type Endpoints, type List } from './k8s.js';

const TRAFFIC = ['nodes', 'podNetwork'] as const;
/** An address no IPAddressPool of a lab holds (TEST-NET-1, RFC 5737, reserved for documentation). */
const UNPOOLED_IP = '192.0.2.10';
const TRAFFIC_DNS = ['nodes', 'podNetwork', 'dns'] as const;

async function allocatedClusterIp(ctx: CheckContext, name: string): Promise<{ ip: string; uid: string }> {
  return ctx.waitFor(`a ClusterIP on Service ${name}`, async () => {
    const svc = await getService(ctx, name);
    const ip = svc.spec.clusterIP;
    return ip && isIPv4(ip) ? { ip, uid: svc.metadata.uid } : undefined;
  });
}

/** Replaces the pod the way the course does: delete it, apply the manifest again. */
async function recreatePod(ctx: CheckContext, pod: string, file: string): Promise<void> {
  await ctx.kubectl(['delete', 'pod', pod, '--wait=true'], { waitMs: LIMITS.delete });
  await ctx.apply(file);
}

/** Asks from the client pod until the answer names a pod. */
async function hostnameVia(ctx: CheckContext, url: string): Promise<string> {
  return ctx.waitFor(`an answer from ${url}`, async () => hostnameOf(await wgetInCluster(ctx, url)), { timeoutMs: LIMITS.traffic });
}

async function readyWeb(ctx: CheckContext): Promise<string[]> {
  await ctx.apply('web.yaml');
  return ctx.waitFor('2 Ready pods of Deployment web', async () => {
    const ips = await readyPodIps(ctx, 'app=web');
    return ips.length >= 2 ? ips : undefined;
  });
}

async function waitEndpoints(ctx: CheckContext, svc: string, want: readonly string[]): Promise<void> {
  await ctx.waitFor(`Endpoints ${svc} to list exactly ${want.join(', ') || 'nothing'}`, async () =>
    sameSet(endpointIps(await ctx.kubectlJson<Endpoints>(['get', 'endpoints', svc])), want) ? true : undefined,
  );
}

export interface AffinityRound {
  /** the pod named by each answer, in order */
  answers: readonly string[];
  /** the Endpoints object's resourceVersion before the first request and after the last */
  endpointsBefore: string;
  endpointsAfter: string;
}

/**
 * ClientIP affinity holds while the chosen pod stays an endpoint. When the endpoints changed during the
 * requests (on a slow lab a pod's readiness probe can time out), a change of pod proves nothing: ask again.
 */
export function judgeAffinity(r: AffinityRound): { kind: 'held'; pod: string } | { kind: 'broken' | 'retry'; why: string } {
  const distinct = [...new Set(r.answers)];
  if (distinct.length === 1) return { kind: 'held', pod: distinct[0]! };
  const reached = `${r.answers.length} requests from request-pod reached ${distinct.join(', ')}`;
  if (r.endpointsBefore !== r.endpointsAfter) {
    return { kind: 'retry', why: `${reached}, but the endpoints of affinity1 changed meanwhile (resourceVersion ${r.endpointsBefore} -> ${r.endpointsAfter}): asking again` };
  }
  return { kind: 'broken', why: `${reached} while its endpoints stayed the same` };
}

export const services: Lesson = {
  id: 'services',
  title: 'Services: ClusterIP, NodePort, LoadBalancer, DNS, headless, Endpoints, ExternalName, sessionAffinity',
  source: 'seeds/000 (Service practice), 001 (DNS, Headless, Endpoint, ExternalName), 002 (sessionAffinity), 004 (headless)',
  dir: 'services',
  parallelSafe: true,
  checks: [
    {
      id: 'clusterip-answers',
      title: 'A ClusterIP Service keeps its IP (same object) while its pod is deleted and re-created with a new pod IP, and answers /hostname before and after',
      needs: TRAFFIC,
      async run(ctx) {
        requireImages(ctx, ['app', 'tools']);
        await ctx.apply('clusterip.yaml');
        await clientPod(ctx);
        const { ip, uid } = await allocatedClusterIp(ctx, 'clusterip1');
        const first = await readyPodIp(ctx, 'pod1');
        if ((await hostnameVia(ctx, `http://${ip}/hostname`)) !== 'pod1') ctx.fail(`http://${ip}/hostname did not answer from pod1`);
        await recreatePod(ctx, 'pod1', 'clusterip.yaml');
        const second = await readyPodIp(ctx, 'pod1');
        // The same Service object with the same IP: what a client was given still works.
        const after = await getService(ctx, 'clusterip1');
        if (after.metadata.uid !== uid) ctx.fail('Service clusterip1 was replaced by a new object while its pod was re-created');
        if (after.spec.clusterIP !== ip) ctx.fail(`clusterip1 changed its IP from ${ip} to ${after.spec.clusterIP ?? 'none'} while its pod was re-created`);
        await waitEndpoints(ctx, 'clusterip1', [second]);
        if ((await hostnameVia(ctx, `http://${ip}/hostname`)) !== 'pod1') ctx.fail(`after re-creating pod1, ${ip} did not answer from pod1`);
        ctx.note(second === first ? `the new pod1 got the same IP ${first} again; ${ip} answered from pod1 before and after` : `pod1 ${first} -> ${second}; Service stayed ${ip} and answered from pod1 before and after`);
      },
    },
    {
      id: 'nodeport-allocated',
      title: 'A NodePort Service reserves its nodePort (30000): a second Service asking for it is refused',
      async run(ctx) {
        await ctx.apply('nodeport.yaml');
        const svc = await getService(ctx, 'svc-2');
        if (svc.spec.ports[0]?.nodePort !== 30000) ctx.fail(`svc-2 has nodePort ${svc.spec.ports[0]?.nodePort ?? 'none'}, not 30000`);
        const clash = {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'svc-2-clash' },
          spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 9000, targetPort: 8080, nodePort: 30000 }] },
        };
        const res = await ctx.kubectl(['create', '-f', '-'], { input: JSON.stringify(clash, null, 2), allowFailure: true });
        if (res.exitCode === 0) {
          await ctx.kubectl(['delete', 'service', 'svc-2-clash']);
          ctx.fail('a second Service was given nodePort 30000 although svc-2 holds it');
        }
        if (!/already allocated/.test(res.stderr)) ctx.fail(`the second Service was refused for another reason: ${res.stderr.trim()}`);
        ctx.note('svc-2 holds nodePort 30000; a second Service asking for it was refused (already allocated)');
      },
    },
    {
      id: 'nodeport-answers',
      title: 'The nodePort answers from this host on every node IP, and the answers come from more than one pod',
      needs: [...TRAFFIC, 'hostNetwork'],
      async run(ctx) {
        requireImages(ctx, ['app']);
        await readyWeb(ctx);
        await ctx.apply('nodeport.yaml');
        const seen = new Set<string>();
        for (const [node, ip] of ctx.facts.nodeIps) {
          const from = await ctx.waitFor(`node ${node} (${ip}) to answer on :30000`, async () => {
            const answers: string[] = [];
            for (let i = 0; i < 6; i++) {
              const name = hostnameOf((await ctx.httpGet(`http://${ip}:30000/hostname`)).body);
              if (name) answers.push(name);
            }
            return answers.length > 0 ? answers : undefined;
          });
          from.forEach((h) => seen.add(h));
          ctx.note(`${node} ${ip}:30000 answered from ${[...new Set(from)].join(', ')}`);
        }
        if (seen.size < 2) ctx.fail(`every answer came from ${[...seen].join(', ')}; the Service did not spread requests over the 2 pods`);
      },
    },
    {
      id: 'loadbalancer-pending',
      title: 'A LoadBalancer Service gets a ClusterIP and a nodePort at once, and its EXTERNAL-IP stays pending while no LoadBalancer gives it one',
      async run(ctx) {
        // With MetalLB the Service asks for an address no pool holds (TEST-NET-1, RFC 5737): MetalLB refuses
        // it (AllocationFailed) and the Service is as pending as on a cluster without a LoadBalancer plugin.
        const withLb = ctx.facts.capabilities.has('loadBalancer');
        await ctx.apply('loadbalancer.yaml', withLb ? { change: (obj) => void ((obj['spec'] as Record<string, unknown>)['loadBalancerIP'] = UNPOOLED_IP) } : {});
        if (withLb) ctx.note(`MetalLB is installed: svc-3 asks for ${UNPOOLED_IP}, an address in no IPAddressPool`);
        await allocatedClusterIp(ctx, 'svc-3');
        // Give a would-be controller time to act: the address must stay pending all along.
        await ctx.holds('svc-3 keeps a nodePort and no EXTERNAL-IP', async () => {
          const svc = await getService(ctx, 'svc-3');
          if (!svc.spec.ports[0]?.nodePort) return 'svc-3 got no nodePort';
          const ingress = svc.status?.loadBalancer?.ingress ?? [];
          return ingress.length > 0 ? `svc-3 got EXTERNAL-IP ${ingress.map((i) => i.ip ?? i.hostname).join(', ')} although no LoadBalancer plugin was found` : undefined;
        });
        ctx.note(`EXTERNAL-IP stayed <pending> for ${Math.round(LIMITS.quiet / 1000)}s`);
      },
    },
    {
      id: 'loadbalancer-address',
      title: 'With MetalLB, the LoadBalancer Service gets an address from the pool that answers from this host',
      needs: [...TRAFFIC, 'loadBalancer', 'hostNetwork'],
      async run(ctx) {
        requireImages(ctx, ['app']);
        await readyWeb(ctx);
        await ctx.apply('loadbalancer.yaml');
        const ip = await ctx.waitFor('an EXTERNAL-IP on svc-3', async () => (await getService(ctx, 'svc-3')).status?.loadBalancer?.ingress?.[0]?.ip);
        const pools = await ctx.kubectlJson<List<{ metadata: { name: string }; spec?: { addresses?: string[] } }>>(['get', 'ipaddresspools.metallb.io', '-A']);
        const ranges = pools.items.flatMap((p) => p.spec?.addresses ?? []).map((a) => ({ a, r: parseRange(a) }));
        if (!ranges.some(({ r }) => r !== undefined && rangeContains(r, ip))) {
          ctx.fail(`EXTERNAL-IP ${ip} is in no IPAddressPool (${ranges.map(({ a }) => a).join(', ')})`);
        }
        const name = await ctx.waitFor(`${ip}:9000 to answer`, async () => hostnameOf((await ctx.httpGet(`http://${ip}:9000/hostname`)).body));
        ctx.note(`svc-3 got ${ip}; answered from ${name}`);
      },
    },
    {
      id: 'dns-clusterip',
      title: "A Service's DNS name (clusterip1) resolves to its ClusterIP",
      needs: TRAFFIC_DNS,
      async run(ctx) {
        requireImages(ctx, ['app', 'tools']);
        await ctx.apply('clusterip.yaml');
        await clientPod(ctx);
        const { ip } = await allocatedClusterIp(ctx, 'clusterip1');
        const answers = await ctx.waitFor('clusterip1 to resolve', async () => {
          const a = (await digInCluster(ctx, 'clusterip1')).filter(isIPv4);
          return a.length > 0 ? a : undefined;
        });
        if (!sameSet(answers, [ip])) ctx.fail(`clusterip1 resolved to ${answers.join(', ')}, not its ClusterIP ${ip}`);
        ctx.note(`clusterip1 -> ${ip} (its ClusterIP)`);
      },
    },
    {
      id: 'headless-dns',
      title: 'A headless Service (clusterIP: None) has no IP of its own: headless1 resolves to the IPs of its pods, and pod-a.headless1 to pod4',
      needs: TRAFFIC_DNS,
      async run(ctx) {
        requireImages(ctx, ['app', 'tools']);
        await ctx.apply('headless.yaml');
        const svc = await getService(ctx, 'headless1');
        if (svc.spec.clusterIP !== 'None') ctx.fail(`headless1 has ClusterIP ${svc.spec.clusterIP ?? '(empty)'}, not None`);
        await clientPod(ctx);
        const pod4 = await readyPodIp(ctx, 'pod4');
        const pod5 = await readyPodIp(ctx, 'pod5');
        await ctx.waitFor('headless1 to resolve to the IPs of pod4 and pod5', async () =>
          sameSet((await digInCluster(ctx, 'headless1')).filter(isIPv4), [pod4, pod5]) ? true : undefined,
        );
        const a = await ctx.waitFor('pod-a.headless1 to resolve', async () => {
          const r = (await digInCluster(ctx, 'pod-a.headless1')).filter(isIPv4);
          return r.length > 0 ? r : undefined;
        });
        if (!sameSet(a, [pod4])) ctx.fail(`pod-a.headless1 resolved to ${a.join(', ')}, not pod4's ${pod4}`);
        ctx.note(`headless1 (CLUSTER-IP None) -> ${pod4}, ${pod5}; pod-a.headless1 -> ${pod4}`);
      },
    },
    {
      id: 'endpoints-track',
      title: "A Service's Endpoints list exactly the Ready pods its selector picks, also after scaling 1 -> 3",
      needs: ['nodes'],
      async run(ctx) {
        requireImages(ctx, ['app']);
        await ctx.apply('endpoints.yaml');
        for (const replicas of [1, 3]) {
          if (replicas !== 1) await ctx.kubectl(['scale', 'replicaset', 'endpoint-rs', `--replicas=${replicas}`]);
          const ips = await ctx.waitFor(`${replicas} Ready pod(s) of endpoint-rs`, async () => {
            const r = await readyPodIps(ctx, 'svc=endpoint');
            return r.length === replicas ? r : undefined;
          });
          await waitEndpoints(ctx, 'endpoint1', ips);
          ctx.note(`${replicas} pod(s): endpoint1 lists ${ips.join(', ')}`);
        }
      },
    },
    {
      id: 'manual-endpoints',
      title: 'Endpoints written by hand for a Service without a selector are kept, and the control plane mirrors them into an EndpointSlice',
      async run(ctx) {
        await ctx.apply('manual-endpoints.yaml');
        const svc = await getService(ctx, 'endpoint3');
        if (svc.spec.selector && Object.keys(svc.spec.selector).length > 0) ctx.fail('endpoint3 has a selector');
        await ctx.waitFor(
          'an EndpointSlice mirroring endpoint3',
          async () => {
            const slices = await ctx.kubectlJson<List<{ endpoints?: { addresses: string[] }[] }>>([
              'get',
              'endpointslices.discovery.k8s.io',
              '-l',
              'kubernetes.io/service-name=endpoint3',
            ]);
            return slices.items.some((s) => (s.endpoints ?? []).some((e) => e.addresses.includes('185.199.109.153'))) ? true : undefined;
          },
          { timeoutMs: LIMITS.api },
        );
        ctx.note('the EndpointSlice controller mirrored the hand-written 185.199.109.153:80 into an EndpointSlice of endpoint3');
      },
    },
    {
      id: 'manual-endpoints-route',
      title: 'A selector-less Service routes to the pod whose IP was written into its Endpoints by hand (endpoint2 -> pod9)',
      needs: TRAFFIC,
      async run(ctx) {
        requireImages(ctx, ['app', 'tools']);
        await ctx.apply('manual-route.yaml');
        await clientPod(ctx);
        const { ip } = await allocatedClusterIp(ctx, 'endpoint2');
        const pod9 = await readyPodIp(ctx, 'pod9');
        const endpoints = {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: 'endpoint2' },
          subsets: [{ addresses: [{ ip: pod9 }], ports: [{ port: 8080 }] }],
        };
        await ctx.kubectl(['apply', '-f', '-'], { input: JSON.stringify(endpoints, null, 2) });
        const name = await hostnameVia(ctx, `http://${ip}:8080/hostname`);
        if (name !== 'pod9') ctx.fail(`endpoint2 answered from ${name}, not pod9`);
        ctx.note(`endpoint2 ${ip}:8080 (Endpoints written by hand: ${pod9}) answered from pod9`);
      },
    },
    {
      id: 'externalname-dns',
      title: 'An ExternalName Service is a DNS alias with no ClusterIP: cluster DNS answers externalname1 with a CNAME to github.github.io',
      needs: TRAFFIC_DNS,
      async run(ctx) {
        requireImages(ctx, ['tools']);
        await ctx.apply('externalname.yaml');
        await clientPod(ctx);
        // An ExternalName Service is only a DNS alias: no ClusterIP, no proxying.
        const svc = await getService(ctx, 'externalname1');
        if (svc.spec.clusterIP) ctx.fail(`externalname1 got ClusterIP ${svc.spec.clusterIP}`);
        const cname = await ctx.waitFor('a CNAME for externalname1', async () => (await digInCluster(ctx, 'externalname1', 'CNAME'))[0]);
        if (cname.replace(/\.$/, '') !== 'github.github.io') ctx.fail(`externalname1 is a CNAME to ${cname}, not github.github.io`);
        ctx.note(`externalname1 (no ClusterIP) -> CNAME ${cname}`);
      },
    },
    {
      id: 'clusterip-by-name',
      title: 'The course\'s `curl clusterip1/hostname`: a pod reaches the Service by its DNS name and pod1 answers',
      needs: TRAFFIC_DNS,
      async run(ctx) {
        requireImages(ctx, ['app', 'tools']);
        await ctx.apply('clusterip.yaml');
        await clientPod(ctx);
        await readyPodIp(ctx, 'pod1');
        const name = await hostnameVia(ctx, 'http://clusterip1/hostname');
        if (name !== 'pod1') ctx.fail(`http://clusterip1/hostname answered from ${name}, not pod1`);
        ctx.note('wget http://clusterip1/hostname from request-pod -> pod1');
      },
    },
    {
      id: 'headless-pod-by-name',
      title: 'The course\'s `curl pod-a.headless1:8080/hostname`: a pod of a headless Service is reached by its own DNS name',
      needs: TRAFFIC_DNS,
      async run(ctx) {
        requireImages(ctx, ['app', 'tools']);
        await ctx.apply('headless.yaml');
        await clientPod(ctx);
        const ip4 = await readyPodIp(ctx, 'pod4');
        const ip5 = await readyPodIp(ctx, 'pod5');
        // the app answers with the pod's hostname, which is spec.hostname (pod-a for pod4, pod-b for pod5):
        // only pod4 can answer "pod-a", so the name reached that pod and no other
        const a = await hostnameVia(ctx, 'http://pod-a.headless1:8080/hostname');
        const b = await hostnameVia(ctx, 'http://pod-b.headless1:8080/hostname');
        if (a !== 'pod-a' || b !== 'pod-b') ctx.fail(`pod-a.headless1 answered from ${a} and pod-b.headless1 from ${b}, not pod-a (pod4) and pod-b (pod5)`);
        ctx.note(`pod-a.headless1:8080 -> pod4 (${ip4}, hostname pod-a); pod-b.headless1:8080 -> pod5 (${ip5}, hostname pod-b)`);
      },
    },
    {
      id: 'manual-endpoints-by-name',
      title: 'The course\'s `curl endpoint2:8080/hostname`: a selector-less Service reached by name routes to the pod in its hand-written Endpoints',
      needs: TRAFFIC_DNS,
      async run(ctx) {
        requireImages(ctx, ['app', 'tools']);
        await ctx.apply('manual-route.yaml');
        await clientPod(ctx);
        const pod9 = await readyPodIp(ctx, 'pod9');
        const endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'endpoint2' }, subsets: [{ addresses: [{ ip: pod9 }], ports: [{ port: 8080 }] }] };
        await ctx.applyObjects([endpoints], 'endpoints/endpoint2');
        const name = await hostnameVia(ctx, 'http://endpoint2:8080/hostname');
        if (name !== 'pod9') ctx.fail(`http://endpoint2:8080/hostname answered from ${name}, not pod9`);
        ctx.note(`wget http://endpoint2:8080/hostname -> pod9 (${pod9}, written into Endpoints endpoint2 by hand)`);
      },
    },
    {
      id: 'session-affinity',
      title: 'With sessionAffinity: ClientIP, every request from one client reaches the same pod',
      needs: TRAFFIC,
      async run(ctx) {
        requireImages(ctx, ['app', 'tools']);
        const pods = await readyWeb(ctx);
        await ctx.apply('affinity.yaml');
        await clientPod(ctx);
        const { ip } = await allocatedClusterIp(ctx, 'affinity1');
        const svc = await getService(ctx, 'affinity1');
        if (svc.spec.sessionAffinity !== 'ClientIP') ctx.fail(`affinity1 has sessionAffinity ${svc.spec.sessionAffinity ?? 'None'}`);
        await waitEndpoints(ctx, 'affinity1', pods);
        const endpointsVersion = async () =>
          (await ctx.kubectlJson<{ metadata: { resourceVersion: string } }>(['get', 'endpoints', 'affinity1'])).metadata.resourceVersion;
        const pod = await ctx.waitFor(
          '10 answers while the endpoints of affinity1 stay the same',
          async () => {
            const before = await endpointsVersion();
            const answers: string[] = [];
            for (let i = 0; i < 10; i++) answers.push(await hostnameVia(ctx, `http://${ip}/hostname`));
            const verdict = judgeAffinity({ answers, endpointsBefore: before, endpointsAfter: await endpointsVersion() });
            if (verdict.kind === 'retry') ctx.note(verdict.why);
            if (verdict.kind === 'broken') ctx.fail(verdict.why);
            return verdict.kind === 'held' ? verdict.pod : undefined;
          },
          { timeoutMs: LIMITS.stableRound, intervalMs: 5000 },
        );
        ctx.note(`10 of 10 requests reached ${pod} (2 pods behind affinity1)`);
      },
    },
  ],
};

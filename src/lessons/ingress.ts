// Ingress (seeds 002, 003): one controller address routes HTTP by host and by path to two Services. Each
// backend pod answers with its own name, so every answer tells which Service the Ingress picked; the
// requests go from a pod to the controller's own address (its LoadBalancer IP, or a node's nodePort), as a
// learner's curl would. Skipped only when the lab was configured without the controller.
import type { CheckContext, Lesson } from './types.js';
import { LIMITS } from './limits.js';
import { CheckFailed } from './context.js';
import { clientPod, CLIENT_POD, hostnameOf, requireImages } from './probes.js';
import { isReady, type List, type Pod, type Service } from './k8s.js';

const NEEDS = ['nodes', 'podNetwork', 'ingress'] as const;
/** Label of the controller's Service in the lab's manifest (master_node.sh, install_ingress). */
export const CONTROLLER_LABEL = 'k8slab.io/ingress-controller=true';
const BACKENDS = { 'hname-svc': 'hname', 'ip-svc': 'ip' } as const;
type Backend = keyof typeof BACKENDS;
/** How many requests each route gets: enough that a controller spreading them elsewhere is seen. */
const REQUESTS = 4;

export interface Route {
  /** the Host header; undefined: the controller's address, which no host rule names */
  host?: string;
  path: string;
  expect: Backend;
}

export const HOST_ROUTES: readonly Route[] = [
  { host: 'hname.k8slab.test', path: '/', expect: 'hname-svc' },
  { host: 'ip.k8slab.test', path: '/', expect: 'ip-svc' },
];
export const PATH_ROUTES: readonly Route[] = [
  { path: '/', expect: 'hname-svc' },
  { path: '/ip', expect: 'ip-svc' },
];

/** What one request got: the pod named by the answer, or why there is none. */
export type Answer = { pod: string } | { error: string };

/**
 * The verdict on one route: every answer came from a pod of the expected Service. A request that got no
 * answer, or an answer from the other Service's pod or from something else, is a failure: nothing passes
 * on no evidence.
 */
export function judgeRoute(route: Route, answers: readonly Answer[], pods: Readonly<Record<Backend, readonly string[]>>): string | undefined {
  const what = `${route.host ?? '(the controller address)'}${route.path}`;
  if (answers.length === 0) return `${what}: no request was made`;
  for (const a of answers) {
    if ('error' in a) return `${what}: ${a.error}`;
    if (pods[route.expect].includes(a.pod)) continue;
    const other = (Object.keys(pods) as Backend[]).find((b) => pods[b].includes(a.pod));
    return other
      ? `${what} was answered by ${a.pod} of ${other}, not by ${route.expect}`
      : `${what} was answered by ${a.pod}, a pod of neither Service`;
  }
  return undefined;
}

/** Where the controller answers: its LoadBalancer address on port 80, else a node's nodePort. */
export function controllerUrl(svc: Service, nodeIps: ReadonlyMap<string, string>): string | undefined {
  const port = svc.spec.ports.find((p) => p.port === 80) ?? svc.spec.ports[0];
  if (!port) return undefined;
  const lb = svc.status?.loadBalancer?.ingress?.[0]?.ip;
  if (svc.spec.type === 'LoadBalancer' && lb) return `http://${lb}:${port.port}`;
  const node = [...nodeIps.values()][0];
  return port.nodePort && node ? `http://${node}:${port.nodePort}` : undefined;
}

/** The lab's controller Service, with a Ready controller pod behind it; fails naming what is missing. */
async function controller(ctx: CheckContext): Promise<{ name: string; url: string; type: string }> {
  const list = await ctx.kubectlJson<List<Service>>(['get', 'services', '--all-namespaces', '-l', CONTROLLER_LABEL]);
  const svc = list.items[0];
  if (!svc) {
    ctx.fail(
      `no Ingress controller Service (label ${CONTROLLER_LABEL}): a default IngressClass exists, but nothing serves it`,
      'on a lab, run master_node.sh again (`vagrant provision m-k8s`); see `kubectl get ingressclass` and `kubectl -n traefik get all`',
    );
  }
  const ns = svc.metadata.namespace ?? 'default';
  const name = `${ns}/${svc.metadata.name}`;
  const selector = Object.entries(svc.spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  await ctx.waitFor(
    `a Ready Ingress controller pod behind ${name}`,
    async () => {
      if (!selector) return undefined;
      const pods = await ctx.kubectlJson<List<Pod>>(['-n', ns, 'get', 'pods', '-l', selector]);
      return pods.items.some(isReady) ? true : undefined;
    },
    { timeoutMs: LIMITS.podReady },
  ).catch((err: unknown) =>
    timedOut(err, () => ctx.fail(`no Ingress controller pod is Ready behind ${name}, so nothing serves Ingresses`, `see \`kubectl -n ${ns} get pods -o wide\` and \`kubectl -n ${ns} logs deploy/${svc.metadata.name}\``)),
  );
  const url = await ctx.waitFor(`an address of ${name} (LoadBalancer IP or nodePort)`, async () =>
    controllerUrl(await ctx.kubectlJson<Service>(['-n', ns, 'get', 'service', svc.metadata.name]), ctx.facts.nodeIps),
    { timeoutMs: LIMITS.api },
  );
  return { name, url, type: svc.spec.type ?? 'ClusterIP' };
}

/** A waitFor that timed out becomes the failure `then` gives; any other error stays as it is. */
function timedOut(err: unknown, then: () => never): never {
  if (err instanceof CheckFailed && err.message.startsWith('timed out')) then();
  throw err;
}

/** The backends Ready, with the pod names each Service has. */
async function backends(ctx: CheckContext): Promise<Record<Backend, string[]>> {
  await ctx.apply('backends.yaml');
  return ctx.waitFor(
    'a Ready pod behind hname-svc and ip-svc',
    async () => {
      const out = {} as Record<Backend, string[]>;
      for (const [svc, app] of Object.entries(BACKENDS) as [Backend, string][]) {
        const pods = (await ctx.kubectlJson<List<Pod>>(['get', 'pods', '-l', `app=${app}`])).items.filter(isReady);
        if (pods.length === 0) return undefined;
        out[svc] = pods.map((p) => p.metadata.name);
      }
      return out;
    },
    { timeoutMs: LIMITS.podReady },
  );
}

async function ask(ctx: CheckContext, url: string, route: Route): Promise<Answer> {
  const cmd = ['timeout', '5', 'wget', '-qO-', ...(route.host ? ['--header', `Host: ${route.host}`] : []), `${url}${route.path}`];
  const res = await ctx.exec(CLIENT_POD, cmd, { allowFailure: true });
  if (res.exitCode !== 0) return { error: `no answer (wget exit ${res.exitCode}${res.stderr.trim() ? `: ${res.stderr.trim().split('\n').pop()}` : ''})` };
  const pod = hostnameOf(res.stdout);
  return pod ? { pod } : { error: `an answer that names no pod: ${JSON.stringify(res.stdout.trim().slice(0, 80))}` };
}

/**
 * Sends REQUESTS requests per route and judges them. The controller picks up a new Ingress from its watch,
 * so until every route answers right once, a round is asked again; then every answer of a round must be right.
 */
async function proveRoutes(ctx: CheckContext, routes: readonly Route[], what: string): Promise<{ type: string }> {
  requireImages(ctx, ['busybox', 'tools']);
  const pods = await backends(ctx);
  await ctx.apply('ingress.yaml');
  await clientPod(ctx);
  const { name, url, type } = await controller(ctx);
  let last = '';
  const seen = await ctx
    .waitFor(
      `the Ingress controller at ${url} to route ${what}`,
      async () => {
        const round: string[] = [];
        for (const route of routes) {
          const answers: Answer[] = [];
          for (let i = 0; i < REQUESTS; i++) answers.push(await ask(ctx, url, route));
          const bad = judgeRoute(route, answers, pods);
          if (bad) {
            last = bad;
            return undefined;
          }
          round.push(`${route.host ? `Host ${route.host} ` : ''}${route.path} -> ${[...new Set(answers.map((a) => ('pod' in a ? a.pod : '')))].join(', ')} (${route.expect})`);
        }
        return round;
      },
      { timeoutMs: LIMITS.ingressRoute, intervalMs: 3000 },
    )
    .catch((err: unknown) =>
      timedOut(err, () =>
        ctx.fail(`${name} at ${url} did not route ${what}: ${last || 'no round of requests finished'}`, `see \`kubectl -n ${ctx.ns} describe ingress ingress-lab\` and the controller's log (\`kubectl -n traefik logs deploy/traefik\`)`),
      ),
    );
  ctx.note(`from ${CLIENT_POD} via ${name} ${url}, ${REQUESTS} requests each: ${seen.join('; ')}`);
  return { type };
}

export const ingress: Lesson = {
  id: 'ingress',
  title: 'Ingress: one controller address routes HTTP by host and by path to two Services',
  source: 'seeds/002 (Ingress resource, host rule), 003 (Ingress: one address, several Deployments)',
  dir: 'ingress',
  parallelSafe: true,
  checks: [
    {
      id: 'routes-by-host',
      title: "Requests to the controller address with Host hname.k8slab.test reach hname-svc, with Host ip.k8slab.test reach ip-svc; with a LoadBalancer, the Ingress shows the controller's address",
      needs: NEEDS,
      async run(ctx) {
        const { type } = await proveRoutes(ctx, HOST_ROUTES, 'by host');
        // The controller copies its Service's LoadBalancer address into the Ingress's status (kubectl get
        // ingress: ADDRESS); a NodePort Service has none to copy.
        if (type !== 'LoadBalancer') return;
        const address = await ctx.waitFor('an ADDRESS on Ingress ingress-lab', async () => {
          const ing = await ctx.kubectlJson<{ status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } }>(['get', 'ingress', 'ingress-lab']);
          const a = ing.status?.loadBalancer?.ingress?.[0];
          return a?.ip ?? a?.hostname;
        }, { timeoutMs: LIMITS.api });
        ctx.note(`Ingress ingress-lab shows ADDRESS ${address}`);
      },
    },
    {
      id: 'routes-by-path',
      title: 'Requests to the controller address for / reach hname-svc and for /ip reach ip-svc',
      needs: NEEDS,
      async run(ctx) {
        await proveRoutes(ctx, PATH_ROUTES, 'by path');
      },
    },
  ],
};

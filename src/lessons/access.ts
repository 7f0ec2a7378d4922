// Access (seed 001): a ServiceAccount token authenticates to the API server, and RBAC grants exactly
// what a Role/ClusterRole says. Every RBAC question is asked WITH the ServiceAccount's own token (no
// kubeconfig credentials, no --as impersonation), and real requests confirm the answers.
import { LIMITS } from './limits.js';
import type { CheckContext, Lesson } from './types.js';
import { waitPodsReady } from './lesson-steps.js';
import { requireImages } from './probes.js';

/** Where the kubelet mounts a pod's ServiceAccount token and CA. */
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Ask = readonly [verb: string, resource: string, ...flags: string[]];

interface Identity {
  sa: string;
  server: string;
  token: string;
}

/** kubectl as the ServiceAccount itself, its token hidden in the transcript. */
function asSa(ctx: CheckContext, who: Identity, args: readonly string[]) {
  return ctx.kubectl(withToken(who.server, who.token, args), { allowFailure: true, redact: { [who.token]: '$TOKEN' } });
}

/** `kubectl auth can-i` with the ServiceAccount's token: true for "yes" (exit 0), false for "no" (exit 1). */
async function canI(ctx: CheckContext, who: Identity, [verb, resource, ...flags]: Ask): Promise<boolean> {
  const res = await asSa(ctx, who, ['auth', 'can-i', verb, resource, ...flags]);
  const answer = res.stdout.trim().split('\n')[0];
  if (answer === 'yes' && res.exitCode === 0) return true;
  if (answer === 'no') return false;
  throw new Error(`kubectl auth can-i ${verb} ${resource} answered neither yes nor no: ${res.stderr.trim()}`);
}

const show = (ask: Ask) => ask.join(' ');

/** Waits (RBAC caches take a moment) until every `allowed` is yes, then requires every `denied` to be no. */
async function grantsExactly(ctx: CheckContext, who: Identity, allowed: readonly Ask[], denied: readonly Ask[]): Promise<void> {
  const sa = who.sa;
  for (const ask of allowed) {
    await ctx.waitFor(`${sa} to be allowed to ${show(ask)}`, async () => ((await canI(ctx, who, ask)) ? true : undefined), { timeoutMs: LIMITS.api });
  }
  const extra: string[] = [];
  for (const ask of denied) if (await canI(ctx, who, ask)) extra.push(show(ask));
  if (extra.length > 0) ctx.fail(`${sa} may also ${extra.join('; ')}, which its roles do not grant`);
}

/** A real request with the token: `ok` must succeed, `forbidden` must be refused as Forbidden. */
async function requests(ctx: CheckContext, who: Identity, ok: readonly string[], forbidden: readonly string[]): Promise<string> {
  const yes = await asSa(ctx, who, ok);
  if (yes.exitCode !== 0) ctx.fail(`${who.sa}'s token could not \`kubectl ${ok.join(' ')}\`: ${yes.stderr.trim()}`);
  const no = await asSa(ctx, who, forbidden);
  if (no.exitCode === 0 || !/Forbidden|forbidden/.test(no.stderr)) {
    ctx.fail(`\`kubectl ${forbidden.join(' ')}\` with ${who.sa}'s token was not refused as Forbidden: ${(no.stderr || no.stdout).trim().slice(0, 200)}`);
  }
  return `kubectl ${ok.join(' ')} worked; kubectl ${forbidden.join(' ')} was Forbidden`;
}

interface ServiceAccount {
  secrets?: { name: string }[];
}

/**
 * A ServiceAccount's token: a TokenRequest (`kubectl create token`) on 1.24+, whose clusters no longer make
 * token Secrets; before that, the Secret the token controller adds to the ServiceAccount.
 */
async function tokenOf(ctx: CheckContext, sa: string): Promise<string> {
  if ((await serverMinor(ctx)) >= 24) {
    ctx.note(`$TOKEN below is: TOKEN=$(kubectl -n ${ctx.ns} create token ${sa})`);
    return (await ctx.kubectl(['create', 'token', sa])).stdout.trim();
  }
  const secret = await ctx.waitFor(
    `the token Secret of ServiceAccount ${sa}`,
    async () => (await ctx.kubectlJson<ServiceAccount>(['get', 'serviceaccount', sa])).secrets?.[0]?.name,
    { timeoutMs: LIMITS.api },
  );
  ctx.note(`$TOKEN below is: TOKEN=$(kubectl -n ${ctx.ns} get secret ${secret} -o jsonpath='{.data.token}' | base64 -d)`);
  const s = await ctx.kubectlJson<{ data?: { token?: string } }>(['get', 'secret', secret]);
  if (!s.data?.token) ctx.fail(`Secret ${secret} holds no token`);
  return Buffer.from(s.data.token, 'base64').toString('utf8');
}

async function serverMinor(ctx: CheckContext): Promise<number> {
  const v = await ctx.kubectlJson<{ serverVersion?: { major?: string; minor?: string } }>(['version']);
  const minor = Number.parseInt(v.serverVersion?.minor ?? '', 10);
  if (v.serverVersion?.major !== '1' || Number.isNaN(minor)) ctx.fail('kubectl version did not report the server version');
  return minor;
}

async function apiServerUrl(ctx: CheckContext): Promise<string> {
  const cfg = await ctx.kubectlJson<{ clusters?: { cluster?: { server?: string } }[] }>(['config', 'view', '--minify']);
  const server = cfg.clusters?.[0]?.cluster?.server;
  if (!server) ctx.fail('the kubeconfig names no API server');
  return server;
}

async function identity(ctx: CheckContext, sa: string): Promise<Identity> {
  return { sa, token: await tokenOf(ctx, sa), server: await apiServerUrl(ctx) };
}

/** kubectl with nothing but the token: no kubeconfig credentials can stand in for it. */
function withToken(server: string, token: string, args: readonly string[]): string[] {
  return ['--kubeconfig=/dev/null', `--server=${server}`, '--insecure-skip-tls-verify', `--token=${token}`, ...args];
}

export const access: Lesson = {
  id: 'access',
  title: 'API access: ServiceAccount tokens and RBAC',
  source: 'seeds/001 (Kubernetes API, Authentication, Authorization/RBAC)',
  dir: 'access',
  parallelSafe: true,
  checks: [
    {
      id: 'sa-token',
      title: "The default ServiceAccount's token reaches the API server; a wrong token is refused",
      async run(ctx) {
        const token = await tokenOf(ctx, 'default');
        const server = await apiServerUrl(ctx);
        const hide = { [token]: '$TOKEN' };
        const ok = await ctx.kubectl(withToken(server, token, ['get', '--raw', '/api']), { allowFailure: true, redact: hide });
        if (ok.exitCode !== 0) ctx.fail(`the default token was refused: ${ok.stderr.trim()}`);
        const body = JSON.parse(ok.stdout) as { kind?: string };
        if (body.kind !== 'APIVersions') ctx.fail(`/api answered ${body.kind ?? 'something else'}, not APIVersions`);
        const bad = await ctx.kubectl(withToken(server, 'not-a-valid-token', ['get', '--raw', '/api']), { allowFailure: true });
        if (bad.exitCode === 0 || !/Unauthorized/i.test(bad.stderr)) ctx.fail('the API server accepted a made-up token');
        ctx.note(`the default token got APIVersions from ${server}/api; a made-up token got Unauthorized`);
      },
    },
    {
      id: 'rbac-role',
      title: "Role pod-reader + RoleBinding let ServiceAccount reader, with its own token, get/list/watch pods in its namespace, and nothing more",
      async run(ctx) {
        await ctx.apply('rbac.yaml');
        const who = await identity(ctx, 'reader');
        await grantsExactly(
          ctx,
          who,
          [
            ['get', 'pods'],
            ['list', 'pods'],
            ['watch', 'pods'],
          ],
          [
            ['create', 'pods'],
            ['delete', 'pods'],
            ['get', 'secrets'],
            ['list', 'services'],
            ['list', 'deployments.apps'],
            ['list', 'pods', '--namespace=default'],
          ],
        );
        ctx.note(`reader's token: can-i yes to get/list/watch pods, no to 6 others; ${await requests(ctx, who, ['get', 'pods'], ['get', 'secrets'])}`);
      },
    },
    {
      id: 'rbac-clusterrole',
      title: "A ClusterRole + ClusterRoleBinding let reader, with its own token, get/list nodes cluster-wide, and not change them or read secrets",
      async run(ctx) {
        await ctx.apply('rbac.yaml');
        const who = await identity(ctx, 'reader');
        await grantsExactly(
          ctx,
          who,
          [
            ['list', 'nodes'],
            ['get', 'nodes'],
          ],
          [
            ['delete', 'nodes'],
            ['patch', 'nodes'],
            ['list', 'secrets', '--all-namespaces'],
            ['list', 'persistentvolumes'],
          ],
        );
        // Authorization comes before existence: a delete of any node name is Forbidden, never NotFound.
        ctx.note(`reader's token: can-i yes to list/get nodes, no to 4 others; ${await requests(ctx, who, ['get', 'nodes'], ['delete', 'node', 'k8slab-no-such-node'])}`);
      },
    },
    {
      id: 'pod-own-token',
      title: "A pod running as reader calls the API with its mounted token: listing pods works, reading secrets is Forbidden",
      needs: ['nodes', 'dns'],
      async run(ctx) {
        requireImages(ctx, ['tools']);
        await ctx.apply('rbac.yaml');
        await ctx.apply('pod-token.yaml', { change: (obj) => void ((obj['spec'] as Record<string, unknown>)['serviceAccountName'] = 'reader') });
        await waitPodsReady(ctx, ['api-client']);
        // What the course types inside the pod: curl with the mounted token as a Bearer header and the mounted
        // CA, the API by its DNS name; the HTTP status is the last line. busybox wget is the fallback: its TLS
        // (busybox 1.35) sends no signature_algorithms, which current kube-apiservers (Go) refuse.
        const call = (path: string) =>
          ctx.exec('api-client', [
            'sh',
            '-c',
            `url=https://kubernetes.default.svc${path}; auth="Authorization: Bearer $(cat ${SA_DIR}/token)"; ` +
              `if command -v curl >/dev/null; then curl -sS --cacert ${SA_DIR}/ca.crt -H "$auth" -w '\\n%{http_code}\\n' "$url"; ` +
              `else wget -S -qO- --no-check-certificate --header "$auth" "$url" 2>&1; fi`,
          ], { allowFailure: true });
        let last = '';
        const pods = await ctx.waitFor(
          'reader\'s mounted token to list the pods of its namespace',
          async () => {
            const res = await call(`/api/v1/namespaces/${ctx.ns}/pods`);
            last = res.stdout.trim() || res.stderr.trim();
            return res.exitCode === 0 && /"kind":\s*"PodList"/.test(res.stdout) ? res : undefined;
          },
          { timeoutMs: LIMITS.api },
        ).catch((err: unknown) => {
          if (/handshake failure|TLS error|ssl_client/i.test(last)) {
            ctx.fail(`the tools image could not open TLS to the API server (${last.split('\n').at(-1)}): it needs curl (images.tools; praqma/network-multitool has it), as busybox wget's TLS is refused by current kube-apiservers`);
          }
          throw err;
        });
        if (!pods.stdout.includes('api-client')) ctx.fail('the PodList reader got does not hold api-client itself');
        const secrets = await call(`/api/v1/namespaces/${ctx.ns}/secrets`);
        // curl exits 0 on a 403 (no --fail): the status line says it; busybox wget exits 1 and prints it
        if (!/(^|\s)403(\s|$)|403 Forbidden/.test(secrets.stdout) || /"kind":\s*"SecretList"/.test(secrets.stdout)) ctx.fail(`reading secrets with reader's mounted token was not refused with 403: ${secrets.stdout.trim().slice(0, 200)}`);
        ctx.note(`api-client (ServiceAccount reader): GET .../namespaces/${ctx.ns}/pods -> PodList; GET .../secrets -> 403 Forbidden`);
      },
    },
  ],
};

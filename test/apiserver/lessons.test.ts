// The services and access lessons, and the runner, against a real kube-apiserver with no nodes:
// API-level checks really run and pass, traffic checks FAIL (a lab always has nodes) with the reason and
// without running, and every check that runs here fails when the cluster or its object is broken at the
// step it depends on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, sabotage, type ControlPlane } from './harness.js';
import { runLessons, type RunResult } from '../../src/lessons/runner.js';
import { services } from '../../src/lessons/services.js';
import { access } from '../../src/lessons/access.js';
import { resolveImages } from '../../src/config/images.js';
import type { CheckResult, Executor, Lesson } from '../../src/lessons/types.js';

// The bench's offline stand-ins for the course's images (see ../shared/testbed/README.md).
const images = resolveImages({ app: 'k8slab.local/app:1', tools: 'k8slab.local/tools:1' });

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane('lessons');
}, 3_000_000); // a cold cache builds the Kubernetes binaries first (about 36 min on 2 cores)
afterAll(async () => {
  await cp?.down();
});

async function kubectl(args: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return cp.executor.run(`kubectl ${args}`);
}

function only(lesson: Lesson, id: string, checks: string[]): Lesson {
  return { ...lesson, id, checks: lesson.checks.filter((c) => checks.includes(c.id)) };
}

async function runOne(lesson: Lesson, executor: Executor = cp.executor): Promise<CheckResult> {
  const run = await runLessons({ executor, images, lessons: [lesson], checkTimeoutMs: 90_000 });
  expect(run.results).toHaveLength(1);
  return run.results[0]!;
}

const byId = (run: RunResult) => Object.fromEntries(run.results.map((r) => [`${r.lesson}/${r.check}`, r]));

describe('services and access on a control plane without nodes', () => {
  let run: RunResult;
  beforeAll(async () => {
    run = await runLessons({ executor: cp.executor, images, lessons: [services, access] });
  }, 300_000);

  it('passes every API-level check', () => {
    const results = byId(run);
    for (const id of [
      'services/nodeport-allocated',
      'services/loadbalancer-pending',
      'services/manual-endpoints',
      'access/sa-token',
      'access/rbac-role',
      'access/rbac-clusterrole',
    ]) {
      expect(results[id], id).toBeDefined();
      expect({ id, status: results[id]!.status, reason: results[id]!.reason }).toEqual({ id, status: 'passed', reason: undefined });
    }
  });

  it('fails every traffic check with the missing capability as the reason, without running it', () => {
    const results = byId(run);
    for (const id of [
      'clusterip-answers',
      'nodeport-answers',
      'loadbalancer-address',
      'dns-clusterip',
      'headless-dns',
      'endpoints-track',
      'manual-endpoints-route',
      'externalname-dns',
      'clusterip-by-name',
      'headless-pod-by-name',
      'manual-endpoints-by-name',
      'session-affinity',
    ]) {
      const r = results[`services/${id}`]!;
      expect(r.status, id).toBe('failed');
      expect(r.reason, id).toBe('the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)');
      expect(r.hint, id).toContain('kubectl get nodes');
      expect(r.transcript, id).toEqual([]);
    }
    expect(results['access/pod-own-token']).toMatchObject({ status: 'failed', reason: 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)' });
    expect(run.results.filter((r) => r.status === 'failed')).toHaveLength(13);
    expect(run.results.filter((r) => r.status === 'skipped')).toEqual([]);
    expect(run.facts.missing.get('dns')).toMatch(/no kube-dns Service/);
    expect(run.facts.missing.get('loadBalancer')).toMatch(/MetalLB is not installed/);
  });

  it('records every command as a learner replays it, with the rendered manifest as its input', () => {
    const r = byId(run)['services/nodeport-allocated']!;
    const commands = r.transcript.map((t) => t.command);
    expect(commands).toContain('kubectl -n k8slab-services get service svc-2 -o json');
    const apply = r.transcript.find((t) => t.command === 'kubectl -n k8slab-services apply -f -')!;
    expect(apply.input).toContain('k8slab.io/lesson: services');
    expect(apply.stdout).toMatch(/service\/svc-2 (created|unchanged)/);
    expect(r.notes.join('\n')).toMatch(/svc-2 holds nodePort 30000; a second Service asking for it was refused/);
    const pending = byId(run)['services/loadbalancer-pending']!;
    expect(pending.transcript.map((t) => t.command)).toContain('kubectl -n k8slab-services get service svc-3 -o json');
    // The token never reaches the transcript.
    const token = byId(run)['access/sa-token']!.transcript.filter((t) => t.command.includes('--token='));
    expect(token.map((t) => t.command).some((c) => c.includes('--token=$TOKEN') || c.includes("'--token=$TOKEN'"))).toBe(true);
    expect(byId(run)['access/sa-token']!.notes.join('\n')).toMatch(/^\$TOKEN below is: TOKEN=\$\(kubectl -n k8slab-access get secret default-token-\w+ -o jsonpath='\{\.data\.token\}' \| base64 -d\)$/m);
    // Nor does it anywhere else: the Secret's base64 data as kubectl printed it, or the token itself.
    const access = run.results.filter((r) => r.lesson === 'access');
    const secretRead = access.flatMap((r) => r.transcript).find((t) => /get secret default-token-\w+ -o json$/.test(t.command))!;
    expect(secretRead.stdout).toMatch(/"token": "<redacted>"/);
    const everything = JSON.stringify([access.map((r) => [r.transcript, r.notes, r.reason]), run.lessons.map((l) => [l.setup, l.cleanup])]);
    expect(everything).not.toMatch(/eyJ[\w-]{8,}\.eyJ|ZXlK[A-Za-z0-9+/]{16}/);
  });

  it('deleted the namespaces and the labelled cluster-scoped objects', async () => {
    expect((await kubectl('get namespace k8slab-services -o json')).exitCode).not.toBe(0);
    expect((await kubectl('get namespace k8slab-access -o json')).exitCode).not.toBe(0);
    const roles = JSON.parse((await kubectl('get clusterroles,clusterrolebindings -l k8slab.io/lesson=access -o json')).stdout);
    expect(roles.items).toEqual([]);
  });
});

const RBAC_APPLIED = /apply -f -\n(.|\n)*kind: ClusterRoleBinding/;

describe('each check that runs here fails when its object or the cluster is broken', () => {
  const ns = (id: string) => `k8slab-${id}`;
  const cases: { check: Lesson; after: RegExp; run: (n: string) => string[]; reason: RegExp }[] = [
    {
      check: only(services, 'brk-nodeport', ['nodeport-allocated']),
      after: /get service svc-2/,
      run: (n) => [`kubectl -n ${n} delete service svc-2`],
      reason: /a second Service was given nodePort 30000/,
    },
    {
      check: only(services, 'brk-lb', ['loadbalancer-pending']),
      after: /get service svc-3/,
      // The test plays a LoadBalancer controller: it writes an address into the Service's status.
      run: (n) => [
        `kubectl -n ${n} get service svc-3 -o json | sed 's/"loadBalancer": {}/"loadBalancer": {"ingress": [{"ip": "192.0.2.50"}]}/' | kubectl replace --raw /api/v1/namespaces/${n}/services/svc-3/status -f -`,
      ],
      reason: /got EXTERNAL-IP 192\.0\.2\.50/,
    },
    {
      check: only(services, 'brk-manual-ep', ['manual-endpoints']),
      after: /apply -f -\n(.|\n)*name: endpoint3/,
      // With a selector, the endpoints controller owns the object and empties it.
      run: (n) => [`kubectl -n ${n} patch service endpoint3 -p '{"spec":{"selector":{"svc":"nothing"}}}'`],
      reason: /endpoint3 has a selector|holds no address|timed out .* EndpointSlice/,
    },
    {
      check: only(access, 'brk-token', ['sa-token']),
      after: /get secret default-token-/,
      run: (n) => [`kubectl -n ${n} delete secret "$(kubectl -n ${n} get serviceaccount default -o jsonpath='{.secrets[0].name}')"`],
      reason: /the default token was refused/,
    },
    {
      check: only(access, 'brk-role-gone', ['rbac-role']),
      after: RBAC_APPLIED,
      run: (n) => [`kubectl -n ${n} delete rolebinding reader-pods`],
      reason: /reader to be allowed to get pods/,
    },
    {
      check: only(access, 'brk-role-more', ['rbac-role']),
      after: RBAC_APPLIED,
      run: (n) => [`kubectl -n ${n} create rolebinding reader-edit --clusterrole=edit --serviceaccount=${n}:reader`],
      reason: /reader may also create pods; delete pods/,
    },
    {
      // Impersonation (--as) would still say yes: only a request with reader's own token sees it revoked.
      check: only(access, 'brk-role-token', ['rbac-role']),
      after: /get secret reader-token-/,
      run: (n) => [`kubectl -n ${n} delete secret "$(kubectl -n ${n} get serviceaccount reader -o jsonpath='{.secrets[0].name}')"`],
      reason: /reader to be allowed to get pods/,
    },
    {
      check: only(access, 'brk-crole-gone', ['rbac-clusterrole']),
      after: RBAC_APPLIED,
      run: () => ['kubectl delete clusterrolebinding k8slab-brk-crole-gone-node-reader'],
      reason: /reader to be allowed to list nodes/,
    },
  ];

  for (const c of cases) {
    it.concurrent(`${c.check.checks[0]!.id} (${c.check.id})`, async () => {
      const steps = c.run(ns(c.check.id));
      const executor = sabotage(cp.executor, [{ after: c.after, run: steps }]);
      const result = await runOne(c.check, executor);
      expect(executor.fired).toHaveLength(steps.length);
      expect(result.status).toBe('failed');
      expect(result.reason).toMatch(c.reason);
    }, 150_000);
  }

  it('and each passes on the same run when nothing is broken (the sabotage is what fails it)', async () => {
    const lesson: Lesson = { ...services, id: 'brk-control', checks: services.checks.filter((c) => ['nodeport-allocated', 'loadbalancer-pending', 'manual-endpoints'].includes(c.id)) };
    const run = await runLessons({ executor: cp.executor, images, lessons: [lesson] });
    expect(run.results.map((r) => r.status)).toEqual(['passed', 'passed', 'passed']);
  }, 150_000);
});

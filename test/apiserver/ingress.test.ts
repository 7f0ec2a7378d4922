// The ingress lesson against a real control plane. Without nodes it fails (never skips, never passes);
// a lab configured without the controller skips with the lab.yaml change; and with everything the API can
// show in place (backend pods Ready through a FAKE kubelet, the default IngressClass, the controller's
// Service) each check still fails when no controller serves the Ingress: no Service, no Ready controller
// pod, or a "Ready" controller that answers nothing. Nothing here can pass without a real controller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyChecks, startControlPlane, type ControlPlane } from './harness.js';
import { FAKE_NODE, startFakeKubelet, useFakeNode } from './fake-kubelet.js';
import { runLessons } from '../../src/lessons/runner.js';
import { detectFacts, ENABLE } from '../../src/lessons/facts.js';
import { ingress } from '../../src/lessons/ingress.js';
import { LessonContext } from '../../src/lessons/context.js';
import { DEFAULT_LESSON_SETTINGS, resolveImages } from '../../src/config/images.js';
import type { CheckResult, ClusterFacts, Capability } from '../../src/lessons/types.js';

const images = resolveImages({ app: 'k8slab.local/app:1', tools: 'k8slab.local/tools:1', busybox: 'k8slab.local/tools:1' });

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane('ingress');
}, 3_000_000);
afterAll(async () => {
  await cp?.down();
});

const facts = (have: Capability[], off: Partial<Record<Capability, string>> = {}): ClusterFacts => ({
  capabilities: new Set(have),
  missing: new Map(Object.keys(off).map((c) => [c as Capability, 'not in this lab'])),
  off: new Map(Object.entries(off) as [Capability, string][]),
  nodeIps: new Map([[FAKE_NODE, '192.0.2.10']]),
  schedulableNodes: [FAKE_NODE],
  arch: ['amd64'],
});

const kubectl = async (args: string, input?: string) => {
  const r = await cp.executor.run(`kubectl ${args}`, input === undefined ? {} : { input });
  if (r.exitCode !== 0) throw new Error(`kubectl ${args}: ${r.stderr}`);
  return r.stdout;
};

/** The lab's controller objects as master_node.sh names them, without what makes a controller answer. */
async function controllerObjects(opts: { service: boolean; deployment: boolean }): Promise<void> {
  const objects: object[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'traefik' } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'traefik', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: 'traefik.io/ingress-controller' },
    },
  ];
  if (opts.service) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'traefik', namespace: 'traefik', labels: { 'k8slab.io/ingress-controller': 'true' } },
      spec: { type: 'NodePort', selector: { 'app.kubernetes.io/name': 'traefik' }, ports: [{ name: 'web', port: 80, targetPort: 8000 }] },
    });
  }
  if (opts.deployment) {
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'traefik', namespace: 'traefik' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
        template: { metadata: { labels: { 'app.kubernetes.io/name': 'traefik' } }, spec: { containers: [{ name: 'traefik', image: 'docker.io/library/traefik:v3.7.13' }] } },
      },
    });
  }
  for (const o of objects) await kubectl('apply -f -', JSON.stringify(o));
}

async function removeControllerObjects(): Promise<void> {
  await kubectl('delete ingressclass traefik --ignore-not-found');
  // No kubelet is left to finish the controller pod's graceful deletion: the namespace would wait on it.
  await kubectl('-n traefik delete deployment --all --ignore-not-found');
  await kubectl('-n traefik delete pods --all --force --grace-period=0 --ignore-not-found');
  await kubectl('delete namespace traefik --ignore-not-found --wait=true --timeout=120s');
}

async function runIngress(id: string, f: ClusterFacts, opts: { kubelets?: string[]; timeScale?: number; checks?: string[] } = {}): Promise<CheckResult[]> {
  const lesson = onlyChecks(ingress, id, opts.checks ?? ['routes-by-host', 'routes-by-path']);
  const kubelets = (opts.kubelets ?? []).map((ns) => startFakeKubelet(cp.executor, ns === 'lesson' ? `k8slab-${id}` : ns));
  try {
    const run = await runLessons({ executor: cp.executor, images, lessons: [lesson], facts: f, timeScale: opts.timeScale ?? 1, checkTimeoutMs: 600_000 });
    return run.results;
  } finally {
    await Promise.all(kubelets.map((k) => k.stop()));
  }
}

describe('ingress on a control plane without nodes', () => {
  it('fails both checks (the cluster lacks nodes), although lab.yaml has the ingress on and no controller is there', async () => {
    const ctx = new LessonContext({ lesson: 'facts', ns: 'default', timeScale: 1, manifestsDir: '', executor: cp.executor, images, settings: DEFAULT_LESSON_SETTINGS, facts: facts([]), applied: [] });
    const detected = await detectFacts(ctx, { lab: { metallb: false, storage: 'none', ingress: true } });
    // lab.yaml asks for the controller and no IngressClass exists: a fault, not a lab without it
    expect(detected.missing.get('ingress')).toBe('addons.ingress.enabled is true in lab.yaml, but there is no default IngressClass (0 IngressClasses): the controller is not installed');
    expect(detected.off.has('ingress')).toBe(false);
    const run = await runLessons({ executor: cp.executor, images, lessons: [onlyChecks(ingress, 'ing-nodeless', ['routes-by-host', 'routes-by-path'])], facts: detected });
    expect(run.results.map((r) => [r.check, r.status, r.reason])).toEqual([
      ['routes-by-host', 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)'],
      ['routes-by-path', 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)'],
    ]);
  }, 120_000);

  it('a lab configured without the controller skips both, naming the lab.yaml change', async () => {
    const ctx = new LessonContext({ lesson: 'facts', ns: 'default', timeScale: 1, manifestsDir: '', executor: cp.executor, images, settings: DEFAULT_LESSON_SETTINGS, facts: facts([]), applied: [] });
    const detected = await detectFacts(ctx, { lab: { metallb: false, storage: 'none', ingress: false } });
    expect(detected.off.get('ingress')).toBe(ENABLE.ingress);
    const results = await runIngress('ing-off', facts(['nodes', 'podNetwork'], { ingress: ENABLE.ingress! }));
    expect(results.map((r) => r.status)).toEqual(['skipped', 'skipped']);
    expect(results[0]!.reason).toContain('to run it: set addons.ingress.enabled: true in lab.yaml');
  }, 120_000);
});

describe('ingress with its backends Ready (a fake kubelet) but no controller serving the Ingress', () => {
  const all = facts(['nodes', 'podNetwork', 'ingress']);
  useFakeNode(() => cp.executor);

  // Both checks find the controller the same way: each of the first two faults is shown on one of them (to
  // keep the tier's time), the last one on both.
  it('the default IngressClass alone is detected, and without the controller Service routes-by-path fails', async () => {
    await controllerObjects({ service: false, deployment: false });
    try {
      const ctx = new LessonContext({ lesson: 'facts', ns: 'default', timeScale: 1, manifestsDir: '', executor: cp.executor, images, settings: DEFAULT_LESSON_SETTINGS, facts: facts([]), applied: [] });
      expect((await detectFacts(ctx, { lab: { metallb: false, storage: 'none', ingress: true } })).capabilities.has('ingress')).toBe(true);
      const results = await runIngress('ing-nosvc', all, { kubelets: ['lesson'], checks: ['routes-by-path'] });
      expect(results.map((r) => r.status)).toEqual(['failed']);
      for (const r of results) expect(r.reason).toBe('no Ingress controller Service (label k8slab.io/ingress-controller=true): a default IngressClass exists, but nothing serves it');
    } finally {
      await removeControllerObjects();
    }
  }, 400_000);

  it('with the Service but no controller pod, routes-by-host fails: nothing is Ready behind it', async () => {
    await controllerObjects({ service: true, deployment: false });
    try {
      // the controller-pod wait is LIMITS.podReady: scaled down (0.15), the backends still get their time
      const results = await runIngress('ing-nopod', all, { kubelets: ['lesson'], timeScale: 0.15, checks: ['routes-by-host'] });
      expect(results.map((r) => r.status)).toEqual(['failed']);
      for (const r of results) expect(r.reason).toBe('no Ingress controller pod is Ready behind traefik/traefik, so nothing serves Ingresses');
    } finally {
      await removeControllerObjects();
    }
  }, 400_000);

  it('with a controller pod the API calls Ready that answers nothing, both checks fail on the requests', async () => {
    await controllerObjects({ service: true, deployment: true });
    try {
      // 0.3, not 0.15: the request pod must still get its time on a busy host (at 0.15 its 18 s ran out once in CI)
      const results = await runIngress('ing-mute', all, { kubelets: ['lesson', 'traefik'], timeScale: 0.3 });
      expect(results.map((r) => r.status)).toEqual(['failed', 'failed']);
      const nodePort = JSON.parse(await kubectl('-n traefik get service traefik -o json')).spec.ports[0].nodePort as number;
      expect(results[0]!.reason).toMatch(new RegExp(`^traefik/traefik at http://192\\.0\\.2\\.10:${nodePort} did not route by host: hname\\.k8slab\\.test/: no answer`));
      expect(results[1]!.reason).toMatch(/did not route by path: \(the controller address\)\/: no answer/);
    } finally {
      await removeControllerObjects();
    }
  }, 400_000);
});

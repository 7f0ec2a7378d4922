// The statefulset lesson against a real control plane: with no nodes every check fails (each claims
// running pods). With a fake kubelet (it only reports pods Ready and finishes deletions) the checks run
// against the real StatefulSet controller: each ordinal gets its own claim (without a default
// StorageClass the lesson's setup pre-binds a PV to each), the claim checks fail when a claim is lost or
// the pods stay Pending, and the ordering checks fail for a StatefulSet that starts and stops its pods in
// parallel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyChecks, startControlPlane, sabotage, type ControlPlane } from './harness.js';
import { runLessons, type RunResult } from '../../src/lessons/runner.js';
import { statefulset } from '../../src/lessons/statefulset.js';
import { resolveImages } from '../../src/config/images.js';
import type { CheckResult, ClusterFacts, Executor, Lesson } from '../../src/lessons/types.js';
import { FAKE_NODE, startFakeKubelet, useFakeNode } from './fake-kubelet.js';

const images = resolveImages({ app: 'k8slab.local/app:1', tools: 'k8slab.local/tools:1', busybox: 'k8slab.local/tools:1', myweb: 'k8slab.local/app:1' });

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane('statefulset');
}, 900_000);
afterAll(async () => {
  await cp?.down();
});

const kubectl = (args: string) => cp.executor.run(`kubectl ${args}`);

const only = (id: string, checks: string[]) => onlyChecks(statefulset, id, checks);

describe('statefulset on a control plane without nodes', () => {
  let run: RunResult;
  beforeAll(async () => {
    run = await runLessons({ executor: cp.executor, images, lessons: [statefulset] });
  }, 400_000);

  it('fails every check, since each claims running pods, without setting anything up', () => {
    expect(run.results.map((r) => [r.check, r.status, r.reason])).toEqual(
      statefulset.checks.map((c) => [c.id, 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)']),
    );
    expect(run.lessons[0]!.setup).toEqual([]);
  });
});

describe('ordering checks against the real StatefulSet controller, with a fake kubelet for the nodes', () => {
  // The fake kubelet is the only "node": the checks may run, nothing else is claimed.
  const facts: ClusterFacts = { capabilities: new Set(['nodes']), missing: new Map(), off: new Map(), nodeIps: new Map(), schedulableNodes: [], arch: ['amd64'] };
  const parallelSts = [
    'apiVersion: apps/v1',
    'kind: StatefulSet',
    'metadata: {name: myweb-sts}',
    'spec:',
    '  replicas: 3',
    '  serviceName: myweb-svc-headless',
    '  podManagementPolicy: Parallel',
    '  selector: {matchLabels: {app: web, env: dev}}',
    '  template:',
    '    metadata: {labels: {app: web, env: dev}}',
    '    spec: {terminationGracePeriodSeconds: 5, containers: [{name: myweb, image: k8slab.local/app:1}]}',
  ];
  /** A shell line that creates it (no stdin in sabotage steps: the YAML goes through printf). */
  const createParallel = (ns: string) => `printf '%s\\n' ${parallelSts.map((l) => `'${l}'`).join(' ')} | kubectl -n ${ns} create -f -`;

  useFakeNode(() => cp.executor);

  async function runWithFake(lesson: Lesson, executor: Executor = cp.executor): Promise<CheckResult[]> {
    const kubelet = startFakeKubelet(cp.executor, `k8slab-${lesson.id}`);
    try {
      return (await runLessons({ executor, images, lessons: [lesson], facts, checkTimeoutMs: 150_000 })).results;
    } finally {
      await kubelet.stop();
    }
  }

  it('passes: -0, -1, -2 each created after the previous one is Ready, removed -2 then -1', async () => {
    const results = await runWithFake(only('sts-order', ['ordered-creation', 'scale-down-order']));
    expect(results.map((r) => [r.check, r.status, r.reason])).toEqual([
      ['ordered-creation', 'passed', undefined],
      ['scale-down-order', 'passed', undefined],
    ]);
    expect(results[0]!.notes).toEqual([
      expect.stringMatching(/^myweb-sts-0 Ready \S+ -> myweb-sts-1 created \S+$/),
      expect.stringMatching(/^myweb-sts-1 Ready \S+ -> myweb-sts-2 created \S+$/),
    ]);
    expect(results[1]!.notes[0]).toMatch(/DELETED myweb-sts-2 .*MODIFIED myweb-sts-1 \(terminating\).*DELETED myweb-sts-1/);
  }, 400_000);

  it('gives each ordinal its own Ready pod and claim, keeps it over a scale-down and reuses it, and keeps it for a re-created pod', async () => {
    let claimsDuringRun: { name: string; phase: string; volume: string }[] = [];
    // Look at the claims while the lesson runs, before its cleanup deletes them.
    const spy: Executor = {
      name: 'spy',
      async run(command, opts) {
        const res = await cp.executor.run(command, opts);
        if (/get pvc myweb-pvc-myweb-sts-vol-2/.test(command) && claimsDuringRun.length === 0) {
          const list = JSON.parse((await kubectl('-n k8slab-sts-claims get pvc -o json')).stdout) as {
            items: { metadata: { name: string }; spec: { volumeName?: string }; status: { phase: string } }[];
          };
          claimsDuringRun = list.items.map((c) => ({ name: c.metadata.name, phase: c.status.phase, volume: c.spec.volumeName ?? '' }));
        }
        return res;
      },
    };
    const results = await runWithFake(only('sts-claims', ['pvc-per-pod', 'same-identity-after-delete']), spy);
    expect(results.map((r) => [r.check, r.status, r.reason])).toEqual([
      ['pvc-per-pod', 'passed', undefined],
      ['same-identity-after-delete', 'passed', undefined],
    ]);
    expect(results[0]!.notes).toEqual([
      'scaled to 2: myweb-sts-vol-2 gone, myweb-pvc-myweb-sts-vol-2 kept',
      'scaled to 3: myweb-sts-vol-2 is back on the same myweb-pvc-myweb-sts-vol-2',
    ]);
    // Without a default StorageClass the setup pre-binds one PV to each claim.
    expect(claimsDuringRun).toEqual([0, 1, 2].map((i) => ({ name: `myweb-pvc-myweb-sts-vol-${i}`, phase: 'Bound', volume: `k8slab-sts-claims-myweb-pvc-${i}` })));
  }, 400_000);

  const claimCases: { lesson: Lesson; after: RegExp; run: (ns: string) => string[]; reason: RegExp }[] = [
    {
      // The claim of the scaled-away ordinal is deleted: scale-up gets a new, empty one.
      lesson: only('brk-sts-scale', ['pvc-per-pod']),
      after: /scale statefulset\/myweb-sts-vol --replicas=2/,
      run: (ns) => [`kubectl -n ${ns} delete pvc myweb-pvc-myweb-sts-vol-2 --wait=false`],
      reason: /myweb-pvc-myweb-sts-vol-2 was (deleted|replaced) when myweb-sts-vol-2 was scaled away|is a new claim, not the one kept/,
    },
    {
      lesson: only('brk-sts-identity', ['same-identity-after-delete']),
      after: /delete pod myweb-sts-vol-1/,
      run: (ns) => [`kubectl -n ${ns} delete pvc myweb-pvc-myweb-sts-vol-1 --wait=false`],
      reason: /myweb-pvc-myweb-sts-vol-1 was replaced by a new claim|timed out .*myweb-sts-vol-1/,
    },
  ];
  for (const c of claimCases) {
    it(`${c.lesson.checks[0]!.id} fails when a claim is lost (${c.lesson.id})`, async () => {
      const executor = sabotage(cp.executor, [{ after: c.after, run: c.run(`k8slab-${c.lesson.id}`) }]);
      const [result] = await runWithFake(c.lesson, executor);
      expect(executor.fired).toHaveLength(1);
      expect({ status: result!.status, reason: result!.reason }).toEqual({ status: 'failed', reason: expect.stringMatching(c.reason) });
    }, 400_000);
  }

  // Issue 10 s.2: both passed with every pod Pending, only waiting for pod objects.
  for (const check of ['pvc-per-pod', 'same-identity-after-delete']) {
    it(`${check} fails when its pods stay Pending (nothing runs them)`, async () => {
      const lesson = only(`pend-${check.split('-')[0]}`, [check]);
      const [result] = (await runLessons({ executor: cp.executor, images, lessons: [lesson], facts, timeScale: 0.2, checkTimeoutMs: 400_000 })).results;
      expect({ status: result!.status, reason: result!.reason }).toEqual({
        status: 'failed',
        reason: expect.stringMatching(/timed out after \d+s waiting for pods myweb-sts-vol-0, myweb-sts-vol-1, myweb-sts-vol-2 to be Ready/),
      });
    }, 200_000);
  }

  for (const check of ['ordered-creation', 'scale-down-order']) {
    it(`${check} fails for a StatefulSet whose pods start and stop together (podManagementPolicy Parallel)`, async () => {
      const lesson = only(`brk-par-${check.split('-')[0]}`, [check]);
      const ns = `k8slab-${lesson.id}`;
      // Made before the check applies its manifest, which then cannot change the (immutable) policy.
      const executor = sabotage(cp.executor, [{ after: /apply -f -/, run: [createParallel(ns)] }]);
      const [result] = await runWithFake(lesson, executor);
      expect(executor.fired).toHaveLength(1);
      expect({ status: result!.status, reason: result!.reason }).toEqual({
        status: 'failed',
        reason: expect.stringMatching(check === 'ordered-creation' ? /myweb-sts-\d was created at \S+, before myweb-sts-\d was Ready/ : /myweb-sts-1 started terminating before myweb-sts-2 was gone/),
      });
    }, 400_000);
  }
});

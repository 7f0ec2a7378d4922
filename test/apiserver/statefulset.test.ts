// The statefulset lesson against a real control plane with no nodes: the StatefulSet controller names
// pods by ordinal and gives each its own claim (podManagementPolicy Parallel, since OrderedReady stops
// at -0 without kubelets), and without a default StorageClass the lesson's setup pre-binds a PV to each
// claim. Each check that runs here fails when its claim is deleted at the step it depends on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, sabotage, type ControlPlane } from './harness.js';
import { runLessons, type RunResult } from '../../src/lessons/runner.js';
import { statefulset } from '../../src/lessons/statefulset.js';
import { resolveImages } from '../../src/lessons/images.js';
import type { CheckResult, Executor, Lesson } from '../../src/lessons/types.js';

const images = resolveImages({ app: 'k8slab.local/app:1', tools: 'k8slab.local/tools:1', busybox: 'k8slab.local/tools:1', myweb: 'k8slab.local/app:1' });

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane('statefulset');
}, 900_000);
afterAll(async () => {
  await cp?.down();
});

const kubectl = (args: string) => cp.executor.run(`kubectl ${args}`);

function only(id: string, checks: string[]): Lesson {
  return { ...statefulset, id, checks: statefulset.checks.filter((c) => checks.includes(c.id)) };
}

async function runOne(lesson: Lesson, executor: Executor): Promise<CheckResult> {
  const run = await runLessons({ executor, images, lessons: [lesson], checkTimeoutMs: 120_000 });
  expect(run.results).toHaveLength(1);
  return run.results[0]!;
}

describe('statefulset on a control plane without nodes', () => {
  let run: RunResult;
  let claimsDuringRun: { name: string; phase: string; volume: string }[] = [];
  beforeAll(async () => {
    // Look at the claims while the lesson runs, before its cleanup deletes them.
    const spy: Executor = {
      name: 'spy',
      async run(command, opts) {
        const res = await cp.executor.run(command, opts);
        if (/get pvc myweb-pvc-myweb-sts-vol-2/.test(command) && claimsDuringRun.length === 0) {
          const list = JSON.parse((await kubectl('-n k8slab-statefulset get pvc -o json')).stdout) as {
            items: { metadata: { name: string }; spec: { volumeName?: string }; status: { phase: string } }[];
          };
          claimsDuringRun = list.items.map((c) => ({ name: c.metadata.name, phase: c.status.phase, volume: c.spec.volumeName ?? '' }));
        }
        return res;
      },
    };
    run = await runLessons({ executor: spy, images, lessons: [statefulset] });
  }, 400_000);

  it('gives each ordinal its own claim, keeps it over a scale-down and reuses it, and keeps it for a re-created pod', () => {
    const status = Object.fromEntries(run.results.map((r) => [r.check, { status: r.status, reason: r.reason }]));
    expect(status['pvc-per-pod']).toEqual({ status: 'passed', reason: undefined });
    expect(status['same-identity-after-delete']).toEqual({ status: 'passed', reason: undefined });
    const notes = run.results.find((r) => r.check === 'pvc-per-pod')!.notes;
    expect(notes).toEqual([
      'scaled to 2: myweb-sts-vol-2 gone, myweb-pvc-myweb-sts-vol-2 kept',
      'scaled to 3: myweb-sts-vol-2 is back on the same myweb-pvc-myweb-sts-vol-2',
    ]);
  });

  it('binds the claims to the PVs its setup pre-created, one each', () => {
    expect(claimsDuringRun).toEqual(
      [0, 1, 2].map((i) => ({ name: `myweb-pvc-myweb-sts-vol-${i}`, phase: 'Bound', volume: `k8slab-statefulset-myweb-pvc-${i}` })),
    );
  });

  it('skips the checks that need running pods or DNS, never passing them', () => {
    const skipped = run.results.filter((r) => r.status === 'skipped').map((r) => [r.check, r.reason]);
    expect(skipped).toEqual([
      ['ordered-creation', expect.stringMatching(/^needs nodes: /)],
      ['per-pod-dns', expect.stringMatching(/^needs nodes: /)],
      ['scale-down-order', expect.stringMatching(/^needs nodes: /)],
      ['pvc-data-kept', expect.stringMatching(/^needs nodes: /)],
    ]);
    expect(run.results.filter((r) => r.status === 'failed')).toEqual([]);
  });

  it('deleted the namespace and the pre-created PVs', async () => {
    expect((await kubectl('get namespace k8slab-statefulset -o json')).exitCode).not.toBe(0);
    expect(JSON.parse((await kubectl('get pv -l k8slab.io/lesson=statefulset -o json')).stdout).items).toEqual([]);
  });
});

describe('each statefulset check that runs here fails when a claim is lost', () => {
  const cases: { lesson: Lesson; after: RegExp; run: (ns: string) => string[]; reason: RegExp }[] = [
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
      reason: /myweb-pvc-myweb-sts-vol-1 was replaced by a new claim/,
    },
  ];

  for (const c of cases) {
    it.concurrent(`${c.lesson.checks[0]!.id} (${c.lesson.id})`, async () => {
      const executor = sabotage(cp.executor, [{ after: c.after, run: c.run(`k8slab-${c.lesson.id}`) }]);
      const result = await runOne(c.lesson, executor);
      expect(executor.fired).toHaveLength(1);
      expect({ status: result.status, reason: result.reason }).toEqual({ status: 'failed', reason: expect.stringMatching(c.reason) });
    }, 200_000);
  }
});

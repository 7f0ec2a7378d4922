// The workloads lesson against a real control plane with no nodes: selectors over pod objects, the
// ReplicaSet controller (replace, release), the CronJob controller and a Deployment rollout + undo
// really run and pass; the rest needs running pods and is skipped; each check that runs here fails
// when its object is broken at the step it depends on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyChecks, runOne as runOneWith, startControlPlane, sabotage, type ControlPlane } from './harness.js';
import { runLessons, type RunResult } from '../../src/lessons/runner.js';
import { workloads, CORDON_ANNOTATION } from '../../src/lessons/workloads.js';
import { resolveImages } from '../../src/config/images.js';
import type { Lesson } from '../../src/lessons/types.js';

const images = resolveImages({ app: 'k8slab.local/app:1', tools: 'k8slab.local/tools:1', busybox: 'k8slab.local/tools:1', myweb: 'k8slab.local/app:1' });

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane('workloads');
}, 900_000);
afterAll(async () => {
  await cp?.down();
});

const only = (id: string, checks: string[]) => onlyChecks(workloads, id, checks);

describe('workloads on a control plane without nodes', () => {
  let run: RunResult;
  beforeAll(async () => {
    run = await runLessons({ executor: cp.executor, images, lessons: [workloads] });
  }, 400_000);

  it('passes the checks the controllers alone can show', () => {
    const status = Object.fromEntries(run.results.map((r) => [r.check, { status: r.status, reason: r.reason }]));
    for (const id of ['selectors-set-based', 'replicaset-self-healing', 'cronjob-creates-job', 'rollout-undo']) {
      expect({ id, ...status[id] }).toEqual({ id, status: 'passed', reason: undefined });
    }
    const notes = (id: string) => run.results.find((r) => r.check === id)!.notes.join('\n');
    expect(notes('selectors-set-based')).toContain("-l 'env notin (prod,devel)' -> pod-noenv, pod-qa");
    expect(notes('replicaset-self-healing')).toMatch(/\(app=released\) has no owner now; kubia owns kubia-\w+, kubia-\w+, kubia-\w+/);
    expect(notes('cronjob-creates-job')).toMatch(/created job batch-job-every-minute-\d+/);
    // The second image differs from app even though myweb was overridden to the same one.
    expect(notes('rollout-undo')).toBe(
      'revision 1: k8slab.local/app:1; revision 2: k8slab.local/tools:1; undo -> revision 3: k8slab.local/app:1',
    );
  });

  it('skips what needs running pods, never passing it', () => {
    const skipped = run.results.filter((r) => r.status === 'skipped').map((r) => r.check);
    expect(skipped).toEqual(['daemonset-per-node', 'job-completes', 'liveness-restarts', 'readiness-endpoints', 'cordon-drain']);
    for (const r of run.results.filter((r) => r.status === 'skipped')) expect(r.reason).toMatch(/^needs nodes: /);
    expect(run.results.filter((r) => r.status === 'failed')).toEqual([]);
  });

  it('writes the CronJob in the API version this server serves', async () => {
    const cron = run.results.find((r) => r.check === 'cronjob-creates-job')!;
    const apply = cron.transcript.find((t) => t.command.endsWith('apply -f -'))!;
    // batch/v1 CronJob is served from 1.21 on; before that only batch/v1beta1 (testbed v1.20.2, stack v1.37).
    const version = await cp.executor.run('kubectl version -o json', { timeoutMs: 30_000 });
    const minor = Number(JSON.parse(version.stdout).serverVersion.minor.replace(/\D+$/, ''));
    expect(apply.input).toMatch(minor >= 21 ? /^apiVersion: batch\/v1$/m : /^apiVersion: batch\/v1beta1$/m);
    expect(apply.input).toContain('k8slab.io/lesson: workloads');
    expect(apply.input).not.toContain('namespace:');
  });
});

describe('each workloads check that runs here fails when its object is broken', () => {
  const cases: { lesson: Lesson; after: RegExp; run: (ns: string) => string[]; reason: RegExp; timeout?: number }[] = [
    {
      lesson: only('brk-wl-selector', ['selectors-set-based']),
      after: /get pods -l 'group=selectors,env in/,
      run: (ns) => [`kubectl -n ${ns} label pod pod-qa env=prod --overwrite`],
      reason: /'env notin \(prod,devel\)' selected \[pod-noenv\], expected \[pod-noenv, pod-qa\]/,
    },
    {
      // The label is put back at once: the ReplicaSet adopts the pod again instead of releasing it.
      lesson: only('brk-wl-rs', ['replicaset-self-healing']),
      after: /label pod kubia-\w+ app=released/,
      run: (ns) => [`kubectl -n ${ns} label pods -l app=released app=kubia --overwrite`],
      reason: /timed out after 60s waiting for replicaset kubia to release kubia-\w+ and own 3 other pods|disappeared after its label changed/,
    },
    {
      lesson: only('brk-wl-cron', ['cronjob-creates-job']),
      after: /get cronjob batch-job-every-minute/,
      run: (ns) => [`kubectl -n ${ns} patch cronjob batch-job-every-minute --type=merge -p '{"spec":{"suspend":true}}'`],
      reason: /timed out after 130s waiting for a Job created by cronjob batch-job-every-minute/,
      timeout: 300_000,
    },
    {
      // A paused Deployment does not roll out a new template.
      lesson: only('brk-wl-rollout', ['rollout-undo']),
      after: /set image deployment\/rollout-app/,
      run: (ns) => [`kubectl -n ${ns} rollout pause deployment/rollout-app`],
      reason: /cannot rollback a paused deployment|waiting for deployment rollout-app's newest ReplicaSet to run k8slab\.local\/tools:1/,
    },
  ];

  for (const c of cases) {
    it.concurrent(`${c.lesson.checks[0]!.id} (${c.lesson.id})`, async () => {
      const executor = sabotage(cp.executor, [{ after: c.after, run: c.run(`k8slab-${c.lesson.id}`) }]);
      const result = await runOneWith(c.lesson, executor, images);
      expect(executor.fired).toHaveLength(1);
      expect({ status: result.status, reason: result.reason }).toEqual({ status: 'failed', reason: expect.stringMatching(c.reason) });
    }, c.timeout ?? 200_000);
  }

  it('lesson cleanup uncordons a node this lesson left cordoned (even from an earlier, crashed run)', async () => {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'k8slab-fake-node-wl', annotations: { [CORDON_ANNOTATION]: 'workloads' } },
      spec: { unschedulable: true },
    };
    const run = (cmd: string, input?: string) => cp.executor.run(cmd, input === undefined ? {} : { input });
    expect((await run('kubectl apply -f -', JSON.stringify(node))).exitCode).toBe(0);
    try {
      // Only the cleanup runs: every check is filtered out.
      const lesson: Lesson = { ...workloads, id: 'brk-wl-cleanup', checks: [{ id: 'noop', title: 'nothing', run: async () => {} }] };
      await runLessons({ executor: cp.executor, images, lessons: [lesson] });
      const after = JSON.parse((await run('kubectl get node k8slab-fake-node-wl -o json')).stdout);
      expect(after.spec.unschedulable ?? false).toBe(false);
      expect(after.metadata.annotations?.[CORDON_ANNOTATION]).toBeUndefined();
    } finally {
      await run('kubectl delete node k8slab-fake-node-wl --ignore-not-found');
    }
  }, 120_000);
});

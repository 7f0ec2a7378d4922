// The volumes lesson against a real kube-apiserver + controller-manager. With no nodes, PV/PVC binding
// really runs (the PV controller needs no kubelet) and passes; pod checks fail (a lab has nodes) and dynamic
// provisioning is skipped (no storage provider configured). With a fake kubelet (./fake-kubelet.ts) and a
// fake exec holding the volumes' files (./fake-exec.ts), the pod checks run against the real controllers:
// emptyDir gone with its pod, a Released Retain PV keeping its data. Each check fails when its object is
// broken, or the cluster misbehaves, at the step it depends on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyChecks, runOne as runOneWith, startControlPlane, sabotage, type ControlPlane } from './harness.js';
import { FAKE_NODE, startFakeKubelet, useFakeNode } from './fake-kubelet.js';
import { fakeExec, type FakeExecOptions } from './fake-exec.js';
import { runLessons, type RunResult } from '../../src/lessons/runner.js';
import { volumes } from '../../src/lessons/volumes.js';
import { resolveImages } from '../../src/config/images.js';
import type { CheckResult, ClusterFacts, Executor, Lesson } from '../../src/lessons/types.js';

const images = resolveImages({ app: 'k8slab.local/app:1', tools: 'k8slab.local/tools:1', busybox: 'k8slab.local/tools:1' });

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane('volumes');
}, 900_000);
afterAll(async () => {
  await cp?.down();
});

const kubectl = (args: string) => cp.executor.run(`kubectl ${args}`);

const only = (id: string, checks: string[]) => onlyChecks(volumes, id, checks);

describe('volumes on a control plane without nodes', () => {
  let run: RunResult;
  beforeAll(async () => {
    run = await runLessons({ executor: cp.executor, images, lessons: [volumes] });
  }, 400_000);

  it('binds pv-01 to pvc-01, and claims by size and access mode', () => {
    const status = Object.fromEntries(run.results.map((r) => [r.check, { status: r.status, reason: r.reason }]));
    expect(status['pv-available-then-bound']).toEqual({ status: 'passed', reason: undefined });
    expect(status['pvc-binds-by-size-and-mode']).toEqual({ status: 'passed', reason: undefined });
    const bound = run.results.find((r) => r.check === 'pv-available-then-bound')!;
    expect(bound.notes.join('\n')).toContain('k8slab-volumes-pv-01: Available -> Bound (claim k8slab-volumes/pvc-01)');
    const apply = bound.transcript.find((t) => t.command === 'kubectl -n k8slab-volumes apply -f -' && t.input?.includes('PersistentVolume'))!;
    expect(apply.input).toContain('name: k8slab-volumes-pv-01');
    expect(apply.input).toContain('k8slab.io/lesson: volumes');
  });

  it('fails the pod checks (no node) and skips dynamic provisioning (no storage provider), never passing them', () => {
    const notPassed = run.results.filter((r) => r.status !== 'passed').map((r) => [r.check, r.status, r.reason]);
    expect(notPassed).toEqual([
      ['emptydir-shared', 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)'],
      ['hostpath-node-file', 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)'],
      ['emptydir-gone-with-pod', 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)'],
      ['hostpath-per-node', 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)'],
      ['pv-data-survives-pod', 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)'],
      ['deployment-shares-pvc', 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)'],
      ['pvc-delete-retain-released', 'failed', 'the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)'],
      ['dynamic-delete', 'skipped', expect.stringMatching(/^this lab has no defaultStorageClass .*; to run it: set addons.storage.provider: local-path \(or nfs\) in lab.yaml$/)],
    ]);
  });

  it('deleted the namespace and the lesson PV', async () => {
    expect((await kubectl('get namespace k8slab-volumes -o json')).exitCode).not.toBe(0);
    expect(JSON.parse((await kubectl('get pv -l k8slab.io/lesson=volumes -o json')).stdout).items).toEqual([]);
  });
});

describe('each volumes check that runs here fails when its object is broken', () => {
  afterAll(async () => {
    // made by a sabotage step, without the lesson label
    await kubectl('delete pv k8slab-brk-vol-nofit-pv-huge --ignore-not-found');
  });
  const cases: { lesson: Lesson; after: RegExp; run: (ns: string) => string[]; reason: RegExp }[] = [
    {
      // The PV no longer carries the label pvc-01 selects: no matching volume, the claim stays Pending.
      lesson: only('brk-vol-select', ['pv-available-then-bound']),
      after: /get pv k8slab-brk-vol-select-pv-01/,
      run: (ns) => [`kubectl label pv ${ns}-pv-01 pv=somebody-else --overwrite`],
      reason: /timed out after 60s waiting for PVC pvc-01 to be Bound/,
    },
    {
      // A claim nobody asked for takes the PV before pvc-01 exists.
      lesson: only('brk-vol-taken', ['pv-available-then-bound']),
      after: /get pv k8slab-brk-vol-taken-pv-01/,
      run: (ns) => [
        `printf '%s\\n' 'apiVersion: v1' 'kind: PersistentVolumeClaim' 'metadata: {name: intruder}' 'spec: {accessModes: [ReadWriteOnce], storageClassName: "", volumeName: ${ns}-pv-01, resources: {requests: {storage: 1G}}}' | kubectl -n ${ns} apply -f -`,
      ],
      reason: /is already Bound to k8slab-brk-vol-taken\/intruder before pvc-01 exists|is bound to nothing|timed out .* PVC pvc-01 to be Bound/,
    },
    {
      // The only RWO volume with room goes away before the claims come: 3Gi RWO must not take another.
      lesson: only('brk-vol-match', ['pvc-binds-by-size-and-mode']),
      after: /apply -f -\n(.|\n)*name: k8slab-brk-vol-match-pv-small/,
      run: (ns) => [`kubectl delete pv ${ns}-pv-big`],
      reason: /timed out after 60s waiting for PVC pvc-3g-rwo to be Bound/,
    },
    {
      // A 50Gi volume appears: the 20Gi claim is no longer unsatisfiable, and binds.
      lesson: only('brk-vol-nofit', ['pvc-binds-by-size-and-mode']),
      after: /apply -f -\n(.|\n)*name: pvc-20g/,
      run: (ns) => [
        `printf '%s\\n' 'apiVersion: v1' 'kind: PersistentVolume' 'metadata: {name: ${ns}-pv-huge}' 'spec: {storageClassName: ${ns}-match, capacity: {storage: 50Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /tmp/${ns}-huge}}' | kubectl apply -f -`,
      ],
      reason: /pvc-20g was bound to k8slab-brk-vol-nofit-pv-huge, although none of the lesson's volumes holds 20Gi/,
    },
  ];

  for (const c of cases) {
    it.concurrent(`${c.lesson.checks[0]!.id} (${c.lesson.id})`, async () => {
      const executor = sabotage(cp.executor, [{ after: c.after, run: c.run(`k8slab-${c.lesson.id}`) }]);
      const result = await runOneWith(c.lesson, executor, images);
      expect(executor.fired).toHaveLength(1);
      expect({ status: result.status, reason: result.reason }).toEqual({ status: 'failed', reason: expect.stringMatching(c.reason) });
    }, 200_000);
  }
});

// The pods are played by a fake kubelet on FAKE_NODE (bound, reported Ready, deletions finished) and
// `kubectl exec` by a fake holding each volume's files; the PV controller, scheduler and API are real.
describe('volume checks with pods, against a fake kubelet and a fake exec', () => {
  const facts: ClusterFacts = { capabilities: new Set(['nodes']), missing: new Map(), off: new Map(), nodeIps: new Map(), schedulableNodes: [FAKE_NODE], arch: ['amd64'] };
  useFakeNode(() => cp.executor);

  /** Runs the one-check lesson; `wrap` puts a sabotage around the fake exec. */
  async function runWithPods(lesson: Lesson, opts: { exec?: FakeExecOptions; wrap?: (e: Executor) => Executor } = {}): Promise<CheckResult> {
    const kubelet = startFakeKubelet(cp.executor, `k8slab-${lesson.id}`);
    try {
      const exec = fakeExec(cp.executor, opts.exec);
      const run = await runLessons({ executor: opts.wrap ? opts.wrap(exec) : exec, images, lessons: [lesson], facts, checkTimeoutMs: 200_000 });
      expect(run.results).toHaveLength(1);
      return run.results[0]!;
    } finally {
      await kubelet.stop();
    }
  }

  it.concurrent('emptydir-gone-with-pod passes: the re-created pod (a new uid) finds its emptyDir empty', async () => {
    const r = await runWithPods(only('fk-vol-empty', ['emptydir-gone-with-pod']));
    expect({ status: r.status, reason: r.reason }).toEqual({ status: 'passed', reason: undefined });
    expect(r.notes.join('\n')).toMatch(/^pod-volume-1 \(uid [\w-]+\) wrote emptydir-\w+; after delete and re-create, the new pod \(uid [\w-]+\) finds \/mount1 empty$/);
  }, 300_000);

  it.concurrent('emptydir-gone-with-pod fails when the emptyDir outlives its pod', async () => {
    const r = await runWithPods(only('brk-vol-empty', ['emptydir-gone-with-pod']), { exec: { emptyDirByName: true } });
    expect({ status: r.status, reason: r.reason }).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/^the new pod-volume-1 found "shared.txt" in its emptyDir: the old pod's data outlived it$/),
    });
  }, 300_000);

  it.concurrent('pvc-delete-retain-released passes: Released, a matching claim stays Pending, the data is kept', async () => {
    const r = await runWithPods(only('fk-vol-retain', ['pvc-delete-retain-released']));
    expect({ status: r.status, reason: r.reason }).toEqual({ status: 'passed', reason: undefined });
    expect(r.notes.join('\n')).toMatch(
      /^k8slab-fk-vol-retain-pv-01: Bound -> Released, still naming its old claim k8slab-fk-vol-retain\/pvc-01; a matching new claim pvc-02 stayed Pending for 20s; \/tmp\/k8slab-fk-vol-retain-pv-01 on k8slab-fake-node still holds retain-\w+$/,
    );
  }, 300_000);

  it.concurrent('pvc-delete-retain-released fails when the volume is wiped with its claim (the data is not kept)', async () => {
    // A scrub, as the deprecated Recycle policy does: the PV's directory is emptied once the claim is gone.
    const wipe = (inner: Executor): Executor => ({
      name: `${inner.name}+wipe`,
      async run(command, opts) {
        const res = await inner.run(command, opts);
        if (/ delete pvc pvc-01 /.test(command)) for (const [key, files] of (inner as ReturnType<typeof fakeExec>).stores) if (key.includes('-pv-01')) files.clear();
        return res;
      },
    });
    const r = await runWithPods(only('brk-vol-wipe', ['pvc-delete-retain-released']), { wrap: wipe });
    expect({ status: r.status, reason: r.reason }).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/^\/tmp\/k8slab-brk-vol-wipe-pv-01 on k8slab-fake-node, behind the Released k8slab-brk-vol-wipe-pv-01, holds "" in retained.txt, not what pod-volume-3 wrote through pvc-01 \(retain-\w+\): the data was not kept$/),
    });
  }, 300_000);

  const cases: { lesson: Lesson; after: RegExp; run: (ns: string) => string[]; reason: RegExp }[] = [
    {
      // Someone switched the PV to Delete before the claim went away: it is not kept as Released.
      lesson: only('brk-vol-reclaim', ['pvc-delete-retain-released']),
      after: /delete pod pod-volume-3/,
      run: (ns) => [`kubectl patch pv ${ns}-pv-01 -p '{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}'`],
      reason: /went Failed \(reclaim policy Delete\), not Released|reclaim policy is Delete, not Retain|was deleted with its claim/,
    },
    {
      // An administrator clears the old claimRef: the PV is Available again and the new claim takes it.
      lesson: only('brk-vol-reuse', ['pvc-delete-retain-released']),
      after: /apply -f -\n(.|\n)*name: pvc-02/,
      run: (ns) => [`kubectl patch pv ${ns}-pv-01 --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]'`],
      reason: /pvc-02 was bound to k8slab-brk-vol-reuse-pv-01: a Released Retain PV must not be bound again|went (Available|Bound)/,
    },
  ];
  for (const c of cases) {
    it.concurrent(`${c.lesson.checks[0]!.id} (${c.lesson.id})`, async () => {
      let fired: string[] = [];
      const r = await runWithPods(c.lesson, {
        wrap: (inner) => {
          const s = sabotage(inner, [{ after: c.after, run: c.run(`k8slab-${c.lesson.id}`) }]);
          fired = s.fired;
          return s;
        },
      });
      expect(fired).toHaveLength(1);
      expect({ status: r.status, reason: r.reason }).toEqual({ status: 'failed', reason: expect.stringMatching(c.reason) });
    }, 300_000);
  }
});

// Volumes (course notes 000 and 001): emptyDir shared by the containers of a pod, hostPath reaching the
// node's own files, and PV/PVC: binding, data that outlives the pod, reclaim policies.
import { LIMITS } from './limits.js';
import type { CheckContext, Lesson } from './types.js';
import { getOrUndefined, listPods, nodeAffinityFor, pinPodTo, token, waitGone, waitPodsReady } from './lesson-steps.js';
import { isReady, isTerminating } from './k8s.js';
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from './k8s.js';

const LESSON = 'volumes';
const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

/** pv-01.yaml's name: `${namespace}-pv-01`, cluster-scoped and unique to the lesson's namespace. */
const pv01 = (ctx: CheckContext) => `${ctx.ns}-pv-01`;

async function pvPhase(ctx: CheckContext, name: string): Promise<PersistentVolume | undefined> {
  return getOrUndefined<PersistentVolume>(ctx, ['pv', name]);
}

/**
 * pv-01 as the manifest has it; on a cluster with nodes it is also pinned to the first schedulable node,
 * so the pod that mounts it always lands where its hostPath directory (and data) is.
 */
async function applyPv01(ctx: CheckContext): Promise<void> {
  const node = ctx.facts.schedulableNodes[0];
  if (node === undefined) {
    await ctx.apply('pv-01.yaml');
    return;
  }
  await ctx.apply('pv-01.yaml', {
    change: (obj) => {
      (obj['spec'] as Record<string, unknown>)['nodeAffinity'] = nodeAffinityFor(node);
    },
  });
}

async function waitClaimBound(ctx: CheckContext, claim: string, timeoutMs: number = LIMITS.controller): Promise<PersistentVolumeClaim> {
  return ctx.waitFor(
    `PVC ${claim} to be Bound`,
    async () => {
      const pvc = await getOrUndefined<PersistentVolumeClaim>(ctx, ['pvc', claim]);
      return pvc?.status?.phase === 'Bound' ? pvc : undefined;
    },
    { timeoutMs, intervalMs: 1000 },
  );
}

/** pv-01 and pvc-01 exist and are bound to each other (idempotent: later checks start from here). */
async function ensurePvc01Bound(ctx: CheckContext): Promise<void> {
  await applyPv01(ctx);
  await ctx.apply('pvc-01.yaml');
  const pvc = await waitClaimBound(ctx, 'pvc-01');
  if (pvc.spec.volumeName !== pv01(ctx)) ctx.fail(`pvc-01 is bound to ${pvc.spec.volumeName ?? 'nothing'}, not ${pv01(ctx)}`);
}

export const volumes: Lesson = {
  id: LESSON,
  title: 'Volumes: emptyDir, hostPath, PV/PVC',
  source: 'seeds/000 (Volume), seeds/001 (PV status, ReclaimPolicy)',
  dir: LESSON,
  // It creates PersistentVolumes, which any claim of the cluster could bind: run it alone.
  parallelSafe: false,
  checks: [
    {
      id: 'emptydir-shared',
      title: 'emptyDir: a file written by one container is read by the other container of the pod',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ctx.apply('pod-volume-1.yaml');
        await waitPodsReady(ctx, ['pod-volume-1']);
        const secret = token('emptydir');
        await ctx.exec('pod-volume-1', ['sh', '-c', `echo ${secret} > /mount1/shared.txt`], { container: 'container1' });
        const read = await ctx.exec('pod-volume-1', ['cat', '/mount2/shared.txt'], { container: 'container2', allowFailure: true });
        if (read.stdout.trim() !== secret) {
          ctx.fail(`container2 read ${JSON.stringify(read.stdout.trim() || read.stderr.trim())} from /mount2/shared.txt, not what container1 wrote to /mount1 (${secret})`);
        }
        ctx.note(`container1 wrote ${secret} to /mount1/shared.txt; container2 read it from /mount2/shared.txt`);
      },
    },
    {
      id: 'hostpath-node-file',
      title: "hostPath: a pod sees a file that exists on its node, whoever created it",
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        // A first pod creates the node directory and a file in it, then goes away.
        await ctx.apply('node-v-writer.yaml');
        const [writer] = await waitPodsReady(ctx, ['node-v-writer']);
        const node = writer!.spec.nodeName;
        if (!node) ctx.fail('node-v-writer is Ready but has no spec.nodeName');
        const secret = token('hostpath');
        await ctx.exec('node-v-writer', ['sh', '-c', `echo ${secret} > /node-v/hello.txt`]);
        await ctx.kubectl(['delete', 'pod', 'node-v-writer', '--wait=true'], { waitMs: LIMITS.delete });
        ctx.note(`the file was written on node ${node}`);
        // The course's pod (type: Directory, so the directory must already be there) on the same node.
        await ctx.apply('pod-volume-2.yaml', { change: pinPodTo(node) });
        await waitPodsReady(ctx, ['pod-volume-2']);
        const read = await ctx.exec('pod-volume-2', ['cat', '/mount1/hello.txt'], { allowFailure: true });
        if (read.stdout.trim() !== secret) {
          ctx.fail(`pod-volume-2 on ${node} read ${JSON.stringify(read.stdout.trim() || read.stderr.trim())}, not the node's file (${secret})`);
        }
        await ctx.exec('pod-volume-2', ['rm', '-f', '/mount1/hello.txt'], { allowFailure: true });
      },
    },
    {
      id: 'pv-available-then-bound',
      title: 'A PV is Available until a matching PVC claims it, then both are Bound',
      async run(ctx: CheckContext) {
        await applyPv01(ctx);
        await ctx.waitFor(
          `PV ${pv01(ctx)} to be Available`,
          async () => {
            const pv = await pvPhase(ctx, pv01(ctx));
            if (pv?.status?.phase === 'Bound') ctx.fail(`${pv01(ctx)} is already Bound to ${pv.spec.claimRef?.namespace}/${pv.spec.claimRef?.name} before pvc-01 exists`);
            return pv?.status?.phase === 'Available' ? true : undefined;
          },
          { timeoutMs: LIMITS.api },
        );
        await ctx.apply('pvc-01.yaml');
        await waitClaimBound(ctx, 'pvc-01');
        const pv = await ctx.waitFor(
          `PV ${pv01(ctx)} to be Bound to pvc-01`,
          async () => {
            const pv = await pvPhase(ctx, pv01(ctx));
            return pv?.status?.phase === 'Bound' ? pv : undefined;
          },
          { timeoutMs: LIMITS.api },
        );
        const ref = pv.spec.claimRef;
        if (ref?.namespace !== ctx.ns || ref.name !== 'pvc-01') {
          ctx.fail(`${pv01(ctx)} is Bound to ${ref?.namespace}/${ref?.name}, not ${ctx.ns}/pvc-01`);
        }
        ctx.note(`${pv01(ctx)}: Available -> Bound (claim ${ctx.ns}/pvc-01)`);
      },
    },
    {
      id: 'pvc-binds-by-size-and-mode',
      title: 'A claim with no selector binds by size and access mode: 3Gi RWO gets the 5Gi RWO volume, 2Gi RWX the RWX one, 20Gi stays Pending',
      async run(ctx: CheckContext) {
        await ctx.apply('pv-match.yaml');
        await ctx.apply('pvc-match.yaml');
        const want = { 'pvc-3g-rwo': `${ctx.ns}-pv-big`, 'pvc-2g-rwx': `${ctx.ns}-pv-shared` };
        for (const [claim, volume] of Object.entries(want)) {
          const pvc = await waitClaimBound(ctx, claim);
          if (pvc.spec.volumeName !== volume) ctx.fail(`${claim} was bound to ${pvc.spec.volumeName ?? 'nothing'}, not ${volume} (the only volume with room and its access mode)`);
        }
        // No volume is big enough for 20Gi: the claim must wait, and pv-small (1Gi) stays free.
        await ctx.holds('pvc-20g stays Pending and pv-small stays Available', async () => {
          const big = await getOrUndefined<PersistentVolumeClaim>(ctx, ['pvc', 'pvc-20g']);
          if (big?.status?.phase === 'Bound') return `pvc-20g was bound to ${big.spec.volumeName ?? '?'}, although none of the lesson's volumes holds 20Gi`;
          const small = await pvPhase(ctx, `${ctx.ns}-pv-small`);
          return small?.status?.phase === 'Available' ? undefined : `${ctx.ns}-pv-small is ${small?.status?.phase ?? 'gone'}, not Available`;
        }, { forMs: LIMITS.claimQuiet });
        ctx.note(`pvc-3g-rwo -> pv-big (5Gi RWO); pvc-2g-rwx -> pv-shared (10Gi RWX); pvc-20g Pending and pv-small (1Gi) Available for ${Math.round(LIMITS.claimQuiet / 1000)}s`);
      },
    },
    {
      id: 'emptydir-gone-with-pod',
      title: "emptyDir lives as long as its pod: a re-created pod-volume-1 starts with an empty directory",
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ctx.apply('pod-volume-1.yaml');
        const [first] = await waitPodsReady(ctx, ['pod-volume-1']);
        const firstUid = first!.metadata.uid;
        const secret = token('emptydir');
        await ctx.exec('pod-volume-1', ['sh', '-c', `echo ${secret} > /mount1/shared.txt`], { container: 'container1' });
        await ctx.kubectl(['delete', 'pod', 'pod-volume-1', '--wait=true'], { waitMs: LIMITS.delete });
        await ctx.apply('pod-volume-1.yaml');
        // The new pod has the old one's name: it is told from the old one by its uid.
        const pod = await ctx.waitFor(
          `a new pod-volume-1 (not uid ${firstUid}) to be Ready`,
          async () => {
            const pod = await getOrUndefined<Pod>(ctx, ['pod', 'pod-volume-1']);
            return pod !== undefined && pod.metadata.uid !== firstUid && isReady(pod) && !isTerminating(pod) ? pod : undefined;
          },
          { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
        );
        const ls = await ctx.exec('pod-volume-1', ['ls', '-A', '/mount1'], { container: 'container1' });
        const listing = ls.stdout.trim();
        if (listing !== '') ctx.fail(`the new pod-volume-1 found ${JSON.stringify(listing)} in its emptyDir: the old pod's data outlived it`);
        ctx.note(`pod-volume-1 (uid ${firstUid}) wrote ${secret}; after delete and re-create, the new pod (uid ${pod.metadata.uid}) finds /mount1 empty`);
      },
    },
    {
      id: 'hostpath-per-node',
      title: 'hostPath data belongs to one node: a pod on another node does not see the file',
      needs: ['nodes', 'multiNode'],
      async run(ctx: CheckContext) {
        const [a, b] = ctx.facts.schedulableNodes;
        if (a === undefined || b === undefined) ctx.fail('fewer than two schedulable nodes');
        const secret = token('hostpath');
        await ctx.apply('node-v-writer.yaml', { change: pinPodTo(a) });
        await waitPodsReady(ctx, ['node-v-writer']);
        await ctx.exec('node-v-writer', ['sh', '-c', `echo ${secret} > /node-v/per-node.txt`]);
        await ctx.kubectl(['delete', 'pod', 'node-v-writer', '--wait=true'], { waitMs: LIMITS.delete });
        await ctx.apply('node-v-writer.yaml', { change: pinPodTo(b) });
        await waitPodsReady(ctx, ['node-v-writer']);
        const read = await ctx.exec('node-v-writer', ['sh', '-c', 'cat /node-v/per-node.txt 2>/dev/null || true']);
        if (read.stdout.includes(secret)) ctx.fail(`a pod on ${b} read ${secret}, written by a pod on ${a}: the hostPath is shared, not per node`);
        await ctx.kubectl(['delete', 'pod', 'node-v-writer', '--wait=true'], { waitMs: LIMITS.delete });
        // Leave no file behind on the first node.
        await ctx.apply('node-v-writer.yaml', { change: pinPodTo(a) });
        await waitPodsReady(ctx, ['node-v-writer']);
        const there = await ctx.exec('node-v-writer', ['sh', '-c', 'cat /node-v/per-node.txt; rm -f /node-v/per-node.txt']);
        if (!there.stdout.includes(secret)) ctx.fail(`the file written on ${a} was gone from ${a} too: ${JSON.stringify(there.stdout.trim())}`);
        ctx.note(`${a} keeps /node-v/per-node.txt (${secret}); a pod on ${b} does not see it`);
      },
    },
    {
      id: 'pv-data-survives-pod',
      title: 'Data on a PVC survives deleting and re-creating the pod',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ensurePvc01Bound(ctx);
        await ctx.apply('pod-volume-3.yaml');
        const [first] = await waitPodsReady(ctx, ['pod-volume-3']);
        const secret = token('pvc');
        await ctx.exec('pod-volume-3', ['sh', '-c', `echo ${secret} > /volume/data.txt`]);
        await ctx.kubectl(['delete', 'pod', 'pod-volume-3', '--wait=true'], { waitMs: LIMITS.delete });
        await ctx.apply('pod-volume-3.yaml');
        const [second] = await waitPodsReady(ctx, ['pod-volume-3']);
        if (second!.metadata.uid === first!.metadata.uid) ctx.fail('pod-volume-3 was not re-created (same uid)');
        const read = await ctx.exec('pod-volume-3', ['cat', '/volume/data.txt'], { allowFailure: true });
        if (read.stdout.trim() !== secret) {
          ctx.fail(`the new pod-volume-3 read ${JSON.stringify(read.stdout.trim() || read.stderr.trim())}, not what the old one wrote (${secret})`);
        }
        ctx.note(`pod-volume-3 ran on ${first!.spec.nodeName}, then on ${second!.spec.nodeName}; the data stayed`);
      },
    },
    {
      id: 'deployment-shares-pvc',
      title: 'The pods of a Deployment that mount one PVC see the same data',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ensurePvc01Bound(ctx);
        await ctx.apply('deploy-shared-pvc.yaml');
        const pods = await ctx.waitFor(
          '2 Ready pods of deployment shared-pvc',
          async () => {
            const list = (await listPods(ctx, 'app=shared-pvc')).filter((p) => !isTerminating(p));
            return list.length === 2 && list.every(isReady) ? list : undefined;
          },
          { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
        );
        const [a, b] = pods.map((p) => p.metadata.name) as [string, string];
        const secret = token('shared');
        await ctx.exec(a, ['sh', '-c', `echo ${secret} > /shared/from-${a}.txt`]);
        const read = await ctx.exec(b, ['cat', `/shared/from-${a}.txt`], { allowFailure: true });
        if (read.stdout.trim() !== secret) ctx.fail(`${b} read ${JSON.stringify(read.stdout.trim() || read.stderr.trim())}, not what ${a} wrote to the shared claim (${secret})`);
        await ctx.exec(b, ['rm', '-f', `/shared/from-${a}.txt`], { allowFailure: true });
        // The claim is deleted by a later check: its pods must be gone first.
        await ctx.kubectl(['delete', 'deployment', 'shared-pvc', '--wait=true'], { waitMs: LIMITS.delete });
        await ctx.waitFor('the pods of shared-pvc to be gone', async () => ((await listPods(ctx, 'app=shared-pvc')).length === 0 ? true : undefined), { timeoutMs: LIMITS.delete });
        ctx.note(`${a} wrote ${secret} to pvc-01; ${b} read it (both on ${pods[0]!.spec.nodeName})`);
      },
    },
    {
      id: 'pvc-delete-retain-released',
      title: 'Deleting the PVC leaves a Retain PV Released: its data is kept, and a new claim that matches it is not bound to it',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ensurePvc01Bound(ctx);
        // Data written through the claim, before the claim goes.
        await ctx.apply('pod-volume-3.yaml');
        const [writer] = await waitPodsReady(ctx, ['pod-volume-3']);
        const node = writer!.spec.nodeName;
        if (!node) ctx.fail('pod-volume-3 is Ready but has no spec.nodeName');
        const secret = token('retain');
        await ctx.exec('pod-volume-3', ['sh', '-c', `echo ${secret} > /volume/retained.txt`]);
        await ctx.kubectl(['delete', 'pod', 'pod-volume-3', '--wait=true'], { waitMs: LIMITS.delete });
        await ctx.kubectl(['delete', 'pvc', 'pvc-01', '--wait=true'], { waitMs: LIMITS.delete });
        const pv = await ctx.waitFor(
          `PV ${pv01(ctx)} to be Released`,
          async () => {
            const pv = await pvPhase(ctx, pv01(ctx));
            if (pv === undefined) ctx.fail(`${pv01(ctx)} was deleted with its claim: a Retain PV must stay`);
            if (pv.status?.phase === 'Failed' || pv.status?.phase === 'Available') {
              ctx.fail(`${pv01(ctx)} went ${pv.status.phase} (reclaim policy ${pv.spec.persistentVolumeReclaimPolicy}), not Released`);
            }
            return pv.status?.phase === 'Released' ? pv : undefined;
          },
          { timeoutMs: LIMITS.controller },
        );
        if (pv.spec.persistentVolumeReclaimPolicy !== 'Retain') {
          ctx.fail(`${pv01(ctx)} is Released but its reclaim policy is ${pv.spec.persistentVolumeReclaimPolicy}, not Retain`);
        }
        // Not bound again: a new claim that matches it in every way (selector, size, access mode) stays Pending.
        await ctx.apply('pvc-01.yaml', { change: (obj) => ((obj['metadata'] as Record<string, unknown>)['name'] = 'pvc-02') });
        await ctx.holds(`a new claim pvc-02 stays Pending and ${pv01(ctx)} stays Released`, async () => {
          const claim = await getOrUndefined<PersistentVolumeClaim>(ctx, ['pvc', 'pvc-02']);
          if (claim?.status?.phase === 'Bound') return `pvc-02 was bound to ${claim.spec.volumeName ?? '?'}: a Released Retain PV must not be bound again`;
          const now = await pvPhase(ctx, pv01(ctx));
          return now?.status?.phase === 'Released' ? undefined : `${pv01(ctx)} went ${now?.status?.phase ?? 'away'}`;
        }, { forMs: LIMITS.claimQuiet });
        // Kept: no claim can reach the volume now, so a pod on its node mounts the directory behind it.
        const path = pv.spec.hostPath?.path;
        if (!path) ctx.fail(`${pv01(ctx)} has no hostPath to read the kept data from`);
        await ctx.apply('pv-reader.yaml', {
          change: (obj) => {
            pinPodTo(node)(obj);
            const volumes = (obj['spec'] as { volumes: { hostPath: { path: string } }[] }).volumes;
            volumes[0]!.hostPath.path = path;
          },
        });
        await waitPodsReady(ctx, ['pv-reader']);
        const read = await ctx.exec('pv-reader', ['sh', '-c', 'cat /pv/retained.txt 2>/dev/null || true']);
        if (read.stdout.trim() !== secret) {
          ctx.fail(`${path} on ${node}, behind the Released ${pv01(ctx)}, holds ${JSON.stringify(read.stdout.trim())} in retained.txt, not what pod-volume-3 wrote through pvc-01 (${secret}): the data was not kept`);
        }
        await ctx.exec('pv-reader', ['rm', '-f', '/pv/retained.txt'], { allowFailure: true });
        ctx.note(
          `${pv01(ctx)}: Bound -> Released, still naming its old claim ${pv.spec.claimRef?.namespace}/${pv.spec.claimRef?.name}; a matching new claim pvc-02 stayed Pending for ${Math.round(LIMITS.claimQuiet / 1000)}s; ${path} on ${node} still holds ${secret}`,
        );
      },
    },
    {
      id: 'dynamic-delete',
      title: 'A dynamically provisioned PV (reclaim policy Delete) goes away with its PVC',
      needs: ['defaultStorageClass'],
      async run(ctx: CheckContext) {
        const classes = await ctx.kubectlJson<{ items: StorageClass[] }>(['get', 'storageclass']);
        const def = classes.items.find((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
        if (!def) ctx.fail(`no StorageClass carries ${DEFAULT_CLASS_ANNOTATION}=true`);
        if ((def.reclaimPolicy ?? 'Delete') !== 'Delete') {
          ctx.fail(
            `the default StorageClass ${def.metadata.name} uses reclaimPolicy ${def.reclaimPolicy}, not Delete as the course's dynamic provisioning does`,
            `see \`kubectl get storageclass ${def.metadata.name} -o yaml\`; k8slab's storage providers (addons.storage.provider) use Delete`,
          );
        }
        const waitsForPod = def.volumeBindingMode === 'WaitForFirstConsumer';
        if (waitsForPod && !ctx.facts.capabilities.has('nodes')) {
          ctx.fail(`the default StorageClass ${def.metadata.name} provisions only for a running pod (WaitForFirstConsumer) and no node runs pods`);
        }
        await ctx.apply('pvc-dynamic.yaml');
        if (waitsForPod) await ctx.apply('pod-dynamic.yaml');
        const pvc = await waitClaimBound(ctx, 'pvc-dynamic', LIMITS.provision);
        const pvName = pvc.spec.volumeName;
        if (!pvName) ctx.fail('pvc-dynamic is Bound but names no volume');
        const pv = await pvPhase(ctx, pvName);
        if (pv?.spec.persistentVolumeReclaimPolicy !== 'Delete') {
          ctx.fail(`${pvName} was provisioned with reclaim policy ${pv?.spec.persistentVolumeReclaimPolicy}, not Delete`);
        }
        ctx.note(`${def.metadata.name} (${def.provisioner}) provisioned ${pvName}`);
        if (waitsForPod) await ctx.kubectl(['delete', 'pod', 'pod-dynamic', '--wait=true'], { waitMs: LIMITS.delete });
        await ctx.kubectl(['delete', 'pvc', 'pvc-dynamic', '--wait=true'], { waitMs: LIMITS.delete });
        await waitGone(ctx, 'pv', pvName, LIMITS.wait);
      },
    },
  ],
};

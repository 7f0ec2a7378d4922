// StatefulSet (course notes 004): ordinal names created in order and removed from the top, a stable
// identity (name, claim, DNS name) that survives deletion and scaling, and one PVC per pod.
import { LIMITS } from './limits.js';
import type { CheckContext, Lesson } from './types.js';
import {
  claimsOf,
  getOrUndefined,
  listPods,
  nodeAffinityFor,
  splitJsonStream,
  token,
  waitGone,
  waitPodsReady,
} from './lesson-steps.js';
import { resolveName } from './probes.js';
import { isTerminating, type Meta, type Pod } from './k8s.js';

const LESSON = 'statefulset';
const STS = 'myweb-sts';
const VOL_STS = 'myweb-sts-vol';
const STS_SELECTOR = 'app=web,env=dev';
const TEMPLATE = 'myweb-pvc';
/** Ordinals myweb-sts-vol ever reaches in this lesson; setup pre-creates a PV for each when needed. */
const VOL_ORDINALS = [0, 1, 2];

/** Checks that wait for real pods (image pulls, one pod at a time): longer than the runner's default. */
const POD_CHECK_TIMEOUT_MS = LIMITS.longCheck;
/** Tolerated difference between the API server's and a node's clock when comparing their timestamps. */
const CLOCK_SKEW_MS = 2000;

const stsPod = (i: number) => `${STS}-${i}`;
const volPod = (i: number) => `${VOL_STS}-${i}`;
const volClaim = (i: number) => `${TEMPLATE}-${VOL_STS}-${i}`;

interface Claim {
  metadata: Meta;
  status?: { phase?: string };
}

/**
 * Without a default StorageClass nothing would provision the claims of volumeClaimTemplates, so the
 * lesson plays the administrator: one hostPath PV per claim, pre-bound to it (claimRef) so no other
 * claim can take it, and pinned to a node so the pod always finds its directory again.
 */
export function claimVolumes(ns: string, nodes: readonly string[]): object[] {
  return VOL_ORDINALS.map((i) => {
    const node = nodes.length > 0 ? nodes[i % nodes.length] : undefined;
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `${ns}-${TEMPLATE}-${i}` },
      spec: {
        capacity: { storage: '1G' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        claimRef: { namespace: ns, name: volClaim(i) },
        hostPath: { path: `/tmp/${ns}-${TEMPLATE}-${i}`, type: 'DirectoryOrCreate' },
        ...(node === undefined ? {} : { nodeAffinity: nodeAffinityFor(node) }),
      },
    };
  });
}

/** myweb-sts (and its Service) applied and scaled to 3 Ready pods. */
async function ensureSts(ctx: CheckContext): Promise<Pod[]> {
  await ctx.apply('myweb-svc-headless.yaml');
  await ctx.apply('myweb-sts.yaml');
  await ctx.kubectl(['scale', `statefulset/${STS}`, '--replicas=3']);
  return waitPodsReady(ctx, [0, 1, 2].map(stsPod), LIMITS.podsInOrder);
}

/** myweb-sts-vol scaled to 3 Ready pods: pod objects alone (Pending on a cluster that runs nothing) prove nothing. */
async function ensureVolSts(ctx: CheckContext): Promise<Pod[]> {
  await ctx.apply('myweb-vol-headless.yaml');
  await ctx.apply('myweb-sts-vol.yaml');
  await ctx.kubectl(['scale', `statefulset/${VOL_STS}`, '--replicas=3']);
  return waitPodsReady(ctx, VOL_ORDINALS.map(volPod), LIMITS.podsInOrder);
}

/** The claim's uid, or undefined when it is gone or being deleted (a terminating claim is not "kept"). */
async function claimUid(ctx: CheckContext, claim: string): Promise<string | undefined> {
  const pvc = await getOrUndefined<Claim>(ctx, ['pvc', claim]);
  return pvc && pvc.metadata.deletionTimestamp === undefined ? pvc.metadata.uid : undefined;
}

/** Waits until pod NAME exists again as a new pod (uid other than `oldUid`) and returns it. */
async function waitRecreated(ctx: CheckContext, name: string, oldUid: string | undefined): Promise<Pod> {
  const pod = await ctx.waitFor(
    `${name} to be created again`,
    async () => {
      const p = await getOrUndefined<Pod>(ctx, ['pod', name]);
      return p && p.metadata.uid !== oldUid && !isTerminating(p) ? p : undefined;
    },
    { timeoutMs: LIMITS.wait },
  );
  return (await waitPodsReady(ctx, [pod.metadata.name]))[0]!;
}

async function readData(ctx: CheckContext, pod: string): Promise<string> {
  const res = await ctx.exec(pod, ['sh', '-c', 'cat /data/owner.txt 2>/dev/null || true']);
  return res.stdout.trim();
}

interface WatchEvent {
  type: string;
  object: Pod;
}

/**
 * From a pod watch, the order in which pods started terminating and were deleted. Returns a problem
 * description, or undefined when `order` pods went away one at a time, highest first.
 */
export function scaleDownProblem(events: readonly WatchEvent[], order: readonly string[]): string | undefined {
  const firstTerminating = (name: string) =>
    events.findIndex((e) => e.object.metadata.name === name && (e.type === 'DELETED' || e.object.metadata.deletionTimestamp !== undefined));
  const deleted = (name: string) => events.findIndex((e) => e.type === 'DELETED' && e.object.metadata.name === name);
  for (const name of order) if (deleted(name) < 0) return `the watch never saw ${name} deleted`;
  for (let k = 1; k < order.length; k++) {
    const prev = order[k - 1]!;
    const cur = order[k]!;
    if (firstTerminating(cur) < deleted(prev)) return `${cur} started terminating before ${prev} was gone`;
  }
  return undefined;
}

export const statefulset: Lesson = {
  id: LESSON,
  title: 'StatefulSet: ordinals, ordered scaling, stable identity, volumeClaimTemplates',
  source: 'seeds/004 (Headless, StatefulSet, volumeClaimTemplates)',
  dir: LESSON,
  // Its PVs (if any) are pre-bound to this lesson's claims, so it does not disturb other lessons.
  parallelSafe: true,
  async setup(ctx: CheckContext) {
    if (ctx.facts.capabilities.has('defaultStorageClass')) return;
    ctx.note('no default StorageClass: pre-creating one hostPath PV per claim of myweb-sts-vol');
    await ctx.applyObjects(claimVolumes(ctx.ns, ctx.facts.schedulableNodes), 'claim volumes');
  },
  checks: [
    {
      id: 'ordered-creation',
      timeoutMs: POD_CHECK_TIMEOUT_MS,
      title: 'Pods are named myweb-sts-0..2 and each is created only after the previous one is Ready',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        const pods = await ensureSts(ctx);
        const all = (await listPods(ctx, 'app=web,env=dev')).filter((p) => !isTerminating(p)).map((p) => p.metadata.name);
        if (all.join(',') !== [0, 1, 2].map(stsPod).join(',')) ctx.fail(`the StatefulSet's pods are ${all.join(', ')}, not myweb-sts-0, -1, -2`);
        const readyAt = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '';
        for (let k = 1; k < pods.length; k++) {
          const prev = pods[k - 1]!;
          const cur = pods[k]!;
          const created = Date.parse(cur.metadata.creationTimestamp ?? '');
          const prevCreated = Date.parse(prev.metadata.creationTimestamp ?? '');
          const prevReady = Date.parse(readyAt(prev));
          // Timestamps have one-second resolution and Ready comes from the node's clock, so allow some skew;
          // but a pod created in the same second as its predecessor, which was Ready only later, was not waiting.
          const together = created <= prevCreated && prevReady > created;
          if (together || created < prevReady - CLOCK_SKEW_MS) {
            ctx.fail(`${cur.metadata.name} was created at ${cur.metadata.creationTimestamp}, before ${prev.metadata.name} was Ready (${readyAt(prev)})`);
          }
          ctx.note(`${prev.metadata.name} Ready ${readyAt(prev)} -> ${cur.metadata.name} created ${cur.metadata.creationTimestamp}`);
        }
      },
    },
    {
      id: 'per-pod-dns',
      timeoutMs: POD_CHECK_TIMEOUT_MS,
      title: 'Each pod has a DNS name through the headless service: myweb-sts-N.myweb-svc-headless',
      needs: ['nodes', 'dns'],
      async run(ctx: CheckContext) {
        const pods = await ensureSts(ctx);
        await ctx.apply('nettool.yaml');
        await waitPodsReady(ctx, ['nettool']);
        for (const pod of pods) {
          const name = `${pod.metadata.name}.myweb-svc-headless`;
          const ip = pod.status?.podIP;
          const got = await ctx.waitFor(
            `${name} to resolve to ${ip}`,
            async () => {
              const addrs = await resolveName(ctx, 'nettool', name);
              return addrs.length === 1 && addrs[0] === ip ? addrs : undefined;
            },
            { timeoutMs: LIMITS.traffic, intervalMs: 3000 },
          );
          ctx.note(`${name} -> ${got.join(', ')}`);
        }
        const all = await resolveName(ctx, 'nettool', 'myweb-svc-headless');
        const ips = pods.map((p) => p.status?.podIP ?? '').sort();
        if (all.join(',') !== ips.join(',')) ctx.fail(`myweb-svc-headless resolves to ${all.join(', ') || 'nothing'}, not the pod IPs ${ips.join(', ')}`);
        ctx.note(`myweb-svc-headless -> ${all.join(', ')} (the pod IPs, no cluster IP)`);
      },
    },
    {
      id: 'scale-down-order',
      timeoutMs: POD_CHECK_TIMEOUT_MS,
      title: 'Scaling down removes the highest ordinal first, one pod at a time',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ensureSts(ctx);
        // The list's resourceVersion marks the moment before the scale-down. A watch from it, opened once the
        // pods are gone, replays every change since then in the API server's own order: no race with the
        // watch's start, and the order is the server's sequence, not clock readings.
        const path = `/api/v1/namespaces/${ctx.ns}/pods`;
        const selector = `labelSelector=${encodeURIComponent(STS_SELECTOR)}`;
        // --raw: kubectl's own `get pods -o json` wraps the items in a List without the server's resourceVersion.
        const before = JSON.parse((await ctx.kubectl(['get', '--raw', `${path}?${selector}`])).stdout) as { metadata?: { resourceVersion?: string } };
        const from = before.metadata?.resourceVersion;
        if (!from) ctx.fail(`GET ${path} returned no resourceVersion to replay the scale-down from`);
        await ctx.kubectl(['scale', `statefulset/${STS}`, '--replicas=1']);
        await waitGone(ctx, 'pod', stsPod(1), LIMITS.scaleDown);
        const seconds = Math.ceil(ctx.scaled(LIMITS.replay) / 1000);
        const replay = await ctx.kubectl(['get', '--raw', `${path}?watch=1&${selector}&resourceVersion=${from}&timeoutSeconds=${seconds}`], { allowFailure: true });
        const events = splitJsonStream(replay.stdout) as WatchEvent[];
        const error = events.find((e) => e.type === 'ERROR');
        if (error) {
          ctx.fail(
            `the watch from resourceVersion ${from} could not replay the scale-down: ${(error.object as unknown as { message?: string }).message ?? 'ERROR event'}`,
            'the API server keeps a short history of changes; see its --watch-cache flags, or run the check again',
          );
        }
        const seen = events.map((e) => `${e.type} ${e.object.metadata.name}${e.object.metadata.deletionTimestamp ? ' (terminating)' : ''}`);
        ctx.note(`watch from resourceVersion ${from}: ${seen.join('; ')}`);
        const problem = scaleDownProblem(events, [stsPod(2), stsPod(1)]);
        if (problem) ctx.fail(problem);
        const left = (await listPods(ctx, 'app=web,env=dev')).map((p) => p.metadata.name);
        if (left.join(',') !== stsPod(0)) ctx.fail(`after scaling to 1, the pods are ${left.join(', ')}, not ${stsPod(0)}`);
      },
    },
    {
      id: 'pod-fqdn',
      timeoutMs: POD_CHECK_TIMEOUT_MS,
      title: 'Each pod answers to its full name myweb-sts-N.myweb-svc-headless.<namespace>.svc.cluster.local',
      needs: ['nodes', 'dns'],
      async run(ctx: CheckContext) {
        const pods = await ensureSts(ctx);
        await ctx.apply('nettool.yaml');
        await waitPodsReady(ctx, ['nettool']);
        const seen: string[] = [];
        for (const pod of pods) {
          const fqdn = `${pod.metadata.name}.myweb-svc-headless.${ctx.ns}.svc.cluster.local`;
          const ip = pod.status?.podIP;
          await ctx.waitFor(
            `${fqdn} to resolve to ${ip}`,
            async () => {
              const addrs = await resolveName(ctx, 'nettool', fqdn);
              return addrs.length === 1 && addrs[0] === ip ? addrs : undefined;
            },
            { timeoutMs: LIMITS.traffic, intervalMs: 3000 },
          );
          seen.push(`${fqdn} -> ${ip}`);
        }
        ctx.note(seen.join('; '));
      },
    },
    {
      id: 'headless-follows-scale',
      timeoutMs: POD_CHECK_TIMEOUT_MS,
      title: 'After scaling to 5, the headless Service answers with the 5 pod IPs',
      needs: ['nodes', 'dns'],
      async run(ctx: CheckContext) {
        await ensureSts(ctx);
        await ctx.apply('nettool.yaml');
        await waitPodsReady(ctx, ['nettool']);
        await ctx.kubectl(['scale', `statefulset/${STS}`, '--replicas=5']);
        const pods = await waitPodsReady(ctx, [0, 1, 2, 3, 4].map(stsPod), LIMITS.podsInOrder);
        const ips = pods.map((p) => p.status?.podIP ?? '').sort();
        const got = await ctx.waitFor(
          `myweb-svc-headless to resolve to the 5 pod IPs`,
          async () => {
            const addrs = await resolveName(ctx, 'nettool', 'myweb-svc-headless');
            return addrs.join(',') === ips.join(',') ? addrs : undefined;
          },
          { timeoutMs: LIMITS.traffic, intervalMs: 3000 },
        );
        ctx.note(`5 replicas: myweb-svc-headless -> ${got.join(', ')}`);
      },
    },
    {
      id: 'pvc-per-pod',
      timeoutMs: POD_CHECK_TIMEOUT_MS,
      title: 'volumeClaimTemplates give each Ready pod its own PVC, kept after scale-down and reused after scale-up',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        const pods = await ensureVolSts(ctx);
        const named = (await listPods(ctx, 'app=web-vol')).filter((p) => !isTerminating(p)).map((p) => p.metadata.name);
        if (named.join(',') !== VOL_ORDINALS.map(volPod).join(',')) ctx.fail(`the pods are ${named.join(', ')}, not ${VOL_ORDINALS.map(volPod).join(', ')}`);
        for (const i of VOL_ORDINALS) {
          const pod = pods.find((p) => p.metadata.name === volPod(i));
          const claims = pod ? claimsOf(pod) : [];
          if (claims.join(',') !== volClaim(i)) ctx.fail(`${volPod(i)} mounts [${claims.join(', ')}], not its own claim ${volClaim(i)}`);
        }
        const uids = await Promise.all(VOL_ORDINALS.map((i) => claimUid(ctx, volClaim(i))));
        if (uids.some((u) => u === undefined)) ctx.fail(`missing claims: ${VOL_ORDINALS.filter((i) => uids[i] === undefined).map(volClaim).join(', ')}`);
        const last = VOL_ORDINALS.length - 1;
        const lastPod = pods.find((p) => p.metadata.name === volPod(last));

        await ctx.kubectl(['scale', `statefulset/${VOL_STS}`, `--replicas=${last}`]);
        await waitGone(ctx, 'pod', volPod(last));
        const kept = await claimUid(ctx, volClaim(last));
        if (kept !== uids[last]) ctx.fail(`${volClaim(last)} was ${kept === undefined ? 'deleted' : 'replaced'} when ${volPod(last)} was scaled away`);
        ctx.note(`scaled to ${last}: ${volPod(last)} gone, ${volClaim(last)} kept`);

        await ctx.kubectl(['scale', `statefulset/${VOL_STS}`, `--replicas=${last + 1}`]);
        const back = await waitRecreated(ctx, volPod(last), lastPod?.metadata.uid);
        if (claimsOf(back).join(',') !== volClaim(last)) ctx.fail(`the new ${volPod(last)} mounts [${claimsOf(back).join(', ')}], not ${volClaim(last)}`);
        if ((await claimUid(ctx, volClaim(last))) !== uids[last]) ctx.fail(`${volClaim(last)} is a new claim, not the one kept`);
        ctx.note(`scaled to ${last + 1}: ${volPod(last)} is back on the same ${volClaim(last)}`);
      },
    },
    {
      id: 'same-identity-after-delete',
      timeoutMs: POD_CHECK_TIMEOUT_MS,
      title: 'A deleted pod comes back Ready with the same name and the same PVC',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        const pods = await ensureVolSts(ctx);
        const victim = pods.find((p) => p.metadata.name === volPod(1));
        if (!victim) ctx.fail(`${volPod(1)} does not exist`);
        const claims = claimsOf(victim);
        if (claims.length === 0) ctx.fail(`${volPod(1)} mounts no PVC`);
        const uid = await claimUid(ctx, claims[0]!);
        await ctx.kubectl(['delete', 'pod', volPod(1), '--wait=false']);
        const back = await waitRecreated(ctx, volPod(1), victim.metadata.uid);
        if (claimsOf(back).join(',') !== claims.join(',')) ctx.fail(`the new ${volPod(1)} mounts [${claimsOf(back).join(', ')}], not [${claims.join(', ')}]`);
        if ((await claimUid(ctx, claims[0]!)) !== uid) ctx.fail(`${claims[0]} was replaced by a new claim`);
        ctx.note(`${volPod(1)}: uid ${victim.metadata.uid} -> ${back.metadata.uid}, same claim ${claims[0]}`);
      },
    },
    {
      id: 'pvc-data-kept',
      timeoutMs: POD_CHECK_TIMEOUT_MS,
      title: "Each pod's data stays its own: a file is still there after deleting the pod and after scaling down and up",
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ensureVolSts(ctx);
        const marks = new Map(VOL_ORDINALS.map((i) => [i, token(`pod${i}`)] as const));
        for (const [i, mark] of marks) await ctx.exec(volPod(i), ['sh', '-c', `echo ${mark} > /data/owner.txt`]);
        for (const i of VOL_ORDINALS) {
          const read = await readData(ctx, volPod(i));
          if (read !== marks.get(i)) ctx.fail(`${volPod(i)} reads ${JSON.stringify(read)} from /data/owner.txt, not its own ${marks.get(i)}: the pods share a volume`);
        }
        // Deleted pod: same claim, same file.
        const first = await getOrUndefined<Pod>(ctx, ['pod', volPod(0)]);
        await ctx.kubectl(['delete', 'pod', volPod(0), '--wait=false']);
        await waitRecreated(ctx, volPod(0), first?.metadata.uid);
        const after0 = await readData(ctx, volPod(0));
        if (after0 !== marks.get(0)) ctx.fail(`the re-created ${volPod(0)} reads ${JSON.stringify(after0)}, not ${marks.get(0)}`);
        // Scaled away and back: same claim, same file.
        const last = VOL_ORDINALS.length - 1;
        const lastPod = await getOrUndefined<Pod>(ctx, ['pod', volPod(last)]);
        await ctx.kubectl(['scale', `statefulset/${VOL_STS}`, `--replicas=${last}`]);
        await waitGone(ctx, 'pod', volPod(last));
        await ctx.kubectl(['scale', `statefulset/${VOL_STS}`, `--replicas=${last + 1}`]);
        await waitRecreated(ctx, volPod(last), lastPod?.metadata.uid);
        const afterLast = await readData(ctx, volPod(last));
        if (afterLast !== marks.get(last)) ctx.fail(`${volPod(last)} after scale-down and up reads ${JSON.stringify(afterLast)}, not ${marks.get(last)}`);
        ctx.note(`each pod kept its own /data/owner.txt (${[...marks.values()].join(', ')})`);
      },
    },
  ],
};

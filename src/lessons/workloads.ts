// Workloads (course notes 002 and 003): label selectors, ReplicaSet self-healing, DaemonSet, Job and
// CronJob, liveness and readiness probes, Deployment rollout and undo, cordon and drain.
import { LIMITS } from './limits.js';
import type { CheckContext, Lesson } from './types.js';
import type { ImageKey } from '../config/images.js';
import { getOrUndefined, listPods, waitPodsReady } from './lesson-steps.js';
import { hostnameOf, requireImages, wgetCommand } from './probes.js';
import { isReady, isTerminating, restarts, type Condition, type Endpoints, type List, type Meta, type Node, type Pod } from './k8s.js';

const LESSON = 'workloads';
/** Marks a node this lesson cordoned, so cleanup (even a later run's) can always uncordon it. */
export const CORDON_ANNOTATION = 'k8slab.io/cordoned-by';
/** The node label ds-selected's nodeSelector names (value: the lesson's namespace); cleanup removes it. */
export const DS_ELIGIBLE_LABEL = 'k8slab.io/ds-eligible';

interface Controller {
  metadata: Meta & { generation?: number };
  spec: { replicas?: number; paused?: boolean; template: { spec: { containers: { name: string; image: string }[] } } };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    numberReady?: number;
    succeeded?: number;
    conditions?: Condition[];
  };
}
/** The set-based selectors of the course and the pods each must select (of the four in selector-pods.yaml). */
export const SELECTOR_CASES: readonly { selector: string; expect: readonly string[] }[] = [
  { selector: 'env in (prod,devel)', expect: ['pod-devel', 'pod-prod'] },
  { selector: 'env notin (prod,devel)', expect: ['pod-noenv', 'pod-qa'] },
  { selector: 'env', expect: ['pod-devel', 'pod-prod', 'pod-qa'] },
  { selector: '!env', expect: ['pod-noenv'] },
];

/** The image to roll out to: the first lesson image that differs from `app` (overrides may merge some). */
export function rolloutTarget(images: Readonly<Record<ImageKey, string>>): string | undefined {
  const candidates: ImageKey[] = ['myweb', 'tools', 'nginx', 'busybox'];
  return candidates.map((k) => images[k]).find((image) => image !== images.app);
}

const live = (pods: Pod[]) => pods.filter((p) => !isTerminating(p));
const names = (pods: Pod[]) => pods.map((p) => p.metadata.name).sort();
const ownedBy = (uid: string) => (p: Pod) => p.metadata.ownerReferences?.some((o) => o.uid === uid && o.controller) ?? false;

function imageOf(obj: Controller): string | undefined {
  return obj.spec.template.spec.containers[0]?.image;
}

async function replicaSetsOf(ctx: CheckContext, deployment: Controller): Promise<Controller[]> {
  const all = await ctx.kubectlJson<List<Controller>>(['get', 'replicasets']);
  return all.items.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === deployment.metadata.uid));
}

const revision = (obj: Controller) => Number(obj.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);

/**
 * Waits until the Deployment's newest ReplicaSet (highest revision) runs `image`; with nodes, also until
 * the rollout is finished and every pod runs it. Returns that revision.
 */
async function waitRevisionWith(ctx: CheckContext, image: string): Promise<number> {
  const rev = await ctx.waitFor(
    `deployment rollout-app's newest ReplicaSet to run ${image}`,
    async () => {
      const dep = await ctx.kubectlJson<Controller>(['get', 'deployment', 'rollout-app']);
      if (imageOf(dep) !== image) return undefined;
      const sets = await replicaSetsOf(ctx, dep);
      const newest = sets.sort((a, b) => revision(b) - revision(a))[0];
      return newest && imageOf(newest) === image ? revision(newest) : undefined;
    },
    { timeoutMs: LIMITS.controller, intervalMs: 2000 },
  );
  // The rollout is done only when Ready pods run the image: ReplicaSet objects alone prove nothing.
  await ctx.kubectl(['rollout', 'status', 'deployment/rollout-app'], { waitMs: LIMITS.rollout });
  const pods = live(await listPods(ctx, 'app=rollout-app'));
  if (pods.length === 0) ctx.fail(`after the rollout to ${image}, deployment rollout-app has no pod`);
  const wrong = pods.filter((p) => p.spec.containers[0]?.image !== image || !isReady(p));
  if (wrong.length > 0) ctx.fail(`after the rollout, ${names(wrong).join(', ')} run another image than ${image} or are not Ready`);
  return rev;
}

interface DaemonSet {
  metadata: Meta & { generation?: number };
  status?: { observedGeneration?: number; desiredNumberScheduled?: number };
}

/** ds-selected's pods, live or terminating, by node; `wanted` is the controller's desiredNumberScheduled. */
async function dsSelectedState(ctx: CheckContext): Promise<{ wanted: number | undefined; pods: Pod[] }> {
  const ds = await ctx.kubectlJson<DaemonSet>(['get', 'daemonset', 'ds-selected']);
  const seen = ds.status?.observedGeneration !== undefined && ds.status.observedGeneration >= (ds.metadata.generation ?? 0);
  return { wanted: seen ? ds.status?.desiredNumberScheduled : undefined, pods: await listPods(ctx, 'app=ds-selected') };
}

const podsOn = (pods: Pod[]) => pods.map((p) => `${p.metadata.name} on ${p.spec.nodeName ?? '(unscheduled)'}`).join(', ');

async function unlabelEligible(ctx: CheckContext): Promise<void> {
  const nodes = await ctx.kubectlJson<List<Node>>(['get', 'nodes', '-l', `${DS_ELIGIBLE_LABEL}=${ctx.ns}`]);
  for (const node of nodes.items) await ctx.kubectl(['label', 'node', node.metadata.name, `${DS_ELIGIBLE_LABEL}-`]);
}

async function uncordonMarked(ctx: CheckContext): Promise<void> {
  const nodes = await ctx.kubectlJson<List<Node>>(['get', 'nodes']);
  for (const node of nodes.items.filter((n) => n.metadata.annotations?.[CORDON_ANNOTATION] === LESSON)) {
    await ctx.kubectl(['uncordon', node.metadata.name]);
    await ctx.kubectl(['annotate', 'node', node.metadata.name, `${CORDON_ANNOTATION}-`]);
  }
}

export const workloads: Lesson = {
  id: LESSON,
  title: 'Workloads: selectors, ReplicaSet, DaemonSet, Job/CronJob, probes, rollout, cordon/drain',
  source: 'seeds/002 (labels, probes, ReplicaSet, DaemonSet, Job/CronJob), seeds/003 (self-healing, cordon/drain, rollout undo)',
  dir: LESSON,
  // cordon and drain change a node for everybody: run alone.
  parallelSafe: false,
  // Each check applies its own manifest; releasing it early spares the 1-vCPU workers of an emulated lab.
  independentChecks: true,
  checks: [
    {
      id: 'selectors-set-based',
      title: 'Set-based selectors (in, notin, exists, !exists) select the right pods',
      async run(ctx: CheckContext) {
        await ctx.apply('selector-pods.yaml');
        const wrong: string[] = [];
        for (const { selector, expect } of SELECTOR_CASES) {
          const got = names(await listPods(ctx, `group=selectors,${selector}`));
          ctx.note(`-l '${selector}' -> ${got.join(', ') || '(none)'}`);
          if (got.join(',') !== [...expect].sort().join(',')) wrong.push(`'${selector}' selected [${got.join(', ')}], expected [${expect.join(', ')}]`);
        }
        if (wrong.length > 0) ctx.fail(wrong.join('; '));
      },
    },
    {
      id: 'replicaset-self-healing',
      title: 'A ReplicaSet replaces a deleted pod with a Ready one, and releases a pod whose label no longer matches',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ctx.apply('replicaset.yaml');
        const rs = await ctx.kubectlJson<Controller>(['get', 'replicaset', 'kubia']);
        const mine = ownedBy(rs.metadata.uid!);
        const first = await ctx.waitFor(
          'replicaset kubia to own 3 pods',
          async () => {
            const pods = live(await listPods(ctx)).filter(mine);
            return pods.length === 3 && pods.every(isReady) ? pods : undefined;
          },
          { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
        );
        const victim = first[0]!.metadata.name;
        await ctx.kubectl(['delete', 'pod', victim, '--wait=false']);
        const healed = await ctx.waitFor(
          `replicaset kubia to replace ${victim} with a Ready pod`,
          async () => {
            const pods = live(await listPods(ctx)).filter(mine);
            return pods.length === 3 && pods.every(isReady) && !pods.some((p) => p.metadata.name === victim) ? pods : undefined;
          },
          { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
        );
        ctx.note(`deleted ${victim}; kubia now owns ${names(healed).join(', ')}`);

        const released = healed[0]!.metadata.name;
        await ctx.kubectl(['label', 'pod', released, 'app=released', '--overwrite']);
        const after = await ctx.waitFor(
          `replicaset kubia to release ${released} and own 3 other pods`,
          async () => {
            const pods = live(await listPods(ctx));
            const relabelled = pods.find((p) => p.metadata.name === released);
            const owned = pods.filter(mine);
            if (relabelled === undefined) ctx.fail(`${released} disappeared after its label changed; it should stay, unmanaged`);
            return !mine(relabelled) && owned.length === 3 && !owned.some((p) => p.metadata.name === released) ? owned : undefined;
          },
          { timeoutMs: LIMITS.controller },
        );
        ctx.note(`${released} (app=released) has no owner now; kubia owns ${names(after).join(', ')}`);
      },
    },
    {
      id: 'daemonset-per-node',
      title: 'A DaemonSet runs exactly one pod on every schedulable node',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ctx.apply('daemonset.yaml');
        const expected = ctx.facts.schedulableNodes;
        if (expected.length === 0) ctx.fail('no schedulable node', 'see `kubectl get nodes` (cordoned or tainted nodes)');
        const perNode = await ctx.waitFor(
          `one Ready ds-logger pod on each of ${expected.join(', ')}`,
          async () => {
            const pods = live(await listPods(ctx, 'app=ds-logger'));
            const count = new Map<string, Pod[]>();
            for (const p of pods) count.set(p.spec.nodeName ?? '', [...(count.get(p.spec.nodeName ?? '') ?? []), p]);
            const ok = expected.every((n) => count.get(n)?.length === 1 && isReady(count.get(n)![0]!));
            return ok ? count : undefined;
          },
          { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
        );
        const doubled = [...perNode].filter(([, pods]) => pods.length > 1).map(([n]) => n);
        if (doubled.length > 0) ctx.fail(`more than one ds-logger pod on ${doubled.join(', ')}`);
        ctx.note([...perNode].map(([n, pods]) => `${n}: ${names(pods).join(', ')}`).join('; '));
      },
    },
    {
      id: 'daemonset-node-eligible',
      title: 'A DaemonSet with a nodeSelector starts a pod on a node once the node gets the label, and removes it when the label goes',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        const node = ctx.facts.schedulableNodes[0];
        if (node === undefined) ctx.fail('no schedulable node', 'see `kubectl get nodes` (cordoned or tainted nodes)');
        // A run that crashed may have left the label on a node.
        await unlabelEligible(ctx);
        await ctx.apply('daemonset-selected.yaml');
        // No node carries the label yet: the controller, once it has seen the DaemonSet, wants no pod.
        const before = await ctx.waitFor(
          'daemonset ds-selected to be observed by its controller',
          async () => {
            const state = await dsSelectedState(ctx);
            return state.wanted === undefined ? undefined : state;
          },
          { timeoutMs: LIMITS.api },
        );
        if (before.wanted !== 0 || before.pods.length > 0) {
          ctx.fail(`before any node has ${DS_ELIGIBLE_LABEL}=${ctx.ns}, ds-selected wants ${before.wanted} pods and has ${podsOn(before.pods) || 'none'}`);
        }
        try {
          await ctx.kubectl(['label', 'node', node, `${DS_ELIGIBLE_LABEL}=${ctx.ns}`, '--overwrite']);
          const pod = await ctx.waitFor(
            `a Ready ds-selected pod on ${node}, and none elsewhere`,
            async () => {
              const { pods } = await dsSelectedState(ctx);
              const elsewhere = pods.filter((p) => p.spec.nodeName !== undefined && p.spec.nodeName !== node);
              if (elsewhere.length > 0) ctx.fail(`ds-selected runs ${podsOn(elsewhere)}, a node without the label`);
              const mine = live(pods).filter((p) => p.spec.nodeName === node);
              return mine.length === 1 && isReady(mine[0]!) ? mine[0] : undefined;
            },
            { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
          );
          await ctx.kubectl(['label', 'node', node, `${DS_ELIGIBLE_LABEL}-`]);
          await ctx.waitFor(
            `ds-selected's pod ${pod.metadata.name} to be gone from ${node} after the label was removed`,
            async () => {
              const { wanted, pods } = await dsSelectedState(ctx);
              return wanted === 0 && pods.length === 0 ? true : undefined;
            },
            { timeoutMs: LIMITS.delete, intervalMs: 2000 },
          );
          ctx.note(`no pod before; ${node} labelled ${DS_ELIGIBLE_LABEL}=${ctx.ns} -> ${pod.metadata.name} Ready there; label removed -> no pod`);
        } finally {
          await ctx.kubectl(['label', 'node', node, `${DS_ELIGIBLE_LABEL}-`], { allowFailure: true });
        }
      },
    },
    {
      id: 'job-completes',
      title: 'A Job runs its pod to completion and does not restart it',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ctx.apply('job.yaml');
        await ctx.waitFor(
          'job batch-job to complete',
          async () => {
            const job = await ctx.kubectlJson<Controller>(['get', 'job', 'batch-job']);
            const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
            if (failed) ctx.fail(`job batch-job failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim());
            return job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? job : undefined;
          },
          { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
        );
        const before = await listPods(ctx, 'job-name=batch-job');
        // Give the kubelet time to show a restart if there were one: nothing must happen.
        await ctx.holds('batch-job keeps its one pod, Succeeded and never restarted', async () => {
          const after = await listPods(ctx, 'job-name=batch-job');
          if (after.length !== 1) return `the job has ${after.length} pods (${names(after).join(', ')}), expected exactly one`;
          const pod = after[0]!;
          if (pod.metadata.uid !== before[0]?.metadata.uid) return `the job's pod changed from ${before[0]?.metadata.name} to ${pod.metadata.name}`;
          if (pod.status?.phase !== 'Succeeded') return `${pod.metadata.name} is ${pod.status?.phase}, not Succeeded`;
          if (restarts(pod) !== 0) return `${pod.metadata.name} was restarted ${restarts(pod)} times after completing`;
          return undefined;
        });
        ctx.note(`${before[0]?.metadata.name}: Succeeded, 0 restarts, still the only pod ${Math.round(LIMITS.quiet / 1000)}s later`);
      },
    },
    {
      id: 'cronjob-creates-job',
      title: 'A CronJob creates a Job on its schedule, and the Job runs to completion',
      needs: ['nodes'],
      timeoutMs: LIMITS.cronCheck,
      async run(ctx: CheckContext) {
        const name = 'batch-job-every-minute';
        // `kubectl create cronjob` writes the CronJob in the API version the cluster serves (batch/v1beta1
        // before 1.21, batch/v1 after), which one manifest file cannot do.
        const generated = await ctx.kubectl([
          'create', 'cronjob', name, `--image=${ctx.images.busybox}`, '--schedule=*/1 * * * *', '--restart=OnFailure',
          '--dry-run=client', '-o', 'json', '--', 'sh', '-c', 'date; echo hello from the cronjob',
        ]);
        const cronJob = JSON.parse(generated.stdout) as {
          metadata: { namespace?: string };
          spec: { jobTemplate: { spec: { template: { spec: { containers: { imagePullPolicy?: string }[] } } } } };
        };
        delete cronJob.metadata.namespace; // kubectl apply -n puts it in the lesson's namespace
        for (const c of cronJob.spec.jobTemplate.spec.template.spec.containers) c.imagePullPolicy = 'IfNotPresent';
        await ctx.applyObjects([cronJob], `cronjob/${name}`);
        const cj = await ctx.kubectlJson<Controller>(['get', 'cronjob', name]);
        const job = await ctx.waitFor(
          `a Job created by cronjob ${name} (schedule: every minute)`,
          async () => {
            const jobs = await ctx.kubectlJson<List<Controller>>(['get', 'jobs']);
            return jobs.items.find((j) => j.metadata.ownerReferences?.some((o) => o.uid === cj.metadata.uid));
          },
          { timeoutMs: LIMITS.cronSchedule, intervalMs: 5000 },
        );
        // One is enough for the lesson; stop it making more.
        await ctx.kubectl(['patch', 'cronjob', name, '--type=merge', '-p', '{"spec":{"suspend":true}}'], { allowFailure: true });
        // The Job must run: a Job object that never completes proves only the CronJob controller.
        const jobName = job.metadata.name;
        await ctx.waitFor(
          `job ${jobName} to complete`,
          async () => {
            const j = await ctx.kubectlJson<Controller>(['get', 'job', jobName]);
            const failed = j.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
            if (failed) ctx.fail(`job ${jobName} failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim());
            return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
          },
          { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
        );
        const log = await ctx.kubectl(['logs', `job/${jobName}`], { allowFailure: true });
        if (!log.stdout.includes('hello from the cronjob')) ctx.fail(`job ${jobName} completed, but its log does not say "hello from the cronjob": ${log.stdout.trim().slice(0, 200)}`);
        ctx.note(`cronjob ${name} created job ${jobName} at ${job.metadata.creationTimestamp}; it completed and logged "hello from the cronjob"`);
      },
    },
    {
      id: 'liveness-restarts',
      title: 'A failing liveness probe makes the kubelet restart the container',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ctx.apply('pod-liveness.yaml');
        const [pod] = await waitPodsReady(ctx, ['pod-liveness']);
        const before = restarts(pod!);
        await ctx.exec('pod-liveness', ['rm', '/tmp/healthy']);
        const after = await ctx.waitFor(
          'pod-liveness to be restarted by its liveness probe',
          async () => {
            const p = await ctx.kubectlJson<Pod>(['get', 'pod', 'pod-liveness']);
            return restarts(p) > before ? p : undefined;
          },
          { timeoutMs: LIMITS.livenessRestart, intervalMs: 2000 },
        );
        if (after.metadata.uid !== pod!.metadata.uid) ctx.fail('the pod was replaced; a liveness probe restarts the container inside the same pod');
        await waitPodsReady(ctx, ['pod-liveness']);
        ctx.note(`restarts: ${before} -> ${restarts(after)}; the restarted container recreated /tmp/healthy and is Ready again`);
      },
    },
    {
      id: 'readiness-endpoints',
      title: 'A failing readiness probe takes the pod out of the endpoints without restarting it',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ctx.apply('readiness.yaml');
        const [pod] = await waitPodsReady(ctx, ['pod-readiness']);
        const ip = pod!.status?.podIP;
        if (!ip) ctx.fail('pod-readiness is Ready but has no IP');
        const endpoints = async () => {
          const ep = await getOrUndefined<Endpoints>(ctx, ['endpoints', 'svc-readiness']);
          const subsets = ep?.subsets ?? [];
          return {
            ready: subsets.flatMap((s) => s.addresses ?? []).map((a) => a.ip),
            notReady: subsets.flatMap((s) => s.notReadyAddresses ?? []).map((a) => a.ip),
          };
        };
        await ctx.waitFor(`${ip} in the endpoints of svc-readiness`, async () => ((await endpoints()).ready.includes(ip) ? true : undefined), {
          timeoutMs: LIMITS.controller,
        });
        await ctx.exec('pod-readiness', ['rm', '/var/ready']);
        await ctx.waitFor(
          `${ip} to move to the not-ready addresses of svc-readiness`,
          async () => {
            const ep = await endpoints();
            return !ep.ready.includes(ip) && ep.notReady.includes(ip) ? true : undefined;
          },
          { timeoutMs: LIMITS.controller },
        );
        const now = await ctx.kubectlJson<Pod>(['get', 'pod', 'pod-readiness']);
        if (now.metadata.uid !== pod!.metadata.uid) ctx.fail('pod-readiness was replaced');
        if (restarts(now) !== restarts(pod!)) ctx.fail(`pod-readiness was restarted (${restarts(now)} restarts): readiness must not restart`);
        if (isReady(now)) ctx.fail('pod-readiness still reports Ready without /var/ready');
        await ctx.exec('pod-readiness', ['touch', '/var/ready']);
        await ctx.waitFor(`${ip} back in the endpoints of svc-readiness`, async () => ((await endpoints()).ready.includes(ip) ? true : undefined), {
          timeoutMs: LIMITS.controller,
        });
        ctx.note(`${ip}: ready -> not ready -> ready, ${restarts(now)} restarts`);
      },
    },
    {
      id: 'rollout-undo',
      title: 'A Deployment rolls out a new image to Ready pods, and `rollout undo` brings the old one back to Ready pods',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        const oldImage = ctx.images.app;
        const newImage = rolloutTarget(ctx.images);
        if (newImage === undefined) {
          ctx.skip(`every lesson image resolves to ${oldImage}: there is no second image to roll out to; to run it, set images.myweb in lab.yaml to an image other than images.app`);
        }
        await ctx.apply('rollout-app.yaml');
        const first = await waitRevisionWith(ctx, oldImage);
        await ctx.kubectl(['set', 'image', 'deployment/rollout-app', `app=${newImage}`]);
        const second = await waitRevisionWith(ctx, newImage);
        await ctx.kubectl(['rollout', 'undo', 'deployment/rollout-app']);
        const third = await waitRevisionWith(ctx, oldImage);
        if (!(first < second && second < third)) ctx.fail(`revisions did not advance: ${first}, ${second}, ${third}`);
        await ctx.kubectl(['rollout', 'history', 'deployment/rollout-app']);
        ctx.note(`revision ${first}: ${oldImage}; revision ${second}: ${newImage}; undo -> revision ${third}: ${oldImage}`);
      },
    },
    {
      id: 'probes-gate-traffic',
      title: 'HTTP and TCP probes: a pod that passes its TCP readiness probe gets every request of the Service, one that fails it gets none',
      needs: ['nodes', 'podNetwork', 'dns'],
      async run(ctx: CheckContext) {
        requireImages(ctx, ['app', 'tools']);
        await ctx.apply('probes-traffic.yaml');
        await waitPodsReady(ctx, ['pod-probed', 'request-pod']);
        const unready = await ctx.waitFor('pod-unready to run (and stay not Ready)', async () => {
          const p = await getOrUndefined<Pod>(ctx, ['pod', 'pod-unready']);
          return p?.status?.phase === 'Running' ? p : undefined;
        }, { timeoutMs: LIMITS.podReady, intervalMs: 2000 });
        if (isReady(unready)) ctx.fail('pod-unready is Ready although its readiness probe knocks on a port nothing listens on');
        const answers: string[] = [];
        for (let i = 0; i < 10; i++) {
          const res = await ctx.exec('request-pod', wgetCommand('http://probe-svc/hostname'), { allowFailure: true });
          answers.push(hostnameOf(res.stdout) ?? `no answer (${(res.stderr || `exit ${res.exitCode}`).trim().slice(0, 80)})`);
        }
        const wrong = answers.filter((a) => a !== 'pod-probed');
        if (wrong.length > 0) ctx.fail(`of 10 requests to probe-svc, ${wrong.length} were not answered by pod-probed: ${[...new Set(wrong)].join(', ')}`);
        const probed = await ctx.kubectlJson<Pod>(['get', 'pod', 'pod-probed']);
        if (restarts(probed) !== 0) ctx.fail(`pod-probed was restarted ${restarts(probed)} times although its HTTP liveness probe should pass`);
        ctx.note('10 of 10 requests to probe-svc answered by pod-probed (TCP readiness passes); none by pod-unready (Running, not Ready); no liveness restart');
      },
    },
    {
      id: 'job-retries',
      title: 'A Job with restartPolicy OnFailure retries a failed container in the same pod until it succeeds',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ctx.apply('job-onfailure.yaml');
        await ctx.waitFor(
          'job retry-job to complete',
          async () => {
            const job = await ctx.kubectlJson<Controller>(['get', 'job', 'retry-job']);
            const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
            if (failed) ctx.fail(`job retry-job failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim());
            return job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? job : undefined;
          },
          { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
        );
        const pods = await listPods(ctx, 'job-name=retry-job');
        if (pods.length !== 1) ctx.fail(`retry-job made ${pods.length} pods (${names(pods).join(', ')}); OnFailure retries inside one pod`);
        const pod = pods[0]!;
        if (restarts(pod) < 1) ctx.fail(`${pod.metadata.name} succeeded without a restart: the first try did not fail, so nothing was retried`);
        ctx.note(`${pod.metadata.name}: failed once, restarted ${restarts(pod)} time(s) in the same pod, then Succeeded`);
      },
    },
    {
      id: 'rollout-undo-to-revision',
      title: '`rollout history` lists each change, and `rollout undo --to-revision=1` brings back the first template',
      needs: ['nodes'],
      async run(ctx: CheckContext) {
        await ctx.apply('rollout-hist.yaml');
        await ctx.kubectl(['rollout', 'status', 'deployment/rollout-hist'], { waitMs: LIMITS.rollout });
        for (const step of ['two', 'three']) {
          await ctx.kubectl(['set', 'env', 'deployment/rollout-hist', `STEP=${step}`]);
          await ctx.kubectl(['rollout', 'status', 'deployment/rollout-hist'], { waitMs: LIMITS.rollout });
        }
        const history = await ctx.kubectl(['rollout', 'history', 'deployment/rollout-hist']);
        const revisions = history.stdout.split('\n').map((l) => /^(\d+)\s/.exec(l.trim())?.[1]).filter((r): r is string => r !== undefined);
        if (revisions.join(',') !== '1,2,3') ctx.fail(`rollout history lists revisions ${revisions.join(', ') || 'none'}, not 1, 2, 3`);
        await ctx.kubectl(['rollout', 'undo', 'deployment/rollout-hist', '--to-revision=1']);
        await ctx.kubectl(['rollout', 'status', 'deployment/rollout-hist'], { waitMs: LIMITS.rollout });
        const dep = await ctx.kubectlJson<Controller & { spec: { template: { spec: { containers: { env?: { name: string }[] }[] } } } }>(['get', 'deployment', 'rollout-hist']);
        const env = dep.spec.template.spec.containers[0]?.env ?? [];
        if (env.some((e) => e.name === 'STEP')) ctx.fail('after undo --to-revision=1 the template still sets STEP: revision 1 had no STEP');
        if (revision(dep) !== 4) ctx.fail(`after undo --to-revision=1 the Deployment is at revision ${revision(dep)}, not 4 (revision 1's template, re-numbered)`);
        const pods = live(await listPods(ctx, 'app=rollout-hist'));
        if (pods.length === 0 || !pods.every(isReady)) ctx.fail(`after the undo, rollout-hist has ${pods.length} pods, not all Ready`);
        ctx.note('revisions 1 (no STEP), 2 (STEP=two), 3 (STEP=three); undo --to-revision=1 -> revision 4 without STEP, pods Ready');
      },
    },
    {
      id: 'cordon-drain',
      title: 'cordon keeps new pods off a node; drain moves its pods to other nodes',
      needs: ['nodes', 'multiNode'],
      timeoutMs: LIMITS.longCheck,
      async run(ctx: CheckContext) {
        await ctx.apply('drain-app.yaml');
        await ctx.kubectl(['scale', 'deployment/drain-app', '--replicas=3']);
        const readyPods = async (n: number) =>
          ctx.waitFor(
            `${n} Ready drain-app pods`,
            async () => {
              const pods = live(await listPods(ctx, 'app=drain-app'));
              return pods.length === n && pods.every(isReady) ? pods : undefined;
            },
            { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
          );
        const initial = await readyPods(3);
        // The node with most of our pods, so the drain has something to move.
        const counts = new Map<string, number>();
        for (const p of initial) counts.set(p.spec.nodeName!, (counts.get(p.spec.nodeName!) ?? 0) + 1);
        const target = [...counts].filter(([n]) => ctx.facts.schedulableNodes.includes(n)).sort((a, b) => b[1] - a[1])[0]?.[0];
        if (target === undefined) ctx.fail(`no drain-app pod runs on a schedulable node (${ctx.facts.schedulableNodes.join(', ')})`);
        try {
          await ctx.kubectl(['annotate', 'node', target, `${CORDON_ANNOTATION}=${LESSON}`, '--overwrite']);
          await ctx.kubectl(['cordon', target]);
          const node = await ctx.kubectlJson<Node>(['get', 'node', target]);
          if (!node.spec?.unschedulable) ctx.fail(`${target} is not unschedulable after kubectl cordon`);
          await ctx.kubectl(['scale', 'deployment/drain-app', '--replicas=6']);
          const scaled = await readyPods(6);
          const before = new Set(names(initial));
          const landed = scaled.filter((p) => !before.has(p.metadata.name) && p.spec.nodeName === target);
          if (landed.length > 0) ctx.fail(`${names(landed).join(', ')} were scheduled onto the cordoned node ${target}`);
          // Only this lesson's pods are evicted (--pod-selector): the lab's own pods stay where they are.
          await ctx.kubectl(['drain', target, '--pod-selector=app=drain-app', '--ignore-daemonsets', '--delete-emptydir-data'], { waitMs: LIMITS.drain });
          const moved = await ctx.waitFor(
            `6 Ready drain-app pods, none on ${target}`,
            async () => {
              const pods = live(await listPods(ctx, 'app=drain-app'));
              return pods.length === 6 && pods.every(isReady) && !pods.some((p) => p.spec.nodeName === target) ? pods : undefined;
            },
            { timeoutMs: LIMITS.podReady, intervalMs: 2000 },
          );
          ctx.note(`${target}: cordoned (no new pod landed there), drained; drain-app now runs on ${[...new Set(moved.map((p) => p.spec.nodeName))].join(', ')}`);
        } finally {
          await ctx.kubectl(['uncordon', target], { allowFailure: true });
          await ctx.kubectl(['annotate', 'node', target, `${CORDON_ANNOTATION}-`], { allowFailure: true });
        }
      },
    },
  ],
  async cleanup(ctx: CheckContext) {
    await uncordonMarked(ctx);
    await unlabelEligible(ctx);
  },
};

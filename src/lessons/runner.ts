// Runs lessons against a cluster: each in its own namespace, parallel-safe ones side by side (bounded),
// the others alone; every check ends passed, failed or skipped (a missing capability is never a pass);
// a failed check gets the events and descriptions that explain it; cleanup always runs unless --keep.
import { LIMITS } from './limits.js';
import { join } from 'node:path';
import { MANIFESTS_DIR } from '../paths.js';
import type { CheckResult, ClusterFacts, Executor, Lesson, Check, Transcript, Capability } from './types.js';
import { LESSON_LABEL } from './types.js';
import { DEFAULT_LESSON_SETTINGS, type ImageKey, type LessonSettings } from '../config/images.js';
import { CheckAborted, CheckFailed, CheckSkipped, LessonContext, type LessonScope } from './context.js';
import { isReady, restarts, whyNotReady, type K8sEvent, type List, type Pod } from './k8s.js';
import { detectFacts, type DetectOptions } from './facts.js';
import { CLUSTER_SCOPED_KINDS, type ManifestObject } from './render.js';

export const DEFAULT_CONCURRENCY = 3;

export type RunEvent =
  | { type: 'facts'; facts: ClusterFacts }
  | { type: 'lesson-start'; lesson: string; namespace: string }
  | { type: 'check-start'; lesson: string; check: string }
  | { type: 'check-end'; result: CheckResult }
  | { type: 'lesson-end'; lesson: string; cleanup: 'done' | 'kept' | 'failed' | 'not needed' };

export interface RunOptions {
  executor: Executor;
  images: Readonly<Record<ImageKey, string>>;
  /** lab.yaml's `lessons:`; default DEFAULT_LESSON_SETTINGS (a cluster without a lab.yaml) */
  settings?: LessonSettings;
  lessons: readonly Lesson[];
  /** leave namespaces and cluster-scoped objects for inspection */
  keep?: boolean;
  /** parallel-safe lessons running at once */
  concurrency?: number;
  checkTimeoutMs?: number;
  /**
   * Multiplies every time limit (checks, waits, kubectl calls and their --timeout flags): slow labs, such
   * as software-emulated VMs, get longer without a check changing what it proves. Default 1.
   */
  timeScale?: number;
  /** detected from the cluster when absent */
  facts?: ClusterFacts;
  detect?: DetectOptions;
  manifestsDir?: string;
  fetchText?: LessonScope['fetchText'];
  onEvent?: (event: RunEvent) => void;
  /** Ctrl-C: the running check ends as failed, the rest are skipped, cleanup still runs */
  signal?: AbortSignal;
}

export const INTERRUPTED = 'interrupted (Ctrl-C)';

export interface LessonRun {
  lesson: string;
  title: string;
  /** the part of the course it proves (Lesson.source) */
  source: string;
  /** from its namespace's preparation to the end of its cleanup */
  seconds: number;
  namespace: string;
  /** namespace preparation and lesson.setup */
  setup: Transcript[];
  cleanup: Transcript[];
  results: CheckResult[];
}

export interface RunResult {
  facts: ClusterFacts;
  factsTranscript: Transcript[];
  lessons: LessonRun[];
  /** every check of every lesson, in lesson order */
  results: CheckResult[];
  seconds: number;
}

export function namespaceFor(lesson: Pick<Lesson, 'id'>): string {
  return `k8slab-${lesson.id}`;
}

export async function runLessons(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const emit = opts.onEvent ?? (() => {});
  const factsCtx = new LessonContext(scopeFor(opts, { id: 'facts', dir: '' }, '', EMPTY_FACTS));
  const facts = opts.facts ?? (await detectFacts(factsCtx, opts.detect));
  emit({ type: 'facts', facts });

  const runs = new Map<string, LessonRun>();
  const one = async (lesson: Lesson) => runs.set(lesson.id, await runLesson(lesson, facts, opts, emit));
  // Lessons that touch cluster-wide state go first, alone; then the others, a few at a time.
  for (const lesson of opts.lessons.filter((l) => !l.parallelSafe)) await one(lesson);
  await pool(
    opts.lessons.filter((l) => l.parallelSafe),
    opts.concurrency ?? DEFAULT_CONCURRENCY,
    one,
  );
  const lessons = opts.lessons.map((l) => runs.get(l.id)!);
  return {
    facts,
    factsTranscript: factsCtx.transcript,
    lessons,
    results: lessons.flatMap((l) => l.results),
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * The capability a check lacks, or undefined when it can run. It is skipped only when every capability it
 * lacks is one this lab was configured without (the reason then names the lab.yaml change); a capability a
 * working lab has and this cluster lacks fails the check, with what was found and the next command.
 */
export function missingNeed(
  check: Pick<Check, 'needs'>,
  facts: ClusterFacts,
): { cap: Capability; status: 'skipped' | 'failed'; reason: string; hint?: string } | undefined {
  const lacking = (check.needs ?? []).filter((cap) => !facts.capabilities.has(cap));
  const broken = lacking.find((cap) => !facts.off.has(cap));
  if (broken !== undefined) {
    return { cap: broken, status: 'failed', reason: `the cluster lacks ${broken}: ${facts.missing.get(broken) ?? 'not available'}`, hint: CAPABILITY_HINTS[broken] };
  }
  const off = lacking[0];
  if (off === undefined) return undefined;
  return { cap: off, status: 'skipped', reason: `this lab has no ${off} (${facts.missing.get(off) ?? 'not installed'}); to run it: ${facts.off.get(off)!}` };
}

/** The likely cause of each missing capability and the command that shows more. */
const CAPABILITY_HINTS: Record<Capability, string> = {
  nodes: 'no node runs pods: see `kubectl get nodes -o wide` and, on a lab, `k8slab status`',
  workers: 'no worker takes pods: see `kubectl get nodes` (NotReady, cordoned or tainted workers)',
  multiNode: 'fewer than two schedulable nodes: see `kubectl get nodes` (a worker NotReady or cordoned?)',
  podNetwork: 'kube-proxy or the CNI is not running: see `kubectl -n kube-system get pods -o wide`',
  dns: 'CoreDNS is not answering: see `kubectl -n kube-system get pods -l k8s-app=kube-dns` and `kubectl -n kube-system logs -l k8s-app=kube-dns`',
  loadBalancer: 'MetalLB is not working: see `kubectl -n metallb-system get pods` and `kubectl get ipaddresspools.metallb.io -A`',
  defaultStorageClass: 'the storage provisioner is not working: see `kubectl get storageclass` and its pods',
  ingress: 'the Ingress controller is not installed: see `kubectl get ingressclass` and `kubectl -n traefik get pods`; on a lab, run master_node.sh again (`vagrant provision m-k8s`)',
  hostNetwork: 'this host cannot reach the nodes: see `k8slab doctor` (host-only network, firewall)',
  internetImages: 'the nodes cannot pull the course images: set images.* in lab.yaml to a reachable registry, or see the node\'s network',
};

async function runLesson(lesson: Lesson, facts: ClusterFacts, opts: RunOptions, emit: (e: RunEvent) => void): Promise<LessonRun> {
  const ns = namespaceFor(lesson);
  const scope = scopeFor(opts, lesson, ns, facts);
  const started = Date.now();
  const run: LessonRun = { lesson: lesson.id, title: lesson.title, source: lesson.source, seconds: 0, namespace: ns, setup: [], cleanup: [], results: [] };
  emit({ type: 'lesson-start', lesson: lesson.id, namespace: ns });

  // Nothing to set up when no check can run anyway.
  if (opts.signal?.aborted || lesson.checks.every((c) => missingNeed(c, facts))) {
    for (const check of lesson.checks) {
      run.results.push(emitEnd(emit, opts.signal?.aborted ? skippedResult(lesson, check, INTERRUPTED) : needResult(lesson, check, missingNeed(check, facts)!)));
    }
    emit({ type: 'lesson-end', lesson: lesson.id, cleanup: 'not needed' });
    return { ...run, seconds: (Date.now() - started) / 1000 };
  }

  const scale = scope.timeScale;
  const timeoutMs = (opts.checkTimeoutMs ?? LIMITS.check) * scale;
  const setupCtx = new LessonContext(scope);
  let setupError: string | undefined;
  let setupHint: string | undefined;
  try {
    await prepareNamespace(setupCtx, ns, lesson.id);
    if (lesson.setup) await withTimeout(lesson.setup(setupCtx), timeoutMs, setupCtx, 'lesson setup', opts.signal);
  } catch (err) {
    setupError = message(err);
    setupHint = await collectDiagnostics(setupCtx, scope);
  }
  run.setup = setupCtx.transcript;

  for (const check of lesson.checks) {
    const need = missingNeed(check, facts);
    if (opts.signal?.aborted) {
      run.results.push(emitEnd(emit, skippedResult(lesson, check, INTERRUPTED)));
    } else if (need) {
      run.results.push(emitEnd(emit, needResult(lesson, check, need)));
    } else if (setupError !== undefined) {
      run.results.push(emitEnd(emit, { ...base(lesson, check), status: 'failed', reason: `lesson setup failed: ${setupError}`, hint: setupHint ?? GENERIC_HINT(ns) }));
    } else {
      emit({ type: 'check-start', lesson: lesson.id, check: check.id });
      const limit = check.timeoutMs === undefined ? timeoutMs : check.timeoutMs * scale;
      run.results.push(emitEnd(emit, await runCheck(lesson, check, scope, limit, { release: lesson.independentChecks === true && !opts.keep, signal: opts.signal })));
    }
  }

  let cleanup: 'done' | 'kept' | 'failed' = 'kept';
  if (!opts.keep) {
    const ctx = new LessonContext(scope);
    const problems = await cleanupLesson(lesson, ctx, timeoutMs);
    run.cleanup = ctx.transcript;
    cleanup = problems.length === 0 ? 'done' : 'failed';
    if (problems.length > 0) {
      // Left-over objects break the next run, so a failed cleanup is reported like a failed check.
      run.results.push(
        emitEnd(emit, {
          lesson: lesson.id,
          check: 'cleanup',
          title: `${ns} and the lesson's cluster-scoped objects are deleted`,
          status: 'failed',
          seconds: 0,
          reason: problems.join('; '),
          notes: [],
          transcript: ctx.transcript,
        }),
      );
    }
  }
  emit({ type: 'lesson-end', lesson: lesson.id, cleanup });
  return { ...run, seconds: (Date.now() - started) / 1000 };
}

async function runCheck(
  lesson: Lesson,
  check: Check,
  scope: LessonScope,
  timeoutMs: number,
  opts: { release: boolean; signal?: AbortSignal | undefined },
): Promise<CheckResult> {
  const ctx = new LessonContext(scope);
  const appliedBefore = scope.applied.length;
  const started = Date.now();
  let result: Pick<CheckResult, 'status' | 'reason'>;
  let err: CheckFailed | undefined;
  try {
    await withTimeout(check.run(ctx), timeoutMs, ctx, `check ${check.id}`, opts.signal);
    result = { status: 'passed' };
  } catch (e) {
    if (e instanceof CheckFailed) err = e;
    result = e instanceof CheckSkipped ? { status: 'skipped', reason: e.message } : { status: 'failed', reason: message(e) };
  }
  const seconds = (Date.now() - started) / 1000;
  const hint = result.status === 'failed' ? (err?.hint ?? (await collectDiagnostics(ctx, scope)) ?? GENERIC_HINT(scope.ns)) : undefined;
  if (result.status === 'failed' && err?.hint !== undefined) await collectDiagnostics(ctx, scope);
  const transcript = [...ctx.transcript];
  if (opts.release) transcript.push(...(await releaseObjects(scope, appliedBefore)));
  return { ...base(lesson, check), ...result, ...(hint === undefined ? {} : { hint }), seconds, notes: ctx.notes, transcript };
}

/**
 * Deletes the namespaced objects applied since `from` without waiting for them to go (the namespace's
 * deletion at the end waits for everything), and forgets them so diagnostics do not describe them. A fresh
 * context: the check's own may have been aborted by its timeout. Best effort: leftovers go with the namespace.
 */
async function releaseObjects(scope: LessonScope, from: number): Promise<Transcript[]> {
  const refs = [...new Set(namespacedRefs(scope.applied.slice(from)))];
  scope.applied.splice(from);
  if (refs.length === 0) return [];
  const ctx = new LessonContext(scope);
  try {
    await ctx.kubectl(['delete', ...refs, '--ignore-not-found', '--wait=false'], { allowFailure: true });
  } catch {
    // the transcript has what happened
  }
  return ctx.transcript;
}

/** kubectl's kind/name for each namespaced object (cluster-scoped ones are the lesson cleanup's, by label) */
function namespacedRefs(objects: readonly ManifestObject[]): string[] {
  return objects.filter((o) => !o.clusterScoped).map((o) => `${o.kind.toLowerCase()}/${o.name}`);
}

/** A namespace left by `--keep` (or a crash) is deleted first, so every run starts from nothing. */
async function prepareNamespace(ctx: LessonContext, ns: string, lesson: string): Promise<void> {
  const old = await ctx.kubectl(['get', 'namespace', ns, '-o', 'json'], { allowFailure: true });
  if (old.exitCode === 0) await ctx.kubectl(['delete', 'namespace', ns, '--wait=true'], { waitMs: LIMITS.namespaceDelete });
  const manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [LESSON_LABEL]: lesson } } };
  await ctx.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest, null, 2) });
  // Pods are refused until the namespace's default ServiceAccount exists.
  await ctx.waitFor(`the default ServiceAccount of ${ns}`, async () => {
    const res = await ctx.kubectl(['get', 'serviceaccount', 'default', '-o', 'json'], { allowFailure: true });
    return res.exitCode === 0 ? true : undefined;
  });
}

/** lesson.cleanup, then the namespace, then the cluster-scoped objects carrying the lesson label. */
async function cleanupLesson(lesson: Lesson, ctx: LessonContext, timeoutMs: number): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (err) {
      problems.push(`${what}: ${message(err)}`);
    }
  };
  if (lesson.cleanup) await attempt('lesson cleanup', () => withTimeout(lesson.cleanup!(ctx), timeoutMs, ctx, 'lesson cleanup'));
  await attempt('delete namespace', () =>
    ctx.kubectl(['delete', 'namespace', ctx.ns, '--ignore-not-found', '--wait=true'], { waitMs: LIMITS.namespaceDelete }),
  );
  await attempt('delete cluster-scoped objects', () =>
    ctx.kubectl(['delete', [...CLUSTER_SCOPED_KINDS.values()].join(','), '-l', `${LESSON_LABEL}=${lesson.id}`, '--ignore-not-found', '--wait=true'], {
      waitMs: LIMITS.clusterScopedDelete,
    }),
  );
  return problems;
}

/**
 * Events of the namespace, a describe of the lesson's objects and the logs of unready pods (the previous
 * container's too, after a restart), so a failure explains itself. Returns the likely cause and the next
 * command, read from the first unready pod.
 */
async function collectDiagnostics(ctx: LessonContext, scope: LessonScope): Promise<string | undefined> {
  let hint: string | undefined;
  try {
    const res = await ctx.kubectl(['get', 'events', '-o', 'json'], { allowFailure: true });
    if (res.exitCode === 0) {
      const events = (JSON.parse(res.stdout) as List<K8sEvent>).items;
      for (const e of events.slice(-15)) {
        ctx.note(`event ${e.type ?? ''} ${e.reason ?? ''} ${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}: ${e.message ?? ''}`.trim());
      }
    }
    // Pods made by controllers (Deployment, StatefulSet) were never applied by name: find the unready ones.
    const pods = await ctx.kubectl(['get', 'pods', '-o', 'json'], { allowFailure: true });
    const unready = pods.exitCode === 0 ? (JSON.parse(pods.stdout) as List<Pod>).items.filter((p) => !isReady(p) && p.status?.phase !== 'Succeeded') : [];
    for (const p of unready) ctx.note(`pod ${p.metadata.name} not Ready: ${whyNotReady(p)}`);
    hint = unready.length > 0 ? podHint(unready[0]!, ctx.ns) : undefined;
    const refs = [...new Set([...namespacedRefs(scope.applied), ...unready.map((p) => `pod/${p.metadata.name}`)])];
    for (const ref of refs.slice(0, 10)) await ctx.kubectl(['describe', ref], { allowFailure: true, timeoutMs: LIMITS.diagnostics });
    for (const p of unready.filter((p) => p.spec.nodeName).slice(0, 3)) {
      const logs = ['logs', p.metadata.name, '--all-containers', '--tail=40'];
      await ctx.kubectl(logs, { allowFailure: true, timeoutMs: LIMITS.diagnostics });
      if (restarts(p) > 0) await ctx.kubectl([...logs, '--previous'], { allowFailure: true, timeoutMs: LIMITS.diagnostics });
    }
  } catch {
    // Diagnostics are best effort: the check already has its verdict.
  }
  return hint;
}

/** The likely cause of an unready pod and the command to run next, from what `kubectl get pod` shows. */
export function podHint(pod: Pod, ns: string): string {
  const name = pod.metadata.name;
  const why = whyNotReady(pod);
  const describe = `kubectl -n ${ns} describe pod ${name}`;
  if (/ErrImagePull|ImagePullBackOff|InvalidImageName/.test(why)) {
    return `pod ${name} cannot pull its image (${why}): the node has no route to the registry or the name is wrong; set images.* in lab.yaml to a reachable copy, and see \`${describe}\``;
  }
  if (/CrashLoopBackOff|terminated/.test(why)) return `pod ${name} keeps ending (${why}): see \`kubectl -n ${ns} logs ${name} --previous\``;
  if (!pod.spec.nodeName) return `pod ${name} was never scheduled (${why}): no node can take it; see \`kubectl get nodes\` and \`${describe}\``;
  if (/ContainerCreating|PodInitializing/.test(why) || pod.status?.phase === 'Pending') {
    return `pod ${name} is still starting on ${pod.spec.nodeName} (${why}): a slow image pull, a volume that does not mount, or the CNI; see \`${describe}\``;
  }
  return `pod ${name} runs but is not Ready (${why}): its readiness probe fails; see \`${describe}\` and \`kubectl -n ${ns} logs ${name}\``;
}

/** Ends `work` at its time limit or on Ctrl-C; the context refuses further commands from then on. */
function withTimeout<T>(work: Promise<T>, ms: number, ctx: LessonContext, what: string, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    const end = (message: string) => {
      ctx.abort();
      reject(new CheckAborted(message));
    };
    timer = setTimeout(() => end(`${what} timed out after ${Math.round(ms / 1000)}s`), ms);
    onAbort = () => end(`${what}: ${INTERRUPTED}`);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  // The abandoned promise may still reject later; it has been accounted for.
  work.catch(() => {});
  return Promise.race([work, stop]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

function scopeFor(opts: RunOptions, lesson: Pick<Lesson, 'id' | 'dir'>, ns: string, facts: ClusterFacts): LessonScope {
  return {
    lesson: lesson.id,
    ns,
    manifestsDir: join(opts.manifestsDir ?? MANIFESTS_DIR, lesson.dir),
    executor: opts.executor,
    images: opts.images,
    settings: opts.settings ?? DEFAULT_LESSON_SETTINGS,
    facts,
    applied: [],
    timeScale: opts.timeScale ?? 1,
    ...(opts.fetchText ? { fetchText: opts.fetchText } : {}),
  };
}

function base(lesson: Lesson, check: Check): Omit<CheckResult, 'status'> {
  return { lesson: lesson.id, check: check.id, title: check.title, seconds: 0, notes: [], transcript: [] };
}

function skippedResult(lesson: Lesson, check: Check, reason: string): CheckResult {
  return { ...base(lesson, check), status: 'skipped', reason };
}

function needResult(lesson: Lesson, check: Check, need: NonNullable<ReturnType<typeof missingNeed>>): CheckResult {
  return { ...base(lesson, check), status: need.status, reason: need.reason, ...(need.hint === undefined ? {} : { hint: need.hint }) };
}

function emitEnd(emit: (e: RunEvent) => void, result: CheckResult): CheckResult {
  emit({ type: 'check-end', result });
  return result;
}

const GENERIC_HINT = (ns: string) => `see what happened in the namespace: \`kubectl -n ${ns} get events --sort-by=.lastTimestamp\` (run with --keep to leave its objects for inspection)`;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const EMPTY_FACTS: ClusterFacts = { capabilities: new Set(), missing: new Map(), off: new Map(), nodeIps: new Map(), schedulableNodes: [], arch: [] };

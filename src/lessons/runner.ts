// Runs lessons against a cluster: each in its own namespace, parallel-safe ones side by side (bounded),
// the others alone; every check ends passed, failed or skipped (a missing capability is never a pass);
// a failed check gets the events and descriptions that explain it; cleanup always runs unless --keep.
import { join } from 'node:path';
import { MANIFESTS_DIR } from '../paths.js';
import type { CheckResult, ClusterFacts, Executor, Lesson, Check, Transcript, Capability } from './types.js';
import { LESSON_LABEL } from './types.js';
import type { ImageKey } from '../config/images.js';
import { CheckAborted, CheckSkipped, LessonContext, type LessonScope } from './context.js';
import { detectFacts, type DetectOptions } from './facts.js';
import { CLUSTER_SCOPED_KINDS, type ManifestObject } from './render.js';

export const DEFAULT_CHECK_TIMEOUT_MS = 300_000;
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

/** The capability a check lacks, with the reason, or undefined when it can run. */
export function missingNeed(check: Pick<Check, 'needs'>, facts: ClusterFacts): { cap: Capability; reason: string } | undefined {
  for (const cap of check.needs ?? []) {
    if (!facts.capabilities.has(cap)) return { cap, reason: `needs ${cap}: ${facts.missing.get(cap) ?? 'not available'}` };
  }
  return undefined;
}

async function runLesson(lesson: Lesson, facts: ClusterFacts, opts: RunOptions, emit: (e: RunEvent) => void): Promise<LessonRun> {
  const ns = namespaceFor(lesson);
  const scope = scopeFor(opts, lesson, ns, facts);
  const run: LessonRun = { lesson: lesson.id, title: lesson.title, namespace: ns, setup: [], cleanup: [], results: [] };
  emit({ type: 'lesson-start', lesson: lesson.id, namespace: ns });

  // Nothing to set up when every check would be skipped anyway.
  if (opts.signal?.aborted || lesson.checks.every((c) => missingNeed(c, facts))) {
    for (const check of lesson.checks) {
      run.results.push(emitEnd(emit, skippedResult(lesson, check, opts.signal?.aborted ? INTERRUPTED : missingNeed(check, facts)!.reason)));
    }
    emit({ type: 'lesson-end', lesson: lesson.id, cleanup: 'not needed' });
    return run;
  }

  const scale = scope.timeScale;
  const timeoutMs = (opts.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS) * scale;
  const setupCtx = new LessonContext(scope);
  let setupError: string | undefined;
  try {
    await prepareNamespace(setupCtx, ns, lesson.id);
    if (lesson.setup) await withTimeout(lesson.setup(setupCtx), timeoutMs, setupCtx, 'lesson setup', opts.signal);
  } catch (err) {
    setupError = message(err);
    await collectDiagnostics(setupCtx, scope);
  }
  run.setup = setupCtx.transcript;

  for (const check of lesson.checks) {
    const need = missingNeed(check, facts);
    if (opts.signal?.aborted) {
      run.results.push(emitEnd(emit, skippedResult(lesson, check, INTERRUPTED)));
    } else if (need) {
      run.results.push(emitEnd(emit, skippedResult(lesson, check, need.reason)));
    } else if (setupError !== undefined) {
      run.results.push(emitEnd(emit, { ...base(lesson, check), status: 'failed', reason: `lesson setup failed: ${setupError}` }));
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
  return run;
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
  try {
    await withTimeout(check.run(ctx), timeoutMs, ctx, `check ${check.id}`, opts.signal);
    result = { status: 'passed' };
  } catch (err) {
    result = err instanceof CheckSkipped ? { status: 'skipped', reason: err.message } : { status: 'failed', reason: message(err) };
  }
  const seconds = (Date.now() - started) / 1000;
  if (result.status === 'failed') await collectDiagnostics(ctx, scope);
  const transcript = [...ctx.transcript];
  if (opts.release) transcript.push(...(await releaseObjects(scope, appliedBefore)));
  return { ...base(lesson, check), ...result, seconds, notes: ctx.notes, transcript };
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
  if (old.exitCode === 0) await ctx.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=180s'], { timeoutMs: 200_000 });
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
    ctx.kubectl(['delete', 'namespace', ctx.ns, '--ignore-not-found', '--wait=true', '--timeout=180s'], { timeoutMs: 200_000 }),
  );
  await attempt('delete cluster-scoped objects', () =>
    ctx.kubectl(['delete', [...CLUSTER_SCOPED_KINDS.values()].join(','), '-l', `${LESSON_LABEL}=${lesson.id}`, '--ignore-not-found', '--wait=true', '--timeout=120s'], {
      timeoutMs: 140_000,
    }),
  );
  return problems;
}

interface K8sEvent {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
}

/** Events of the namespace and a describe of the lesson's objects, so a failure explains itself. */
async function collectDiagnostics(ctx: LessonContext, scope: LessonScope): Promise<void> {
  try {
    const res = await ctx.kubectl(['get', 'events', '-o', 'json'], { allowFailure: true });
    if (res.exitCode === 0) {
      const events = (JSON.parse(res.stdout) as { items: K8sEvent[] }).items;
      for (const e of events.slice(-15)) {
        ctx.note(`event ${e.type ?? ''} ${e.reason ?? ''} ${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}: ${e.message ?? ''}`.trim());
      }
    }
    // Pods made by controllers (Deployment, StatefulSet) were never applied by name: find the unready ones.
    const pods = await ctx.kubectl(['get', 'pods', '-o', 'json'], { allowFailure: true });
    const unready = pods.exitCode === 0 ? notReadyPods(JSON.parse(pods.stdout) as { items: DiagPod[] }) : [];
    for (const p of unready) ctx.note(`pod ${p.name} not Ready: ${p.why}`);
    const refs = [
      ...new Set([...namespacedRefs(scope.applied), ...unready.map((p) => `pod/${p.name}`)]),
    ];
    for (const ref of refs.slice(0, 10)) await ctx.kubectl(['describe', ref], { allowFailure: true, timeoutMs: 20_000 });
  } catch {
    // Diagnostics are best effort: the check already has its verdict.
  }
}

interface DiagPod {
  metadata: { name: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string } }; restartCount?: number }[];
  };
}

function notReadyPods(list: { items: DiagPod[] }): { name: string; why: string }[] {
  return list.items
    .filter((p) => !(p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => {
      const waiting = (p.status?.containerStatuses ?? []).flatMap((c) =>
        c.state?.waiting?.reason ? [`${c.name} ${c.state.waiting.reason}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ''}`] : [],
      );
      return { name: p.metadata.name, why: [p.status?.phase ?? 'no phase', ...waiting].join(', ') };
    });
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

function emitEnd(emit: (e: RunEvent) => void, result: CheckResult): CheckResult {
  emit({ type: 'check-end', result });
  return result;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const EMPTY_FACTS: ClusterFacts = { capabilities: new Set(), missing: new Map(), nodeIps: new Map(), schedulableNodes: [], arch: [] };

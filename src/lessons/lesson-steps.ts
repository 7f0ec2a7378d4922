// Small steps the workload and storage lessons share: typed views of the objects they read, pod
// queries and waits, and applying a manifest with a cluster-specific change (a node pin) that the
// placeholder scheme cannot express. Everything goes through CheckContext, so it is all in the transcript.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { MANIFESTS_DIR } from '../paths.js';
import { labelObjects, substitute } from './render.js';
import type { CheckContext } from './types.js';

export interface OwnerRef {
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}
export interface Meta {
  name: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: OwnerRef[];
}
export interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}
export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image?: string;
  containerID?: string;
  state?: { running?: { startedAt?: string }; terminated?: { reason?: string; exitCode?: number } };
}
export interface Pod {
  metadata: Meta;
  spec: {
    nodeName?: string;
    containers: { name: string; image: string }[];
    volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
  };
  status?: { phase?: string; podIP?: string; conditions?: Condition[]; containerStatuses?: ContainerStatus[] };
}
export interface List<T> {
  items: T[];
}

/**
 * The id of the lesson a context belongs to, read back from its namespace (the runner's namespaceFor:
 * `k8slab-<lesson>`). It names and labels the objects built in code, exactly as `${lesson}` and the
 * runner's label do for manifests, so the runner's cleanup finds them under any lesson id.
 */
export function lessonIdOf(ctx: Pick<CheckContext, 'ns'>): string {
  return ctx.ns.startsWith('k8slab-') ? ctx.ns.slice('k8slab-'.length) : ctx.ns;
}

/** A value no earlier run can have left behind, so a read that finds it proves this run wrote it. */
export function token(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isTerminating(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp !== undefined;
}

export function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0);
}

/** Pods of the lesson's namespace, optionally by label selector, sorted by name. */
export async function listPods(ctx: CheckContext, selector?: string): Promise<Pod[]> {
  const list = await ctx.kubectlJson<List<Pod>>(['get', 'pods', ...(selector ? ['-l', selector] : [])]);
  return list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** The object, or undefined when the API server says NotFound. */
export async function getOrUndefined<T>(ctx: CheckContext, args: readonly string[]): Promise<T | undefined> {
  const res = await ctx.kubectl(['get', ...args, '-o', 'json'], { allowFailure: true });
  if (res.exitCode === 0) return JSON.parse(res.stdout) as T;
  if (/NotFound|not found/.test(res.stderr)) return undefined;
  throw new Error(`kubectl get ${args.join(' ')}: ${res.stderr.trim()}`);
}

/** Waits until every named pod is Ready and returns them. */
export async function waitPodsReady(ctx: CheckContext, names: readonly string[], timeoutMs = 180_000): Promise<Pod[]> {
  return ctx.waitFor(
    `pod${names.length > 1 ? 's' : ''} ${names.join(', ')} to be Ready`,
    async () => {
      const pods = await Promise.all(names.map((n) => getOrUndefined<Pod>(ctx, ['pod', n])));
      return pods.every((p) => p !== undefined && isReady(p) && !isTerminating(p)) ? (pods as Pod[]) : undefined;
    },
    { timeoutMs, intervalMs: 2000 },
  );
}

/** Waits until `kubectl get KIND NAME` answers NotFound. */
export async function waitGone(ctx: CheckContext, kind: string, name: string, timeoutMs = 120_000): Promise<void> {
  await ctx.waitFor(`${kind} ${name} to be gone`, async () => ((await getOrUndefined(ctx, [kind, name])) === undefined ? true : undefined), {
    timeoutMs,
    intervalMs: 1000,
  });
}

/** The claim names a pod mounts, in volume order. */
export function claimsOf(pod: Pod): string[] {
  return (pod.spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
}

/**
 * Like ctx.apply, for the few objects that need a value only known at run time (the node a pod must run
 * on): renders manifests/<dir>/<file> the same way, lets `change` edit each object, and applies the result.
 */
export async function applyChanged(
  ctx: CheckContext,
  dir: string,
  file: string,
  change: (obj: Record<string, unknown>) => void,
): Promise<void> {
  const where = `manifests/${dir}/${file}`;
  const raw = await readFile(join(MANIFESTS_DIR, dir, file), 'utf8');
  const text = substitute(raw, { images: ctx.images, namespace: ctx.ns, lesson: lessonIdOf(ctx) }, where);
  const objects = parseAllDocuments(text, { version: '1.1' })
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => o !== null);
  for (const obj of objects) change(obj);
  await applyObjects(ctx, objects, where);
}

/** Applies objects built in code, labelled like everything ctx.apply creates (so cleanup finds them). */
export async function applyObjects(ctx: CheckContext, objects: readonly object[], where: string): Promise<void> {
  // Written as YAML 1.1, the version labelObjects and kubectl read, so a string such as "on" stays quoted.
  const { text } = labelObjects(objects.map((o) => stringify(o, { version: '1.1' })).join('---\n'), lessonIdOf(ctx), where);
  await ctx.kubectl(['apply', '-f', '-'], { input: text });
}

/** Pins a Pod to one node by name (spec.nodeName): the scheduler is bypassed. */
export function pinPodTo(node: string): (obj: Record<string, unknown>) => void {
  return (obj) => {
    if (obj['kind'] !== 'Pod') return;
    const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
    spec['nodeName'] = node;
    obj['spec'] = spec;
  };
}

/** A PV node affinity that keeps the volume (and any pod using it) on one node. */
export function nodeAffinityFor(node: string): object {
  return {
    required: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }],
    },
  };
}

/**
 * Splits what `kubectl get -w -o json` prints (pretty JSON documents one after another, no separator)
 * into parsed values. Braces inside strings do not count.
 */
export function splitJsonStream(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' && depth > 0) {
      depth--;
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return out;
}

/** Sleeps; used only where the lesson must let time pass to show that something does NOT happen. */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

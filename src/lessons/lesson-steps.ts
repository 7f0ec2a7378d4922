// Small steps the workload and storage lessons share: pod queries and waits, node pins, and a reader for
// kubectl's watch output. Everything goes through CheckContext, so it is all in the transcript.
import { randomBytes } from 'node:crypto';
import type { CheckContext } from './types.js';
import { isReady, isTerminating, type List, type Pod } from './k8s.js';
import { LIMITS } from './limits.js';

/** A value no earlier run can have left behind, so a read that finds it proves this run wrote it. */
export function token(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
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
export async function waitPodsReady(ctx: CheckContext, names: readonly string[], timeoutMs: number = LIMITS.podReady): Promise<Pod[]> {
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
export async function waitGone(ctx: CheckContext, kind: string, name: string, timeoutMs: number = LIMITS.wait): Promise<void> {
  await ctx.waitFor(`${kind} ${name} to be gone`, async () => ((await getOrUndefined(ctx, [kind, name])) === undefined ? true : undefined), {
    timeoutMs,
    intervalMs: 1000,
  });
}

/** The claim names a pod mounts, in volume order. */
export function claimsOf(pod: Pod): string[] {
  return (pod.spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
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

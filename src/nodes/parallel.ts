// Runs one task per node at the same time and reports every node's outcome: one failing node
// never hides the others' results.
import type { ExecOptions, SshExecResult } from './exec.js';
import { createLimiter } from './limit.js';
import type { SshSession } from './session.js';

export type NodeOutcome<T> =
  | { node: string; ok: true; value: T; ms: number }
  | { node: string; ok: false; error: Error; ms: number };

export interface ParallelOptions {
  /** at most this many nodes at once (default: all) */
  concurrency?: number;
}

export async function onNodes<N extends { readonly name: string }, T>(
  nodes: readonly N[],
  task: (node: N) => Promise<T>,
  opts: ParallelOptions = {},
): Promise<NodeOutcome<T>[]> {
  const gate = createLimiter(opts.concurrency ?? Math.max(1, nodes.length));
  const timed = nodes.map((node) =>
    gate(async () => {
      const t0 = Date.now();
      try {
        return { node: node.name, ok: true as const, value: await task(node), ms: Date.now() - t0 };
      } catch (err) {
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), { elapsedMs: Date.now() - t0 });
      }
    }),
  );
  const settled = await Promise.allSettled(timed);
  return settled.map((s, i) => {
    if (s.status === 'fulfilled') return s.value;
    const error = s.reason as Error & { elapsedMs?: number };
    return { node: nodes[i]!.name, ok: false as const, error, ms: error.elapsedMs ?? 0 };
  });
}

/** The same command on several sessions; a non-zero exit is a result, not a failure (unless `check`). */
export function execOnNodes(
  sessions: readonly SshSession[],
  command: string,
  opts: ExecOptions & ParallelOptions = {},
): Promise<NodeOutcome<SshExecResult>[]> {
  const { concurrency, ...execOpts } = opts;
  return onNodes(sessions, (s) => s.exec(command, execOpts), concurrency === undefined ? {} : { concurrency });
}

/** "node-a: <message>\nnode-c: <message>" for the failed ones, or undefined when all succeeded. */
export function describeFailures(outcomes: readonly NodeOutcome<unknown>[]): string | undefined {
  const failed = outcomes.filter((o): o is Extract<NodeOutcome<unknown>, { ok: false }> => !o.ok);
  return failed.length ? failed.map((o) => `${o.node}: ${o.error.message}`).join('\n') : undefined;
}

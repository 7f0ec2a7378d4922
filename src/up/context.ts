// What every `up` phase gets: the lab (its provider and nodes), the abort signal, and the progress view.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../lab/lab.js';
import type { Node } from '../nodes/node.js';
import type { Progress } from '../ui/progress.js';

export interface UpContext {
  lab: Lab;
  signal: AbortSignal;
  progress: Progress;
  skipDoctor: boolean;
  /** provision one node after another (the book's order) instead of all at once */
  serial: boolean;
  /** lines for the final report (e.g. how the kubeconfig reaches the API server) */
  notes: string[];
}

/** The named nodes, connected (or reused) with a line of progress each. */
export function nodesFor(ctx: UpContext, names: readonly string[]): Promise<Map<string, Node>> {
  return ctx.lab.nodes(names, {
    signal: ctx.signal,
    timeoutMs: 300_000,
    onConnect: (node, where) => ctx.progress.step(node, `connecting over SSH to ${where}`),
  });
}

/** Appends to <labDir>/logs/<node>.log (the same file the provider's output of that node goes to). */
export function nodeLog(ctx: UpContext, node: string, line: string): void {
  mkdirSync(ctx.lab.logDir, { recursive: true });
  appendFileSync(join(ctx.lab.logDir, `${node}.log`), `${new Date().toISOString()} ${line}\n`);
}

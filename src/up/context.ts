// What every `up` phase gets: the lab, the abort signal, the progress view, and SSH sessions to nodes
// (opened on first use, closed when the command ends).
import { mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../lab/lab.js';
import type { Progress } from './progress.js';
import { targetOf, type Connect, type NodeSession } from './remote.js';

export interface UpContext {
  lab: Lab;
  signal: AbortSignal;
  progress: Progress;
  connect: Connect;
  sessions: Map<string, NodeSession>;
  skipDoctor: boolean;
  /** lines for the final report (e.g. how the kubeconfig reaches the API server) */
  notes: string[];
}

/** Opens (or reuses) an SSH session to every named node, concurrently, from `vagrant ssh-config`. */
export async function sessionsFor(ctx: UpContext, names: readonly string[]): Promise<Map<string, NodeSession>> {
  const missing = names.filter((n) => !ctx.sessions.has(n));
  if (missing.length > 0) {
    const entries = await ctx.lab.vagrant({ signal: ctx.signal }).sshConfig(missing);
    const absent = missing.filter((n) => !entries.some((e) => e.name === n));
    if (absent.length > 0) throw new Error(`vagrant reports no SSH settings for ${absent.join(', ')}: is the VM running? (\`k8slab status\`)`);
    await Promise.all(
      entries.map(async (e) => {
        ctx.progress.step(e.name, `connecting over SSH to ${e.host}:${e.port}`);
        ctx.sessions.set(e.name, await ctx.connect(targetOf(e), { signal: ctx.signal, timeoutMs: 300_000 }));
      }),
    );
  }
  return new Map(names.map((n) => [n, ctx.sessions.get(n)!]));
}

export async function closeSessions(ctx: Pick<UpContext, 'sessions'>): Promise<void> {
  await Promise.allSettled([...ctx.sessions.values()].map((s) => s.close()));
  ctx.sessions.clear();
}

/** Appends to <labDir>/logs/<node>.log (the same file vagrant's output of that node goes to). */
export function nodeLog(ctx: UpContext, node: string, line: string): void {
  mkdirSync(ctx.lab.logDir, { recursive: true });
  appendFileSync(join(ctx.lab.logDir, `${node}.log`), `${new Date().toISOString()} ${line}\n`);
}

// How `up` (and snapshot/reset) show what they do: a live listr2 view on a terminal (one line per node with
// its current step and elapsed time), plain timestamped lines elsewhere (CI, pipes).
import { Listr, type ListrTaskWrapper } from 'listr2';

/** How a phase of `up` ended (src/up/phases.ts records it). */
export type PhaseOutcome = 'ran' | 'skipped' | 'failed' | 'interrupted';

export interface Progress {
  phaseStart(name: string, title: string, nodes?: readonly string[]): void;
  /** a node's current step within the running phase */
  step(node: string, step: string): void;
  phaseEnd(name: string, outcome: PhaseOutcome, seconds: number, error?: unknown): Promise<void>;
  info(line: string): void;
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

const OUTCOME: Record<PhaseOutcome, string> = { ran: 'done', skipped: 'already done', failed: 'FAILED', interrupted: 'interrupted' };

/** Plain lines, one per change: what CI logs show. */
export class PlainProgress implements Progress {
  private readonly t0 = Date.now();
  private readonly lastStep = new Map<string, string>();
  private phase = '';
  constructor(private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  private stamp(): string {
    return `[${formatSeconds((Date.now() - this.t0) / 1000).padStart(7)}]`;
  }
  phaseStart(name: string, title: string): void {
    this.phase = name;
    this.lastStep.clear();
    this.out(`${this.stamp()} ${name}: ${title}`);
  }
  step(node: string, step: string): void {
    if (this.lastStep.get(node) === step) return;
    this.lastStep.set(node, step);
    this.out(`${this.stamp()} ${this.phase}: ${node}: ${step}`);
  }
  phaseEnd(name: string, outcome: PhaseOutcome, seconds: number, error?: unknown): Promise<void> {
    const why = error instanceof Error && outcome === 'failed' ? `: ${error.message.split('\n')[0]}` : '';
    this.out(`${this.stamp()} ${name}: ${OUTCOME[outcome]}${outcome === 'skipped' ? '' : ` in ${formatSeconds(seconds)}`}${why}`);
    return Promise.resolve();
  }
  info(line: string): void {
    this.out(`${this.stamp()} ${line}`);
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

type Task = ListrTaskWrapper<unknown, never, never>;

/** The live view: one listr2 list per phase; a node phase has one concurrent task (line) per node. */
export class LiveProgress implements Progress {
  private current?: {
    name: string;
    done: Deferred;
    run: Promise<unknown>;
    tasks: Map<string, { task?: Task; step: string; started: number }>;
    timer: NodeJS.Timeout;
  };

  phaseStart(name: string, title: string, nodes?: readonly string[]): void {
    const done = deferred();
    const lines = nodes && nodes.length > 0 ? [...nodes] : [''];
    const tasks = new Map(lines.map((n) => [n, { step: 'starting', started: Date.now() } as { task?: Task; step: string; started: number }]));
    const list = new Listr(
      [
        {
          title: `${name}: ${title}`,
          task: (_ctx, parent) =>
            parent.newListr(
              lines.map((n) => ({
                title: n || title,
                task: async (_c: unknown, task: Task) => {
                  tasks.get(n)!.task = task;
                  await done.promise;
                },
              })),
              { concurrent: true, exitOnError: false },
            ),
        },
      ],
      { renderer: 'default', rendererOptions: { collapseSubtasks: false }, exitOnError: true },
    );
    const run = list.run().catch(() => undefined);
    const timer = setInterval(() => this.refresh(), 1000);
    timer.unref();
    this.current = { name, done, run, tasks, timer };
  }

  private refresh(): void {
    for (const [node, t] of this.current?.tasks ?? []) {
      if (!t.task || node === '') continue;
      t.task.title = `${node}  ${t.step}  (${formatSeconds((Date.now() - t.started) / 1000)})`;
    }
  }

  step(node: string, step: string): void {
    const t = this.current?.tasks.get(node);
    if (!t) return;
    t.step = step;
    this.refresh();
  }

  async phaseEnd(name: string, outcome: PhaseOutcome, seconds: number, error?: unknown): Promise<void> {
    const c = this.current;
    if (!c || c.name !== name) {
      // a skipped phase never started a list: one static line
      process.stdout.write(`✔ ${name}: ${OUTCOME[outcome]}\n`);
      return;
    }
    clearInterval(c.timer);
    this.refresh();
    if (outcome === 'ran') c.done.resolve();
    else c.done.reject(error instanceof Error ? error : new Error(OUTCOME[outcome]));
    await c.run;
    this.current = undefined;
    if (outcome === 'ran') process.stdout.write(`  ${name} took ${formatSeconds(seconds)}\n`);
  }

  info(line: string): void {
    process.stdout.write(`${line}\n`);
  }
}

/** Live view on a terminal, plain lines otherwise (or when K8SLAB_PLAIN=1 / CI is set). */
export function makeProgress(stream: NodeJS.WriteStream = process.stdout): Progress {
  const plain = !stream.isTTY || process.env.CI !== undefined || process.env.K8SLAB_PLAIN === '1';
  return plain ? new PlainProgress() : new LiveProgress();
}

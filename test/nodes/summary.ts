// The node tier's record, test-results/nodes-summary.json: each phase's seconds and outcome, each lesson
// check's result, the versions, the cache state, and the ratio benchmark. Figures are recorded, never
// asserted (a time goal is not a timed test). A phase that could not run is "skipped" with the reason.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheckRecord, Outcome, PhaseRecord } from '../e2e/summary.js';

export type { CheckRecord, Outcome, PhaseRecord };

export interface Benchmark {
  status: Outcome;
  /** `k8slab up` on fresh machines: everything from connect to every node Ready */
  k8slabUpSeconds?: number;
  /** the book's order on the same kind of fresh machines: each node's scripts one after another */
  serialSeconds?: number;
  /** k8slabUpSeconds / serialSeconds */
  ratio?: number;
  /** the issue's aim; recorded against, never asserted */
  target: number;
  reason?: string;
}

export interface NodesSummary {
  started: string;
  finished?: string;
  host: { cores: number; loadAverage: number[]; kernel: string };
  versions: Record<string, string>;
  /** warm: built before this run; cold: this run built it (and its build time is a phase) */
  cache: Record<string, 'warm' | 'cold' | 'missing'>;
  lab: Record<string, unknown>;
  phases: PhaseRecord[];
  checks: CheckRecord[];
  benchmark: Benchmark;
  /** the whole run's wall time against the issue's aim (warm cache: 10 minutes) */
  wall?: { seconds: number; cache: 'warm' | 'cold'; aimMinutes: number; withinAim: boolean; complete: boolean };
}

class SkipPhase extends Error {}

export class NodesRecorder {
  readonly summary: NodesSummary;
  private blocker: string | undefined;
  private readonly t0 = performance.now();

  constructor(
    private readonly file: string,
    base: Pick<NodesSummary, 'host' | 'lab'>,
  ) {
    this.summary = {
      started: new Date().toISOString(),
      ...base,
      versions: {},
      cache: {},
      phases: [],
      checks: [],
      benchmark: { status: 'skipped', target: 0.5, reason: 'not reached' },
    };
  }

  /** Runs one phase, timed. A throw marks it failed and later phases skipped (unless `always`); `skip` records why it did not run. */
  async phase<T>(name: string, fn: (skip: (reason: string) => never) => Promise<T>, opts: { always?: boolean } = {}): Promise<T | undefined> {
    if (this.blocker !== undefined && !opts.always) {
      this.push({ name, status: 'skipped', seconds: 0, reason: `not run: ${this.blocker}` });
      return undefined;
    }
    const t0 = performance.now();
    const seconds = (): number => Math.round((performance.now() - t0) / 100) / 10;
    try {
      const value = await fn((reason) => {
        throw new SkipPhase(reason);
      });
      this.push({ name, status: 'passed', seconds: seconds(), ...(isDetail(value) ? { detail: value } : {}) });
      return value;
    } catch (err) {
      if (err instanceof SkipPhase) {
        this.push({ name, status: 'skipped', seconds: seconds(), reason: err.message });
        this.blocker ??= `phase "${name}" was skipped: ${err.message}`;
        return undefined;
      }
      const reason = err instanceof Error ? err.message : String(err);
      this.push({ name, status: 'failed', seconds: seconds(), reason: reason.slice(0, 4000) });
      this.blocker ??= `phase "${name}" failed`;
      throw err;
    }
  }

  get blocked(): string | undefined {
    return this.blocker;
  }

  phaseRecord(name: string): PhaseRecord | undefined {
    return this.summary.phases.find((p) => p.name === name);
  }

  /** The run's wall time so far against the aim for its cache state (cold includes building the caches). */
  judgeWall(cache: 'warm' | 'cold', aimMinutes = 10): void {
    const seconds = Math.round((performance.now() - this.t0) / 100) / 10;
    // a run that stopped early is quick for that reason: `complete` says whether every phase passed
    const complete = this.summary.phases.every((p) => p.status === 'passed');
    this.summary.wall = { seconds, cache, aimMinutes, withinAim: complete && seconds <= aimMinutes * 60, complete };
  }

  write(): void {
    this.summary.finished = new Date().toISOString();
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, `${JSON.stringify(this.summary, null, 2)}\n`);
  }

  private push(p: PhaseRecord): void {
    process.stderr.write(`[nodes] ${p.name}: ${p.status} in ${p.seconds}s${p.reason ? ` (${p.reason.split('\n')[0]})` : ''}\n`);
    this.summary.phases.push(p);
    this.write();
  }
}

function isDetail(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

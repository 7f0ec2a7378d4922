// The phase-recording core shared by the e2e and node tiers' summaries: each phase timed, its outcome and
// reason recorded, and the summary file rewritten after every phase so a killed run still leaves a record.
// A phase that did not run (skipped or failed) blocks the phases after it unless they must always run: a
// skip is never a pass, and nothing after it may pass as if it had run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface PhaseRecord {
  name: string;
  status: Outcome;
  seconds: number;
  reason?: string;
  detail?: Record<string, unknown>;
}

export interface CheckRecord {
  lesson: string;
  check: string;
  status: Outcome;
  reason?: string;
}

/** What every tier's summary carries; each tier adds its own fields. */
export interface PhasedSummary {
  started: string;
  finished?: string;
  phases: PhaseRecord[];
}

export class PhaseRecorder<S extends PhasedSummary> {
  /** the first phase that failed or was skipped: later phases are skipped with it as the reason */
  private blocker: string | undefined;

  constructor(
    private readonly file: string,
    /** the log line's prefix on stderr, e.g. "e2e" */
    private readonly tier: string,
    readonly summary: S,
  ) {}

  /** Runs one phase, timed. A throw marks it failed (and rethrows); `skip` marks it skipped. Either blocks later phases unless `always`. */
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

  write(): void {
    this.summary.finished = new Date().toISOString();
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, `${JSON.stringify(this.summary, null, 2)}\n`);
  }

  private push(p: PhaseRecord): void {
    process.stderr.write(`[${this.tier}] ${p.name}: ${p.status} in ${p.seconds}s${p.reason ? ` (${p.reason.split('\n')[0]})` : ''}\n`);
    this.summary.phases.push(p);
    this.write();
  }
}

class SkipPhase extends Error {}

function isDetail(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// The e2e run's record: each phase's wall time and outcome, each lesson check's result, and the ratio
// benchmark. A step that could not run is "skipped" with the reason; it never counts as passed.
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

export interface Summary {
  started: string;
  finished?: string;
  host: { cores: number; loadAverage: number[]; libvirtDriver: string };
  lab: Record<string, unknown>;
  phases: PhaseRecord[];
  checks: CheckRecord[];
  benchmark: { status: Outcome; k8slabUpSeconds?: number; plainVagrantUpSeconds?: number; ratio?: number; target: number; reason?: string };
  targets: { coldMinutes: number; warmMinutes: number; downSeconds: number };
  /** the run's figures against the targets: recorded, never asserted (a time goal is not a timed test) */
  againstTargets?: TargetJudgement;
}

export interface TargetJudgement {
  /** warm: the testbed's Kubernetes binaries were already built when the run began */
  cache: 'warm' | 'cold';
  /** every phase from the testbed to the leftover check, without the benchmark */
  endToEndMinutes: number;
  limitMinutes: number;
  withinTime: boolean;
  downSeconds?: number;
  downWithin?: boolean;
}

export class Recorder {
  readonly summary: Summary;
  /** the first failed phase: later phases are skipped with it as the reason */
  private blocker: string | undefined;

  constructor(
    private readonly file: string,
    base: Pick<Summary, 'host' | 'lab'>,
  ) {
    this.summary = {
      started: new Date().toISOString(),
      ...base,
      phases: [],
      checks: [],
      benchmark: { status: 'skipped', target: 0.5, reason: 'not reached' },
      targets: { coldMinutes: 60, warmMinutes: 30, downSeconds: 30 },
    };
  }

  /** Runs one phase, timed. A throw marks it failed (and rethrows); `skip` marks it skipped. */
  async phase<T>(name: string, fn: (skip: (reason: string) => never) => Promise<T>, opts: { always?: boolean } = {}): Promise<T | undefined> {
    if (this.blocker !== undefined && !opts.always) {
      this.push({ name, status: 'skipped', seconds: 0, reason: `not run: ${this.blocker}` });
      this.write();
      return undefined;
    }
    const t0 = performance.now();
    const seconds = () => Math.round((performance.now() - t0) / 100) / 10;
    try {
      const value = await fn((reason) => {
        throw new SkipPhase(reason);
      });
      this.push({ name, status: 'passed', seconds: seconds(), ...(isDetail(value) ? { detail: value } : {}) });
      return value;
    } catch (err) {
      if (err instanceof SkipPhase) {
        this.push({ name, status: 'skipped', seconds: seconds(), reason: err.message });
        return undefined;
      }
      const reason = err instanceof Error ? err.message : String(err);
      this.push({ name, status: 'failed', seconds: seconds(), reason: reason.slice(0, 4000) });
      this.blocker ??= `phase "${name}" failed`;
      throw err;
    } finally {
      this.write();
    }
  }

  /** Compares the phases' wall times with the targets for this cache state; the benchmark is not counted. */
  judgeTargets(cache: 'warm' | 'cold'): TargetJudgement {
    const t = this.summary.targets;
    const seconds = this.summary.phases.filter((p) => !p.name.startsWith('benchmark')).reduce((sum, p) => sum + p.seconds, 0);
    const endToEndMinutes = Math.round(seconds / 6) / 10;
    const limitMinutes = cache === 'warm' ? t.warmMinutes : t.coldMinutes;
    const down = this.phaseRecord('down');
    const judged: TargetJudgement = {
      cache,
      endToEndMinutes,
      limitMinutes,
      withinTime: endToEndMinutes <= limitMinutes,
      ...(down?.status === 'passed' ? { downSeconds: down.seconds, downWithin: down.seconds <= t.downSeconds } : {}),
    };
    this.summary.againstTargets = judged;
    return judged;
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
    process.stderr.write(`[e2e] ${p.name}: ${p.status} in ${p.seconds}s${p.reason ? ` (${p.reason.split('\n')[0]})` : ''}\n`);
    this.summary.phases.push(p);
  }
}

class SkipPhase extends Error {}

function isDetail(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

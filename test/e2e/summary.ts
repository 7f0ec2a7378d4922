// The e2e run's record: each phase's wall time and outcome, each lesson check's result, and the ratio
// benchmark. A step that could not run is "skipped" with the reason; it never counts as passed.
import { PhaseRecorder, type CheckRecord, type Outcome, type PhaseRecord } from '../summary.js';

export type { CheckRecord, Outcome, PhaseRecord };

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

export class Recorder extends PhaseRecorder<Summary> {
  constructor(file: string, base: Pick<Summary, 'host' | 'lab'>) {
    super(file, 'e2e', {
      started: new Date().toISOString(),
      ...base,
      phases: [],
      checks: [],
      benchmark: { status: 'skipped', target: 0.5, reason: 'not reached' },
      targets: { coldMinutes: 60, warmMinutes: 30, downSeconds: 30 },
    });
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
}

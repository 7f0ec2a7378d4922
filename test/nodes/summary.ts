// The node tier's record, test-results/nodes-summary.json: each phase's seconds and outcome, each lesson
// check's result, the versions, the cache state, and the ratio benchmark. Figures are recorded, never
// asserted (a time goal is not a timed test). A phase that could not run is "skipped" with the reason.
import { PhaseRecorder, type CheckRecord, type Outcome, type PhaseRecord } from '../summary.js';

export type { CheckRecord, Outcome, PhaseRecord };

export interface Benchmark {
  status: Outcome;
  /** `k8slab up` on fresh machines: everything from connect to every node Ready */
  k8slabUpSeconds?: number;
  /** the book's order on the same kind of fresh machines: each node's scripts one after another */
  serialSeconds?: number;
  /** k8slabUpSeconds / serialSeconds */
  ratio?: number;
  /** the aim; recorded against, never asserted */
  target: number;
  reason?: string;
}

export interface NodesSummary {
  started: string;
  finished?: string;
  host: { cores: number; loadAverage: number[]; kernel: string };
  versions: Record<string, string | Record<string, string>>;
  /** warm: built before this run; cold: this run built it (and its build time is a phase) */
  cache: Record<string, 'warm' | 'cold' | 'missing'>;
  lab: Record<string, unknown>;
  phases: PhaseRecord[];
  checks: CheckRecord[];
  benchmark: Benchmark;
  /** the whole run's wall time against the aim (warm cache: 10 minutes) */
  wall?: { seconds: number; cache: 'warm' | 'cold'; aimMinutes: number; withinAim: boolean; complete: boolean };
}

export class NodesRecorder extends PhaseRecorder<NodesSummary> {
  private readonly t0 = performance.now();

  constructor(file: string, base: Pick<NodesSummary, 'host' | 'lab'>) {
    super(file, 'nodes', {
      started: new Date().toISOString(),
      ...base,
      versions: {},
      cache: {},
      phases: [],
      checks: [],
      benchmark: { status: 'skipped', target: 0.5, reason: 'not reached' },
    });
  }

  /** The run's wall time so far against the aim for its cache state (cold includes building the caches). */
  judgeWall(cache: 'warm' | 'cold', aimMinutes = 10): void {
    const seconds = Math.round((performance.now() - this.t0) / 100) / 10;
    // a run that stopped early is quick for that reason: `complete` says whether every phase passed
    const complete = this.summary.phases.every((p) => p.status === 'passed');
    this.summary.wall = { seconds, cache, aimMinutes, withinAim: complete && seconds <= aimMinutes * 60, complete };
  }
}

// `up` as a list of small named phases (kind-style). Each run is recorded in the lab state, so the next
// `up` skips what is done and still holds, and resumes at the first phase that is not.
import type { LabState, PhaseRecord } from '../state/lab-state.js';
import type { PhaseOutcome } from '../ui/progress.js';

export type { PhaseOutcome };

export interface Phase<C> {
  name: string;
  title: string;
  /** the nodes this phase works on, one progress line each */
  nodes?: readonly string[];
  run(ctx: C): Promise<void>;
  /**
   * For a phase recorded as done: is its effect still there (VMs running, file present)? When it is not,
   * this phase and every later one run again. Without a check, `done` is trusted.
   */
  stillDone?(ctx: C): Promise<boolean>;
}

export interface PhaseEvents {
  start?(phase: { name: string; title: string; nodes?: readonly string[] }): void;
  end?(phase: { name: string; title: string }, outcome: PhaseOutcome, seconds: number, error?: unknown): void | Promise<void>;
}

export interface RunPhasesOptions {
  state: LabState;
  /** persists the state; called before and after each phase */
  save(state: LabState): Promise<void>;
  signal?: AbortSignal;
  events?: PhaseEvents;
  /** stop after this phase (inclusive), e.g. "vms" */
  until?: string;
  now?: () => number;
}

export interface PhasesResult {
  ran: string[];
  skipped: string[];
  /** the phase that failed or was interrupted */
  stoppedAt?: { name: string; outcome: 'failed' | 'interrupted'; error: unknown };
}

export async function runPhases<C>(phases: readonly Phase<C>[], ctx: C, o: RunPhasesOptions): Promise<PhasesResult> {
  const now = o.now ?? Date.now;
  const last = o.until === undefined ? phases.length - 1 : phases.findIndex((p) => p.name === o.until);
  if (last < 0) throw new Error(`unknown phase "${o.until}"; phases: ${phases.map((p) => p.name).join(', ')}`);
  const result: PhasesResult = { ran: [], skipped: [] };
  let redoFromHere = false;
  for (const phase of phases.slice(0, last + 1)) {
    const rec = o.state.phases[phase.name];
    if (!redoFromHere && rec?.status === 'done' && (phase.stillDone === undefined || (await phase.stillDone(ctx)))) {
      result.skipped.push(phase.name);
      await o.events?.end?.(phase, 'skipped', rec.seconds ?? 0);
      continue;
    }
    // Once one phase runs again, the later ones depend on fresh results: run them too.
    redoFromHere = true;
    const started = now();
    const running: PhaseRecord = { status: 'running', startedAt: new Date(started).toISOString() };
    o.state.phases[phase.name] = running;
    await o.save(o.state);
    o.events?.start?.(phase);
    try {
      if (o.signal?.aborted) throw new Error('interrupted');
      await phase.run(ctx);
      const seconds = (now() - started) / 1000;
      o.state.phases[phase.name] = { ...running, status: 'done', finishedAt: new Date(now()).toISOString(), seconds };
      await o.save(o.state);
      result.ran.push(phase.name);
      await o.events?.end?.(phase, 'ran', seconds);
    } catch (error) {
      const seconds = (now() - started) / 1000;
      const outcome = o.signal?.aborted ? 'interrupted' : 'failed';
      o.state.phases[phase.name] = {
        ...running,
        status: outcome,
        finishedAt: new Date(now()).toISOString(),
        seconds,
        error: outcome === 'interrupted' ? 'interrupted (Ctrl-C)' : error instanceof Error ? error.message : String(error),
      };
      await o.save(o.state);
      await o.events?.end?.(phase, outcome, seconds, error);
      result.stoppedAt = { name: phase.name, outcome, error };
      return result;
    }
  }
  return result;
}

// Runs the probe on every machine through a small runner, so that the doctor needs only "run this
// script there". The provider supplies the runner (SSH to the machine); tests supply a fake.
import type { MachineNode } from '../../plan/plan.js';
import type { CheckResult } from '../types.js';
import { judgeMachines, type MachineProbe } from './judge.js';
import { PROBE_SCRIPT, parseProbe } from './probe.js';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A way to run a command on one machine as its SSH user; rejects when the machine cannot be reached. */
export interface MachineRunner {
  run(command: string, opts: { input: string; timeoutMs: number }): Promise<RunResult>;
  close?(): Promise<void>;
}

export interface GatherDeps {
  connect(node: MachineNode): Promise<MachineRunner>;
  /** the host's clock in ms (Date.now in the product) */
  now(): number;
}

const PROBE_TIMEOUT_MS = 30_000;

export async function probeMachine(node: MachineNode, deps: GatherDeps): Promise<MachineProbe> {
  let runner: MachineRunner | undefined;
  try {
    runner = await deps.connect(node);
    const hostBeforeMs = deps.now();
    const r = await runner.run('sh -s', { input: PROBE_SCRIPT, timeoutMs: PROBE_TIMEOUT_MS });
    const hostAfterMs = deps.now();
    if (r.exitCode !== 0 && !r.stdout.includes('uid=')) {
      return { node, outcome: { ok: false, error: `the probe failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n')[0] ?? ''}` } };
    }
    return { node, outcome: { ok: true, facts: parseProbe(r.stdout), hostBeforeMs, hostAfterMs } };
  } catch (err) {
    return { node, outcome: { ok: false, error: (err as Error).message } };
  } finally {
    await runner?.close?.().catch(() => undefined);
  }
}

/** Probes all machines at once (one SSH round trip each) and judges them together. */
export async function doctorMachines(nodes: readonly MachineNode[], deps: GatherDeps, kubernetesMinor?: number): Promise<CheckResult[]> {
  return judgeMachines(await Promise.all(nodes.map((n) => probeMachine(n, deps))), kubernetesMinor);
}

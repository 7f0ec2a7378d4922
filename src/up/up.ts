// `k8slab up`: the phases in order, run with state, progress and Ctrl-C handling.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasFailure, realHost, runDoctor } from '../doctor/index.js';
import { renderFiles, renderLab } from '../render/index.js';
import { Interrupted, UserError } from '../util/errors.js';
import type { UpContext } from './context.js';
import { kubeconfigPhase, readyPhase, recordedNodes } from './cluster-phases.js';
import type { Lab } from '../lab/lab.js';
import { runPhases, type Phase, type PhasesResult } from './phases.js';
import type { Progress } from '../ui/progress.js';
import { provisionPhase } from './provision.js';
import { formatSummary, summaryRows } from '../ui/summary.js';
import { machinesPhase } from './machines.js';

export const PHASES = ['doctor', 'render', 'vms', 'provision', 'ready', 'kubeconfig'] as const;
export type PhaseName = (typeof PHASES)[number];

function doctorPhase(lab: Lab): Phase<UpContext> {
  return {
    name: 'doctor',
    title: 'check the host (k8slab doctor)',
    async run(ctx) {
      if (ctx.skipDoctor) {
        ctx.progress.info('  doctor: skipped (--skip-doctor)');
        return;
      }
      const results = await runDoctor(lab.config, realHost(), { labDir: lab.paths.labDir });
      for (const r of results.filter((x) => x.status !== 'pass')) ctx.progress.info(`  ${r.status}: ${r.name}: ${r.detail}`);
      if (hasFailure(results)) {
        const failed = results.filter((r) => r.status === 'fail');
        throw new UserError(
          `the host is not ready: ${failed.map((r) => `${r.name} (${r.detail})`).join('; ')}`,
          'environment',
          failed.map((r) => r.fix).filter(Boolean).join('; ') || 'run `k8slab doctor` for details',
        );
      }
    },
  };
}

function renderPhase(lab: Lab): Phase<UpContext> {
  return {
    name: 'render',
    title: `render the lab folder ${lab.paths.labDir}`,
    async run() {
      await renderLab(lab.plan, lab.state.secrets, lab.paths.labDir);
    },
    // Done while every file on disk is what lab.yaml and the templates give now; a change re-renders,
    // and the phases after it run again (scripts are idempotent, `vagrant up` on running VMs is quick).
    async stillDone() {
      for (const [path, file] of renderFiles(lab.plan, lab.state.secrets)) {
        const on = await readFile(join(lab.paths.labDir, path), 'utf8').catch(() => undefined);
        if (on !== file.content) return false;
      }
      return true;
    },
  };
}

export function upPhases(lab: Lab): Phase<UpContext>[] {
  return [doctorPhase(lab), renderPhase(lab), machinesPhase(lab), provisionPhase(lab), readyPhase(lab), kubeconfigPhase(lab)];
}

export interface UpOptions {
  until?: PhaseName;
  skipDoctor?: boolean;
  serial?: boolean;
  signal: AbortSignal;
  progress: Progress;
}

export interface UpResult extends PhasesResult {
  summary: string;
  notes: string[];
}

export async function up(lab: Lab, o: UpOptions): Promise<UpResult> {
  const ctx: UpContext = {
    lab,
    signal: o.signal,
    progress: o.progress,
    skipDoctor: o.skipDoctor ?? false,
    serial: o.serial ?? false,
    notes: [],
  };
  await lab.save(); // secrets exist on disk before any VM does
  const phases = upPhases(lab);
  try {
    const result = await runPhases(phases, ctx, {
      state: lab.state,
      save: () => lab.save(),
      signal: o.signal,
      ...(o.until ? { until: o.until } : {}),
      events: {
        start: (p) => o.progress.phaseStart(p.name, p.title, p.nodes),
        end: (p, outcome, seconds, error) => o.progress.phaseEnd(p.name, outcome, seconds, error),
      },
    });
    if (result.stoppedAt) {
      const { name, outcome, error } = result.stoppedAt;
      if (outcome === 'interrupted') throw new Interrupted(`\`k8slab up\` (phase ${name})`, 'run `k8slab up` again to resume from this phase');
      if (error instanceof UserError) throw error;
      throw new UserError(
        `phase ${name} failed: ${error instanceof Error ? error.message : String(error)}`,
        'failed',
        `logs are in ${lab.logDir}; fix the cause and run \`k8slab up\` again (it resumes at ${name}), or \`k8slab down\` to start over`,
      );
    }
    const vms = await lab.provider.status({ signal: o.signal });
    const summary = formatSummary(summaryRows(lab.plan, vms, recordedNodes(lab)), lab.state, PHASES);
    return { ...result, summary, notes: ctx.notes };
  } finally {
    await lab.close();
  }
}

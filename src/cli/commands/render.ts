// `k8slab render`: lab.yaml -> the lab folder (Vagrantfile, the four scripts, the lab CA), nothing started.
// The lab's token and CA are made on the first render and kept in the lab state, so every later render
// (and `up`) uses the same ones.
import { relative } from 'node:path';
import type { Command } from 'commander';
import { makePlan } from '../../plan/plan.js';
import { renderLab, type WrittenFile } from '../../render/index.js';
import { loadOrCreateState, writeState } from '../../state/lab-state.js';
import { addLabOptions, loadLab, type GlobalOptions } from '../context.js';

interface RenderOptions extends GlobalOptions {
  out?: string;
  force?: boolean;
}

export function register(program: Command): void {
  addLabOptions(
    program
      .command('render')
      .description('write the lab folder (Vagrantfile and provisioning scripts) without starting anything')
      .option('-o, --out <dir>', 'where to write the lab folder (same as --lab-dir)')
      .option('-f, --force', 'overwrite files in the folder that k8slab did not write or that were edited'),
  ).action(async (opts: RenderOptions) => {
    // A bad lab.yaml throws here (ConfigError), before anything is written.
    const { paths, config } = await loadLab({ ...opts, labDir: opts.out ?? opts.labDir });
    const { state, created } = await loadOrCreateState(paths.labDir);
    const plan = makePlan(config, state.secrets);
    const written = await renderLab(plan, state.secrets, paths.labDir, { force: opts.force });
    if (created) await writeState(paths.labDir, state);
    process.stdout.write(report(paths.labDir, written, created));
  });
}

function report(labDir: string, written: readonly WrittenFile[], newSecrets: boolean): string {
  const shown = relative(process.cwd(), labDir) || '.';
  const lines = written.map((f) => `  ${f.status.padEnd(9)} ${f.mode.toString(8).padStart(4, '0')}  ${f.path}`);
  const secrets = newSecrets
    ? 'new lab token and cluster CA made (kept in .k8slab/state.json)'
    : 'lab token and cluster CA reused from .k8slab/state.json';
  return [`${shown}:`, ...lines, `  ${secrets}`, `next: \`k8slab up\`, or \`cd ${shown} && vagrant up\``, ''].join('\n');
}

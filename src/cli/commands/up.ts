import { Option, type Command } from 'commander';
import { addLabOptions, loadLab, type GlobalOptions } from '../context.js';
import { openLab } from '../../lab/lab.js';
import { withInterrupt } from '../interrupt.js';
import { makeProgress } from '../../ui/progress.js';
import { PHASES, up, type PhaseName } from '../../up/up.js';

export function register(program: Command): void {
  addLabOptions(
    program
      .command('up')
      .description('build the lab: render, boot the VMs, provision them over SSH, wait until every node is Ready')
      .addOption(new Option('--until <phase>', 'stop after this phase (e.g. "vms": VMs up and reachable, no Kubernetes)').choices([...PHASES]))
      .option('--skip-doctor', 'do not run the host checks first')
      .option('--serial', 'provision one node after another, in the book\'s order (control plane, then each worker), as a plain `vagrant up` does: slower, lighter on a small host'),
  ).action(async (opts: GlobalOptions & { until?: PhaseName; skipDoctor?: boolean; serial?: boolean }) => {
    const { paths, config } = await loadLab(opts);
    const lab = await openLab(paths, config);
    const progress = makeProgress();
    const result = await withInterrupt((signal) =>
      up(lab, {
        signal,
        progress,
        ...(opts.until ? { until: opts.until } : {}),
        ...(opts.skipDoctor ? { skipDoctor: true } : {}),
        ...(opts.serial ? { serial: true } : {}),
      }),
    );
    const upTo = opts.until ? ` (up to phase ${opts.until})` : '';
    process.stdout.write(
      result.ran.length === 0
        ? `\nlab ${config.name} is already up and healthy${upTo}: nothing to do, nothing changed\n\n`
        : `\nlab ${config.name} is up${upTo}\n\n`,
    );
    process.stdout.write(result.summary);
    for (const note of result.notes) process.stdout.write(`\n${note}\n`);
  });
}

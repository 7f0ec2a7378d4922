import type { Command } from 'commander';
import { addLabOptions, loadLab, requireVagrantProvider, type GlobalOptions } from '../context.js';
import { down, type DownReport } from '../../up/down.js';
import { withInterrupt } from '../../up/interrupt.js';
import { EXIT } from '../exit-codes.js';

function describe(r: DownReport): string {
  if (r.nothingToDo && r.problems.length === 0) {
    return `lab ${r.lab}: nothing to remove (no VMs, networks, volumes or state of this lab); lab.yaml kept\n`;
  }
  const list = (what: string, xs: string[]) => (xs.length > 0 ? `  ${what}: ${xs.join(', ')}\n` : '');
  let out = `lab ${r.lab}: removed\n`;
  out += list('VMs', r.removed.vms) + list('networks', r.removed.networks) + list('volumes', r.removed.volumes) + list('files', r.removed.files);
  out += list('kept (still used by other VMs)', r.kept.networks);
  const left = [...r.left.vms, ...r.left.networks, ...r.left.volumes];
  out += left.length === 0 ? 'check: no VM, network or volume of the lab is left; lab.yaml kept\n' : `check FAILED, still present: ${left.join(', ')}\n`;
  for (const p of r.problems) out += `  problem: ${p}\n`;
  return out;
}

export function register(program: Command): void {
  addLabOptions(
    program
      .command('down')
      .description("destroy the lab's VMs, its networks, volumes, state and logs; keep lab.yaml")
      .option('--json', 'print what was removed as JSON'),
  ).action(async (opts: GlobalOptions & { json?: boolean }) => {
    const { paths, config } = await loadLab(opts);
    requireVagrantProvider(config, 'down');
    const report = await withInterrupt((signal) =>
      down({
        labDir: paths.labDir,
        config,
        configFile: paths.configFile,
        signal,
        ...(opts.json ? {} : { onStep: (s: string) => process.stderr.write(`  ${s}\n`) }),
      }),
    );
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : describe(report));
    const left = report.left.vms.length + report.left.networks.length + report.left.volumes.length;
    if (left > 0) process.exitCode = EXIT.failed;
  });
}

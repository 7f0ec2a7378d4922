import type { Command } from 'commander';
import { addLabOptions, loadLab, type GlobalOptions } from '../context.js';
import { down, type DownReport } from '../../down/down.js';
import { describeTeardown } from '../../down/teardown.js';
import { openLab } from '../../lab/lab.js';
import { withInterrupt } from '../interrupt.js';
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
  for (const m of r.machines) out += `  ${describeTeardown(m)}\n`;
  for (const p of r.problems) out += `  problem: ${p}\n`;
  return out;
}

export function register(program: Command): void {
  addLabOptions(
    program
      .command('down')
      .description("destroy the lab's VMs, its networks, volumes, state and logs; keep lab.yaml")
      .option('--json', 'print what was removed as JSON')
      .option('--purge', 'provider machines: also remove the packages and files install_pkg.sh added'),
  ).action(async (opts: GlobalOptions & { json?: boolean; purge?: boolean }) => {
    const { paths, config } = await loadLab(opts);
    // down works on a broken lab too: an unreadable state file is a problem to report, not a stop
    const problems: string[] = [];
    const lab = await openLab(paths, config, { onStateError: (e) => problems.push(e.message) });
    const report = await withInterrupt((signal) =>
      down(lab, {
        signal,
        problems,
        ...(opts.purge ? { purge: true } : {}),
        ...(opts.json ? {} : { onStep: (s: string) => process.stderr.write(`  ${s}\n`) }),
      }),
    );
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : describe(report));
    const left = report.left.vms.length + report.left.networks.length + report.left.volumes.length;
    const machinesLeft = report.machines.some((m) => m.error !== undefined || m.leftovers.length > 0);
    if (left > 0 || machinesLeft) process.exitCode = EXIT.failed;
  });
}

import type { Command } from 'commander';
import { formatJson, formatTable, hasFailure, realHost, runDoctor } from '../../doctor/index.js';
import { addLabOptions, loadLab, type GlobalOptions } from '../context.js';
import { EXIT } from '../exit-codes.js';

export function register(program: Command): void {
  addLabOptions(
    program
      .command('doctor')
      .description('check the host before `up`: vagrant, provider, KVM, network, RAM, CPUs, disk')
      .option('--json', 'print the results as JSON'),
  ).action(async (opts: GlobalOptions & { json?: boolean }) => {
    const { paths, config } = await loadLab(opts);
    if (!opts.json) process.stderr.write('checking the host...\n');
    const results = await runDoctor(config, realHost(), { labDir: paths.labDir });
    process.stdout.write(opts.json ? formatJson(results) : formatTable(results));
    // exit 1 when any check failed; warnings alone still let `up` go ahead
    if (hasFailure(results)) process.exitCode = EXIT.failed;
  });
}

import type { Command } from 'commander';
import { execa } from 'execa';
import { addLabOptions, loadLab, requireVagrantProvider, requireRenderedLab, type GlobalOptions } from '../context.js';
import { nodeAddresses } from '../../config/cross-check.js';
import { shQuote } from '../../util/shell.js';
import { UserError } from '../../util/errors.js';
import { EXIT } from '../exit-codes.js';
import { classifyVagrantFailure } from '../../provider/errors.js';

export function register(program: Command): void {
  addLabOptions(
    program
      .command('ssh')
      .description('open a shell on a node, or run one command there: k8slab ssh NODE [-- CMD...]')
      .argument('<node>', 'node name, e.g. m-k8s')
      .argument('[command...]', 'command and its arguments, each kept as one word (after --; for shell syntax: -- sh -c "a; b"); its exit code becomes ours'),
  ).action(async (node: string, command: string[], opts: GlobalOptions) => {
    const { paths, config } = await loadLab(opts);
    requireVagrantProvider(config, 'ssh');
    const names = nodeAddresses(config).map((a) => a.name);
    if (!names.includes(node)) {
      throw new UserError(`no node "${node}" in lab ${config.name}`, EXIT.usage, `nodes: ${names.join(', ')}`);
    }
    requireRenderedLab(paths, config);
    // vagrant ssh runs the command through the remote login shell: quote each word so it arrives intact.
    const args = ['ssh', node, ...(command.length > 0 ? ['-c', command.map(shQuote).join(' ')] : [])];
    // Ctrl-C belongs to the remote command (the terminal sends it to vagrant/ssh too): we wait for its exit code.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    const r = await execa('vagrant', args, { cwd: paths.labDir, stdio: 'inherit', reject: false }).finally(() =>
      process.off('SIGINT', ignore),
    );
    if (r.exitCode === undefined) {
      // vagrant never ran, or died of a signal
      if ((r as { code?: string }).code === 'ENOENT') {
        throw classifyVagrantFailure({ command: 'vagrant ssh', stdout: '', stderr: '', spawnError: 'ENOENT', provider: config.provider });
      }
      throw new UserError(`\`vagrant ssh ${node}\` failed: ${r.shortMessage}`, EXIT.failed);
    }
    process.exitCode = r.exitCode ?? EXIT.failed;
  });
}

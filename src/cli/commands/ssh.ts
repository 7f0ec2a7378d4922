import type { Command } from 'commander';
import { addLabOptions, loadLab, requireRenderedLab, type GlobalOptions } from '../context.js';
import { openLab } from '../../lab/lab.js';
import { UserError } from '../../util/errors.js';

export function register(program: Command): void {
  addLabOptions(
    program
      .command('ssh')
      .description('open a shell on a node, or run one command there: k8slab ssh NODE [-- CMD...]')
      .argument('<node>', 'node name, e.g. m-k8s')
      .argument('[command...]', 'command and its arguments, each kept as one word (after --; for shell syntax: -- sh -c "a; b"); its exit code becomes ours'),
  ).action(async (node: string, command: string[], opts: GlobalOptions) => {
    const { paths, config } = await loadLab(opts);
    const lab = await openLab(paths, config);
    const names = lab.plan.nodes.map((n) => n.name);
    if (!names.includes(node)) {
      throw new UserError(`no node "${node}" in lab ${config.name}`, 'usage', `nodes: ${names.join(', ')}`);
    }
    requireRenderedLab(paths, config);
    process.exitCode = await lab.provider.shell(node, command);
  });
}

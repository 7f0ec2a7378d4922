import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';

// Placeholder until the command lands; it refuses to run rather than pretend.
export function register(program: Command): void {
  program
    .command('bundle')
    .description('(not built yet)')
    .action(() => {
      throw new UserError('`k8slab bundle` is not built yet');
    });
}

import { copyFile, constants } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { TEMPLATES_DIR } from '../../paths.js';
import { UserError } from '../../util/errors.js';
import { EXIT } from '../exit-codes.js';

export function register(program: Command): void {
  program
    .command('init')
    .description('write a commented lab.yaml holding every default')
    .option('-c, --config <file>', 'where to write it', 'lab.yaml')
    .option('-f, --force', 'overwrite an existing file')
    .action(async (opts: { config: string; force?: boolean }) => {
      const target = resolve(opts.config);
      try {
        await copyFile(resolve(TEMPLATES_DIR, 'lab.yaml'), target, opts.force ? 0 : constants.COPYFILE_EXCL);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new UserError(`${target} exists already`, 'usage', 'edit it, or pass --force to overwrite it');
        }
        throw err;
      }
      process.stdout.write(`wrote ${target}\nnext: edit it if you like, then \`k8slab up\`\n`);
    });
}

// What every command needs: where lab.yaml and the lab folder are, and the loaded config.
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import type { LabConfig } from '../config/schema.js';
import { UserError } from '../util/errors.js';
import type { Lab, LabPaths } from '../lab/lab.js';

export type { LabPaths };

export interface GlobalOptions {
  config: string;
  labDir?: string;
}

export function addLabOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'the lab definition', 'lab.yaml')
    .option('-l, --lab-dir <dir>', 'the generated lab folder (default: "lab" beside lab.yaml)');
}

export function labPaths(opts: GlobalOptions): LabPaths {
  const configFile = resolve(opts.config);
  return { configFile, labDir: resolve(opts.labDir ?? resolve(dirname(configFile), 'lab')) };
}

export async function loadLab(opts: GlobalOptions): Promise<{ paths: LabPaths; config: LabConfig }> {
  const paths = labPaths(opts);
  const config = await loadConfigFile(paths.configFile);
  // kubernetes.bundle is written relative to lab.yaml, but the Vagrantfile that syncs it lives in the lab
  // folder: from here on the path is absolute.
  if (config.kubernetes.bundle !== undefined) {
    config.kubernetes.bundle = resolve(dirname(paths.configFile), config.kubernetes.bundle);
  }
  return { paths, config };
}

/** For commands that act on existing machines (ssh, snapshot, reset): a lab never rendered or brought up has none. */
export function requireRenderedLab(lab: Pick<Lab, 'existed' | 'config' | 'paths' | 'provider'>): void {
  if (lab.config.provider === 'machines') return; // machines exist before k8slab does anything
  if (!lab.existed) {
    throw new UserError(
      `lab ${lab.config.name} has no ${lab.provider.machineWord}s yet (no lab state in ${lab.paths.labDir})`,
      'failed',
      'run `k8slab up` first',
    );
  }
}

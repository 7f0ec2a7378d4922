// What every command needs: where lab.yaml and the lab folder are, and the loaded config.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import type { LabConfig } from '../config/schema.js';
import { UserError } from '../util/errors.js';
import { NO_SNAPSHOTS } from '../provider/machines.js';
import { EXIT } from './exit-codes.js';

export interface LabPaths {
  configFile: string;
  labDir: string;
}

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

/** For commands that act on existing VMs (ssh, snapshot, reset): a lab never brought up has none. */
export function requireRenderedLab(paths: LabPaths, config: LabConfig): void {
  if (!existsSync(join(paths.labDir, 'Vagrantfile'))) {
    throw new UserError(`lab ${config.name} has no VMs yet (no Vagrantfile in ${paths.labDir})`, EXIT.failed, 'run `k8slab up` first');
  }
}

/** Snapshots are VM state: machines have none. */
export function requireSnapshots(config: LabConfig): void {
  if (config.provider === 'machines') {
    throw new UserError(
      NO_SNAPSHOTS,
      EXIT.usage,
      'for a fresh cluster on the same machines, run `k8slab down` and `k8slab up`',
    );
  }
}

/** Until the machines provider drives these commands (issue 14): say so before anything runs. */
export function requireVagrantProvider(config: LabConfig, command: string): void {
  if (config.provider === 'machines') {
    throw new UserError(
      `\`k8slab ${command}\` does not drive provider: machines yet (issue 14)`,
      EXIT.usage,
      command === 'down'
        ? 'on each machine, run `sudo bash teardown.sh` from the lab folder (`k8slab render` writes it): it removes the lab and lists what is left'
        : '`k8slab doctor` and `k8slab render` work on machines today',
    );
  }
}

import type { Command } from 'commander';
import { addLabOptions, loadLab, requireSnapshots, requireRenderedLab, type GlobalOptions } from '../context.js';
import { openLab, type Lab } from '../../up/lab.js';
import { withInterrupt } from '../../up/interrupt.js';
import { makeProgress, formatSeconds } from '../../up/progress.js';
import { hasCluster, openControlPlane } from '../../up/control-plane.js';
import { connectNode } from '../../up/ssh-adapter.js';
import { waitForCluster } from '../../cluster/wait.js';
import { UserError } from '../../util/errors.js';
import { EXIT } from '../exit-codes.js';
import { table } from '../../up/summary.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const DEFAULT_SNAPSHOT = 'clean';

function checkName(name: string): string {
  if (!NAME.test(name)) {
    throw new UserError(`bad snapshot name "${name}"`, EXIT.usage, 'use letters, digits, ".", "_" or "-" (at most 63), e.g. "clean"');
  }
  return name;
}

async function machines(lab: Lab, signal: AbortSignal): Promise<string[]> {
  const status = await lab.vagrant({ signal }).status();
  const names = lab.plan.nodes.map((n) => n.name);
  const missing = names.filter((n) => status.find((m) => m.name === n)?.state === 'not_created' || !status.some((m) => m.name === n));
  if (missing.length > 0) {
    throw new UserError(`the lab's VMs are not all created (missing: ${missing.join(', ')})`, EXIT.failed, 'run `k8slab up` first');
  }
  return names;
}

/** Runs one vagrant snapshot action on every VM as a progress phase; returns the progress view. */
async function vagrantPhase(
  lab: Lab,
  signal: AbortSignal,
  phase: string,
  title: string,
  names: string[],
  t0: number,
  act: (v: ReturnType<Lab['vagrant']>) => Promise<unknown>,
): Promise<ReturnType<typeof makeProgress>> {
  const progress = makeProgress();
  progress.phaseStart(phase, title, names);
  const v = lab.vagrant({ signal, onProgress: (p) => progress.step(p.machine, p.step) });
  try {
    await act(v);
  } finally {
    await v.close();
    await progress.phaseEnd(phase, signal.aborted ? 'interrupted' : 'ran', (Date.now() - t0) / 1000);
  }
  return progress;
}

export function register(program: Command): void {
  const snap = program.command('snapshot').description('save, list and restore snapshots of every VM of the lab');
  addLabOptions(snap.command('save').description('snapshot every VM under NAME').argument('[name]', 'snapshot name', DEFAULT_SNAPSHOT)).action(
    async (name: string, opts: GlobalOptions) => {
      checkName(name);
      const { paths, config } = await loadLab(opts);
      requireSnapshots(config);
      requireRenderedLab(paths, config);
      const lab = await openLab(paths, config);
      const t0 = Date.now();
      await withInterrupt(async (signal) => {
        const names = await machines(lab, signal);
        const existing = await lab.vagrant({ signal }).snapshotList(names);
        const clash = names.filter((n) => existing[n]?.includes(name));
        if (clash.length > 0) {
          throw new UserError(`snapshot "${name}" already exists on ${clash.join(', ')}`, EXIT.usage, 'choose another name (`k8slab snapshot list`)');
        }
        await vagrantPhase(lab, signal, 'snapshot', `save "${name}"`, names, t0, (v) => v.snapshotSave(name, names));
      });
      process.stdout.write(`saved snapshot "${name}" of ${lab.plan.nodes.length} VMs in ${formatSeconds((Date.now() - t0) / 1000)}; restore with \`k8slab reset ${name}\`\n`);
    },
  );

  addLabOptions(snap.command('list').description("every VM's snapshots").option('--json', 'print JSON')).action(
    async (opts: GlobalOptions & { json?: boolean }) => {
      const { paths, config } = await loadLab(opts);
      requireSnapshots(config);
      requireRenderedLab(paths, config);
      const lab = await openLab(paths, config);
      const list = await withInterrupt((signal) => lab.vagrant({ signal }).snapshotList());
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      process.stdout.write(table(['NODE', 'SNAPSHOTS'], lab.plan.nodes.map((n) => [n.name, (list[n.name] ?? []).join(', ') || '-'])));
    },
  );

  addLabOptions(
    program
      .command('reset')
      .description('restore every VM to a snapshot, then wait until the nodes are Ready again')
      .argument('[name]', 'snapshot name', DEFAULT_SNAPSHOT),
  ).action(async (name: string, opts: GlobalOptions) => {
    checkName(name);
    const { paths, config } = await loadLab(opts);
    requireSnapshots(config);
    requireRenderedLab(paths, config);
    const lab = await openLab(paths, config);
    const t0 = Date.now();
    await withInterrupt(async (signal) => {
      const names = await machines(lab, signal);
      const existing = await lab.vagrant({ signal }).snapshotList(names);
      const lacking = names.filter((n) => !existing[n]?.includes(name));
      if (lacking.length > 0) {
        const known = [...new Set(Object.values(existing).flat())];
        throw new UserError(
          `snapshot "${name}" does not exist on ${lacking.join(', ')}`,
          EXIT.usage,
          known.length > 0 ? `snapshots: ${known.join(', ')}` : 'take one first with `k8slab snapshot save NAME`',
        );
      }
      const progress = await vagrantPhase(lab, signal, 'reset', `restore "${name}"`, names, t0, (v) => v.snapshotRestore(name, names));
      if (hasCluster(lab)) {
        progress.info('waiting until every node is Ready again');
        const cp = await openControlPlane(lab, connectNode, signal, 300_000);
        try {
          await waitForCluster(cp.run, { nodes: names, cni: lab.plan.kubernetes.cni }, { timeoutMs: 10 * 60_000, signal });
        } finally {
          await cp.close();
        }
      }
    });
    process.stdout.write(`restored snapshot "${name}" on ${lab.plan.nodes.length} VMs in ${formatSeconds((Date.now() - t0) / 1000)}\n`);
  });
}

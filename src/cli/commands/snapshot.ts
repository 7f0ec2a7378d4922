import type { Command } from 'commander';
import { addLabOptions, loadLab, requireRenderedLab, type GlobalOptions } from '../context.js';
import { hasCluster, openLab, type Lab } from '../../lab/lab.js';
import type { Snapshots } from '../../provider/types.js';
import { withInterrupt } from '../interrupt.js';
import { makeProgress, formatSeconds, type Progress } from '../../ui/progress.js';
import { waitForCluster } from '../../cluster/wait.js';
import { UserError } from '../../util/errors.js';
import { table } from '../../util/table.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const DEFAULT_SNAPSHOT = 'clean';

function checkName(name: string): string {
  if (!NAME.test(name)) {
    throw new UserError(`bad snapshot name "${name}"`, 'usage', 'use letters, digits, ".", "_" or "-" (at most 63), e.g. "clean"');
  }
  return name;
}

/** The provider's snapshots, or a usage error (exit 2) for a provider that has none. */
export function snapshotsOf(lab: Pick<Lab, 'provider'>): Snapshots {
  const s = lab.provider.snapshots;
  if (!s) {
    throw new UserError(
      `${lab.provider.machineWord}s have no snapshots (provider ${lab.provider.name}): \`snapshot\` and \`reset\` work on Vagrant labs only`,
      'usage',
      'to start over, run `k8slab down` and then `k8slab up`',
    );
  }
  return s;
}

/** Opens the lab for a snapshot command: the provider must have snapshots and the lab must exist. */
async function openForSnapshots(opts: GlobalOptions): Promise<{ lab: Lab; snapshots: Snapshots }> {
  const { paths, config } = await loadLab(opts);
  const lab = await openLab(paths, config);
  const snapshots = snapshotsOf(lab);
  requireRenderedLab(lab);
  return { lab, snapshots };
}

async function machines(lab: Lab, signal: AbortSignal): Promise<string[]> {
  const status = await lab.provider.status({ signal });
  const missing = status.filter((m) => m.state === 'not_created').map((m) => m.name);
  if (missing.length > 0) {
    throw new UserError(`the lab's ${lab.provider.machineWord}s are not all created (missing: ${missing.join(', ')})`, 'failed', 'run `k8slab up` first');
  }
  return status.map((m) => m.name);
}

/** Runs one snapshot action on every machine as a progress phase; returns the progress view. */
async function snapshotPhase(
  signal: AbortSignal,
  phase: string,
  title: string,
  names: string[],
  t0: number,
  act: (o: { signal: AbortSignal; onProgress: (p: { machine: string; step: string }) => void }) => Promise<unknown>,
): Promise<Progress> {
  const progress = makeProgress();
  progress.phaseStart(phase, title, names);
  try {
    await act({ signal, onProgress: (p) => progress.step(p.machine, p.step) });
  } finally {
    await progress.phaseEnd(phase, signal.aborted ? 'interrupted' : 'ran', (Date.now() - t0) / 1000);
  }
  return progress;
}

export function register(program: Command): void {
  const snap = program.command('snapshot').description('save, list and restore snapshots of every VM of the lab');
  addLabOptions(snap.command('save').description('snapshot every VM under NAME').argument('[name]', 'snapshot name', DEFAULT_SNAPSHOT)).action(
    async (name: string, opts: GlobalOptions) => {
      checkName(name);
      const { lab, snapshots } = await openForSnapshots(opts);
      const t0 = Date.now();
      await withInterrupt(async (signal) => {
        const names = await machines(lab, signal);
        const existing = await snapshots.list(names, { signal });
        const clash = names.filter((n) => existing[n]?.includes(name));
        if (clash.length > 0) {
          throw new UserError(`snapshot "${name}" already exists on ${clash.join(', ')}`, 'usage', 'choose another name (`k8slab snapshot list`)');
        }
        await snapshotPhase(signal, 'snapshot', `save "${name}"`, names, t0, (o) => snapshots.save(name, names, o));
      });
      process.stdout.write(`saved snapshot "${name}" of ${lab.plan.nodes.length} VMs in ${formatSeconds((Date.now() - t0) / 1000)}; restore with \`k8slab reset ${name}\`\n`);
    },
  );

  addLabOptions(snap.command('list').description("every VM's snapshots").option('--json', 'print JSON')).action(
    async (opts: GlobalOptions & { json?: boolean }) => {
      const { lab, snapshots } = await openForSnapshots(opts);
      const list = await withInterrupt((signal) => snapshots.list([], { signal }));
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
    const { lab, snapshots } = await openForSnapshots(opts);
    const t0 = Date.now();
    await withInterrupt(async (signal) => {
      const names = await machines(lab, signal);
      const existing = await snapshots.list(names, { signal });
      const lacking = names.filter((n) => !existing[n]?.includes(name));
      if (lacking.length > 0) {
        const known = [...new Set(Object.values(existing).flat())];
        throw new UserError(
          `snapshot "${name}" does not exist on ${lacking.join(', ')}`,
          'usage',
          known.length > 0 ? `snapshots: ${known.join(', ')}` : 'take one first with `k8slab snapshot save NAME`',
        );
      }
      const progress = await snapshotPhase(signal, 'reset', `restore "${name}"`, names, t0, (o) => snapshots.restore(name, names, o));
      if (hasCluster(lab)) {
        progress.info('waiting until every node is Ready again');
        try {
          await waitForCluster(await lab.kubectl({ signal, timeoutMs: 300_000 }), { nodes: names, cni: lab.plan.kubernetes.cni }, { timeoutMs: 10 * 60_000, signal });
        } finally {
          await lab.close();
        }
      }
    });
    process.stdout.write(`restored snapshot "${name}" on ${lab.plan.nodes.length} VMs in ${formatSeconds((Date.now() - t0) / 1000)}\n`);
  });
}

import type { Command } from 'commander';
import { addLabOptions, loadLab, requireVagrantProvider, type GlobalOptions } from '../context.js';
import { openLab } from '../../up/lab.js';
import { getNodes } from '../../cluster/wait.js';
import type { NodeReadiness } from '../../cluster/readiness.js';
import { openControlPlane, mayHaveCluster } from '../../up/control-plane.js';
import { connectNode } from '../../up/ssh-adapter.js';
import { table } from '../../up/summary.js';
import { withInterrupt } from '../../up/interrupt.js';
import { readState } from '../../state/lab-state.js';

export function register(program: Command): void {
  addLabOptions(
    program
      .command('status')
      .description("each VM's state (vagrant status) and each node's Kubernetes readiness")
      .option('--json', 'print JSON for scripts'),
  ).action(async (opts: GlobalOptions & { json?: boolean }) => {
    const { paths, config } = await loadLab(opts);
    requireVagrantProvider(config, 'status');
    const existed = (await readState(paths.labDir)) !== undefined;
    const lab = await openLab(paths, config);
    const report = await withInterrupt(async (signal) => {
      const vms = existed ? await lab.vagrant({ signal }).status() : [];
      const cpRunning = vms.find((m) => m.name === lab.plan.controlPlane.name)?.state === 'running';
      let kubernetes: { reachable: boolean; nodes: NodeReadiness[]; error?: string } | null = null;
      if (cpRunning && mayHaveCluster(lab)) {
        try {
          const cp = await openControlPlane(lab, connectNode, signal, 20_000);
          try {
            kubernetes = { reachable: true, nodes: await getNodes(cp.run) };
          } finally {
            await cp.close();
          }
        } catch (e) {
          kubernetes = { reachable: false, nodes: [], error: e instanceof Error ? e.message : String(e) };
        }
      }
      return {
        lab: config.name,
        provider: config.provider,
        labDir: paths.labDir,
        created: existed,
        vms: lab.plan.nodes.map((n) => ({
          name: n.name,
          role: n.role,
          ip: n.ip,
          state: vms.find((m) => m.name === n.name)?.state ?? 'not_created',
        })),
        kubernetes,
        phases: lab.state.phases,
      };
    });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    if (!existed) {
      process.stdout.write(`lab ${config.name} has not been brought up (no state in ${paths.labDir}); run \`k8slab up\`\n`);
      return;
    }
    const nodes = report.kubernetes?.nodes ?? [];
    process.stdout.write(
      table(
        ['NODE', 'ROLE', 'IP', 'VM', 'K8S', 'KUBELET'],
        report.vms.map((v) => {
          const k = nodes.find((n) => n.name === v.name);
          return [v.name, v.role, v.ip, v.state, k?.status ?? '-', k?.kubeletVersion ?? '-'];
        }),
      ),
    );
    if (report.kubernetes && !report.kubernetes.reachable) process.stdout.write(`\nkubernetes: not reachable: ${report.kubernetes.error}\n`);
    if (!report.kubernetes) process.stdout.write('\nkubernetes: no cluster yet (the control plane is not running or not provisioned)\n');
  });
}

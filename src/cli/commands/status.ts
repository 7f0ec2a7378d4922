import type { Command } from 'commander';
import { addLabOptions, loadLab, type GlobalOptions } from '../context.js';
import { mayHaveCluster, openLab } from '../../lab/lab.js';
import { getNodes } from '../../cluster/wait.js';
import type { NodeReadiness } from '../../cluster/readiness.js';
import { table } from '../../util/table.js';
import { withInterrupt } from '../interrupt.js';

export function register(program: Command): void {
  addLabOptions(
    program
      .command('status')
      .description("each VM's state (vagrant status) and each node's Kubernetes readiness")
      .option('--json', 'print JSON for scripts'),
  ).action(async (opts: GlobalOptions & { json?: boolean }) => {
    const { paths, config } = await loadLab(opts);
    const lab = await openLab(paths, config);
    const existed = lab.existed;
    const report = await withInterrupt(async (signal) => {
      const vms = existed ? await lab.provider.status({ signal }) : [];
      const cpRunning = vms.find((m) => m.name === lab.plan.controlPlane.name)?.state === 'running';
      let kubernetes: { reachable: boolean; nodes: NodeReadiness[]; error?: string } | null = null;
      if (cpRunning && mayHaveCluster(lab)) {
        try {
          kubernetes = { reachable: true, nodes: await getNodes(await lab.kubectl({ signal, timeoutMs: 20_000 }), signal) };
        } catch (e) {
          kubernetes = { reachable: false, nodes: [], error: e instanceof Error ? e.message : String(e) };
        } finally {
          await lab.close();
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

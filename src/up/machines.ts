// Phase "vms": the provider brings every machine up without provisioning (Vagrant's serial shell
// provisioners are what makes a plain `vagrant up` slow; k8slab provisions over SSH concurrently
// afterwards), then each node must answer over SSH.
import type { Lab } from '../lab/lab.js';
import { nodesFor, type UpContext } from './context.js';
import type { Phase } from './phases.js';

export function machinesPhase(lab: Lab): Phase<UpContext> {
  const names = lab.plan.nodes.map((n) => n.name);
  return {
    // the name stays "vms": it is the resume point recorded in existing labs' state and `--until vms`
    name: 'vms',
    title: `${lab.provider.describeUp(names.length)} and reach them over SSH`,
    nodes: names,
    async run(ctx) {
      await lab.provider.up({ signal: ctx.signal, onProgress: (p) => ctx.progress.step(p.machine, p.step) });
      const nodes = await nodesFor(ctx, names);
      await Promise.all(
        [...nodes].map(async ([name, node]) => {
          const r = await node.run('hostname', { timeoutMs: 30_000, signal: ctx.signal });
          if (r.exitCode !== 0) throw new Error(`${name}: \`hostname\` over SSH exited ${r.exitCode}: ${r.stderr.trim()}`);
          ctx.progress.step(name, `reachable over SSH (hostname ${r.stdout.trim()})`);
        }),
      );
    },
    async stillDone(ctx) {
      const status = await lab.provider.status({ signal: ctx.signal });
      return status.every((m) => m.state === 'running');
    },
  };
}

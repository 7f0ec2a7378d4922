// Phase "vms": boot every VM without provisioning (Vagrant's serial shell provisioners are what makes a
// plain `vagrant up` slow; k8slab provisions over SSH concurrently afterwards), then prove each answers SSH.
import { domainName, listNetworks } from '../provider/libvirt.js';
import { domainPrefix, libvirtFacts, recordedDomainId, setLibvirtFacts, type Lab } from '../lab/lab.js';
import { sessionsFor, type UpContext } from './context.js';
import type { Phase } from './phases.js';

export function vmsPhase(lab: Lab): Phase<UpContext> {
  const names = lab.plan.nodes.map((n) => n.name);
  return {
    name: 'vms',
    title: `boot ${names.length} VMs (${lab.config.provider}${lab.config.provider === 'libvirt' ? ', in parallel' : ', one by one'}) and reach them over SSH`,
    nodes: names,
    async run(ctx) {
      const libvirt = lab.config.provider === 'libvirt';
      if (libvirt && !libvirtFacts(lab.state)) {
        // Before anything of the lab exists: what is here now is never ours to remove.
        setLibvirtFacts(lab.state, { networksBefore: await listNetworks(), networksCreated: [], domains: [] });
        await lab.save();
      }
      const vagrant = lab.vagrant({ signal: ctx.signal, onProgress: (p) => ctx.progress.step(p.machine, p.step) });
      try {
        await vagrant.up({ noProvision: true, parallel: libvirt });
      } finally {
        await vagrant.close();
        if (libvirt) await recordLibvirt(lab).catch(() => undefined);
      }
      const sessions = await sessionsFor(ctx, names);
      await Promise.all(
        [...sessions].map(async ([name, s]) => {
          const r = await s.exec('hostname', { timeoutMs: 30_000, signal: ctx.signal });
          if (r.exitCode !== 0) throw new Error(`${name}: \`hostname\` over SSH exited ${r.exitCode}: ${r.stderr.trim()}`);
          ctx.progress.step(name, `reachable over SSH (hostname ${r.stdout.trim()})`);
        }),
      );
    },
    async stillDone(ctx) {
      const status = await lab.vagrant({ signal: ctx.signal }).status();
      return names.every((n) => status.find((m) => m.name === n)?.state === 'running');
    },
  };
}

/** Records the networks that appeared since the first `up` and the lab's domains, for `down`. */
export async function recordLibvirt(lab: Lab): Promise<void> {
  const facts = libvirtFacts(lab.state);
  if (!facts) return;
  const now = await listNetworks();
  const created = new Set(facts.networksCreated);
  for (const n of now) if (!facts.networksBefore.includes(n)) created.add(n);
  const domains = new Set(facts.domains);
  const prefix = await domainPrefix(lab.paths.labDir, lab.config.name);
  for (const node of lab.plan.nodes) {
    const id = await recordedDomainId(lab.paths.labDir, node.name);
    const name = id ? await domainName(id) : undefined;
    domains.add(name ?? `${prefix}${node.name}`);
  }
  setLibvirtFacts(lab.state, { ...facts, networksCreated: [...created], domains: [...domains] });
  await lab.save();
}

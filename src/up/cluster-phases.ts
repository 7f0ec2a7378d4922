// Phases "ready" and "kubeconfig": wait for every node and system pod, then give the host a kubeconfig.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { apiServerAddresses, canReach, rewriteKubeconfig } from '../cluster/kubeconfig.js';
import { ADMIN_KUBECONFIG } from '../cluster/kubectl.js';
import { commandLine } from '../util/shell.js';
import { readiness, waitForCluster, type ExpectedCluster } from '../cluster/wait.js';
import type { NodeReadiness } from '../cluster/readiness.js';
import type { Lab } from '../lab/lab.js';
import type { Runner } from '../nodes/node.js';
import type { UpContext } from './context.js';
import type { Phase } from './phases.js';

export const KUBECONFIG_FILE = 'kubeconfig';

function kubectl(ctx: UpContext): Promise<Runner> {
  return ctx.lab.kubectl({ signal: ctx.signal, onConnect: (node, where) => ctx.progress.info(`  connecting over SSH to ${node} (${where})`) });
}

export function readyPhase(lab: Lab): Phase<UpContext> {
  const { addons } = lab.plan;
  const expected: ExpectedCluster = {
    nodes: lab.plan.nodes.map((n) => n.name),
    cni: lab.plan.kubernetes.cni,
    // the add-ons the lessons use are part of a Ready lab: their pods, and MetalLB's address pool
    addonNamespaces: [
      ...(addons.metallb ? ['metallb-system'] : []),
      ...(addons.storage.provider === 'local-path' ? ['local-path-storage'] : []),
      ...(addons.ingress ? ['traefik'] : []),
    ],
    metallbPool: addons.metallb !== undefined,
  };
  return {
    name: 'ready',
    title: `wait until every node, kube-system and add-on pod is Ready (${lab.plan.kubernetes.cni === 'calico' ? 'Calico' : 'bridge CNI'})`,
    async run(ctx) {
      const nodes = await waitForCluster(await kubectl(ctx), expected, {
        timeoutMs: 20 * 60_000,
        signal: ctx.signal,
        onWaiting: (what) => ctx.progress.info(`  waiting for ${what.slice(0, 3).join('; ')}${what.length > 3 ? `; +${what.length - 3} more` : ''}`),
      });
      lab.state.facts.nodes = nodes;
    },
    async stillDone(ctx) {
      try {
        const r = await readiness(await kubectl(ctx), expected, ctx.signal);
        if (r.ready) lab.state.facts.nodes = r.nodes;
        return r.ready;
      } catch {
        return false;
      }
    },
  };
}

export interface KubeconfigFacts {
  path: string;
  mode: 'direct' | 'tunnel';
  server: string;
  /** for a tunnel: how to open it */
  tunnelCommand?: string;
}

export function kubeconfigPhase(lab: Lab): Phase<UpContext> {
  const file = join(lab.paths.labDir, KUBECONFIG_FILE);
  return {
    name: 'kubeconfig',
    title: `write ${file}`,
    async run(ctx) {
      const cpNode = await ctx.lab.controlPlane({ signal: ctx.signal });
      const r = await cpNode.run(`cat ${ADMIN_KUBECONFIG}`, { sudo: true, timeoutMs: 30_000, signal: ctx.signal });
      if (r.exitCode !== 0) throw new Error(`cannot read admin.conf on the control plane: ${r.stderr.trim()}`);
      const cp = lab.plan.controlPlane;
      let facts: KubeconfigFacts;
      // the private address first, then any other address the API server's certificate names (a machine's SSH address)
      let direct: string | undefined;
      for (const a of apiServerAddresses(lab.plan)) {
        if (await canReach(a, 6443)) {
          direct = a;
          break;
        }
      }
      if (direct !== undefined) {
        facts = { path: file, mode: 'direct', server: `https://${direct}:6443` };
        await writeFile(file, rewriteKubeconfig(r.stdout, facts.server), { mode: 0o600 });
        ctx.notes.push(
          `kubeconfig: ${file} talks to ${direct}:6443 directly (${direct === cp.ip ? 'the host reaches the private network' : "the API server's certificate names that address"})`,
        );
      } else {
        // The host cannot route to the private network: go through the control plane's SSH port.
        const localPort = cp.sshPort + 1000;
        const t = (await lab.provider.sshTargets([cp.name], { signal: ctx.signal }))[0];
        const tunnelCommand = t
          ? commandLine(['ssh', '-i', t.privateKeyPath, '-p', String(t.port), '-o', 'StrictHostKeyChecking=no', '-N', '-L', `${localPort}:${cp.ip}:6443`, `${t.user}@${t.host}`])
          : `(start the lab, then) ssh -N -L ${localPort}:${cp.ip}:6443 to ${cp.name}`;
        facts = { path: file, mode: 'tunnel', server: `https://127.0.0.1:${localPort}`, tunnelCommand };
        await writeFile(file, rewriteKubeconfig(r.stdout, facts.server, 'kubernetes'), { mode: 0o600 });
        ctx.notes.push(
          `kubeconfig: ${file} goes through an SSH tunnel (the host cannot reach ${cp.ip}); open it with:\n  ${tunnelCommand}`,
        );
      }
      lab.state.facts.kubeconfig = facts;
    },
    stillDone: () => Promise.resolve(existsSync(file)),
  };
}

export function recordedNodes(lab: Lab): NodeReadiness[] {
  return (lab.state.facts.nodes as NodeReadiness[] | undefined) ?? [];
}

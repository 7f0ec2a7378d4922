// Phase "provision": the plan's provisioning sequence (src/plan/provisioning.ts), run over SSH on every
// node at once. config.sh and install_pkg.sh run everywhere concurrently; the control plane then gets
// the lab CA and runs master_node.sh; each worker runs work_nodes.sh as soon as the API server answers.
// `up --serial` runs the nodes one after another instead, in the book's order.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { poll } from '../util/poll.js';
import type { Lab } from '../lab/lab.js';
import type { Node } from '../nodes/node.js';
import type { PlannedNode } from '../plan/plan.js';
import type { ProvisionStep } from '../plan/provisioning.js';
import { commandLine, shQuote } from '../util/shell.js';
import { nodeLog, nodesFor, type UpContext } from './context.js';
import type { Phase } from './phases.js';
import { MACHINE_BUNDLE_DIR, uploadBundle } from './bundle-upload.js';

export const REMOTE_DIR = '/tmp/k8slab';

export function stepsOf(lab: Lab, node: PlannedNode): ProvisionStep[] {
  return node.role === 'control-plane' ? lab.plan.provisioning.controlPlane : lab.plan.provisioning.worker;
}

export function provisionPhase(lab: Lab): Phase<UpContext> {
  const names = lab.plan.nodes.map((n) => n.name);
  return {
    name: 'provision',
    title: 'provision all nodes over SSH at once (kubeadm init on the control plane, joins as soon as it answers)',
    nodes: names,
    async run(ctx) {
      const nodes = await nodesFor(ctx, names);
      const cp = lab.plan.controlPlane;
      // If the control plane fails, the workers stop waiting for its API server.
      const cpFailed = new AbortController();
      const stop = AbortSignal.any([ctx.signal, cpFailed.signal]);
      const runNode = async (planned: PlannedNode) => {
        const node = nodes.get(planned.name)!;
        const steps = stepsOf(lab, planned);
        // provider: machines: no synced folder brings the offline bundle; copy it over SSH first
        if (lab.plan.machines && lab.plan.kubernetes.bundle !== undefined) {
          ctx.progress.step(planned.name, `copying the bundle to ${MACHINE_BUNDLE_DIR}`);
          const b = await uploadBundle(node, lab.plan.kubernetes.bundle, planned.role, ctx.signal);
          nodeLog(ctx, planned.name, `bundle: ${b.sent.length} files sent, ${b.kept.length} already there`);
        }
        for (const step of steps) if (step.kind === 'script') await upload(lab, node, step.script);
        for (const step of steps) {
          if (step.kind === 'upload') {
            const prep = await node.run(step.prepare, { sudo: true, timeoutMs: 30_000, signal: ctx.signal });
            if (prep.exitCode !== 0) throw new Error(`preparing ${step.dir} failed: ${prep.stderr.trim()}`);
            for (const f of step.files) await node.put(await readFile(join(lab.paths.labDir, f.source)), f.destination, f.mode);
            continue;
          }
          if (step.waitFor === 'api-server') {
            ctx.progress.step(planned.name, `waiting for the API server on ${cp.ip}:6443`);
            await waitForApi(node, lab.plan.kubernetes.apiServer, stop);
          }
          await runScript(ctx, node, step.script, step.args);
        }
        ctx.progress.step(planned.name, 'provisioned');
      };
      // the workers start on the control plane's API server as soon as it answers; --serial instead runs each
      // node's whole sequence after the previous one's, as the book's `vagrant up` does
      const cpRun = ctx.serial
        ? Promise.resolve()
        : runNode(cp).catch((e: unknown) => {
            cpFailed.abort();
            throw e;
          });
      const results = ctx.serial ? await oneByOne([cp, ...lab.plan.workers], runNode) : await Promise.allSettled([cpRun, ...lab.plan.workers.map(runNode)]);
      const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${lab.plan.nodes[i]!.name}: ${errText(r.reason)}`] : []));
      if (failures.length > 0) throw new Error(`provisioning failed on ${failures.length} node(s):\n${failures.join('\n')}`);
    },
  };
}

async function upload(lab: Lab, node: Node, script: string): Promise<void> {
  const content = await readFile(join(lab.paths.labDir, script));
  await node.run(`mkdir -p ${shQuote(REMOTE_DIR)}`, { timeoutMs: 30_000 });
  await node.put(content, `${REMOTE_DIR}/${script}`, 0o755);
}

async function runScript(ctx: UpContext, node: Node, script: string, args: string[]): Promise<void> {
  const command = commandLine(['bash', `${REMOTE_DIR}/${script}`, ...args]);
  ctx.progress.step(node.name, script);
  nodeLog(ctx, node.name, `$ sudo ${command}`);
  const r = await node.run(command, {
    sudo: true,
    timeoutMs: 45 * 60_000,
    signal: ctx.signal,
    onLine: (line, stream) => {
      nodeLog(ctx, node.name, `${stream === 'stderr' ? '! ' : ''}${line}`);
      if (line.trim() !== '' && stream === 'stdout') ctx.progress.step(node.name, `${script}: ${line.trim().slice(0, 80)}`);
    },
  });
  if (r.exitCode !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
    throw new Error(`${script} exited ${r.exitCode} (log: ${join(ctx.lab.logDir, `${node.name}.log`)})\n${tail}`);
  }
}

/** Polls /readyz from the worker itself (it must reach the API server anyway to join). */
async function waitForApi(node: Node, apiServer: string, signal: AbortSignal): Promise<void> {
  // No deadline of its own: a failed control plane aborts the signal, and the phase's limit bounds the rest.
  await poll(
    async () => {
      const r = await node.run(`curl -ksf --max-time 5 ${shQuote(`https://${apiServer}/readyz`)}`, { timeoutMs: 15_000, signal });
      return r.exitCode === 0 ? true : undefined;
    },
    // a node that cannot run the probe at all (SSH gone) fails the wait, as it would fail the join
    { intervalMs: 2000, backoff: 1.5, maxIntervalMs: 5000, signal, fatal: () => true },
  );
}

/** Runs each node after the previous one, stopping at the first failure (the later ones never start). */
async function oneByOne(nodes: PlannedNode[], run: (n: PlannedNode) => Promise<void>): Promise<PromiseSettledResult<void>[]> {
  const out: PromiseSettledResult<void>[] = [];
  for (const n of nodes) {
    try {
      await run(n);
      out.push({ status: 'fulfilled', value: undefined });
    } catch (reason) {
      out.push({ status: 'rejected', reason });
      break;
    }
  }
  return out;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

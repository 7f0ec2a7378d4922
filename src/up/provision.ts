// Phase "provision": the rendered scripts, run over SSH with the arguments the Vagrantfile gives them,
// on every node at once. config.sh and install_pkg.sh run everywhere concurrently; the control plane
// then runs master_node.sh; each worker runs work_nodes.sh as soon as the API server answers (the lab CA
// is made in advance, so workers pin its hash without waiting for anything from the control plane).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { shQuote } from '../util/shell.js';
import { CA_CERT_PATH, CA_KEY_PATH } from '../render/index.js';
import { makeView, PKI_UPLOAD_DIR } from '../render/view.js';
import type { PlannedNode } from '../plan/plan.js';
import { nodeLog, sessionsFor, type UpContext } from './context.js';
import type { Lab } from '../lab/lab.js';
import type { Phase } from './phases.js';
import type { NodeSession } from './remote.js';

export const REMOTE_DIR = '/tmp/k8slab';

/** The shell provisioner steps of the Vagrantfile, per role: script and arguments. */
export function scriptSteps(lab: Lab, node: PlannedNode): { script: string; args: string[] }[] {
  const view = makeView(lab.plan);
  const n = String(view.workerCount);
  return node.role === 'control-plane'
    ? [
        { script: 'config.sh', args: [n] },
        { script: 'install_pkg.sh', args: [view.k8sVersion, 'Main'] },
        { script: 'master_node.sh', args: [] },
      ]
    : [
        { script: 'config.sh', args: [n] },
        { script: 'install_pkg.sh', args: [view.k8sVersion] },
        { script: 'work_nodes.sh', args: [] },
      ];
}

export function provisionPhase(lab: Lab): Phase<UpContext> {
  const names = lab.plan.nodes.map((n) => n.name);
  return {
    name: 'provision',
    title: 'provision all nodes over SSH at once (kubeadm init on the control plane, joins as soon as it answers)',
    nodes: names,
    async run(ctx) {
      const sessions = await sessionsFor(ctx, names);
      const cp = lab.plan.controlPlane;
      // If the control plane fails, the workers stop waiting for its API server.
      const cpFailed = new AbortController();
      const stop = AbortSignal.any([ctx.signal, cpFailed.signal]);
      const runNode = async (node: PlannedNode) => {
        const s = sessions.get(node.name)!;
        const steps = scriptSteps(lab, node);
        for (const step of steps) await upload(lab, s, step.script);
        if (node.role === 'control-plane') {
          // the same private folder the Vagrantfile prepares before its file provisioners
          const prep = await s.exec(makeView(lab.plan).pkiPrepareCommand, { sudo: true, timeoutMs: 30_000 });
          if (prep.exitCode !== 0) throw new Error(`preparing ${PKI_UPLOAD_DIR} failed: ${prep.stderr.trim()}`);
          for (const f of [CA_CERT_PATH, CA_KEY_PATH]) {
            const content = await readFile(join(lab.paths.labDir, f));
            await s.put(content, `${PKI_UPLOAD_DIR}/${f.split('/').pop()}`, f === CA_KEY_PATH ? 0o600 : 0o644);
          }
        }
        for (const step of steps) {
          if (node.role === 'worker' && step.script === 'work_nodes.sh') {
            ctx.progress.step(node.name, `waiting for the API server on ${cp.ip}:6443`);
            await waitForApi(s, lab.plan.kubernetes.apiServer, stop);
          }
          await runScript(ctx, s, node.name, step.script, step.args);
        }
        ctx.progress.step(node.name, 'provisioned');
      };
      const cpRun = runNode(cp).catch((e: unknown) => {
        cpFailed.abort();
        throw e;
      });
      const results = await Promise.allSettled([cpRun, ...lab.plan.workers.map(runNode)]);
      const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${lab.plan.nodes[i]!.name}: ${errText(r.reason)}`] : []));
      if (failures.length > 0) throw new Error(`provisioning failed on ${failures.length} node(s):\n${failures.join('\n')}`);
    },
  };
}

async function upload(lab: Lab, s: NodeSession, script: string): Promise<void> {
  const content = await readFile(join(lab.paths.labDir, script));
  await s.exec(`mkdir -p ${REMOTE_DIR}`, { timeoutMs: 30_000 });
  await s.put(content, `${REMOTE_DIR}/${script}`, 0o755);
}

async function runScript(ctx: UpContext, s: NodeSession, node: string, script: string, args: string[]): Promise<void> {
  const command = `bash ${REMOTE_DIR}/${script}${args.map((a) => ` ${shQuote(a)}`).join('')}`;
  ctx.progress.step(node, script);
  nodeLog(ctx, node, `$ sudo ${command}`);
  const r = await s.exec(command, {
    sudo: true,
    timeoutMs: 45 * 60_000,
    signal: ctx.signal,
    onLine: (line, stream) => {
      nodeLog(ctx, node, `${stream === 'stderr' ? '! ' : ''}${line}`);
      if (line.trim() !== '' && stream === 'stdout') ctx.progress.step(node, `${script}: ${line.trim().slice(0, 80)}`);
    },
  });
  if (r.exitCode !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
    throw new Error(`${script} exited ${r.exitCode} (log: ${join(ctx.lab.logDir, `${node}.log`)})\n${tail}`);
  }
}

/** Polls /readyz from the worker itself (it must reach the API server anyway to join). */
async function waitForApi(s: NodeSession, apiServer: string, signal: AbortSignal): Promise<void> {
  let interval = 2000;
  for (;;) {
    signal.throwIfAborted();
    const r = await s.exec(`curl -ksf --max-time 5 https://${apiServer}/readyz`, { timeoutMs: 15_000, signal });
    if (r.exitCode === 0) return;
    await sleep(interval, undefined, { signal });
    interval = Math.min(interval * 1.5, 5000);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

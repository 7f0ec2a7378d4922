// A kubectl runner on the control plane for commands outside `up` (status, reset): one SSH session,
// opened with a short deadline, closed by the caller.
import type { RunOnControlPlane } from '../cluster/wait.js';
import type { Lab } from '../lab/lab.js';
import { PlainProgress } from './progress.js';
import { closeSessions, sessionsFor, type UpContext } from './context.js';
import type { Connect } from './remote.js';

export async function openControlPlane(
  lab: Lab,
  connect: Connect,
  signal: AbortSignal,
  timeoutMs = 60_000,
): Promise<{ run: RunOnControlPlane; close(): Promise<void> }> {
  const ctx: UpContext = {
    lab,
    signal,
    progress: new PlainProgress(() => undefined),
    connect: (t, o) => connect(t, { ...o, timeoutMs }),
    sessions: new Map(),
    skipDoctor: true,
    notes: [],
  };
  const cp = lab.plan.controlPlane.name;
  const s = (await sessionsFor(ctx, [cp])).get(cp)!;
  return {
    run: (command, o) => s.exec(command, { ...(o?.timeoutMs ? { timeoutMs: o.timeoutMs } : {}), signal }),
    close: () => closeSessions(ctx),
  };
}

/** Whether `up` got as far as a cluster (so reset waits for Kubernetes). */
export function hasCluster(lab: Lab): boolean {
  return lab.state.phases.provision?.status === 'done';
}

/** Whether provisioning ever started: kubeadm may have made a control plane even if a worker failed. */
export function mayHaveCluster(lab: Lab): boolean {
  return lab.state.phases.provision !== undefined;
}

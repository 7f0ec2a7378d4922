// The doctor's runner on a real machine: one short SSH connection with the machine's key (no retries
// for long: a machine that is already running answers at once, or the doctor says why it did not).
import { connectSsh } from '../../nodes/connect.js';
import type { MachineNode } from '../../plan/plan.js';
import type { GatherDeps, MachineRunner } from './gather.js';

const CONNECT_DEADLINE_MS = 15_000;

export async function sshMachineRunner(node: MachineNode): Promise<MachineRunner & { close(): Promise<void> }> {
  const session = await connectSsh(
    { name: node.name, host: node.address, port: node.port, user: node.user, privateKeyPath: node.keyFile },
    { deadlineMs: CONNECT_DEADLINE_MS, attemptTimeoutMs: CONNECT_DEADLINE_MS },
  );
  return {
    run: (command, opts) => session.exec(command, { input: opts.input, timeoutMs: opts.timeoutMs }),
    close: () => session.close(),
  };
}

export const realMachineDeps: GatherDeps = { connect: sshMachineRunner, now: () => Date.now() };

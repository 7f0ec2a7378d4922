// A lab node over SSH: the Node of node.ts on top of one SshSession. Aborting the connect signal stops
// connecting and closes the session (its channels); each run can also take its own signal.
import { LineSplitter } from '../util/lines.js';
import { connectSsh } from './connect.js';
import type { Node, RunOptions, RunResult } from './node.js';
import type { SshSession } from './session.js';
import type { SshTarget } from './target.js';

export type Connect = (target: SshTarget, o: { signal?: AbortSignal; timeoutMs?: number }) => Promise<Node>;

/** Wraps an open session; the node's close() closes it. */
export function sshNode(s: SshSession, onClose: () => void = () => undefined): Node {
  return {
    name: s.name,
    async run(command: string, o: RunOptions = {}): Promise<RunResult> {
      const out = new LineSplitter();
      const err = new LineSplitter();
      const r = await s.exec(command, {
        // root needs no sudo, and a minimal machine logged into as root may have none
        ...(o.sudo && s.target.user !== 'root' ? { sudo: true } : {}),
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.input !== undefined ? { input: o.input } : {}),
        ...(o.onLine
          ? {
              onStdout: (c: string) => out.push(c).forEach((l) => o.onLine!(l, 'stdout')),
              onStderr: (c: string) => err.push(c).forEach((l) => o.onLine!(l, 'stderr')),
            }
          : {}),
      });
      if (o.onLine) {
        out.flush().forEach((l) => o.onLine!(l, 'stdout'));
        err.flush().forEach((l) => o.onLine!(l, 'stderr'));
      }
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    },
    put: (content, remotePath, mode) => s.writeFile(remotePath, content, mode),
    async close() {
      onClose();
      await s.close();
    },
  };
}

/** Connects with boot-time retries until `timeoutMs` (default 5 minutes: a VM may just have booted). */
export const connectNode: Connect = async (target, o) => {
  const s = await connectSsh(target, { deadlineMs: o.timeoutMs ?? 300_000, ...(o.signal ? { signal: o.signal } : {}) });
  const onAbort = () => void s.close();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  return sshNode(s, () => o.signal?.removeEventListener('abort', onAbort));
};

// Connect (see remote.ts) on top of the SSH layer in src/nodes. Aborting the signal stops connecting,
// kills a command in flight, and closes the session (its channels and forwards).
import { connectSsh } from '../nodes/index.js';
import { LineSplitter } from '../provider/machine-readable.js';
import type { Connect, ExecOptions, NodeSession } from './remote.js';

export const connectNode: Connect = async (target, o) => {
  // The SSH layer stops its boot-time retries at once when the signal aborts.
  const s = await connectSsh(target, { deadlineMs: o.timeoutMs ?? 300_000, ...(o.signal ? { signal: o.signal } : {}) });
  const onAbort = () => void s.close();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const session: NodeSession = {
    name: target.name,
    async exec(command: string, eo: ExecOptions = {}) {
      const out = new LineSplitter();
      const err = new LineSplitter();
      const r = await s.exec(command, {
        ...(eo.sudo ? { sudo: true } : {}),
        ...(eo.timeoutMs ? { timeoutMs: eo.timeoutMs } : {}),
        ...(eo.signal ? { signal: eo.signal } : {}),
        ...(eo.onLine
          ? {
              onStdout: (c: string) => out.push(c).forEach((l) => eo.onLine!(l, 'stdout')),
              onStderr: (c: string) => err.push(c).forEach((l) => eo.onLine!(l, 'stderr')),
            }
          : {}),
      });
      if (eo.onLine) {
        out.flush().forEach((l) => eo.onLine!(l, 'stdout'));
        err.flush().forEach((l) => eo.onLine!(l, 'stderr'));
      }
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    },
    put: (content, remotePath, mode) => s.writeFile(remotePath, content, mode),
    get: (remotePath) => s.fetchFile(remotePath, { sudoFallback: true }),
    async forward(remoteHost, remotePort) {
      const f = await s.forwardLocal(remoteHost, remotePort);
      return { localPort: f.port, close: () => f.close() };
    },
    async close() {
      o.signal?.removeEventListener('abort', onAbort);
      await s.close();
    },
  };
  return session;
};

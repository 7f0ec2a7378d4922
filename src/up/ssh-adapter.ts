// Connect (see remote.ts) on top of the SSH layer in src/nodes. Aborting the signal closes the
// session, which ends its channels: a remote command in flight fails with SshClosedError.
import { connectSsh } from '../nodes/index.js';
import { LineSplitter } from '../provider/machine-readable.js';
import type { Connect, ExecOptions, NodeSession } from './remote.js';

export const connectNode: Connect = async (target, o) => {
  o.signal?.throwIfAborted();
  const connecting = connectSsh(target, { deadlineMs: o.timeoutMs ?? 300_000 });
  const aborted = new Promise<never>((_, reject) =>
    o.signal?.addEventListener('abort', () => reject(new Error(`connecting to ${target.name} was interrupted`)), { once: true }),
  );
  aborted.catch(() => undefined);
  const s = await Promise.race([connecting, aborted]).catch(async (err: unknown) => {
    void connecting.then((late) => late.close()).catch(() => undefined);
    throw err;
  });
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

// Opens an SSH session to a node, retrying while it boots: refused, unreachable and handshake
// failures are retried with backoff until a deadline; a refused key fails at once.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'ssh2';
import { SshAbortedError, SshConnectError } from './errors.js';
import { backoffMs, classifyConnectError, connectHint, describeConnectError } from './retry.js';
import { SshSession } from './session.js';
import type { SshTarget } from './target.js';

export interface ConnectOptions {
  /** keep retrying for this long in total (default 120 s: a VM that just booted may take a while) */
  deadlineMs?: number;
  /** one attempt's TCP connect + handshake budget (default 20 s) */
  attemptTimeoutMs?: number;
  /** progress: called before each wait between attempts */
  onRetry?: (info: { node: string; attempt: number; delayMs: number; error: string }) => void;
  /** keepalive probe interval; 3 missed probes end the session (default 15 s) */
  keepaliveIntervalMs?: number;
  /** aborting stops the retries at once and rejects with SshAbortedError */
  signal?: AbortSignal;
}

/** ssh2 reports a socket closed before the handshake as a bare 'close'; make it a retryable error. */
function closedBeforeReady(): Error {
  return Object.assign(new Error('connection closed before the SSH handshake finished'), { level: 'handshake' });
}

function attempt(target: SshTarget, privateKey: Buffer, timeoutMs: number, keepaliveMs: number, signal?: AbortSignal): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let ready = false;
    const onAbort = (): void => fail(new SshAbortedError(target.name, 'connecting'));
    const fail = (err: unknown): void => {
      signal?.removeEventListener('abort', onAbort);
      client.removeAllListeners('ready');
      client.destroy();
      reject(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => {
      ready = true;
      signal?.removeEventListener('abort', onAbort);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      resolve(client);
    });
    const onError = (err: Error): void => fail(err);
    const onClose = (): void => {
      if (!ready) fail(closedBeforeReady());
    };
    client.on('error', onError);
    client.on('close', onClose);
    try {
      client.connect({
        host: target.host,
        port: target.port,
        username: target.user,
        privateKey,
        readyTimeout: timeoutMs,
        keepaliveInterval: keepaliveMs,
        keepaliveCountMax: 3,
        // Vagrant's own ssh-config turns host key checks off too: VMs regenerate keys on each create
        hostVerifier: () => true,
      });
    } catch (err) {
      // a key ssh2 cannot parse is thrown synchronously; it will not get better by retrying
      fail(Object.assign(err instanceof Error ? err : new Error(String(err)), { level: 'client-authentication' }));
    }
  });
}

export async function connectSsh(target: SshTarget, opts: ConnectOptions = {}): Promise<SshSession> {
  const deadlineMs = opts.deadlineMs ?? 120_000;
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? 20_000;
  const keepaliveMs = opts.keepaliveIntervalMs ?? 15_000;
  let key: Buffer;
  try {
    key = await readFile(target.privateKeyPath);
  } catch (err) {
    throw new SshConnectError(
      target,
      `cannot read the private key ${target.privateKeyPath}: ${(err as Error).message}`,
      0,
      false,
      'the key path comes from `vagrant ssh-config` (IdentityFile); run `vagrant up` in the lab folder if the VM was never created',
    );
  }
  const start = Date.now();
  const aborted = (): SshAbortedError => new SshAbortedError(target.name, 'connecting');
  for (let n = 1; ; n++) {
    if (opts.signal?.aborted) throw aborted();
    const remaining = deadlineMs - (Date.now() - start);
    try {
      const client = await attempt(target, key, Math.max(1_000, Math.min(attemptTimeoutMs, remaining)), keepaliveMs, opts.signal);
      return new SshSession(target, client);
    } catch (err) {
      if (err instanceof SshAbortedError) throw err;
      const kind = classifyConnectError(err);
      const left = deadlineMs - (Date.now() - start);
      if (kind === 'fatal' || left <= 0) {
        throw new SshConnectError(target, describeConnectError(err), n, kind === 'retry', connectHint(err, kind), Date.now() - start);
      }
      const delayMs = backoffMs(n, left);
      opts.onRetry?.({ node: target.name, attempt: n, delayMs, error: describeConnectError(err) });
      try {
        await sleep(delayMs, undefined, opts.signal ? { signal: opts.signal } : {});
      } catch {
        throw aborted(); // the only way this sleep fails
      }
    }
  }
}

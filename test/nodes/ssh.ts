// SSH to the tier's machines with the run's own key (ssh2, the library the product uses): a command's
// exit code and output, and a wait until a booting machine's sshd answers.
import { Client } from 'ssh2';
import { utils } from 'ssh2';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** A fresh ed25519 key for this run: machines trust only it, and it is never written to the repository. */
export function runKey(): KeyPair {
  const k = utils.generateKeyPairSync('ed25519', { comment: 'k8slab-nodes test run' });
  return { privateKey: k.private, publicKey: k.public };
}

export interface Remote {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command as root on a machine; rejects when the connection fails or the command outlives timeoutMs. */
export function ssh(host: string, key: KeyPair, command: string, timeoutMs = 30_000): Promise<Remote> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`ssh ${host} "${command}": no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      c.destroy();
      reject(err);
    };
    c.once('error', fail);
    c.once('ready', () => {
      c.exec(command, (err, stream) => {
        if (err) return fail(err);
        const r: Remote = { code: -1, stdout: '', stderr: '' };
        stream.on('data', (d: Buffer) => (r.stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (r.stderr += d.toString()));
        stream.once('exit', (code: number | null) => (r.code = code ?? -1));
        stream.once('close', () => {
          clearTimeout(timer);
          c.end();
          resolve(r);
        });
      });
    });
    // host keys are made on each machine's first boot; the machine is only reachable on the tier's bridge
    c.connect({ host, port: 22, username: 'root', privateKey: key.privateKey, readyTimeout: Math.min(timeoutMs, 10_000), hostVerifier: () => true });
  });
}

/** Waits until sshd on a booting machine runs a command; rejects with the last error after timeoutMs. */
export async function waitForSsh(host: string, key: KeyPair, timeoutMs = 60_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < end) {
    try {
      const r = await ssh(host, key, 'true', 10_000);
      if (r.code === 0) return;
      last = `exit ${r.code}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`ssh root@${host} did not answer within ${timeoutMs / 1000} s: ${last}`);
}

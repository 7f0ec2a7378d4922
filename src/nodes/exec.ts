// Runs one command over an ssh2 connection: streamed output, stdin, exit code, and a timeout that
// really ends the remote command.
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { SshAbortedError, SshClosedError, SshCommandError, SshTimeoutError } from './errors.js';
import { shQuote } from '../util/shell.js';

export interface ExecOptions {
  /** kill the command and reject with SshTimeoutError after this long (default 5 minutes) */
  timeoutMs?: number;
  /** run through `sudo -n` (the Vagrant user has passwordless sudo) */
  sudo?: boolean;
  /** called with each decoded chunk as it arrives, before the command exits */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** written to the command's stdin, then EOF; without it stdin is closed at once */
  input?: string | Buffer;
  /** reject with SshCommandError on a non-zero exit instead of resolving */
  check?: boolean;
  /** aborting kills the command as a timeout does and rejects with SshAbortedError */
  signal?: AbortSignal;
}

export interface SshExecResult {
  stdout: string;
  stderr: string;
  /** the exit status; 128 + signal number when the command died of a signal */
  exitCode: number;
  /** the signal name (e.g. "KILL") when the command died of one */
  signal?: string;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 5 * 60_000;

/**
 * The line the remote login shell runs. The command goes through `sh -c` under GNU `timeout`, which
 * puts it in its own process group and kills the whole group a little after our own deadline. That
 * backstop matters: sshd refuses SSH "signal" requests in some setups (root logins), and closing the
 * channel alone leaves a non-tty command running.
 */
export function remoteCommandLine(command: string, opts: { sudo?: boolean; timeoutMs: number }): string {
  const backstopSec = Math.ceil(opts.timeoutMs / 1000) + 2;
  const line = `timeout -s KILL ${backstopSec} sh -c ${shQuote(command)}`;
  return opts.sudo ? `sudo -n -- ${line}` : line;
}

function signalExitCode(signal: string): number {
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as keyof typeof osConstants.signals;
  const n = osConstants.signals[name];
  return typeof n === 'number' ? 128 + n : 255;
}

/** Raw variant: stdout/stderr as Buffers (for binary files read through `sudo cat`). */
export function execRaw(
  client: Client,
  node: string,
  command: string,
  opts: ExecOptions = {},
): Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number; signal?: string }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const line = remoteCommandLine(command, { sudo: opts.sudo, timeoutMs });
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const outDec = new StringDecoder('utf8');
    const errDec = new StringDecoder('utf8');
    let channel: ClientChannel | undefined;
    let settled = false;
    let exit: { code: number; signal?: string } | undefined;

    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const kill = (): void => {
      if (!channel) return; // still opening: closed as soon as it opens
      // ask sshd to kill it, then drop the channel; the `timeout` backstop covers a refusal
      try {
        channel.signal('KILL');
      } catch {
        /* channel already gone */
      }
      channel.close();
    };
    const timer = setTimeout(() => {
      finish(() => {
        kill();
        reject(
          new SshTimeoutError(node, command, timeoutMs, Buffer.concat(out).toString('utf8'), Buffer.concat(err).toString('utf8')),
        );
      });
    }, timeoutMs);
    const onAbort = (): void => {
      finish(() => {
        kill();
        reject(new SshAbortedError(node, `command "${command}"`));
      });
    };
    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const onChannel = (openErr: Error | undefined, ch: ClientChannel): void => {
      if (openErr) {
        finish(() => reject(new SshClosedError(node, `before the command could start (${openErr.message}): ${command}`)));
        return;
      }
      channel = ch;
      if (settled) {
        ch.close(); // timed out or aborted while the channel was opening
        return;
      }
      ch.on('data', (chunk: Buffer) => {
        out.push(chunk);
        if (opts.onStdout) opts.onStdout(outDec.write(chunk));
      });
      ch.stderr.on('data', (chunk: Buffer) => {
        err.push(chunk);
        if (opts.onStderr) opts.onStderr(errDec.write(chunk));
      });
      ch.on('exit', (code: number | null, signal?: string) => {
        exit = code !== null && code !== undefined ? { code } : { code: signalExitCode(signal ?? 'KILL'), signal: signal?.replace(/^SIG/, '') };
      });
      ch.on('close', () => {
        finish(() => {
          const tailOut = outDec.end();
          const tailErr = errDec.end();
          if (tailOut && opts.onStdout) opts.onStdout(tailOut);
          if (tailErr && opts.onStderr) opts.onStderr(tailErr);
          if (!exit) {
            reject(new SshClosedError(node, `before the command finished: ${command}`));
            return;
          }
          const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: exit.code, ...(exit.signal ? { signal: exit.signal } : {}) };
          if (opts.check && result.exitCode !== 0) {
            reject(new SshCommandError(node, command, result.exitCode, result.stdout.toString('utf8'), result.stderr.toString('utf8')));
            return;
          }
          resolve(result);
        });
      });
      if (opts.input !== undefined) ch.end(opts.input);
      else ch.end();
    };
    try {
      client.exec(line, onChannel);
    } catch (e) {
      // ssh2 throws at once when the socket is already gone
      finish(() => reject(new SshClosedError(node, `before the command could start (${(e as Error).message}): ${command}`)));
    }
  });
}

export async function exec(client: Client, node: string, command: string, opts: ExecOptions = {}): Promise<SshExecResult> {
  const r = await execRaw(client, node, command, opts);
  return {
    stdout: r.stdout.toString('utf8'),
    stderr: r.stderr.toString('utf8'),
    exitCode: r.exitCode,
    ...(r.signal ? { signal: r.signal } : {}),
  };
}

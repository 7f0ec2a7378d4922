// This machine as a Runner (node.ts): `verify --kubeconfig` runs kubectl here, and tests run lessons
// against a local apiserver. `sh -c COMMAND` in its own process group, like a node's command.
import { constants as osConstants } from 'node:os';
import { execa } from 'execa';
import type { RunResult as ExecResult, Runner as Executor } from './node.js';

export const DEFAULT_EXECUTOR_TIMEOUT_MS = 120_000;

export class LocalTimeoutError extends Error {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`local command timed out after ${timeoutMs} ms and was killed: ${command}`);
    this.name = 'LocalTimeoutError';
  }
}

export function localExecutor(opts: { name?: string; cwd?: string; env?: Record<string, string>; defaultTimeoutMs?: number } = {}): Executor {
  return {
    name: opts.name ?? 'local',
    async run(command, runOpts = {}): Promise<ExecResult> {
      const timeoutMs = runOpts.timeoutMs ?? opts.defaultTimeoutMs ?? DEFAULT_EXECUTOR_TIMEOUT_MS;
      // its own process group, so a timeout kills what `sh` started too: a surviving grandchild
      // (e.g. `sleep`) would otherwise hold the output pipes open until it ends
      const argv = runOpts.sudo ? ['sudo', '-n', '--', 'sh', '-c', command] : ['sh', '-c', command];
      const child = execa(argv[0]!, argv.slice(1), {
        reject: false,
        detached: true,
        stripFinalNewline: false,
        input: runOpts.input ?? '',
        ...(runOpts.signal ? { cancelSignal: runOpts.signal } : {}),
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
        ...(opts.env ? { env: opts.env } : {}), // added to process.env (execa extendEnv)
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, timeoutMs);
      const r = await child.finally(() => clearTimeout(timer));
      if (timedOut) throw new LocalTimeoutError(command, timeoutMs, String(r.stdout ?? ''), String(r.stderr ?? ''));
      if (r.exitCode === undefined && r.signal) {
        const n = osConstants.signals[r.signal as keyof typeof osConstants.signals];
        return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: 128 + (n ?? 127) };
      }
      if (r.exitCode === undefined) {
        // could not start at all (sh missing, bad cwd): not a command result
        throw new Error(`cannot run local command: ${command}: ${r.shortMessage ?? r.message}`);
      }
      return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode };
    },
  };
}

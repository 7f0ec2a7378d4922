// Errors of the SSH layer. Each one names the node and its address, and says what to try.
import { UserError } from '../util/errors.js';
import { describeTarget, type SshTarget } from './target.js';

/** The node could not be reached or refused our key; `retryable` tells which of the two. */
export class SshConnectError extends UserError {
  constructor(
    readonly target: SshTarget,
    readonly reason: string,
    readonly attempts: number,
    readonly retryable: boolean,
    hint: string,
    elapsedMs = 0,
  ) {
    const tries = attempts === 0 ? 'before trying' : `after ${attempts} attempt${attempts === 1 ? '' : 's'} in ${(elapsedMs / 1000).toFixed(1)} s`;
    super(
      `cannot connect to ${describeTarget(target)} ${tries}: ${reason}`,
      'failed',
      hint,
    );
    this.name = 'SshConnectError';
  }
}

/** A remote command ran longer than its timeout and was killed. */
export class SshTimeoutError extends Error {
  constructor(
    readonly node: string,
    readonly command: string,
    readonly timeoutMs: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`command on ${node} timed out after ${timeoutMs} ms and was killed: ${command}`);
    this.name = 'SshTimeoutError';
  }
}

/** A remote command exited non-zero where success was required (exec with `check: true`). */
export class SshCommandError extends Error {
  constructor(
    readonly node: string,
    readonly command: string,
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const tail = (stderr.trim() || stdout.trim()).split('\n').slice(-5).join('\n');
    super(`command on ${node} exited with ${exitCode}: ${command}${tail ? `\n${tail}` : ''}`);
    this.name = 'SshCommandError';
  }
}

/** An SFTP operation failed; the message says which file, on which node, and why. */
export class SshFileError extends Error {
  constructor(
    readonly node: string,
    readonly op: string,
    readonly path: string,
    readonly reason: string,
    /** SFTP status code (2 = no such file, 3 = permission denied) when the server gave one */
    readonly sftpCode?: number,
  ) {
    super(`${op} ${path} on ${node} failed: ${reason}`);
    this.name = 'SshFileError';
  }
}

/** The session was closed (by us or by the peer) while an operation still needed it. */
export class SshClosedError extends Error {
  constructor(readonly node: string, what: string) {
    super(`connection to ${node} closed ${what}`);
    this.name = 'SshClosedError';
  }
}

/** The caller aborted (Ctrl-C): connecting stopped, or the command was killed like on a timeout. */
export class SshAbortedError extends Error {
  constructor(readonly node: string, what: string) {
    super(`${what} on ${node} was interrupted`);
    this.name = 'SshAbortedError';
  }
}

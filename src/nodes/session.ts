// One open SSH connection to a node: commands and files share it. close() ends all of it.
import type { Client, SFTPWrapper } from 'ssh2';
import { SshClosedError, SshFileError } from './errors.js';
import { exec, type ExecOptions, type SshExecResult } from './exec.js';
import { createLimiter, type Limiter } from './limit.js';
import { sftpReadFile, sftpWriteFile } from './sftp.js';
import type { SshTarget } from './target.js';

/** OpenSSH allows 10 sessions per connection (MaxSessions); keep room for the SFTP channel. */
const MAX_PARALLEL_CHANNELS = 8;

export class SshSession {
  private readonly gate: Limiter = createLimiter(MAX_PARALLEL_CHANNELS);
  private sftpChannel: Promise<SFTPWrapper> | undefined;
  private closing: Promise<void> | undefined;
  private ended = false;
  /** the last error the connection reported after it was established (e.g. keepalive timeout) */
  lastError: Error | undefined;

  constructor(
    readonly target: SshTarget,
    private readonly client: Client,
  ) {
    client.on('error', (err: Error) => {
      this.lastError = err;
    });
    client.on('close', () => {
      this.ended = true;
    });
  }

  get name(): string {
    return this.target.name;
  }

  get isOpen(): boolean {
    return !this.ended && !this.closing;
  }

  private ensureOpen(what: string): void {
    if (!this.isOpen) throw new SshClosedError(this.name, `before ${what}${this.lastError ? ` (${this.lastError.message})` : ''}`);
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<SshExecResult> {
    this.ensureOpen(`running: ${command}`);
    return this.gate(() => exec(this.client, this.name, command, opts));
  }

  private async sftp(): Promise<SFTPWrapper> {
    this.ensureOpen('opening SFTP');
    this.sftpChannel ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((err, sftp) => {
        if (err) {
          this.sftpChannel = undefined;
          reject(new SshFileError(this.name, 'open SFTP', '-', `${err.message} (is the sftp subsystem enabled in sshd?)`));
        } else {
          sftp.on('close', () => {
            this.sftpChannel = undefined;
          });
          resolve(sftp);
        }
      });
    });
    return this.sftpChannel;
  }

  async readFile(remotePath: string): Promise<Buffer> {
    return sftpReadFile(await this.sftp(), this.name, remotePath);
  }

  async writeFile(remotePath: string, data: string | Buffer, mode = 0o644): Promise<void> {
    return sftpWriteFile(await this.sftp(), this.name, remotePath, data, mode);
  }

  /** Closes SFTP and the connection; resolves when the socket is gone. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        // a peer that never answers our disconnect must not keep the process alive
        const hard = setTimeout(() => this.client.destroy(), 2_000);
        this.client.once('close', () => {
          clearTimeout(hard);
          resolve();
        });
        this.client.end();
      });
    })();
    return this.closing;
  }
}

// One open SSH connection to a node: commands, files and forwards share it. close() ends all of it.
import type { Client, SFTPWrapper } from 'ssh2';
import { SshClosedError, SshCommandError, SshFileError } from './errors.js';
import { exec, execRaw, type ExecOptions, type SshExecResult } from './exec.js';
import { forwardLocal, type ForwardOptions, type LocalForward } from './forward.js';
import { createLimiter, type Limiter } from './limit.js';
import { shQuote } from '../util/shell.js';
import {
  SFTP_PERMISSION_DENIED,
  sftpDownload,
  sftpReadFile,
  sftpUploadDir,
  sftpUploadFile,
  sftpWriteFile,
  type UploadDirOptions,
} from './sftp.js';
import type { SshTarget } from './target.js';

/** OpenSSH allows 10 sessions per connection (MaxSessions); keep room for the SFTP channel. */
const MAX_PARALLEL_CHANNELS = 8;

export class SshSession {
  private readonly gate: Limiter = createLimiter(MAX_PARALLEL_CHANNELS);
  private sftpChannel: Promise<SFTPWrapper> | undefined;
  private readonly forwards = new Set<LocalForward>();
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

  /** Reads a root-only file with `sudo -n cat`, byte for byte. */
  async readFileSudo(remotePath: string, timeoutMs = 60_000): Promise<Buffer> {
    this.ensureOpen(`reading ${remotePath}`);
    const r = await this.gate(() => execRaw(this.client, this.name, `cat -- ${shQuote(remotePath)}`, { sudo: true, timeoutMs }));
    if (r.exitCode !== 0) {
      throw new SshCommandError(this.name, `sudo cat -- ${remotePath}`, r.exitCode, '', r.stderr.toString('utf8'));
    }
    return r.stdout;
  }

  /** SFTP read; on "permission denied" and with `sudoFallback`, reads it again through sudo. */
  async fetchFile(remotePath: string, opts: { sudoFallback?: boolean } = {}): Promise<Buffer> {
    try {
      return await this.readFile(remotePath);
    } catch (err) {
      if (opts.sudoFallback && err instanceof SshFileError && err.sftpCode === SFTP_PERMISSION_DENIED) {
        return this.readFileSudo(remotePath);
      }
      throw err;
    }
  }

  async downloadFile(remotePath: string, localPath: string, mode = 0o600): Promise<void> {
    return sftpDownload(await this.sftp(), this.name, remotePath, localPath, mode);
  }

  async writeFile(remotePath: string, data: string | Buffer, mode = 0o644): Promise<void> {
    return sftpWriteFile(await this.sftp(), this.name, remotePath, data, mode);
  }

  async uploadFile(localPath: string, remotePath: string, mode?: number): Promise<void> {
    return sftpUploadFile(await this.sftp(), this.name, localPath, remotePath, mode);
  }

  async uploadDir(localDir: string, remoteDir: string, opts: UploadDirOptions = {}): Promise<string[]> {
    return sftpUploadDir(await this.sftp(), this.name, localDir, remoteDir, opts);
  }

  /** Listens on 127.0.0.1 and tunnels each connection to remoteHost:remotePort as seen from the node. */
  async forwardLocal(remoteHost: string, remotePort: number, opts: ForwardOptions = {}): Promise<LocalForward> {
    this.ensureOpen(`forwarding to ${remoteHost}:${remotePort}`);
    const fwd = await forwardLocal(this.client, this.name, remoteHost, remotePort, opts);
    this.forwards.add(fwd);
    return {
      port: fwd.port,
      remoteHost,
      remotePort,
      close: async () => {
        this.forwards.delete(fwd);
        await fwd.close();
      },
    };
  }

  /** Closes forwards, SFTP and the connection; resolves when the socket is gone. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.forwards].map((f) => f.close()));
      this.forwards.clear();
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

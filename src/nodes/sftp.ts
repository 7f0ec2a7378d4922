// File transfer over one SFTP channel. Errors name the node, the path and the SFTP reason.
import { chmod, mkdir as mkdirLocal, readdir, stat, writeFile as writeLocal } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { SshFileError } from './errors.js';

/** SFTP status codes that matter to callers (RFC draft-ietf-secsh-filexfer, section 7). */
export const SFTP_NO_SUCH_FILE = 2;
export const SFTP_PERMISSION_DENIED = 3;

function fileError(node: string, op: string, path: string, err: unknown): SshFileError {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'number' ? e.code : undefined;
  const reason =
    code === SFTP_NO_SUCH_FILE
      ? 'no such file'
      : code === SFTP_PERMISSION_DENIED
        ? 'permission denied (for a root-only file, use the sudo fallback)'
        : String(e?.message ?? err);
  return new SshFileError(node, op, path, reason, code);
}

function call<T>(node: string, op: string, path: string, fn: (cb: (err: unknown, v?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, v) => (err ? reject(fileError(node, op, path, err)) : resolve(v as T)));
  });
}

export function sftpReadFile(sftp: SFTPWrapper, node: string, remotePath: string): Promise<Buffer> {
  return call<Buffer>(node, 'read', remotePath, (cb) => sftp.readFile(remotePath, (err, data) => cb(err, data)));
}

export async function sftpWriteFile(sftp: SFTPWrapper, node: string, remotePath: string, data: string | Buffer, mode: number): Promise<void> {
  await call(node, 'write', remotePath, (cb) => sftp.writeFile(remotePath, data, { mode }, (err) => cb(err)));
  // the mode given at open only applies to a new file; an existing one keeps its old mode otherwise
  await call(node, 'chmod', remotePath, (cb) => sftp.chmod(remotePath, mode, (err) => cb(err)));
}

/** Copies a remote file to a local path, creating the local folder; the local file gets `mode`. */
export async function sftpDownload(sftp: SFTPWrapper, node: string, remotePath: string, localPath: string, mode = 0o600): Promise<void> {
  const data = await sftpReadFile(sftp, node, remotePath);
  await mkdirLocal(dirname(localPath), { recursive: true });
  await writeLocal(localPath, data, { mode });
  await chmod(localPath, mode);
}

export async function sftpUploadFile(sftp: SFTPWrapper, node: string, localPath: string, remotePath: string, mode?: number): Promise<void> {
  const m = mode ?? (await stat(localPath)).mode & 0o777;
  await call(node, 'upload', remotePath, (cb) => sftp.fastPut(localPath, remotePath, { mode: m }, (err) => cb(err)));
  await call(node, 'chmod', remotePath, (cb) => sftp.chmod(remotePath, m, (err) => cb(err)));
}

async function sftpMkdirP(sftp: SFTPWrapper, node: string, remoteDir: string, mode: number): Promise<void> {
  const exists = await new Promise<boolean>((resolve) => sftp.stat(remoteDir, (err) => resolve(!err)));
  if (exists) return;
  const parent = posix.dirname(remoteDir);
  if (parent !== remoteDir) await sftpMkdirP(sftp, node, parent, mode);
  await call(node, 'mkdir', remoteDir, (cb) => sftp.mkdir(remoteDir, { mode }, (err) => cb(err)));
}

export interface UploadDirOptions {
  /** mode of every uploaded file; default: each local file's own permission bits */
  fileMode?: number;
  /** mode of created folders (default 0755) */
  dirMode?: number;
}

/** Uploads a local folder tree to remoteDir (created with parents), file by file. Returns the files sent. */
export async function sftpUploadDir(sftp: SFTPWrapper, node: string, localDir: string, remoteDir: string, opts: UploadDirOptions = {}): Promise<string[]> {
  const dirMode = opts.dirMode ?? 0o755;
  await sftpMkdirP(sftp, node, remoteDir, dirMode);
  const sent: string[] = [];
  for (const entry of await readdir(localDir, { withFileTypes: true })) {
    const local = join(localDir, entry.name);
    const remote = posix.join(remoteDir, entry.name);
    if (entry.isDirectory()) {
      sent.push(...(await sftpUploadDir(sftp, node, local, remote, opts)));
    } else if (entry.isFile()) {
      await sftpUploadFile(sftp, node, local, remote, opts.fileMode);
      sent.push(remote);
    }
  }
  return sent;
}

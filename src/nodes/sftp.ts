// File transfer over one SFTP channel. Errors name the node, the path and the SFTP reason.
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
        ? 'permission denied'
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

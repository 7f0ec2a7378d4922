// The little `up` needs from the SSH layer (src/nodes), as an interface: connect to a node, run a
// command, copy a file, forward a port. The adapter to src/nodes lives in ssh-adapter.ts.
import type { SshTarget } from '../nodes/target.js';
import type { SshConfigEntry } from '../provider/parsers.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  sudo?: boolean;
  timeoutMs?: number;
  /** each output line as it arrives (for logs and progress) */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  signal?: AbortSignal;
}

export interface NodeSession {
  readonly name: string;
  exec(command: string, o?: ExecOptions): Promise<ExecResult>;
  put(content: string | Buffer, remotePath: string, mode: number): Promise<void>;
  get(remotePath: string): Promise<Buffer>;
  /** a local TCP port that reaches remoteHost:remotePort through this node */
  forward(remoteHost: string, remotePort: number): Promise<{ localPort: number; close(): Promise<void> }>;
  close(): Promise<void>;
}

export type Connect = (target: SshTarget, o: { signal?: AbortSignal; timeoutMs?: number }) => Promise<NodeSession>;

export function targetOf(e: SshConfigEntry): SshTarget {
  return { name: e.name, host: e.host, port: e.port, user: e.user, privateKeyPath: e.identityFile };
}

// The one way to run a command somewhere: a lab node over SSH (ssh-node.ts) or this machine
// (executors.ts). Every command goes through `sh -c`, resolves with its exit code (non-zero is a result,
// not an error), and rejects only when it could not run, timed out, or was aborted.

export interface RunOptions {
  /** run as root through `sudo -n` (the nodes' login user has passwordless sudo) */
  sudo?: boolean;
  /** written to the command's stdin, then EOF; without it stdin is closed at once */
  input?: string | Buffer;
  /** kill the command and reject after this long (default: the node's own, minutes) */
  timeoutMs?: number;
  /** aborting kills the command as a timeout does and rejects */
  signal?: AbortSignal;
  /** each output line as it arrives (for logs and progress) */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** the exit status; 128 + signal number when the command died of a signal */
  exitCode: number;
}

/** What runs commands: all the lessons and the cluster waits need. */
export interface Runner {
  /** the node's name as the user knows it (e.g. "m-k8s"), or "local" */
  readonly name: string;
  run(command: string, opts?: RunOptions): Promise<RunResult>;
}

/** A lab node: runs commands, receives files, and holds a connection until closed. */
export interface Node extends Runner {
  /** writes a file on the node (as the login user), with this mode */
  put(content: string | Buffer, remotePath: string, mode: number): Promise<void>;
  close(): Promise<void>;
}

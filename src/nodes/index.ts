// The SSH layer: connect to nodes (with boot-time retries), run commands, move files, forward ports.
export type { SshTarget } from './target.js';
export { describeTarget } from './target.js';
export { connectSsh, type ConnectOptions } from './connect.js';
export { SshSession } from './session.js';
export type { ExecOptions, SshExecResult } from './exec.js';
export type { LocalForward, ForwardOptions } from './forward.js';
export type { UploadDirOptions } from './sftp.js';
export { onNodes, execOnNodes, describeFailures, type NodeOutcome, type ParallelOptions } from './parallel.js';
export { sshExecutor, localExecutor, LocalTimeoutError } from './executors.js';
export { SshConnectError, SshTimeoutError, SshCommandError, SshFileError, SshClosedError, SshAbortedError } from './errors.js';
export { shQuote } from '../util/shell.js';

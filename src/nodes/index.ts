// The nodes stage: one Node type that runs a command (node.ts), over SSH (ssh-node.ts on the SSH layer:
// connect with boot-time retries, exec, SFTP writes) or on this machine (executors.ts).
export type { Node, Runner, RunOptions, RunResult } from './node.js';
export { connectNode, sshNode, type Connect } from './ssh-node.js';
export { localExecutor, LocalTimeoutError } from './executors.js';
export { describeTarget, type SshTarget } from './target.js';
export { connectSsh, type ConnectOptions } from './connect.js';
export { SshSession } from './session.js';
export { SshConnectError, SshTimeoutError, SshCommandError, SshFileError, SshClosedError, SshAbortedError } from './errors.js';

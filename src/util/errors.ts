// Errors that reach the user: a message that says what to do, and what kind of failure it is. The CLI
// maps each kind to its exit code (src/cli/exit-codes.ts); nothing below the CLI knows the numbers.
export type ErrorKind =
  /** the operation ran and failed, or found failures */
  | 'failed'
  /** bad usage or bad input: nothing was changed */
  | 'usage'
  /** the host or the machines lack something (a tool, a provider, a box) */
  | 'environment'
  /** interrupted (Ctrl-C); running the command again resumes */
  | 'interrupted';

export class UserError extends Error {
  constructor(
    message: string,
    readonly errorKind: ErrorKind = 'failed',
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Ctrl-C stopped a command; its state allows running it again. */
export class Interrupted extends UserError {
  constructor(what: string, hint = 'run the same command again to resume') {
    super(`${what} was interrupted`, 'interrupted', hint);
    this.name = 'Interrupted';
  }
}

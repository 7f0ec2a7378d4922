// Errors that reach the user: a message that says what to do, and the exit code that goes with it.
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

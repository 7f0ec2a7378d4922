// Exit codes every command uses, so scripts can tell the kinds of failure apart. Below the CLI, failures
// carry an ErrorKind (src/util/errors.ts); this table is the one place that turns them into numbers.
import type { ErrorKind } from '../util/errors.js';

export const EXIT = {
  ok: 0,
  /** the operation ran and found failures (verify: a check failed; doctor: a check failed) */
  failed: 1,
  /** bad usage or bad lab.yaml: nothing was changed */
  usage: 2,
  /** the host is missing something (vagrant, provider, box) */
  environment: 3,
  /** interrupted (Ctrl-C); the state allows `up` to resume */
  interrupted: 130,
} as const satisfies Record<ErrorKind | 'ok', number>;

export function exitCodeOf(kind: ErrorKind): number {
  return EXIT[kind];
}

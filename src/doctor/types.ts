// What every doctor check returns: one line of the report, and how to fix it when it is not a pass.
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  /** short id of the check, e.g. "vagrant", "private-network" */
  name: string;
  status: CheckStatus;
  /** what was found */
  detail: string;
  /** what to do about it (empty for a pass) */
  fix: string;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail, fix: '' });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });

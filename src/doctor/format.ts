// The doctor's report: a table for people, JSON for scripts.
import type { CheckResult } from './types.js';

const MARK = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

export function formatTable(results: readonly CheckResult[]): string {
  const nameWidth = Math.max(5, ...results.map((r) => r.name.length));
  const lines = [`STATUS  ${'CHECK'.padEnd(nameWidth)}  DETAIL`];
  for (const r of results) {
    lines.push(`${MARK[r.status].padEnd(6)}  ${r.name.padEnd(nameWidth)}  ${r.detail}`);
    if (r.status !== 'pass' && r.fix) lines.push(`${' '.repeat(8 + nameWidth + 2)}fix: ${r.fix}`);
  }
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  lines.push('', `${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed`);
  return lines.join('\n') + '\n';
}

export function formatJson(results: readonly CheckResult[]): string {
  return JSON.stringify({ ok: !results.some((r) => r.status === 'fail'), checks: results }, null, 2) + '\n';
}

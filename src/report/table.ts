// The terminal table printed at the end of `k8slab verify`: lesson, check, status, time, reason.
import type { CheckResult, CheckStatus } from '../lessons/types.js';
import { summarize, summaryLine } from './summary.js';

const COLORS: Record<CheckStatus, string> = { passed: '\x1b[32m', failed: '\x1b[31m', skipped: '\x1b[33m' };
const RESET = '\x1b[0m';

export interface TableOptions {
  color?: boolean;
  /** the reason column is cut to fit this many columns in total */
  width?: number;
}

export function renderTable(results: readonly CheckResult[], opts: TableOptions = {}): string {
  const header = ['LESSON', 'CHECK', 'STATUS', 'TIME', 'REASON'];
  const rows = results.map((r) => [r.lesson, r.check, r.status, r.status === 'skipped' && r.seconds === 0 ? '-' : `${r.seconds.toFixed(1)}s`, oneLine(r.reason ?? '')]);
  const widths = header.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fixed = widths.reduce((a, w) => a + w + 2, 0);
  const reasonWidth = Math.max(20, (opts.width ?? 160) - fixed);
  const line = (cells: string[], status?: CheckStatus) =>
    cells
      .map((c, i) => {
        if (i === 4) return cut(c, reasonWidth);
        const padded = c.padEnd(widths[i]!);
        return i === 2 && status && opts.color ? `${COLORS[status]}${padded}${RESET}` : padded;
      })
      .join('  ')
      .trimEnd();
  const body = [line(header), ...rows.map((row, i) => line(row, results[i]!.status))];
  return `${body.join('\n')}\n\n${summaryLine(summarize(results))}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

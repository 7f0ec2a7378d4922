// The text report of `k8slab verify` (stdout without --json): lesson by lesson, each tied to the part of
// the course it proves, one line per check saying what it observed; then every failure with its likely
// cause, next command and a replay that works as printed; then the skips, counted, with what to change.
import type { RunResult } from '../lessons/runner.js';
import type { CheckResult, CheckStatus } from '../lessons/types.js';
import { formatTranscript, summarize, summaryLine } from './summary.js';

const COLORS: Record<CheckStatus, string> = { passed: '\x1b[32m', failed: '\x1b[31m', skipped: '\x1b[33m' };
const RESET = '\x1b[0m';
const MARK: Record<CheckStatus, string> = { passed: '✓', failed: '✗', skipped: '-' };

export interface TextOptions {
  color?: boolean;
  /** lines are cut to this many columns (default 160) */
  width?: number;
  /**
   * How a learner runs the replayed kubectl lines, e.g. "export KUBECONFIG=/path/admin.conf" or
   * "run each kubectl line as `k8slab ssh m-k8s -- sudo kubectl ...`".
   */
  access?: string;
  /** --strict: a skip fails the run, and the closing lines say so */
  strict?: boolean;
}

export function renderText(run: RunResult, opts: TextOptions = {}): string {
  const width = opts.width ?? 160;
  const paint = (status: CheckStatus, text: string) => (opts.color ? `${COLORS[status]}${text}${RESET}` : text);
  const out: string[] = [];

  for (const lesson of run.lessons) {
    const s = summarize(lesson.results);
    out.push(`${lesson.lesson} — ${lesson.title}`);
    if (lesson.source) out.push(`  proves ${lesson.source}`);
    const idWidth = Math.max(...lesson.results.map((r) => r.check.length), 5);
    for (const r of lesson.results) {
      const head = `  ${paint(r.status, MARK[r.status])} ${r.check.padEnd(idWidth)}  `;
      out.push(cut(`${head}${observed(r)}`, width + (opts.color ? COLORS[r.status].length + RESET.length : 0)));
    }
    out.push(`  = ${summaryLine(s)} in ${Math.round(lesson.seconds)}s`, '');
  }

  const failed = run.results.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    out.push(paint('failed', `${failed.length} FAILED`), '');
    for (const r of failed) out.push(failure(r, run, opts.access), '');
  }

  const skipped = run.results.filter((r) => r.status === 'skipped');
  if (skipped.length > 0) {
    out.push(paint('skipped', `${skipped.length} SKIPPED: ${skipped.length === 1 ? 'this check did' : 'these checks did'} not run, so the lab is not proven for them${opts.strict ? ' (--strict: the run fails)' : ''}`));
    for (const r of skipped) out.push(`  - ${r.lesson}/${r.check}: ${r.reason ?? 'skipped'}`);
    if (!opts.strict) out.push('  (`k8slab verify --strict` fails the run on any skip)');
    out.push('');
  }

  const total = summarize(run.results);
  out.push(`${summaryLine(total)} in ${Math.round(run.seconds)}s`);
  return `${out.join('\n')}\n`;
}

/** The one line after a check's id: what it observed, why it failed, or why it was skipped. */
function observed(r: CheckResult): string {
  if (r.status === 'passed') return oneLine(r.notes.length > 0 ? r.notes.join('; ') : r.title);
  if (r.status === 'skipped') return `skipped: ${oneLine(r.reason ?? '')}`;
  return `FAILED: ${oneLine(r.reason ?? '')}`;
}

function failure(r: CheckResult, run: RunResult, access: string | undefined): string {
  const ns = run.lessons.find((l) => l.lesson === r.lesson)?.namespace;
  const lines = [`--- ${r.lesson}/${r.check}: ${r.title}`, `failed: ${r.reason ?? ''}`];
  if (r.hint) lines.push(`likely cause and next step: ${r.hint}`);
  if (r.notes.length > 0) lines.push(...r.notes.map((n) => `# ${n}`));
  if (r.transcript.length > 0) {
    lines.push(`replay${access ? ` (${access})` : ''}; the lesson's namespace was deleted after the run, so the replay creates it first:`);
    const create = ns ? [{ command: `kubectl create namespace ${ns}`, exitCode: 0, stdout: '', stderr: '' }] : [];
    lines.push(formatTranscript([...create, ...r.transcript]));
  }
  return lines.join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

// Counting and transcript text shared by the table, JSON and JUnit writers.
import type { CheckResult, CheckStatus, Transcript } from '../lessons/types.js';

export type Summary = Record<CheckStatus, number> & { total: number };

export function summarize(results: readonly CheckResult[]): Summary {
  const s: Summary = { passed: 0, failed: 0, skipped: 0, total: results.length };
  for (const r of results) s[r.status]++;
  return s;
}

/** The plain closing line: "3 passed, 1 failed, 2 skipped". */
export function summaryLine(s: Summary): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
}

/**
 * Commands as a learner pastes them into a shell: `$ kubectl ...`, a here-document for what went to
 * stdin, then the output and a non-zero exit code.
 */
export function formatTranscript(entries: readonly Transcript[]): string {
  return entries
    .map((t) => {
      const lines = [t.input === undefined ? `$ ${t.command}` : `$ ${t.command} <<'EOF'\n${t.input.replace(/\n$/, '')}\nEOF`];
      if (t.stdout.trim()) lines.push(t.stdout.replace(/\n$/, ''));
      if (t.stderr.trim()) lines.push(t.stderr.replace(/\n$/, ''));
      if (t.exitCode !== 0) lines.push(`[exit ${t.exitCode}]`);
      return lines.join('\n');
    })
    .join('\n\n');
}

// `verify --junit FILE`: one <testsuite> per lesson, one <testcase> per check; skipped and failed
// checks carry their reason, and every testcase carries its replayable transcript in <system-out>.
import { create } from 'xmlbuilder2';
import type { RunResult } from '../lessons/runner.js';
import type { CheckResult } from '../lessons/types.js';
import { formatTranscript, summarize } from './summary.js';

export function renderJunit(run: RunResult, opts: { timestamp?: Date } = {}): string {
  const all = summarize(run.results);
  // kubectl output can hold control characters that XML 1.0 cannot carry; they are dropped.
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const root = doc.ele('testsuites', {
    name: 'k8slab verify',
    tests: all.total,
    failures: all.failed,
    errors: 0,
    skipped: all.skipped,
    time: secs(run.seconds),
  });
  const timestamp = (opts.timestamp ?? new Date()).toISOString().replace(/\.\d+Z$/, '');
  for (const lesson of run.lessons) {
    const s = summarize(lesson.results);
    const suite = root.ele('testsuite', {
      name: lesson.lesson,
      tests: s.total,
      failures: s.failed,
      errors: 0,
      skipped: s.skipped,
      time: secs(lesson.results.reduce((t, r) => t + r.seconds, 0)),
      timestamp,
    });
    suite.ele('properties').ele('property', { name: 'namespace', value: lesson.namespace });
    for (const r of lesson.results) testcase(suite, r);
  }
  return doc.end({ prettyPrint: true }) + '\n';
}

// Characters outside XML 1.0's Char production (everything below 0x20 but tab, LF and CR).
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g;

type Node = ReturnType<ReturnType<typeof create>['ele']>;

function testcase(suite: Node, r: CheckResult): void {
  const tc = suite.ele('testcase', { classname: `k8slab.${r.lesson}`, name: `${r.check}: ${r.title}`, time: secs(r.seconds) });
  const text = clean(formatTranscript(r.transcript));
  const hint = r.hint ? `likely cause and next step: ${r.hint}\n\n` : '';
  if (r.status === 'failed') tc.ele('failure', { message: clean(r.reason ?? 'failed'), type: 'CheckFailed' }).txt(clean(hint) + (text || clean(r.reason ?? '')));
  if (r.status === 'skipped') tc.ele('skipped', { message: clean(r.reason ?? 'skipped') });
  const out = [r.notes.length > 0 ? r.notes.map((n) => `# ${n}`).join('\n') : '', text].filter(Boolean).join('\n\n');
  if (out) tc.ele('system-out').txt(clean(out));
}

function clean(text: string): string {
  return text.replace(INVALID_XML, '');
}

const secs = (s: number) => s.toFixed(3);

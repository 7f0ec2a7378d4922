// The report formats: terminal table, JSON and JUnit (parsed back with fast-xml-parser).
import { describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderTable, renderJson, renderJunit, formatTranscript, summaryLine, summarize } from '../../src/report/index.js';
import type { RunResult } from '../../src/lessons/runner.js';
import type { CheckResult } from '../../src/lessons/types.js';

const passed: CheckResult = {
  lesson: 'services',
  check: 'clusterip-stable',
  title: 'A ClusterIP Service keeps its IP',
  status: 'passed',
  seconds: 2.345,
  notes: ['clusterip1 kept 10.96.0.15'],
  transcript: [
    { command: 'kubectl -n k8slab-services apply -f -', input: 'kind: Service\nmetadata:\n  name: clusterip1\n', exitCode: 0, stdout: 'service/clusterip1 created\n', stderr: '' },
    { command: 'kubectl -n k8slab-services get service clusterip1 -o json', exitCode: 0, stdout: '{"spec":{"clusterIP":"10.96.0.15"}}', stderr: '' },
  ],
};
const failed: CheckResult = {
  lesson: 'services',
  check: 'headless-no-ip',
  title: 'A headless Service gets no ClusterIP',
  status: 'failed',
  seconds: 0.5,
  reason: 'headless1 has ClusterIP 10.96.3.4, not None & <odd> "chars"',
  notes: [],
  transcript: [{ command: 'kubectl -n k8slab-services get service headless1 -o json', exitCode: 1, stdout: 'bell\x07 and <tag> & co', stderr: 'Error from server (NotFound)' }],
};
const skipped: CheckResult = {
  lesson: 'access',
  check: 'sa-token-pod',
  title: 'A pod reaches the API',
  status: 'skipped',
  seconds: 0,
  reason: 'needs nodes: no Ready node (the cluster lists 0 nodes)',
  notes: [],
  transcript: [],
};

const run: RunResult = {
  facts: {
    capabilities: new Set(['hostNetwork']),
    missing: new Map([['nodes', 'no Ready node (the cluster lists 0 nodes)']]),
    off: new Map(),
    nodeIps: new Map([['m-k8s', '192.168.56.10']]),
    schedulableNodes: ['m-k8s'],
    arch: ['amd64'],
  },
  factsTranscript: [{ command: 'kubectl get nodes -o json', exitCode: 0, stdout: '{"items":[]}', stderr: '' }],
  lessons: [
    { lesson: 'services', title: 'Services', namespace: 'k8slab-services', setup: [], cleanup: [], results: [passed, failed] },
    { lesson: 'access', title: 'Access', namespace: 'k8slab-access', setup: [], cleanup: [], results: [skipped] },
  ],
  results: [passed, failed, skipped],
  seconds: 12.5,
};

describe('summary', () => {
  it('counts each status and prints the plain closing line', () => {
    expect(summarize(run.results)).toEqual({ passed: 1, failed: 1, skipped: 1, total: 3 });
    expect(summaryLine(summarize(run.results))).toBe('1 passed, 1 failed, 1 skipped');
  });

  it('formats a transcript a learner can paste: here-document for stdin, exit code when non-zero', () => {
    const text = formatTranscript([...passed.transcript, ...failed.transcript]);
    expect(text).toContain("$ kubectl -n k8slab-services apply -f - <<'EOF'\nkind: Service\nmetadata:\n  name: clusterip1\nEOF\nservice/clusterip1 created");
    expect(text).toContain('$ kubectl -n k8slab-services get service headless1 -o json\nbell\x07 and <tag> & co\nError from server (NotFound)\n[exit 1]');
    expect(text).not.toContain('[exit 0]');
  });
});

describe('terminal table', () => {
  it('has one row per check with status, time and reason, and the summary line', () => {
    const lines = renderTable(run.results).split('\n');
    expect(lines[0]).toMatch(/^LESSON\s+CHECK\s+STATUS\s+TIME\s+REASON$/);
    expect(lines[1]).toMatch(/^services\s+clusterip-stable\s+passed\s+2\.3s$/);
    expect(lines[2]).toMatch(/^services\s+headless-no-ip\s+failed\s+0\.5s\s+headless1 has ClusterIP 10\.96\.3\.4/);
    expect(lines[3]).toMatch(/^access\s+sa-token-pod\s+skipped\s+-\s+needs nodes: no Ready node/);
    expect(lines).toContain('1 passed, 1 failed, 1 skipped');
    // Columns line up: STATUS starts at the same offset on every row.
    const col = lines[0]!.indexOf('STATUS');
    for (const l of lines.slice(1, 4)) expect(l.slice(col)).toMatch(/^(passed|failed|skipped)/);
    expect(renderTable(run.results)).not.toContain('\x1b[');
  });

  it('cuts long reasons to the width and colours statuses only when asked', () => {
    const long = { ...failed, reason: 'x'.repeat(500) };
    const out = renderTable([long], { width: 80, color: true });
    const row = out.split('\n')[1]!;
    expect(row).toContain('…');
    expect(row.replace(/\x1b\[\d+m/g, '').length).toBeLessThanOrEqual(80);
    expect(row).toContain('\x1b[31mfailed\x1b[0m');
  });
});

describe('JSON', () => {
  it('turns the facts into plain data and keeps every check with its transcript', () => {
    const doc = JSON.parse(renderJson(run));
    expect(doc.version).toBe(1);
    expect(doc.summary).toEqual({ passed: 1, failed: 1, skipped: 1, total: 3 });
    expect(doc.facts.capabilities).toEqual(['hostNetwork']);
    expect(doc.facts.missing).toEqual({ nodes: 'no Ready node (the cluster lists 0 nodes)' });
    expect(doc.facts.nodeIps).toEqual({ 'm-k8s': '192.168.56.10' });
    expect(doc.results.map((r: CheckResult) => [r.check, r.status])).toEqual([
      ['clusterip-stable', 'passed'],
      ['headless-no-ip', 'failed'],
      ['sa-token-pod', 'skipped'],
    ]);
    expect(doc.results[0].transcript[1].command).toBe('kubectl -n k8slab-services get service clusterip1 -o json');
    expect(doc.results[0].seconds).toBe(2.345);
    expect(doc.lessons[1]).toEqual({ lesson: 'access', title: 'Access', namespace: 'k8slab-access', setup: [], cleanup: [] });
  });
});

describe('JUnit XML', () => {
  const xml = renderJunit(run, { timestamp: new Date('2026-01-02T03:04:05.678Z') });
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name) }).parse(xml);

  it('is well-formed XML even with control characters and markup in the output', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toContain('\x07');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  });

  it('has one testsuite per lesson and one testcase per check, with the counts right', () => {
    const root = parsed.testsuites;
    expect(root).toMatchObject({ name: 'k8slab verify', tests: '3', failures: '1', skipped: '1', errors: '0', time: '12.500' });
    expect(root.testsuite.map((s: { name: string }) => s.name)).toEqual(['services', 'access']);
    const [svc, acc] = root.testsuite;
    expect(svc).toMatchObject({ tests: '2', failures: '1', skipped: '0', timestamp: '2026-01-02T03:04:05' });
    expect(svc.properties.property).toEqual({ name: 'namespace', value: 'k8slab-services' });
    expect(svc.testcase).toHaveLength(2);
    expect(acc.testcase).toHaveLength(1);
  });

  it('marks failed and skipped testcases with their reason and leaves passed ones bare', () => {
    const [svc, acc] = parsed.testsuites.testsuite;
    const [ok, bad] = svc.testcase;
    expect(ok).toMatchObject({ classname: 'k8slab.services', name: 'clusterip-stable: A ClusterIP Service keeps its IP', time: '2.345' });
    expect(ok.failure).toBeUndefined();
    expect(ok.skipped).toBeUndefined();
    expect(ok['system-out']).toContain('# clusterip1 kept 10.96.0.15');
    expect(ok['system-out']).toContain('$ kubectl -n k8slab-services get service clusterip1 -o json');
    expect(bad.failure.message).toBe('headless1 has ClusterIP 10.96.3.4, not None & <odd> "chars"');
    expect(bad.failure.type).toBe('CheckFailed');
    expect(bad.failure['#text']).toContain('and <tag> & co');
    expect(bad.skipped).toBeUndefined();
    const skip = acc.testcase[0];
    expect(skip.skipped).toEqual({ message: 'needs nodes: no Ready node (the cluster lists 0 nodes)' });
    expect(skip.failure).toBeUndefined();
  });
});

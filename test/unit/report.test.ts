// The report formats: text, JSON and JUnit (parsed back with fast-xml-parser).
import { describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderText, renderJson, renderJunit, formatTranscript, summaryLine, summarize } from '../../src/report/index.js';
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
    { lesson: 'services', title: 'Services', source: 'seeds/000 (Service practice)', seconds: 3.2, namespace: 'k8slab-services', setup: [], cleanup: [], results: [passed, failed] },
    { lesson: 'access', title: 'Access', source: 'seeds/001 (RBAC)', seconds: 0.1, namespace: 'k8slab-access', setup: [], cleanup: [], results: [skipped] },
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

describe('text report', () => {
  const withHint = { ...failed, hint: 'the Service lost its selector: see `kubectl -n k8slab-services describe service headless1`' };
  const textRun = { ...run, lessons: [{ ...run.lessons[0]!, results: [passed, withHint] }, run.lessons[1]!], results: [passed, withHint, skipped] };
  const text = renderText(textRun, { access: 'export KUBECONFIG=/tmp/admin.conf' });

  it('gives each lesson a summary tied to the part of the course it proves, and each passed check what it observed', () => {
    const lines = text.split('\n');
    expect(lines[0]).toBe('services — Services');
    expect(lines[1]).toBe('  proves seeds/000 (Service practice)');
    expect(lines[2]).toBe('  ✓ clusterip-stable  clusterip1 kept 10.96.0.15');
    expect(lines[3]).toMatch(/^  ✗ headless-no-ip    FAILED: headless1 has ClusterIP 10\.96\.3\.4/);
    expect(lines[4]).toBe('  = 1 passed, 1 failed, 0 skipped in 3s');
    expect(text).toContain('access — Access\n  proves seeds/001 (RBAC)\n  - sa-token-pod  skipped: needs nodes');
    expect(text.trimEnd().split('\n').pop()).toBe('1 passed, 1 failed, 1 skipped in 13s');
    expect(text).not.toContain('\x1b[');
  });

  it('says for a failure the likely cause, the next command, and a replay that creates the namespace and states the access it needs', () => {
    const block = text.slice(text.indexOf('--- services/headless-no-ip'));
    expect(block).toContain('failed: headless1 has ClusterIP 10.96.3.4');
    expect(block).toContain('likely cause and next step: the Service lost its selector: see `kubectl -n k8slab-services describe service headless1`');
    expect(block).toContain("replay (export KUBECONFIG=/tmp/admin.conf); the lesson's namespace was deleted after the run, so the replay creates it first:\n$ kubectl create namespace k8slab-services\n\n$ kubectl -n k8slab-services get service headless1 -o json");
  });

  it('states the skips prominently: how many, each with what to change, and that --strict fails on them', () => {
    expect(text).toContain('1 SKIPPED: this check did not run, so the lab is not proven for them\n  - access/sa-token-pod: needs nodes');
    expect(text).toContain('`k8slab verify --strict` fails the run on any skip');
    const strict = renderText(textRun, { strict: true });
    expect(strict).toContain('1 SKIPPED: this check did not run, so the lab is not proven for them (--strict: the run fails)');
    expect(strict).not.toContain('`k8slab verify --strict` fails');
  });

  it('colours the marks only when asked and cuts long lines to the width', () => {
    const long = { ...passed, notes: ['x'.repeat(500)] };
    const out = renderText({ ...run, lessons: [{ ...run.lessons[0]!, results: [long] }], results: [long] }, { width: 80, color: true });
    const row = out.split('\n')[2]!;
    expect(row).toContain('\x1b[32m✓\x1b[0m');
    expect(row).toContain('…');
    expect(row.replace(/\x1b\[\d+m/g, '').length).toBeLessThanOrEqual(80);
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
    expect(doc.lessons[1]).toEqual({ lesson: 'access', title: 'Access', source: 'seeds/001 (RBAC)', seconds: 0.1, namespace: 'k8slab-access', setup: [], cleanup: [] });
    expect(doc.facts.off).toEqual({});
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
    expect(renderJunit({ ...run, lessons: [{ ...run.lessons[0]!, results: [{ ...failed, hint: 'see `kubectl get nodes`' }] }] })).toContain('likely cause and next step: see `kubectl get nodes`');
    expect(bad.skipped).toBeUndefined();
    const skip = acc.testcase[0];
    expect(skip.skipped).toEqual({ message: 'needs nodes: no Ready node (the cluster lists 0 nodes)' });
    expect(skip.failure).toBeUndefined();
  });
});

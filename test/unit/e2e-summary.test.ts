// The e2e harness's record keeping (its core, test/summary.ts, is the node tier's too), without VMs: a skip is
// never a pass, the first failure or skip blocks the phases after it (unless they must always run), and the
// figures are judged against the targets without asserting them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Recorder, type Summary } from '../e2e/summary.js';

const dir = mkdtempSync(join(tmpdir(), 'k8slab-e2e-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recorder(name: string): { rec: Recorder; read: () => Summary } {
  const file = join(dir, `${name}.json`);
  const rec = new Recorder(file, { host: { cores: 2, loadAverage: [0, 0, 0], libvirtDriver: 'qemu' }, lab: {} });
  return { rec, read: () => JSON.parse(readFileSync(file, 'utf8')) as Summary };
}

describe('e2e Recorder', () => {
  // the Recorder reports each phase on stderr
  beforeAll(() => void vi.spyOn(process.stderr, 'write').mockImplementation(() => true));
  afterAll(() => vi.restoreAllMocks());

  it('records passed and failed phases; after a failure the rest are skipped unless always', async () => {
    const { rec, read } = recorder('phases');
    await rec.phase('a', async () => ({ figure: 1 }));
    await expect(rec.phase('c', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await rec.phase('d', async () => 'never runs');
    await rec.phase('e', async () => undefined, { always: true });
    expect(read().phases.map((p) => [p.name, p.status, p.reason ?? '', p.detail ?? null])).toEqual([
      ['a', 'passed', '', { figure: 1 }],
      ['c', 'failed', 'boom', null],
      ['d', 'skipped', 'not run: phase "c" failed', null],
      ['e', 'passed', '', null],
    ]);
  });

  // A skipped phase did not run, so what comes after it must not pass as if it had (e.g. nodes-ready after a
  // skipped up): a skip blocks the later phases like a failure does, and the first reason is the one kept.
  it('after a skipped phase the rest are skipped with its reason unless always', async () => {
    const { rec, read } = recorder('skipped');
    let ran = false;
    await rec.phase('b', async (skip) => skip('no DNS here'));
    await rec.phase('c', async () => {
      ran = true;
    });
    await expect(rec.phase('d', async () => Promise.reject(new Error('boom')), { always: true })).rejects.toThrow('boom');
    await rec.phase('e', async () => undefined, { always: true });
    expect(ran).toBe(false);
    expect(rec.blocked).toBe('phase "b" was skipped: no DNS here');
    expect(read().phases.map((p) => [p.name, p.status, p.reason ?? ''])).toEqual([
      ['b', 'skipped', 'no DNS here'],
      ['c', 'skipped', 'not run: phase "b" was skipped: no DNS here'],
      ['d', 'failed', 'boom'],
      ['e', 'passed', ''],
    ]);
  });

  it('judges the end-to-end time against the warm or cold target and down against its own, leaving out the benchmark', () => {
    const { rec, read } = recorder('targets');
    rec.summary.phases.push(
      { name: 'up', status: 'passed', seconds: 900 },
      { name: 'verify', status: 'passed', seconds: 1200 },
      { name: 'down', status: 'passed', seconds: 14 },
      { name: 'benchmark-plain-vagrant-up', status: 'passed', seconds: 5000 },
    );
    expect(rec.judgeTargets('cold')).toEqual({ cache: 'cold', endToEndMinutes: 35.2, limitMinutes: 60, withinTime: true, downSeconds: 14, downWithin: true });
    expect(rec.judgeTargets('warm')).toMatchObject({ limitMinutes: 30, withinTime: false });
    rec.write();
    expect(read().againstTargets?.cache).toBe('warm');
  });

  it('says nothing of down when down did not pass', () => {
    const { rec } = recorder('no-down');
    rec.summary.phases.push({ name: 'down', status: 'failed', seconds: 3 });
    expect(rec.judgeTargets('warm')).not.toHaveProperty('downSeconds');
  });
});

// The phase runner behind `up`: state records, resume after a failure or an interrupt, a healthy
// lab left alone. The phase actions are fakes that record their calls (no VMs in this tier).
import { describe, expect, it } from 'vitest';
import { runPhases, type Phase } from '../../src/up/phases.js';
import type { LabState } from '../../src/state/lab-state.js';

function newState(): LabState {
  return { version: 1, createdAt: '2026-01-01T00:00:00Z', secrets: { token: 't', caCert: 'c', caKey: 'k' }, phases: {}, facts: {} };
}

interface FakeWorld {
  calls: string[];
  failOnce: Set<string>;
  vmsRunning: boolean;
}

function fakePhases(): Phase<FakeWorld>[] {
  const make = (name: string, extra: Partial<Phase<FakeWorld>> = {}): Phase<FakeWorld> => ({
    name,
    title: name,
    async run(w) {
      w.calls.push(name);
      if (w.failOnce.delete(name)) throw new Error(`${name} broke`);
    },
    ...extra,
  });
  return [
    make('render'),
    make('vms', {
      async run(w) {
        w.calls.push('vms');
        w.vmsRunning = true;
      },
      stillDone: async (w) => w.vmsRunning,
    }),
    make('provision'),
    make('ready'),
  ];
}

describe('runPhases', () => {
  it('runs every phase once and records each as done with its time', async () => {
    const state = newState();
    const saves: string[] = [];
    const w: FakeWorld = { calls: [], failOnce: new Set(), vmsRunning: false };
    let t = 0;
    const r = await runPhases(fakePhases(), w, {
      state,
      save: async (s) => void saves.push(JSON.stringify(s.phases)),
      now: () => (t += 1000),
    });
    expect(w.calls).toEqual(['render', 'vms', 'provision', 'ready']);
    expect(r).toEqual({ ran: ['render', 'vms', 'provision', 'ready'], skipped: [] });
    expect(Object.values(state.phases).map((p) => p.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(state.phases.vms?.seconds).toBeGreaterThan(0);
    expect(saves.length).toBe(8); // before and after each phase
  });

  it('a second run on a healthy lab changes nothing', async () => {
    const state = newState();
    const w: FakeWorld = { calls: [], failOnce: new Set(), vmsRunning: false };
    await runPhases(fakePhases(), w, { state, save: async () => {} });
    w.calls = [];
    const r = await runPhases(fakePhases(), w, { state, save: async () => {} });
    expect(w.calls).toEqual([]);
    expect(r.skipped).toEqual(['render', 'vms', 'provision', 'ready']);
  });

  it('resumes at the failed phase', async () => {
    const state = newState();
    const w: FakeWorld = { calls: [], failOnce: new Set(['provision']), vmsRunning: false };
    const first = await runPhases(fakePhases(), w, { state, save: async () => {} });
    expect(first.stoppedAt).toMatchObject({ name: 'provision', outcome: 'failed' });
    expect(state.phases.provision).toMatchObject({ status: 'failed', error: 'provision broke' });
    expect(state.phases.ready).toBeUndefined();
    w.calls = [];
    const second = await runPhases(fakePhases(), w, { state, save: async () => {} });
    expect(w.calls).toEqual(['provision', 'ready']);
    expect(second.skipped).toEqual(['render', 'vms']);
  });

  it('records an interrupt as such and resumes there', async () => {
    const state = newState();
    const ac = new AbortController();
    const w: FakeWorld = { calls: [], failOnce: new Set(), vmsRunning: false };
    const phases = fakePhases();
    phases[1] = {
      ...phases[1]!,
      async run() {
        w.calls.push('vms');
        ac.abort(); // Ctrl-C while the VMs come up
        throw new Error('vagrant exited after cleanup');
      },
    };
    const r = await runPhases(phases, w, { state, save: async () => {}, signal: ac.signal });
    expect(r.stoppedAt?.outcome).toBe('interrupted');
    expect(state.phases.vms?.status).toBe('interrupted');
    w.calls = [];
    await runPhases(fakePhases(), w, { state, save: async () => {} });
    expect(w.calls).toEqual(['vms', 'provision', 'ready']);
  });

  it('re-runs a done phase whose effect is gone, and everything after it', async () => {
    const state = newState();
    const w: FakeWorld = { calls: [], failOnce: new Set(), vmsRunning: false };
    await runPhases(fakePhases(), w, { state, save: async () => {} });
    w.vmsRunning = false; // someone halted the VMs
    w.calls = [];
    await runPhases(fakePhases(), w, { state, save: async () => {} });
    expect(w.calls).toEqual(['vms', 'provision', 'ready']);
  });

  it('stops after --until, and refuses an unknown phase name', async () => {
    const state = newState();
    const w: FakeWorld = { calls: [], failOnce: new Set(), vmsRunning: false };
    await runPhases(fakePhases(), w, { state, save: async () => {}, until: 'vms' });
    expect(w.calls).toEqual(['render', 'vms']);
    await expect(runPhases(fakePhases(), w, { state, save: async () => {}, until: 'nope' })).rejects.toThrow(/unknown phase "nope"/);
  });
});

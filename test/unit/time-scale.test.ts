// verify's time scale (slow labs such as software-emulated VMs): every limit a check runs under grows by the
// factor (kubectl's own --timeout flags, the process limit of each kubectl call, waits), nothing else changes.
// kubectl here is a real `sh -c` through the local executor; on this host it is not installed, which is fine:
// the tests read what the executor was asked to run and for how long.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckFailed, scaleTimeoutFlags } from '../../src/lessons/context.js';
import type { Executor } from '../../src/lessons/types.js';
import { localExecutor } from '../../src/nodes/executors.js';
import { runCli } from '../cli-run.js';
import { testContext } from '../lesson-context.js';

/** the real local executor, remembering each command line and the time limit it was given */
function recordingLocalExecutor(): Executor & { calls: { command: string; timeoutMs?: number }[] } {
  const inner = localExecutor();
  const calls: { command: string; timeoutMs?: number }[] = [];
  return {
    name: 'recording-local',
    calls,
    run: (command, opts) => {
      calls.push({ command, ...(opts?.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
      return inner.run(command, opts);
    },
  };
}

const ctxWith = (executor: Executor, timeScale: number) => testContext({ lesson: 'workloads', ns: 'k8slab-workloads', timeScale, executor });

describe('scaleTimeoutFlags', () => {
  it("scales kubectl's --timeout=Ns and leaves every other argument alone", () => {
    const args = ['rollout', 'status', 'deployment/x', '--timeout=180s', '--timeout-note', 'timeout=5s'];
    expect(scaleTimeoutFlags(args, 3)).toEqual(['rollout', 'status', 'deployment/x', '--timeout=540s', '--timeout-note', 'timeout=5s']);
    expect(scaleTimeoutFlags(args, 1.5)[3]).toBe('--timeout=270s');
    expect(scaleTimeoutFlags(args, 1)).toBe(args);
    // a watch lasts as long as its request: scaled too, so a slow scale-down is still seen to the end
    expect(scaleTimeoutFlags(['get', 'pods', '--watch', '--request-timeout=50s'], 3)).toEqual(['get', 'pods', '--watch', '--request-timeout=150s']);
  });
});

describe('LessonContext under a time scale', () => {
  it('gives each kubectl call and its --timeout flag the scaled limit', async () => {
    const exec = recordingLocalExecutor();
    await ctxWith(exec, 3).kubectl(['delete', 'pod', 'p', '--timeout=60s'], { allowFailure: true, timeoutMs: 70_000 });
    await ctxWith(exec, 1).kubectl(['get', 'pods'], { allowFailure: true });
    expect(exec.calls.map((c) => c.timeoutMs)).toEqual([210_000, 60_000]);
    expect(exec.calls[0]!.command).toContain('--timeout=180s');
    expect(exec.calls[1]!.command).toBe('kubectl -n k8slab-workloads get pods');
  });

  it('waits the scaled time before a wait fails', async () => {
    // Fake clock and timers: the probe turns ready at 250 ms of the wait's own clock, whatever the host's load.
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout'] });
    try {
      const readyAfter = (ms: number) => {
        const t0 = Date.now();
        return async () => (Date.now() - t0 >= ms ? 'ready' : undefined);
      };
      const opts = { timeoutMs: 100, intervalMs: 10 };
      const unscaled = expect(ctxWith(localExecutor(), 1).waitFor('x', readyAfter(250), opts)).rejects.toBeInstanceOf(CheckFailed);
      await vi.advanceTimersByTimeAsync(1_000);
      await unscaled;
      const scaled = ctxWith(localExecutor(), 5).waitFor('x', readyAfter(250), opts);
      await vi.advanceTimersByTimeAsync(1_000);
      await expect(scaled).resolves.toBe('ready');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('k8slab verify --time-scale', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-time-scale-'));
    await writeFile(join(dir, 'lab.yaml'), 'name: scale\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const bad of ['0', 'abc', '21']) {
    it(`refuses ${bad} with exit 2, saying the allowed range`, async () => {
      const r = await runCli('verify', '--time-scale', bad, '-c', join(dir, 'lab.yaml'));
      expect(r.code).toBe(2);
      expect(r.all).toContain(`--time-scale ${bad}: not a number from 1 to 20`);
    });
  }
});

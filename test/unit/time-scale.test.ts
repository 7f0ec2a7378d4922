// verify's time scale (slow labs such as software-emulated VMs): every limit a check runs under grows by the
// factor (kubectl's own --timeout flags, the process limit of each kubectl call, waits), nothing else changes.
// kubectl here is a real `sh -c` through the local executor; on this host it is not installed, which is fine:
// the tests read what the executor was asked to run and for how long.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckFailed } from '../../src/lessons/context.js';
import { LIMITS } from '../../src/lessons/limits.js';
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

describe('LessonContext under a time scale', () => {
  it("turns a named limit into kubectl's own --timeout and a process limit a grace longer, both scaled", async () => {
    const exec = recordingLocalExecutor();
    await ctxWith(exec, 3).kubectl(['delete', 'pod', 'p'], { allowFailure: true, waitMs: LIMITS.delete });
    await ctxWith(exec, 1.5).kubectl(['rollout', 'status', 'deployment/x'], { allowFailure: true, waitMs: LIMITS.rollout });
    await ctxWith(exec, 1).kubectl(['get', 'pods'], { allowFailure: true });
    // a watch lasts as long as its request: scaled too, so a slow scale-down is still seen to the end
    await ctxWith(exec, 3).kubectl(['get', 'pods', '--watch'], { allowFailure: true, watchMs: LIMITS.watch });
    expect(exec.calls.map((c) => c.timeoutMs)).toEqual([
      (LIMITS.delete + LIMITS.kubectlGrace) * 3,
      (LIMITS.rollout + LIMITS.kubectlGrace) * 1.5,
      LIMITS.command,
      (LIMITS.watch + LIMITS.kubectlGrace) * 3,
    ]);
    expect(exec.calls[0]!.command).toBe(`kubectl -n k8slab-workloads delete pod p --timeout=${(LIMITS.delete * 3) / 1000}s`);
    expect(exec.calls[1]!.command).toContain(`--timeout=${(LIMITS.rollout * 1.5) / 1000}s`);
    expect(exec.calls[2]!.command).toBe('kubectl -n k8slab-workloads get pods');
    expect(exec.calls[3]!.command).toContain(`--request-timeout=${(LIMITS.watch * 3) / 1000}s`);
    // a limit that goes into a request (a replaying watch's timeoutSeconds) is scaled the same way
    expect(ctxWith(exec, 3).scaled(LIMITS.replay)).toBe(LIMITS.replay * 3);
  });

  it('refuses a hand-written --timeout= flag, which would escape the time scale', async () => {
    const exec = recordingLocalExecutor();
    await expect(ctxWith(exec, 3).kubectl(['delete', 'pod', 'p', '--timeout=60s'])).rejects.toThrow(/pass waitMs\/watchMs \(named LIMITS\) instead of --timeout=60s/);
    await expect(ctxWith(exec, 3).kubectl(['get', 'pods', '--request-timeout=5s'])).rejects.toThrow(/instead of --request-timeout=5s/);
    expect(exec.calls).toEqual([]);
  });

  it('no lesson source writes a --timeout flag or a millisecond literal: every limit is named in limits.ts', async () => {
    const dir = join(import.meta.dirname, '../../src/lessons');
    const offenders: string[] = [];
    for (const file of await readdir(dir)) {
      if (file === 'limits.ts' || !file.endsWith('.ts')) continue;
      const text = await readFile(join(dir, file), 'utf8');
      text.split('\n').forEach((line, i) => {
        if (/'--(request-)?timeout=\d/.test(line) || /\b\d{1,3}_000\b/.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
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

describe('ctx.holds: watching that something does not happen', () => {
  it('fails with the first problem seen, and passes when none comes within the (scaled) time', async () => {
    const ctx = ctxWith(localExecutor(), 1);
    let n = 0;
    await expect(ctx.holds('the pod keeps its IP', async () => (++n === 3 ? 'the IP changed to 10.0.0.9' : undefined), { forMs: 5000, intervalMs: 10 })).rejects.toThrow(
      'the pod keeps its IP did not hold: the IP changed to 10.0.0.9',
    );
    expect(n).toBe(3);
    let looks = 0;
    await ctxWith(localExecutor(), 2).holds('nothing happens', async () => {
      looks++;
      return undefined;
    }, { forMs: 50, intervalMs: 10 });
    expect(looks).toBeGreaterThan(0);
  });
});

// The one poll loop (src/util/poll.ts): what ends a wait, and what it says when it runs out.
import { describe, expect, it } from 'vitest';
import { poll, PollTimeout } from '../../src/util/poll.js';
import { evaluate, type NodeReadiness, type PodReadiness } from '../../src/cluster/readiness.js';

/** A probe that answers from a script: undefined ("not yet"), an Error (thrown), or a value. */
function scripted<T>(answers: (T | undefined | Error)[]) {
  const calls = { n: 0 };
  const probe = async () => {
    const a = answers[Math.min(calls.n++, answers.length - 1)];
    if (a instanceof Error) throw a;
    return a;
  };
  return { probe, calls };
}

describe('poll', () => {
  it('returns the first answer, after "not yet" and errors', async () => {
    const { probe, calls } = scripted<string>([undefined, new Error('connection refused'), 'ready']);
    await expect(poll(probe, { intervalMs: 1, timeoutMs: 60_000 })).resolves.toBe('ready');
    expect(calls.n).toBe(3);
  });

  it('runs out with the last error kept', async () => {
    const { probe } = scripted<string>([new Error('connection refused'), undefined]);
    const err = await poll(probe, { intervalMs: 5, timeoutMs: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PollTimeout);
    expect((err as PollTimeout).lastError).toBe('connection refused');
  });

  it('ends at once on a fatal error, and on an abort', async () => {
    const fatal = new Error('fatal');
    const a = scripted<string>([fatal]);
    await expect(poll(a.probe, { intervalMs: 1, fatal: (e) => e === fatal })).rejects.toBe(fatal);
    expect(a.calls.n).toBe(1);
    const ac = new AbortController();
    let calls = 0;
    const aborting = async () => {
      if (++calls === 2) ac.abort(); // Ctrl-C while the probe runs
      return undefined;
    };
    await expect(poll(aborting, { intervalMs: 1, signal: ac.signal })).rejects.toThrow(/abort/i);
    expect(calls).toBe(2);
  });

  it('stops when beforePause throws (a check whose own time ran out)', async () => {
    const { probe, calls } = scripted<string>([undefined]);
    const stop = new Error('check timed out');
    const beforePause = () => {
      if (calls.n === 2) throw stop;
    };
    await expect(poll(probe, { intervalMs: 1, beforePause })).rejects.toBe(stop);
    expect(calls.n).toBe(2);
  });
});

describe('cluster readiness with add-ons', () => {
  const nodes: NodeReadiness[] = [{ name: 'm-k8s', ready: true, status: 'Ready', roles: ['control-plane'] }];
  const pod = (namespace: string): PodReadiness => ({ namespace, name: `${namespace}-x`, phase: 'Running', ready: true, done: false });
  const expected = { nodes: ['m-k8s'], cni: 'bridge' as const, addonNamespaces: ['metallb-system'], metallbPool: true };

  it('waits for the add-ons\' pods and for MetalLB\'s pool, and is Ready with both', () => {
    expect(evaluate(nodes, [pod('kube-system')], expected, false).waitingFor).toEqual([
      "MetalLB's address pool (master_node.sh applies it once MetalLB's webhook answers)",
      'the pods of metallb-system',
    ]);
    expect(evaluate(nodes, [pod('kube-system'), pod('metallb-system')], expected, true)).toEqual({ ready: true, waitingFor: [] });
  });
});

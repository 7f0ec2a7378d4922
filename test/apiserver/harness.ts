// The apiserver tier's harness: a throw-away control plane (etcd, kube-apiserver, controller-manager,
// scheduler; no nodes) and a local executor that runs kubectl against it. By default it comes from
// ../shared/testbed (v1.20.2); K8SLAB_CONTROL_PLANE=stack takes bench/stack's (the current Kubernetes, built
// by `npm run stack:build:control-plane`) instead. Both scripts take the same commands and print the same keys.
import { resolve } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { runLessons } from '../../src/lessons/runner.js';
import type { ImageKey } from '../../src/config/images.js';
import type { CheckResult, Executor, Lesson } from '../../src/lessons/types.js';
import { localExecutor } from '../../src/nodes/executors.js';
import { ROOT, TESTBED } from '../testbed.js';

const CONTROL_PLANE =
  process.env.K8SLAB_CONTROL_PLANE === 'stack' ? resolve(ROOT, 'bench/stack/control-plane.sh') : resolve(TESTBED, 'control-plane.sh');

export interface ControlPlane {
  name: string;
  kubeconfig: string;
  /** the directory holding kubectl and the other Kubernetes binaries */
  bin: string;
  executor: Executor;
  down(): Promise<void>;
}

/** `control-plane.sh up --name <unique>`; builds the binaries on first use (slow when cold). */
export async function startControlPlane(label: string): Promise<ControlPlane> {
  const name = `k8slab-${label}-${process.pid}`;
  await execa('bash', [CONTROL_PLANE, 'up', '--name', name], { timeout: 3_000_000 });
  const env = parseEnv((await execa('bash', [CONTROL_PLANE, 'env', '--name', name])).stdout);
  const kubeconfig = env.KUBECONFIG;
  const bin = env.K8SLAB_TESTBED_BIN;
  if (!kubeconfig || !bin) throw new Error(`control-plane.sh env printed no KUBECONFIG/K8SLAB_TESTBED_BIN for ${name}`);
  return {
    name,
    kubeconfig,
    bin,
    executor: localExecutor({ env: { KUBECONFIG: kubeconfig, PATH: `${bin}:${process.env.PATH ?? ''}` } }),
    down: async () => {
      await execa('bash', [CONTROL_PLANE, 'down', '--name', name], { timeout: 120_000, reject: false });
    },
  };
}

function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return out;
}

/**
 * Wraps a real executor: after a command matching `after` runs, the given command lines run too, once.
 * `after` is tested against the command line plus, on the next lines, its stdin (a rendered manifest).
 * Tests use it to break the cluster at the exact step a check depends on.
 */
export function sabotage(inner: Executor, rules: { after: RegExp; run: string[] }[]): Executor & { fired: string[] } {
  const pending = [...rules];
  const fired: string[] = [];
  return {
    name: `${inner.name}+sabotage`,
    fired,
    async run(command, opts) {
      const result = await inner.run(command, opts);
      for (const rule of [...pending]) {
        if (!rule.after.test(`${command}\n${opts?.input ?? ''}`)) continue;
        pending.splice(pending.indexOf(rule), 1);
        for (const line of rule.run) {
          const r = await inner.run(line, { timeoutMs: 60_000 });
          fired.push(`${line} -> ${r.exitCode}`);
          if (r.exitCode !== 0) throw new Error(`sabotage step failed: ${line}: ${r.stderr}`);
        }
      }
      return result;
    },
  };
}

/** The lesson cut down to some of its checks, under another id (so its namespace does not collide). */
export function onlyChecks(lesson: Lesson, id: string, checks: readonly string[]): Lesson {
  return { ...lesson, id, checks: lesson.checks.filter((c) => checks.includes(c.id)) };
}

/** Runs a one-check lesson and returns that check's result. */
export async function runOne(
  lesson: Lesson,
  executor: Executor,
  images: Readonly<Record<ImageKey, string>>,
): Promise<CheckResult> {
  const run = await runLessons({ executor, images, lessons: [lesson], checkTimeoutMs: 120_000 });
  expect(run.results).toHaveLength(1);
  return run.results[0]!;
}

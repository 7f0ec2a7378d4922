// localExecutor: the lesson runner's executor on this machine, through a real `sh -c`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalTimeoutError, localExecutor } from '../../src/nodes/executors.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'k8slab-t-exec-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alive(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', '--', pattern], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('localExecutor', () => {
  it('returns output and a non-zero exit code without throwing', async () => {
    const ex = localExecutor();
    expect(ex.name).toBe('local');
    expect(await ex.run('echo out; echo err >&2; exit 3')).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
  });

  it('feeds stdin and runs in the given folder with the given environment', async () => {
    const ex = localExecutor({ name: 'host', cwd: dir, env: { K8SLAB_T: 'v1' } });
    expect(ex.name).toBe('host');
    const r = await ex.run('pwd; echo "$K8SLAB_T"; cat', { input: 'piped' });
    expect(r).toEqual({ stdout: `${dir}\nv1\npiped`, stderr: '', exitCode: 0 });
  });

  it('does not wait for stdin when none is given', async () => {
    expect((await localExecutor().run('cat; echo done', { timeoutMs: 5_000 })).stdout).toBe('done\n');
  });

  it('reports a command killed by a signal as 128 + signal', async () => {
    expect((await localExecutor().run('kill -TERM $$')).exitCode).toBe(143);
  });

  it('kills a command past its timeout, with what it started, and rejects', async () => {
    const marker = `sleep 30.${process.pid}`;
    const t0 = Date.now();
    const err = await localExecutor().run(`echo started; ${marker}; echo never`, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalTimeoutError);
    expect((err as LocalTimeoutError).stdout).toBe('started\n');
    expect(Date.now() - t0).toBeLessThan(15_000); // far below the 30 s sleep, with margin for a loaded host
    expect(alive(marker)).toBe(false);
  });
});

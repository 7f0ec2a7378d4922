// Runs the k8slab CLI in-process, the way bin/k8slab.js does, and hands back what a user would have seen.
import { vi } from 'vitest';
import { main } from '../src/cli/main.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
  /** stdout and stderr interleaved in the order they were written */
  all: string;
}

export async function runCli(...args: string[]): Promise<CliRun> {
  const r: CliRun = { code: -1, out: '', err: '', all: '' };
  const grab = (key: 'out' | 'err') => (s: string | Uint8Array) => {
    r[key] += String(s);
    r.all += String(s);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(grab('out'));
  vi.spyOn(process.stderr, 'write').mockImplementation(grab('err'));
  try {
    r.code = await main(['node', 'k8slab', ...args]);
    return r;
  } finally {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  }
}

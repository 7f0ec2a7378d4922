// The lab state: secrets made once per lab, and the progress of `up` (its resume points).
// Lives in <labDir>/.k8slab/state.json, mode 0600 because it holds the CA key and the join token.
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSecrets, type LabSecrets } from '../plan/secrets.js';

export const STATE_DIR = '.k8slab';

export interface PhaseRecord {
  status: 'done' | 'failed' | 'running' | 'interrupted';
  startedAt: string;
  finishedAt?: string;
  seconds?: number;
  error?: string;
}

export interface LabState {
  version: 1;
  createdAt: string;
  secrets: LabSecrets;
  /** Phase name -> its last run. A phase that is `done` is skipped by the next `up`. */
  phases: Record<string, PhaseRecord>;
  /** Free-form facts later phases need (e.g. kubelet versions seen), keyed by the phase that wrote them. */
  facts: Record<string, unknown>;
}

export function statePath(labDir: string): string {
  return join(labDir, STATE_DIR, 'state.json');
}

export async function readState(labDir: string): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(labDir), 'utf8')) as LabState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${statePath(labDir)}: ${(err as Error).message}; remove it with \`k8slab down\``);
  }
}

/** Writes atomically (temp file + rename) so an interrupted `up` never leaves half a state file. */
export async function writeState(labDir: string, state: LabState): Promise<void> {
  const file = statePath(labDir);
  await mkdir(join(labDir, STATE_DIR), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/** The existing state, or a new one with fresh secrets (not yet written). */
export async function loadOrCreateState(labDir: string): Promise<{ state: LabState; created: boolean }> {
  const existing = await readState(labDir);
  if (existing) return { state: existing, created: false };
  return {
    state: { version: 1, createdAt: new Date().toISOString(), secrets: await generateSecrets(), phases: {}, facts: {} },
    created: true,
  };
}

export async function removeState(labDir: string): Promise<void> {
  await rm(join(labDir, STATE_DIR), { recursive: true, force: true });
}

// Writes the rendered files into the lab folder. It overwrites only what k8slab wrote itself and is
// unchanged since (recorded in .k8slab/rendered.json), never deletes anything, and checks every target
// before writing the first one, so a refusal leaves the folder exactly as it was.
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Plan } from '../plan/plan.js';
import type { LabSecrets } from '../plan/secrets.js';
import { STATE_DIR } from '../state/lab-state.js';
import { UserError } from '../util/errors.js';
import { renderFiles, type RenderedFile } from './files.js';

export const MANIFEST_FILE = 'rendered.json';

export type WriteStatus = 'created' | 'updated' | 'unchanged';

export interface WrittenFile {
  path: string;
  mode: number;
  status: WriteStatus;
}

export interface RenderLabOptions {
  /** Overwrite files that k8slab did not write, or that were edited since (they are reported). */
  force?: boolean;
}

interface Manifest {
  /** relative path -> sha256 of the content k8slab wrote there */
  files: Record<string, string>;
}

export async function renderLab(
  plan: Plan,
  secrets: LabSecrets,
  labDir: string,
  options: RenderLabOptions = {},
): Promise<WrittenFile[]> {
  const files = renderFiles(plan, secrets);
  const manifest = await readManifest(labDir);
  const plans: { path: string; file: RenderedFile; status: WriteStatus }[] = [];
  const conflicts: string[] = [];
  for (const [path, file] of files) {
    const found = await inspect(join(labDir, path));
    if (found.kind === 'missing') plans.push({ path, file, status: 'created' });
    else if (found.kind === 'other') conflicts.push(`${path} (not a regular file; never overwritten)`);
    else if (found.content === file.content) plans.push({ path, file, status: 'unchanged' });
    else if (manifest.files[path] === sha256(found.content)) plans.push({ path, file, status: 'updated' });
    else if (options.force) plans.push({ path, file, status: 'updated' });
    else conflicts.push(manifest.files[path] ? `${path} (edited since k8slab wrote it)` : `${path} (not written by k8slab)`);
  }
  if (conflicts.length > 0) {
    throw new UserError(
      `${labDir} holds files k8slab would overwrite: ${conflicts.join(', ')}; nothing was written`,
      'usage',
      'move them away, choose another folder with --out, or pass --force to overwrite edited files',
    );
  }
  await mkdir(labDir, { recursive: true });
  for (const { path, file, status } of plans) {
    const target = join(labDir, path);
    await mkdir(dirname(target), { recursive: true, mode: path.startsWith('pki/') ? 0o700 : 0o755 });
    if (status !== 'unchanged') await writeAtomic(target, file.content, file.mode);
    await chmod(target, file.mode); // also repairs a mode changed by hand
    manifest.files[path] = sha256(file.content);
  }
  await writeManifest(labDir, manifest);
  return plans.map(({ path, file, status }) => ({ path, mode: file.mode, status }));
}

type Found = { kind: 'missing' } | { kind: 'other' } | { kind: 'file'; content: string };

async function inspect(path: string): Promise<Found> {
  try {
    const st = await lstat(path);
    if (!st.isFile()) return { kind: 'other' };
    return { kind: 'file', content: await readFile(path, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
}

async function writeAtomic(target: string, content: string, mode: number): Promise<void> {
  const tmp = `${target}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode); // the umask may have taken bits away
  await rename(tmp, target);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function manifestPath(labDir: string): string {
  return join(labDir, STATE_DIR, MANIFEST_FILE);
}

async function readManifest(labDir: string): Promise<Manifest> {
  try {
    const parsed = JSON.parse(await readFile(manifestPath(labDir), 'utf8')) as Partial<Manifest>;
    return { files: typeof parsed.files === 'object' && parsed.files !== null ? { ...parsed.files } : {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: {} };
    throw new UserError(`cannot read ${manifestPath(labDir)}: ${(err as Error).message}`, 'usage', 'remove that file and render again');
  }
}

async function writeManifest(labDir: string, manifest: Manifest): Promise<void> {
  await mkdir(join(labDir, STATE_DIR), { recursive: true, mode: 0o700 });
  const sorted = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => a.localeCompare(b)));
  await writeAtomic(manifestPath(labDir), JSON.stringify({ files: sorted }, null, 2) + '\n', 0o644);
}

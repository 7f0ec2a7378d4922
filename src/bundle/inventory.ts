// Reads a bundle directory into plain data (what is there, what the JSON files say). No judgement here:
// check.ts decides what is missing for a lab.
import { constants } from 'node:fs';
import { access, open, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  LAYOUT,
  OPTIONAL_BINARIES,
  REQUIRED_BINARIES,
  bundleManifestSchema,
  imageIndexSchema,
  type BundleManifest,
  type ImageIndex,
} from './layout.js';
import { parseDebFile, parseRpmFile, type PackageFile } from './debs.js';

export interface BinaryFile {
  name: string;
  size: number;
  executable: boolean;
  /** from the ELF header: amd64, arm64, other, or undefined when not an ELF file */
  arch?: string;
}

export interface ImageFile {
  file: string;
  size: number;
}

export interface BundleInventory {
  dir: string;
  exists: boolean;
  manifest?: BundleManifest;
  manifestError?: string;
  binaries: BinaryFile[];
  imageIndex?: ImageIndex;
  imageIndexError?: string;
  imageFiles: ImageFile[];
  debs: PackageFile[];
  rpms: PackageFile[];
  /** files in cni/ */
  cniPlugins: string[];
  /** files under runtime/, as paths relative to it (e.g. "runc/v1.4.4/runc.amd64") */
  runtime: string[];
  /** YAML files under manifests/, as paths relative to it (e.g. "calico/3.33.1/calico-vxlan.yaml") */
  manifests: string[];
  /** the `image:` references each manifest names */
  manifestImages: Record<string, string[]>;
}

export async function readBundle(dirArg: string): Promise<BundleInventory> {
  const dir = resolve(dirArg);
  const inv: BundleInventory = {
    dir,
    exists: await isDir(dir),
    binaries: [],
    imageFiles: [],
    debs: [],
    rpms: [],
    cniPlugins: [],
    runtime: [],
    manifests: [],
    manifestImages: {},
  };
  if (!inv.exists) return inv;

  const manifest = await readJson(join(dir, LAYOUT.manifest));
  if ('error' in manifest) inv.manifestError = manifest.error;
  else {
    const parsed = bundleManifestSchema.safeParse(manifest.value);
    if (parsed.success) inv.manifest = parsed.data;
    else inv.manifestError = zodSummary(parsed.error.issues);
  }

  for (const name of [...REQUIRED_BINARIES, ...OPTIONAL_BINARIES]) {
    const b = await describeBinary(join(dir, LAYOUT.bin, name), name);
    if (b) inv.binaries.push(b);
  }

  const index = await readJson(join(dir, LAYOUT.imageIndex));
  if ('error' in index) inv.imageIndexError = index.error;
  else {
    const parsed = imageIndexSchema.safeParse(index.value);
    if (parsed.success) inv.imageIndex = parsed.data;
    else inv.imageIndexError = zodSummary(parsed.error.issues);
  }
  for (const file of await list(join(dir, LAYOUT.images))) {
    if (!file.endsWith('.tar')) continue;
    const s = await stat(join(dir, LAYOUT.images, file));
    if (s.isFile()) inv.imageFiles.push({ file, size: s.size });
  }

  inv.debs = (await list(join(dir, LAYOUT.debs))).map(parseDebFile).filter((p) => p !== undefined);
  inv.rpms = (await list(join(dir, LAYOUT.rpms))).map(parseRpmFile).filter((p) => p !== undefined);
  inv.cniPlugins = await list(join(dir, LAYOUT.cni));
  inv.runtime = await listTree(join(dir, LAYOUT.runtime));
  inv.manifests = (await listTree(join(dir, LAYOUT.manifests))).filter((f) => /\.ya?ml$/.test(f));
  for (const m of inv.manifests) {
    inv.manifestImages[m] = manifestImageRefs(await readFile(join(dir, LAYOUT.manifests, m), 'utf8'));
  }
  return inv;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** Files below a directory, as sorted relative paths with "/" (three levels: <addon>/<version>/<file>). */
async function listTree(dir: string, depth = 3): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    if (e.isFile()) out.push(e.name);
    else if (e.isDirectory() && depth > 1) out.push(...(await listTree(join(dir, e.name), depth - 1)).map((f) => `${e.name}/${f}`));
  }
  return out.sort();
}

async function readJson(file: string): Promise<{ value: unknown } | { error: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { error: code === 'ENOENT' ? 'missing' : `cannot be read (${code ?? String(err)})` };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { error: `is not valid JSON: ${(err as Error).message}` };
  }
}

function zodSummary(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(file)'} ${i.message}`).join('; ');
}

async function describeBinary(path: string, name: string): Promise<BinaryFile | undefined> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) return undefined;
    size = s.size;
  } catch {
    return undefined;
  }
  let executable = true;
  try {
    await access(path, constants.X_OK);
  } catch {
    executable = false;
  }
  const arch = await elfArch(path);
  return { name, size, executable, ...(arch === undefined ? {} : { arch }) };
}

/** The machine field of an ELF header (e_machine at offset 18): 62 = x86-64, 183 = AArch64. */
export async function elfArch(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(20);
    const { bytesRead } = await fh.read(buf, 0, 20, 0);
    if (bytesRead < 20 || buf.toString('latin1', 0, 4) !== '\x7fELF') return undefined;
    const machine = buf[5] === 2 ? buf.readUInt16BE(18) : buf.readUInt16LE(18);
    return machine === 62 ? 'amd64' : machine === 183 ? 'arm64' : `elf-machine-${machine}`;
  } finally {
    await fh.close();
  }
}

/** Every `image:` value in a YAML manifest (containers, initContainers), without duplicates. */
export function manifestImageRefs(yamlText: string): string[] {
  const refs = new Set<string>();
  for (const m of yamlText.matchAll(/^\s*(?:-\s+)?image:\s*["']?([^"'\s#]+)["']?\s*(?:#.*)?$/gm)) refs.add(m[1]!);
  return [...refs].sort();
}

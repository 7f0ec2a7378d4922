// images/index.json from the tarballs themselves: the names a docker-archive (manifest.json RepoTags) or an
// OCI archive (index.json ref annotations) carries, their sizes and SHA-256. Also the hash check.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { LAYOUT, type ImageIndex } from './layout.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Image references inside one archive; [] when it names none. Reads only the small JSON member. */
export async function archiveImageRefs(file: string): Promise<{ format: 'docker-archive' | 'oci-archive'; refs: string[] }> {
  const members = (await execa('tar', ['-tf', file])).stdout.split('\n');
  if (members.includes('manifest.json')) {
    const text = (await execa('tar', ['-xOf', file, 'manifest.json'])).stdout;
    const m = JSON.parse(text) as { RepoTags?: string[] | null }[];
    return { format: 'docker-archive', refs: m.flatMap((e) => e.RepoTags ?? []) };
  }
  if (members.includes('index.json')) {
    const text = (await execa('tar', ['-xOf', file, 'index.json'])).stdout;
    const idx = JSON.parse(text) as { manifests?: { annotations?: Record<string, string> }[] };
    const refs = (idx.manifests ?? []).flatMap((d) => {
      const a = d.annotations ?? {};
      const ref = a['io.containerd.image.name'] ?? a['org.opencontainers.image.ref.name'];
      return ref !== undefined && ref.includes('/') ? [ref] : [];
    });
    return { format: 'oci-archive', refs };
  }
  throw new Error(`${file} is neither a docker-archive (manifest.json) nor an OCI archive (index.json)`);
}

/** Builds the index for every images/*.tar. `progress` is told each file as it is read. */
export async function buildImageIndex(bundleDir: string, progress: (file: string) => void = () => {}): Promise<ImageIndex> {
  const dir = join(bundleDir, LAYOUT.images);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.tar')).sort();
  const images: ImageIndex['images'] = [];
  let format: ImageIndex['format'] = 'docker-archive';
  for (const file of files) {
    progress(file);
    const path = join(dir, file);
    const { format: f, refs } = await archiveImageRefs(path);
    if (refs.length === 0) throw new Error(`${LAYOUT.images}/${file} names no image (save it with a tag)`);
    format = f;
    images.push({ file, images: refs, size: (await stat(path)).size, sha256: await sha256File(path) });
  }
  return { format, images };
}

export async function writeImageIndex(bundleDir: string, index: ImageIndex): Promise<string> {
  const target = join(bundleDir, LAYOUT.imageIndex);
  await writeFile(`${target}.tmp`, `${JSON.stringify(index, null, 2)}\n`);
  await rename(`${target}.tmp`, target);
  return target;
}

/** Files whose SHA-256 differs from the index (entries without a hash are not checked). */
export async function hashMismatches(bundleDir: string, index: ImageIndex, progress: (file: string) => void = () => {}): Promise<string[]> {
  const bad: string[] = [];
  for (const e of index.images) {
    if (e.sha256 === undefined) continue;
    progress(e.file);
    try {
      if ((await sha256File(join(bundleDir, LAYOUT.images, e.file))) !== e.sha256) bad.push(e.file);
    } catch {
      // a missing file is reported by the size/presence check
    }
  }
  return bad;
}

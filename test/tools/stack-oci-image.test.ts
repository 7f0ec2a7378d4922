// bench/stack/oci-image.sh for real: a directory becomes one tarball that is both an OCI image layout and a
// docker-archive, byte-identical when packed again (even after the files' mtimes change), with every blob
// stored under its own sha256; a short image name is refused before anything is written.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '../../bench/stack/oci-image.sh');
const REF = 'registry.k8s.io/pause:3.10.2';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const tarEntry = (tar: string, name: string) => execFileSync('tar', ['-xOf', tar, name], { maxBuffer: 1 << 26 });

describe('oci-image.sh', () => {
  let dir: string;
  let rootfs: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-oci-'));
    rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await writeFile(join(rootfs, 'pause'), '#!/bin/sh\nexec sleep infinity\n', { mode: 0o755 });
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pack = (out: string, ...extra: string[]) =>
    spawnSync('bash', [SCRIPT, rootfs, out, ...extra], { encoding: 'utf8', env: { ...process.env, K8SLAB_STACK_CACHE: dir } });

  it('packs the same bytes twice, even after the files were touched', async () => {
    const a = join(dir, 'a.tar');
    const b = join(dir, 'b.tar');
    expect(pack(a, REF, '--entrypoint', '["/pause"]').status).toBe(0);
    await utimes(join(rootfs, 'pause'), new Date(), new Date());
    expect(pack(b, REF, '--entrypoint', '["/pause"]').status).toBe(0);
    expect(sha256(await readFile(a))).toBe(sha256(await readFile(b)));
  });

  it('is an OCI layout and a docker-archive naming the same blobs, each under its own digest', () => {
    const tar = join(dir, 'c.tar');
    expect(pack(tar, REF, '--entrypoint', '["/pause"]').status).toBe(0);
    const index = JSON.parse(tarEntry(tar, 'index.json').toString());
    const [entry] = index.manifests;
    expect(entry.annotations['io.containerd.image.name']).toBe(REF);
    expect(entry.annotations['org.opencontainers.image.ref.name']).toBe('3.10.2');
    const manifestBlob = tarEntry(tar, `blobs/sha256/${entry.digest.slice(7)}`);
    expect(sha256(manifestBlob)).toBe(entry.digest.slice(7));
    const manifest = JSON.parse(manifestBlob.toString());
    const [docker] = JSON.parse(tarEntry(tar, 'manifest.json').toString());
    expect(docker.RepoTags).toEqual([REF]);
    expect(docker.Config).toBe(`blobs/sha256/${manifest.config.digest.slice(7)}`);
    expect(docker.Layers).toEqual([`blobs/sha256/${manifest.layers[0].digest.slice(7)}`]);
    const config = JSON.parse(tarEntry(tar, docker.Config).toString());
    const layer = tarEntry(tar, docker.Layers[0]);
    expect(`sha256:${sha256(layer)}`).toBe(config.rootfs.diff_ids[0]);
    expect(config.config.Entrypoint).toEqual(['/pause']);
    expect(JSON.parse(tarEntry(tar, 'oci-layout').toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    // the layer holds the rootfs with owner 0 and mtime 0
    const listing = execFileSync('tar', ['-tvf', '-'], { input: layer, encoding: 'utf8' });
    expect(listing).toMatch(/-rwxr-xr-x 0\/0 .* 1970-01-01 00:00 \.\/pause/);
  });

  // images.sh packs a mktemp -d directory (mode 0700): as the layer's "./" that would leave a non-root user
  // (MetalLB's controller runs as 65534, pause as 65535) unable to reach any file of the image.
  it("gives the image's / mode 0755 whatever the directory's mode was", async () => {
    await chmod(rootfs, 0o700);
    const tar = join(dir, 'd.tar');
    expect(pack(tar, REF).status).toBe(0);
    const [docker] = JSON.parse(tarEntry(tar, 'manifest.json').toString());
    const listing = execFileSync('tar', ['-tvf', '-'], { input: tarEntry(tar, docker.Layers[0]), encoding: 'utf8' });
    expect(listing.split('\n')[0]).toMatch(/^drwxr-xr-x 0\/0 .* \.\/$/);
  });

  it('refuses a short image name, saying what a full one looks like, and writes nothing', () => {
    const out = join(dir, 'bad.tar');
    const r = pack(out, 'pause:3.10.2');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("NAME:TAG 'pause:3.10.2' must be a full reference such as registry.k8s.io/pause:3.10.2");
    expect(existsSync(out)).toBe(false);
  });
});

// provision/cgroup.sh: which machines need kubelet's cgroup v1 opt-in (Kubernetes 1.35 on), decided from
// the real file system type under a cgroup root: a cgroup2 mount (this host's, or one mounted here) and a
// plain folder, which reads as what a v1 tmpfs root does (not cgroup2fs).
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROVISION_DIR } from '../../src/paths.js';

const piece = join(PROVISION_DIR, 'cgroup.sh');
const needs = async (minor: number, root: string) =>
  (await execa('bash', ['-c', `. "$1"; kubelet_needs_cgroup_v1_opt_in "$2" "$3"`, 'x', piece, String(minor), root], { reject: false })).exitCode === 0;

describe('kubelet_needs_cgroup_v1_opt_in', () => {
  let dir: string;
  let unified: string | undefined;
  let mounted = false;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-cgroup-'));
    unified = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2')?.[1];
    if (unified === undefined && process.getuid?.() === 0) {
      unified = join(dir, 'unified');
      await execa('mkdir', [unified]);
      mounted = (await execa('mount', ['-t', 'cgroup2', 'none', unified], { reject: false })).exitCode === 0;
      if (!mounted) unified = undefined;
    }
  });
  afterAll(async () => {
    if (mounted) await execa('umount', [join(dir, 'unified')], { reject: false });
    await rm(dir, { recursive: true, force: true });
  });

  test('a cgroup v1 root: kubelet 1.35 and later need the opt-in, 1.34 and earlier do not', async () => {
    expect(await needs(35, dir)).toBe(true);
    expect(await needs(37, dir)).toBe(true);
    expect(await needs(34, dir)).toBe(false);
    expect(await needs(20, dir)).toBe(false);
  });

  test('a cgroup v2 root never needs it', async (ctx) => {
    if (unified === undefined) ctx.skip('no cgroup2 mount here and none can be made (not root)');
    expect((await execa('stat', ['-fc', '%T', `${unified}/`])).stdout).toBe('cgroup2fs');
    expect(await needs(37, unified!)).toBe(false);
  });
});

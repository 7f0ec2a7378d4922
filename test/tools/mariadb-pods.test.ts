// The mysql lesson's MariaDB StatefulSet run for real, without Kubernetes: bench/stack/mariadb-pods.sh starts
// the manifest's own scripts as netns+chroot "pods" from the stand-in image (bench/stack/images.sh mariadb)
// and plays the lesson's checks with the mariadb client. Then a sabotage: the same manifests with root keeping
// READ_ONLY ADMIN, where a replica takes root's write and the run must fail on exactly that.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFESTS_DIR } from '../../src/paths.js';

const SCRIPT = resolve(import.meta.dirname, '../../bench/stack/mariadb-pods.sh');
const IMAGE = join(process.env.K8SLAB_STACK_CACHE ?? '/var/cache/k8slab-stack', 'images', 'mariadb.tar');
const usable = existsSync(IMAGE) && process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0;

const pods = (env: Record<string, string> = {}) =>
  spawnSync('bash', [SCRIPT, IMAGE], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });

// Needs root and the stand-in image (bench/stack/images.sh mariadb, from Debian's packages).
describe.skipIf(!usable)('the MariaDB StatefulSet as netns pods (stand-in image)', () => {
  it('mysql-0 takes writes; mysql-1 and mysql-2 clone, replicate by GTID, refuse root\'s writes and follow a DROP', () => {
    const res = pods();
    expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
    const steps = res.stdout.split('\n').filter((l) => l.startsWith('ok '));
    expect(steps.map((l) => l.replace(/ \(.*\)$/, '').replace(/: ERROR.*/, ''))).toEqual([
      'ok mysql-0 ready',
      "ok mysql-0 (primary) took a write as root@'%'",
      'ok mysql-1 ready',
      'ok mysql-1 cloned mysql-0 and replicates',
      "ok mysql-1 refused root's write",
      'ok mysql-2 ready',
      'ok mysql-2 cloned mysql-1 and follows mysql-0',
      'ok DROP DATABASE on mysql-0 reached mysql-1 and mysql-2',
    ]);
    expect(res.stdout).toMatch(/mysql-1 refused root's write: ERROR 1290 \(HY000\).*--read-only option/);
    expect(res.stdout).toMatch(/ok mysql-1 ready \(10\.11\.\d+-MariaDB\S* 101 1\)/);
  }, 300_000);

  it('fails when root keeps READ_ONLY ADMIN: the replica takes the write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'k8slab-mariadb-sabotage-'));
    try {
      await cp(join(MANIFESTS_DIR, 'mysql'), dir, { recursive: true });
      const cm = join(dir, 'mariadb-configmap.yaml');
      const text = await readFile(cm, 'utf8');
      expect(text).toContain('    REVOKE READ_ONLY ADMIN');
      await writeFile(cm, text.replace(/^ {4}REVOKE READ_ONLY ADMIN.*\n/m, ''));
      const res = pods({ K8SLAB_MARIADB_MANIFESTS: dir });
      expect(res.status).toBe(1);
      expect(res.stdout).toMatch(/^FAIL mysql-1 accepted root's write$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

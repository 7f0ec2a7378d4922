// A provider: machines lab through the CLI: snapshot and reset say that machines have no snapshots
// (exit 2) and touch nothing.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli-run.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'k8slab-machines-cli-'));
  await writeFile(join(dir, 'id_lab'), 'not a real key: no command here reaches a machine');
  await writeFile(
    join(dir, 'lab.yaml'),
    'name: on-machines\nprovider: machines\nworkers:\n  count: 0\nmachines:\n  ssh:\n    keyFile: ./id_lab\n  controlPlane:\n    address: 192.0.2.10\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a machines lab', () => {
  for (const args of [['snapshot', 'save'], ['snapshot', 'list'], ['reset']]) {
    it(`k8slab ${args.join(' ')}: machines have no snapshots (exit 2)`, async () => {
      const r = await runCli(...args, '-c', join(dir, 'lab.yaml'));
      expect(r.code).toBe(2);
      expect(r.all).toContain('machines have no snapshots (provider machines)');
      expect(existsSync(join(dir, 'lab'))).toBe(false);
    });
  }
});

// Commands that act on a lab's VMs, run before the lab was ever brought up: each says so and how to fix it
// (run `k8slab up`), exits 1, and creates nothing in the lab folder.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli-run.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'k8slab-no-vms-'));
  await writeFile(join(dir, 'lab.yaml'), 'name: never-up\nprovider: libvirt\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('on a lab that was never brought up', () => {
  for (const args of [['snapshot', 'save'], ['snapshot', 'list'], ['reset'], ['ssh', 'm-k8s']]) {
    it(`k8slab ${args.join(' ')} says there are no VMs yet and to run k8slab up`, async () => {
      const r = await runCli(...args, '-c', join(dir, 'lab.yaml'));
      expect(r.code).toBe(1);
      expect(r.all).toContain('lab never-up has no VMs yet');
      expect(r.all).toContain('run `k8slab up` first');
      expect(existsSync(join(dir, 'lab'))).toBe(false);
    });
  }
});

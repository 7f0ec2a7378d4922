// `k8slab init`: writes the commented defaults, refuses to overwrite without --force.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli-run.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { TEMPLATES_DIR } from '../../src/paths.js';

describe('k8slab init', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-init-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a commented lab.yaml that loads to the defaults', async () => {
    const file = join(dir, 'lab.yaml');
    const r = await runCli('init', '--config', file);
    expect(r.code).toBe(EXIT.ok);
    expect(r.all).toContain(`wrote ${file}`);
    const text = await readFile(file, 'utf8');
    expect(text).toBe(await readFile(resolve(TEMPLATES_DIR, 'lab.yaml'), 'utf8'));
    expect(text).toMatch(/^# /m);
    expect(await loadConfigFile(file)).toEqual(parseConfig(''));
  });

  it('refuses to overwrite an existing file and leaves it alone', async () => {
    const file = join(dir, 'lab.yaml');
    await writeFile(file, 'workers:\n  count: 1\n');
    const r = await runCli('init', '--config', file);
    expect(r.code).toBe(EXIT.usage);
    expect(r.all).toMatch(/exists already[\s\S]*--force/);
    expect(await readFile(file, 'utf8')).toBe('workers:\n  count: 1\n');
  });

  it('overwrites with --force', async () => {
    const file = join(dir, 'lab.yaml');
    await writeFile(file, 'workers:\n  count: 1\n');
    expect((await runCli('init', '--config', file, '--force')).code).toBe(EXIT.ok);
    expect((await loadConfigFile(file)).workers.count).toBe(3);
  });
});

// Good lab.yaml input: the defaults are the course topology, and `k8slab init`'s file is exactly the defaults.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { nodeAddresses } from '../../src/config/cross-check.js';
import { labSchema } from '../../src/config/schema.js';
import { allowedKeysAt } from '../../src/config/load.js';
import { PACKAGE_ROOT, TEMPLATES_DIR } from '../../src/paths.js';
import { main } from '../../src/cli/main.js';
import { EXIT } from '../../src/cli/exit-codes.js';

describe('lab.yaml: defaults', () => {
  it('an empty file gives the course topology', () => {
    const c = parseConfig('');
    expect(c.controlPlane).toEqual({ name: 'm-k8s', cpus: 2, memory: 3072, sshPort: 60010 });
    expect(c.workers).toEqual({ count: 3, cpus: 1, memory: 2560, sshPortBase: 60100 });
    expect(c.network).toEqual({ private: '192.168.56.0/24', podCidr: '172.16.0.0/16', serviceCidr: '10.96.0.0/12' });
    expect(c.provider).toBe('virtualbox');
    expect(nodeAddresses(c).map((n) => [n.name, n.ip])).toEqual([
      ['m-k8s', '192.168.56.10'],
      ['w1-k8s', '192.168.56.101'],
      ['w2-k8s', '192.168.56.102'],
      ['w3-k8s', '192.168.56.103'],
    ]);
  });

  it('an empty file, a comment-only file and {} are the same config', () => {
    expect(parseConfig('# nothing here\n')).toEqual(parseConfig(''));
    expect(parseConfig('{}')).toEqual(parseConfig(''));
  });

  it('templates/lab.yaml (what `k8slab init` writes) holds exactly the schema defaults', async () => {
    const text = await readFile(resolve(TEMPLATES_DIR, 'lab.yaml'), 'utf8');
    expect(parseConfig(text)).toEqual(labSchema.parse({}));
    expect(parseConfig(text)).toEqual(parseConfig(''));
  });

  it("accepts the course's 192.168.1.0/24 (doctor warns about it on VirtualBox)", () => {
    const c = parseConfig('network:\n  private: 192.168.1.0/24');
    expect(nodeAddresses(c).map((n) => n.ip)).toEqual(['192.168.1.10', '192.168.1.101', '192.168.1.102', '192.168.1.103']);
  });

  it('accepts a full custom lab', () => {
    const c = parseConfig(`
name: lab2
provider: libvirt
controlPlane: { cpus: 4, memory: 4096 }
workers: { count: 2, memory: 1024 }
network: { private: 10.10.0.0/24, controlPlaneIp: 10.10.0.5, firstWorkerIp: 10.10.0.20 }
kubernetes: { version: "1.20.2", source: bundle, bundle: ./bundle, cni: bridge }
addons:
  metallb: { enabled: true, range: 10.10.0.200-10.10.0.220 }
  storage: { provider: nfs }
libvirt: { driver: qemu, cpuMode: maximum }
images: { nginx: mirror.local/nginx:1.27 }
`);
    expect(nodeAddresses(c).map((n) => n.ip)).toEqual(['10.10.0.5', '10.10.0.20', '10.10.0.21']);
    expect(c.kubernetes).toEqual({ version: '1.20.2', source: 'bundle', bundle: './bundle', cni: 'bridge' });
    expect(c.images).toEqual({ nginx: 'mirror.local/nginx:1.27' });
  });

  it('worker count 0 and 9 are both fine', () => {
    expect(nodeAddresses(parseConfig('workers:\n  count: 0'))).toHaveLength(1);
    expect(nodeAddresses(parseConfig('workers:\n  count: 9'))).toHaveLength(10);
  });
});

describe('a bad lab.yaml changes nothing', () => {
  let dir: string;
  let stderr: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-cfg-'));
    stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('loadConfigFile throws and leaves the file and its folder as they were', async () => {
    const file = join(dir, 'lab.yaml');
    await writeFile(file, 'workers:\n  count: 10\n');
    const before = await stat(file);
    await expect(loadConfigFile(file)).rejects.toThrow(ConfigError);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
    expect(await readFile(file, 'utf8')).toBe('workers:\n  count: 10\n');
  });

  it('a missing file says how to get one', async () => {
    await expect(loadConfigFile(join(dir, 'nope.yaml'))).rejects.toThrow(/ENOENT.*k8slab init/);
  });

  it('`k8slab render` with a bad lab.yaml exits 2, names the field and creates no lab folder', async () => {
    const file = join(dir, 'lab.yaml');
    await writeFile(file, 'workers:\n  count: 10\n');
    const code = await main(['node', 'k8slab', 'render', '--config', file]);
    expect(stderr).toContain('workers.count (found 10): must be at most 9 workers');
    expect(code).toBe(EXIT.usage);
    await expect(stat(join(dir, 'lab'))).rejects.toThrow(/ENOENT/);
  });
});

describe('README "Configuration" table', () => {
  /** Every settable field, found by walking the schema (records such as images.<key> end the walk). */
  function fieldPaths(prefix: string[] = []): string[] {
    return allowedKeysAt(prefix).flatMap((k) => {
      const sub = [...prefix, k];
      return allowedKeysAt(sub).length > 0 ? fieldPaths(sub) : [sub.join('.')];
    });
  }

  it('lists every schema field, and each literal default is the schema default', async () => {
    const readme = await readFile(resolve(PACKAGE_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
    const rows = [...section.matchAll(/^\| `([\w.<>]+)` \| (.*?) \|/gm)].map((m) => ({ field: m[1]!, def: m[2]! }));
    const documented = rows.map((r) => r.field.replace('.<key>', ''));
    expect(documented.sort()).toEqual(fieldPaths().sort());

    const defaults = labSchema.parse({}) as Record<string, unknown>;
    const at = (path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], defaults);
    let checked = 0;
    for (const { field, def } of rows) {
      const literal = /^`"?([^`"]+)"?`$/.exec(def)?.[1];
      if (literal === undefined) continue; // "(none)", "the .10 of ...": described, not literal
      expect(String(at(field)), field).toBe(literal);
      checked++;
    }
    expect(checked).toBeGreaterThan(25);
  });
});

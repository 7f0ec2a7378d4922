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
import { metallbRange } from '../../src/config/cross-check.js';
import { CALICO_SUPPORT, DEFAULT_VERSIONS, KUBERNETES_EOL, minorOf, parseK8sVersion } from '../../src/config/versions.js';
import { makePlan } from '../../src/plan/plan.js';
import { addonNeeds } from '../../src/bundle/addons.js';
import { makeView } from '../../src/render/view.js';
import { FIXTURE_SECRETS } from '../fixtures/render/variants.js';

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

  it('the mysql lesson runs MariaDB unless lab.yaml says mysql; each flavor takes its own image overrides', () => {
    expect(parseConfig('').lessons).toEqual({ mysql: { flavor: 'mariadb' } });
    const mysql = parseConfig('lessons:\n  mysql:\n    flavor: mysql\nimages:\n  mysql: mirror.local/mysql:5.7\n  xtrabackup: mirror.local/xtrabackup:1.0\n');
    expect(mysql.lessons.mysql.flavor).toBe('mysql');
    expect(mysql.images).toEqual({ mysql: 'mirror.local/mysql:5.7', xtrabackup: 'mirror.local/xtrabackup:1.0' });
    expect(parseConfig('images:\n  mariadb: docker.io/library/mariadb:10.11.19\n').images).toEqual({ mariadb: 'docker.io/library/mariadb:10.11.19' });
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
  ingress: { enabled: false }
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

describe('lab.yaml: current, supported defaults', () => {
  it('the default Kubernetes is the newest minor a known Calico supports, and the default Calico supports it', () => {
    const c = parseConfig('');
    const minor = parseK8sVersion(c.kubernetes.version)!.minor;
    expect(minor).toBe(Math.max(...Object.values(CALICO_SUPPORT).map(([, hi]) => hi)));
    expect(minor).toBe(37);
    const [lo, hi] = CALICO_SUPPORT[minorOf(c.calico.version)]!;
    expect(minor).toBeGreaterThanOrEqual(lo);
    expect(minor).toBeLessThanOrEqual(hi);
    // not past its end of life on the day these defaults were chosen
    expect(KUBERNETES_EOL[minor]! > '2026-11-30').toBe(true);
  });

  it('current containerd LTS, runc, add-ons; MetalLB and NFS storage on, so every lesson runs', () => {
    const c = parseConfig('');
    expect(c.containerd).toEqual({ version: '2.3.7', runcVersion: '1.4.4' });
    expect(c.calico.version).toBe('3.33.1');
    expect(c.addons.metallb).toEqual({ enabled: true, version: '0.16.2' });
    expect(metallbRange(c)).toEqual({ text: '192.168.56.200-192.168.56.220', derived: true });
    expect(c.addons.storage).toEqual({ provider: 'nfs', localPathVersion: '0.0.37', nfsProvisionerVersion: '4.0.18' });
  });

  // bench/stack builds these two (the module proxy serves neither 0.16.2's frr-k8s nor local-path 0.0.37): a lab
  // asking for them is valid and fetches (or bundles) exactly the files the stack took from their modules.
  it('the add-on versions bench/stack builds (MetalLB 0.15.2, local-path 0.0.30) are accepted, with their manifest URLs and bundle paths', () => {
    const c = parseConfig('addons:\n  metallb:\n    version: 0.15.2\n  storage:\n    provider: local-path\n    localPathVersion: 0.0.30');
    expect(addonNeeds(c).filter((n) => n.key !== 'calico').flatMap((n) => n.files)).toEqual([
      { path: 'metallb/0.15.2/metallb-native.yaml', url: 'https://raw.githubusercontent.com/metallb/metallb/v0.15.2/config/manifests/metallb-native.yaml' },
      { path: 'local-path/0.0.30/local-path-storage.yaml', url: 'https://raw.githubusercontent.com/rancher/local-path-provisioner/v0.0.30/deploy/local-path-storage.yaml' },
    ]);
  });

  it('the default MetalLB range follows network.private; a written range wins', () => {
    expect(metallbRange(parseConfig('network:\n  private: 10.20.0.0/24'))).toEqual({ text: '10.20.0.200-10.20.0.220', derived: true });
    expect(metallbRange(parseConfig('addons:\n  metallb:\n    range: 192.168.56.240/29'))).toEqual({ text: '192.168.56.240/29', derived: false });
    // off means no range is needed, even where the default would not fit
    expect(() => parseConfig('network:\n  private: 192.168.56.0/25\n  firstWorkerIp: 192.168.56.20\naddons:\n  metallb:\n    enabled: false')).not.toThrow();
  });

  it('containerd.runcVersion reaches the rendered scripts (it used to be fixed in the renderer)', () => {
    const view = makeView(makePlan(parseConfig('containerd:\n  runcVersion: 1.4.3'), FIXTURE_SECRETS));
    expect(view.runc.version).toBe('1.4.3');
    expect(view.runc.binary).toContain('/v1.4.3/runc.ARCH');
    expect(makeView(makePlan(parseConfig(''), FIXTURE_SECRETS)).runc.version).toBe(DEFAULT_VERSIONS.runc);
  });

  it('a Kubernetes newer than every Calico row, or a Calico newer than the table, is accepted (doctor warns)', () => {
    expect(parseConfig('kubernetes:\n  version: "1.38"').kubernetes.version).toBe('1.38');
    expect(parseConfig('calico:\n  version: 3.34.0').calico.version).toBe('3.34.0');
    expect(parseConfig('kubernetes:\n  version: "1.38.1"\ncalico:\n  version: 3.35.2').calico.version).toBe('3.35.2');
  });

  it('containerd 1.7 serves Kubernetes 1.24-1.29; a bundle brings its own runtime', () => {
    expect(parseConfig('kubernetes:\n  version: "1.29"\ncalico:\n  version: 3.29.6\ncontainerd:\n  version: 1.7.35\n  runcVersion: 1.3.7').containerd.version).toBe('1.7.35');
    expect(parseConfig('kubernetes: { version: "1.20.2", source: bundle, bundle: ./b, cni: bridge }\naddons: { ingress: { enabled: false } }').containerd.version).toBe('2.3.7');
  });

  it('the default box is pinned to a release with VirtualBox and libvirt builds; other boxes are not', () => {
    const pin = (yaml: string) => makePlan(parseConfig(yaml), FIXTURE_SECRETS).boxVersion;
    expect(pin('')).toBe('202404.26.0');
    expect(pin('provider: libvirt')).toBe('202404.26.0');
    expect(pin('provider: libvirt\nbox:\n  libvirt: k8slab/debian12')).toBeUndefined();
    expect(pin('box:\n  version: ">= 202502.21.0"')).toBe('>= 202502.21.0');
    expect(makeView(makePlan(parseConfig('provider: libvirt\nbox:\n  libvirt: k8slab/debian12'), FIXTURE_SECRETS)).boxVersion).toBe('');
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

describe('README: the version tables match the code', () => {
  const section = async (title: string) => {
    const readme = await readFile(resolve(PACKAGE_ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf(title);
    expect(start, title).toBeGreaterThan(-1);
    return readme.slice(start, readme.indexOf('\n\n', readme.indexOf('|', start)));
  };

  it('the Calico table lists exactly CALICO_SUPPORT', async () => {
    const rows = [...(await section('| Calico | Kubernetes |')).matchAll(/^\| (3\.\d+) \| 1\.(\d+)-1\.(\d+) \|/gm)];
    expect(Object.fromEntries(rows.map((m) => [m[1], [Number(m[2]), Number(m[3])]]))).toEqual(CALICO_SUPPORT);
  });

  it('the end-of-life table lists exactly KUBERNETES_EOL', async () => {
    const rows = [...(await section('| Kubernetes | end of life |')).matchAll(/^\| 1\.(\d+) \| (\d{4}-\d\d-\d\d) \|/gm)];
    expect(Object.fromEntries(rows.map((m) => [Number(m[1]), m[2]]))).toEqual(KUBERNETES_EOL);
  });
});

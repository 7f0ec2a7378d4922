// renderLab and `k8slab render` on disk: what they write, what they refuse to overwrite, and that a bad
// lab.yaml or a refusal leaves the folder exactly as it was.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../cli-run.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { generateSecrets, type LabSecrets } from '../../src/plan/secrets.js';
import { renderLab } from '../../src/render/index.js';
import { readState } from '../../src/state/lab-state.js';
import { UserError } from '../../src/util/errors.js';
import { VARIANTS, planFor } from '../fixtures/render/variants.js';

let root: string;
let secrets: LabSecrets;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'k8slab-render-write-'));
  secrets = await generateSecrets();
});
afterAll(async () => rm(root, { recursive: true, force: true }));

/** Every file under dir (relative path -> content), to compare a folder before and after. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (sub: string) => {
    for (const e of await readdir(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(rel);
      else out[rel] = e.isFile() ? await readFile(join(dir, rel), 'utf8') : '<link>';
    }
  };
  await walk('');
  return out;
}

const plan = () => planFor(VARIANTS['default']!, secrets.token, secrets.caCert);

describe('renderLab', () => {
  test('writes the seven files, then reports them unchanged; files of others in the folder are kept', async () => {
    const dir = join(root, 'fresh');
    await mkdir(join(dir, '.vagrant'), { recursive: true });
    await writeFile(join(dir, 'notes.txt'), 'mine\n');
    await writeFile(join(dir, '.vagrant', 'machine'), 'state\n');
    const first = await renderLab(plan(), secrets, dir);
    expect(first.map((f) => [f.path, f.status])).toEqual([
      ['Vagrantfile', 'created'],
      ['config.sh', 'created'],
      ['install_pkg.sh', 'created'],
      ['master_node.sh', 'created'],
      ['work_nodes.sh', 'created'],
      ['pki/ca.crt', 'created'],
      ['pki/ca.key', 'created'],
    ]);
    const second = await renderLab(plan(), secrets, dir);
    expect(second.every((f) => f.status === 'unchanged')).toBe(true);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(await readFile(join(dir, '.vagrant', 'machine'), 'utf8')).toBe('state\n');
  });

  test('a new plan updates the files k8slab wrote', async () => {
    const dir = join(root, 'update');
    await renderLab(plan(), secrets, dir);
    const two = planFor({ workers: { count: 2 } }, secrets.token, secrets.caCert);
    const result = await renderLab(two, secrets, dir);
    expect(result.find((f) => f.path === 'Vagrantfile')!.status).toBe('updated');
    expect(await readFile(join(dir, 'Vagrantfile'), 'utf8')).toContain('N = 2 ');
  });

  test('refuses to overwrite a file it did not write or that was edited; nothing is written; --force overwrites', async () => {
    const dir = join(root, 'foreign');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Vagrantfile'), '# my own Vagrantfile\n');
    const before = await snapshot(dir);
    const refused = renderLab(plan(), secrets, dir);
    await expect(refused).rejects.toThrow(UserError);
    await expect(refused).rejects.toThrow(/Vagrantfile \(not written by k8slab\).*nothing was written/);
    expect(await snapshot(dir)).toEqual(before);

    await renderLab(plan(), secrets, dir, { force: true });
    expect(await readFile(join(dir, 'Vagrantfile'), 'utf8')).toContain('Vagrant.configure("2")');

    await writeFile(join(dir, 'config.sh'), '# edited\n');
    const edited = await snapshot(dir);
    await expect(renderLab(plan(), secrets, dir)).rejects.toThrow(/config\.sh \(edited since k8slab wrote it\)/);
    expect(await snapshot(dir)).toEqual(edited);
  });

  test('never writes through a symlink, even with force', async () => {
    const dir = join(root, 'link');
    await mkdir(dir, { recursive: true });
    const outside = join(root, 'outside.txt');
    await writeFile(outside, 'untouched\n');
    await symlink(outside, join(dir, 'config.sh'));
    await expect(renderLab(plan(), secrets, dir, { force: true })).rejects.toThrow(/config\.sh \(not a regular file/);
    expect(await readFile(outside, 'utf8')).toBe('untouched\n');
  });
});

describe('k8slab render', () => {
  test('makes the lab secrets once, keeps them, and renders with them', async () => {
    const dir = join(root, 'cli');
    await mkdir(dir, { recursive: true });
    const config = join(dir, 'lab.yaml');
    await writeFile(config, 'workers:\n  count: 1\n');
    const first = await runCli('render', '-c', config);
    expect(first.code, first.err).toBe(EXIT.ok);
    expect(first.out).toContain('created   0600  pki/ca.key');
    expect(first.out).toContain('new lab token and cluster CA made');
    const state = await readState(join(dir, 'lab'));
    expect(state).toBeDefined();
    const worker = await readFile(join(dir, 'lab', 'work_nodes.sh'), 'utf8');
    expect(worker).toContain(`JOIN_TOKEN=${state!.secrets.token}\n`);
    expect(await readFile(join(dir, 'lab', 'pki', 'ca.key'), 'utf8')).toBe(state!.secrets.caKey);

    const second = await runCli('render', '-c', config);
    expect(second.code).toBe(EXIT.ok);
    expect(second.out).toContain('reused from .k8slab/state.json');
    expect(second.out).not.toMatch(/created|updated/);
    expect((await readState(join(dir, 'lab')))!.secrets).toEqual(state!.secrets);
  });

  test('--out picks the folder', async () => {
    const dir = join(root, 'cli-out');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'lab.yaml'), '{}\n');
    const r = await runCli('render', '-c', join(dir, 'lab.yaml'), '--out', join(dir, 'elsewhere'));
    expect(r.code, r.err).toBe(EXIT.ok);
    expect(await readdir(join(dir, 'elsewhere'))).toContain('Vagrantfile');
    expect(await readdir(dir)).not.toContain('lab');
  });

  test('a bad lab.yaml: exit 2, the problem named, nothing written', async () => {
    const dir = join(root, 'cli-bad');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'lab.yaml'), 'workers:\n  count: 12\n');
    const r = await runCli('render', '-c', join(dir, 'lab.yaml'));
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('workers.count');
    expect(await readdir(dir)).toEqual(['lab.yaml']);
  });

  test('a bundle path written relative to lab.yaml reaches the Vagrantfile as an absolute path', async () => {
    const dir = join(root, 'cli-bundle');
    await mkdir(join(dir, 'bundle'), { recursive: true });
    await writeFile(
      join(dir, 'lab.yaml'),
      'provider: libvirt\nkubernetes: { version: "1.20.2", source: bundle, bundle: ./bundle, cni: bridge }\naddons: { ingress: { enabled: false } }\n',
    );
    const r = await runCli('render', '-c', join(dir, 'lab.yaml'));
    expect(r.code, r.err).toBe(EXIT.ok);
    const vf = await readFile(join(dir, 'lab', 'Vagrantfile'), 'utf8');
    expect(vf).toContain(`'${join(dir, 'bundle')}'`);
    expect(vf).not.toContain("'./bundle'");
  });

  test('a folder with foreign files: exit 2, nothing written, not even the lab state', async () => {
    const dir = join(root, 'cli-foreign');
    await mkdir(join(dir, 'lab'), { recursive: true });
    await writeFile(join(dir, 'lab.yaml'), '{}\n');
    await writeFile(join(dir, 'lab', 'master_node.sh'), 'echo mine\n');
    const r = await runCli('render', '-c', join(dir, 'lab.yaml'));
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('master_node.sh (not written by k8slab)');
    expect(await snapshot(join(dir, 'lab'))).toEqual({ 'master_node.sh': 'echo mine\n' });
  });
});

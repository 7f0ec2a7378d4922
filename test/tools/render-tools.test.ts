// Real tools on every generated variant: ruby -c, vagrant validate (Debian's vagrant; vagrant-libvirt for
// libvirt labs), bash -n and shellcheck with zero findings on all four scripts and on provision/*.sh.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROVISION_DIR } from '../../src/paths.js';
import { generateSecrets, type LabSecrets } from '../../src/plan/secrets.js';
import { renderLab, SCRIPTS } from '../../src/render/index.js';
import { VARIANTS, planFor } from '../fixtures/render/variants.js';

let root: string;
let vagrantHome: string;
let secrets: LabSecrets;
const labDirs = new Map<string, string>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'k8slab-render-tools-'));
  vagrantHome = join(root, 'vagrant.d'); // keeps vagrant's own state out of the user's ~/.vagrant.d
  secrets = await generateSecrets(); // a real key, made here and thrown away with the temp folder
  for (const [name, input] of Object.entries(VARIANTS)) {
    const dir = join(root, name);
    const plan = planFor(input, secrets.token, secrets.caCert);
    await renderLab(plan, secrets, dir);
    // A bundle lab syncs its bundle folder into the VMs, and vagrant checks that the folder exists.
    if (plan.kubernetes.bundle !== undefined) await mkdir(join(dir, plan.kubernetes.bundle), { recursive: true });
    labDirs.set(name, dir);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const vagrantEnv = () => ({ VAGRANT_HOME: vagrantHome, VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_NO_COLOR: '1' });

/**
 * `vagrant validate`: virtualbox labs with --ignore-provider (VirtualBox cannot exist here); libvirt labs
 * with the vagrant-libvirt plugin, which checks the libvirt block too. Validation only loads the plugin's
 * config classes: it opens no connection to libvirtd (checked with strace), so no libvirt lock is needed.
 */
async function validate(dir: string, provider: string) {
  const args = provider === 'libvirt' ? ['validate'] : ['validate', '--ignore-provider'];
  return execa('vagrant', args, {
    cwd: dir,
    reject: false,
    env: { ...vagrantEnv(), VAGRANT_DEFAULT_PROVIDER: provider },
  });
}

describe.each(Object.keys(VARIANTS))('variant %s', (name) => {
  const dir = () => labDirs.get(name)!;
  const provider = () => (VARIANTS[name]!.provider === 'libvirt' ? 'libvirt' : 'virtualbox');

  test('ruby -c Vagrantfile', async () => {
    const r = await execa('ruby', ['-c', 'Vagrantfile'], { cwd: dir(), reject: false });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Syntax OK');
  });

  test('vagrant validate', async () => {
    const r = await validate(dir(), provider());
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('Vagrantfile validated successfully');
  });

  test.each(SCRIPTS)('bash -n and shellcheck: %s', async (script) => {
    const syntax = await execa('bash', ['-n', script], { cwd: dir(), reject: false });
    expect(syntax.exitCode, syntax.stderr).toBe(0);
    // Default severity (style and up): any finding at all fails.
    const lint = await execa('shellcheck', ['--shell=bash', script], { cwd: dir(), reject: false });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.exitCode).toBe(0);
  });
});

test('shellcheck: every provision/ piece on its own', async () => {
  const pieces = (await readdir(PROVISION_DIR)).filter((f) => f.endsWith('.sh')).map((f) => join(PROVISION_DIR, f));
  expect(pieces.length).toBeGreaterThanOrEqual(5);
  const lint = await execa('shellcheck', pieces, { reject: false });
  expect(lint.stdout + lint.stderr).toBe('');
});

test('no blanket shellcheck disables in the templates or the pieces', async () => {
  for (const [name, dir] of labDirs) {
    for (const script of SCRIPTS) {
      const text = await readFile(join(dir, script), 'utf8');
      expect(text, `${name}/${script}`).not.toMatch(/shellcheck\s+disable/);
    }
  }
});

// Control: the validation above can fail. A misspelt libvirt setting passes --ignore-provider but is
// caught when vagrant-libvirt validates, and a Ruby syntax error is caught by ruby -c.
test('vagrant validate and ruby -c reject broken Vagrantfiles', async () => {
  const dir = join(root, 'broken');
  await renderLab(planFor(VARIANTS['libvirt-2-workers']!, secrets.token, secrets.caCert), secrets, dir);
  const good = await readFile(join(dir, 'Vagrantfile'), 'utf8');
  await writeFile(join(dir, 'Vagrantfile'), good.replace('lv.forward_ssh_port = true', 'lv.forward_ssh_prot = true'));
  const r = await validate(dir, 'libvirt');
  expect(r.exitCode).not.toBe(0);
  expect(r.stdout + r.stderr).toContain('forward_ssh_prot');

  await writeFile(join(dir, 'Vagrantfile'), good.replace('end\n', '\n'));
  const syntax = await execa('ruby', ['-c', 'Vagrantfile'], { cwd: dir, reject: false });
  expect(syntax.exitCode).not.toBe(0);
});

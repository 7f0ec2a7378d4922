// Re-provisioning after a version change applies the new version: install_pkg.sh's install_containerd,
// install_runc and configure_containerd, run as rendered, three times (version A, A again, then B) against
// fake release downloads (file:// URLs, real curl, tar and sha256sum). They write to /usr/local, so each run
// happens in a private mount namespace with a temp folder bind-mounted over /usr/local: the host's
// /usr/local is never touched. systemctl is a stand-in that logs its calls.
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROVISION_DIR } from '../../src/paths.js';
import { renderFiles } from '../../src/render/index.js';
import { FIXTURE_SECRETS, planFor } from '../fixtures/render/variants.js';
import { functionFrom } from '../fixtures/render/bash.js';
import { readFileSync } from 'node:fs';

const usable = process.getuid?.() === 0;
const piece = (name: string) => readFileSync(join(PROVISION_DIR, `${name}.sh`), 'utf8');

describe.skipIf(!usable)('containerd and runc after a version change (install_pkg.sh)', () => {
  let dir: string;
  const install = renderFiles(planFor({}), FIXTURE_SECRETS).get('install_pkg.sh')!.content;

  /** A fake release: containerd's tarball + .sha256sum + unit, and runc + its sums, at file:// URLs. */
  async function release(containerd: string, runc: string) {
    const rel = join(dir, 'releases', `${containerd}-${runc}`);
    const tree = join(rel, 'tree', 'bin');
    await mkdir(tree, { recursive: true });
    await writeFile(join(tree, 'containerd'), `#!/bin/sh\necho "containerd github.com/containerd/containerd/v2 v${containerd} 0123abc"\n`, { mode: 0o755 });
    const tarball = join(rel, `containerd-${containerd}-linux-amd64.tar.gz`);
    await execa('tar', ['-C', join(rel, 'tree'), '-czf', tarball, 'bin']);
    const sum = (await execa('sha256sum', [tarball])).stdout.split(' ')[0];
    await writeFile(`${tarball}.sha256sum`, `${sum}  containerd-${containerd}-linux-amd64.tar.gz\n`);
    await writeFile(join(rel, 'containerd.service'), `[Service]\nExecStart=/usr/local/bin/containerd # ${containerd}\n`);
    await writeFile(join(rel, 'runc.amd64'), `#!/bin/sh\necho "runc version ${runc}"\necho "commit: v${runc}-0-gabc"\n`, { mode: 0o755 });
    const runcSum = (await execa('sha256sum', [join(rel, 'runc.amd64')])).stdout.split(' ')[0];
    await writeFile(join(rel, 'runc.sha256sum'), `${runcSum}  runc.amd64\n${'f'.repeat(64)}  runc.arm64\n`);
    return {
      CONTAINERD_VERSION: containerd,
      CONTAINERD_TARBALL_URL: `file://${rel}/containerd-${containerd}-linux-ARCH.tar.gz`,
      CONTAINERD_UNIT_URL: `file://${rel}/containerd.service`,
      RUNC_VERSION: runc,
      RUNC_URL: `file://${rel}/runc.ARCH`,
      RUNC_SUMS_URL: `file://${rel}/runc.sha256sum`,
    };
  }

  async function provision(settings: Record<string, string>) {
    const calls = join(dir, 'calls');
    await rm(calls, { force: true });
    const code = [
      `mount --bind ${dir}/usr-local /usr/local || exit 99`,
      'set -euo pipefail',
      ...Object.entries(settings).map(([k, v]) => `${k}=${v}`),
      `CONTAINERD_CONFIG=${dir}/etc/containerd/config.toml`,
      'CONTAINERD_RESTART=no',
      'arch=amd64',
      'PATH=/usr/local/sbin:/usr/local/bin:$PATH',
      ...['log', 'retry', 'fetch', 'files'].map(piece),
      `systemctl() { echo "systemctl $*" >>${calls}; }`,
      ...['install_containerd', 'install_runc', 'has_cap_sys_resource', 'oom_score_restriction', 'configure_containerd'].map((f) =>
        functionFrom(install, f),
      ),
      'install_containerd',
      'install_runc',
      'configure_containerd',
      'containerd --version; runc --version',
    ].join('\n');
    const r = await execa('unshare', ['--mount', '--propagation', 'private', 'bash', '--noprofile', '--norc', '-c', code], { reject: false });
    const restarts = existsSync(calls) ? (await readFile(calls, 'utf8')).split('\n').filter((l) => l === 'systemctl restart containerd').length : 0;
    return { ...r, restarts };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-containerd-upgrade-'));
    await mkdir(join(dir, 'usr-local'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('A, A again, then B: B is installed and containerd restarts for it; the host is untouched', async () => {
    const hostContainerd = existsSync('/usr/local/bin/containerd');
    const a = await release('2.1.4', '1.3.0');
    const b = await release('2.2.1', '1.3.3');

    const first = await provision(a);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toContain('containerd github.com/containerd/containerd/v2 v2.1.4 ');
    expect(first.stdout).toContain('runc version 1.3.0');
    expect(first.restarts).toBe(1);

    const again = await provision(a);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('containerd 2.1.4 is installed');
    expect(again.stdout).toContain('runc 1.3.0 is installed');
    expect(again.restarts).toBe(0);

    const upgraded = await provision(b);
    expect(upgraded.exitCode, upgraded.stderr).toBe(0);
    expect(upgraded.stdout).toContain('containerd github.com/containerd/containerd/v2 v2.2.1 ');
    expect(upgraded.stdout).toContain('runc version 1.3.3');
    expect(upgraded.restarts).toBe(1); // same config file, new binaries: restarted all the same
    expect(await readFile(join(dir, 'usr-local/lib/systemd/system/containerd.service'), 'utf8')).toContain('# 2.2.1');

    // runc alone moves (containerd.runcVersion): it is replaced; containerd need not restart for it
    const runcOnly = await provision(await release('2.2.1', '1.4.0'));
    expect(runcOnly.exitCode, runcOnly.stderr).toBe(0);
    expect(runcOnly.stdout).toContain('containerd 2.2.1 is installed');
    expect(runcOnly.stdout).toContain('runc version 1.4.0');
    expect(runcOnly.restarts).toBe(0);

    expect(existsSync('/usr/local/bin/containerd')).toBe(hostContainerd);
  });
});

// scripts/bundle-from-testbed.sh run for real (bash, dpkg-deb, the host's apt-cache for the dependency closure)
// over a small stand-in of the testbed cache: fake binaries, one image tarball, and .debs built here with
// dpkg-deb for the packages it must carry. Then `k8slab bundle check` reads what it made.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli-run.js';
import { ROOT } from '../testbed.js';

const exec = promisify(execFile);
const SCRIPT = join(ROOT, 'scripts/bundle-from-testbed.sh');
// the packages the script must find in the .deb cache (its NODE_PKGS), curl among them
const PKGS = ['containerd', 'runc', 'containernetworking-plugins', 'conntrack', 'socat', 'ebtables', 'ethtool', 'iptables', 'ipset', 'curl'];
const haveApt = await exec('apt-cache', ['policy', 'curl']).then(
  (r) => r.stdout.includes('Candidate:') && !r.stdout.includes('Candidate: (none)'),
  () => false,
);

let dir: string;
let cache: string;
let debs: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'k8slab-bundle-from-testbed-'));
  cache = join(dir, 'cache');
  const bin = join(cache, 'k8s/v1.20.2/bin');
  await mkdir(bin, { recursive: true });
  for (const b of ['kubeadm', 'kubelet', 'kubectl']) {
    await writeFile(join(bin, b), '#!/bin/sh\necho v1.20.2\n');
    await chmod(join(bin, b), 0o755);
  }
  await mkdir(join(cache, 'images'), { recursive: true });
  await writeFile(join(cache, 'images/pause.tar'), 'not read by the script');
  await writeFile(join(cache, 'images/index.json'), JSON.stringify({ images: [{ file: 'pause.tar', path: '/x/pause.tar', images: ['k8s.gcr.io/pause:3.2'] }] }));
  debs = join(dir, 'debs');
  await mkdir(debs);
  for (const pkg of PKGS) await fakeDeb(pkg);
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A minimal valid .deb (containernetworking-plugins with the four plugins the script extracts). */
async function fakeDeb(pkg: string): Promise<void> {
  const root = join(dir, 'src', pkg);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await writeFile(join(root, 'DEBIAN/control'), `Package: ${pkg}\nVersion: 1.0.0-1\nArchitecture: amd64\nMaintainer: test <t@example.org>\nDescription: stand-in\n`);
  if (pkg === 'containernetworking-plugins') {
    await mkdir(join(root, 'usr/lib/cni'), { recursive: true });
    for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) {
      await writeFile(join(root, 'usr/lib/cni', p), '#!/bin/sh\n');
      await chmod(join(root, 'usr/lib/cni', p), 0o755);
    }
  }
  await exec('dpkg-deb', ['--root-owner-group', '-b', root, join(debs, `${pkg}_1.0.0-1_amd64.deb`)]);
}

const run = (out: string) =>
  exec('bash', [SCRIPT, out], { env: { ...process.env, K8SLAB_TESTBED_CACHE: cache, K8SLAB_TESTBED_DEBS: debs } }).then(
    (r) => ({ code: 0, err: r.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }),
  );

describe.skipIf(!haveApt)('bundle-from-testbed.sh', () => {
  it('puts curl in debs/ (bundle labs install it from there when the box lacks it), and bundle check sees it', async () => {
    const out = join(dir, 'bundle');
    const r = await run(out);
    expect(r.err).not.toContain('ERROR');
    expect(r.code).toBe(0);
    const files = await readdir(join(out, 'debs'));
    expect(files).toContain('curl_1.0.0-1_amd64.deb');
    expect(files).toContain('containerd_1.0.0-1_amd64.deb');
    const c = await runCli('bundle', 'check', out, '--json');
    const codes = (JSON.parse(c.out) as { findings: { code: string }[] }).findings.map((f) => f.code);
    expect(codes).not.toContain('no-curl-package');
    expect(codes).not.toContain('no-runtime-packages');
  }, 180_000);

  it('stops, naming curl, when the .deb cache lacks it', async () => {
    await rm(join(debs, 'curl_1.0.0-1_amd64.deb'));
    const r = await run(join(dir, 'bundle-no-curl'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ERROR: curl is not in .*debs/);
  }, 180_000);
});

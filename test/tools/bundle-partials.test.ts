// The offline partials (install-bundle, master-bundle, worker-bundle, cni-bridge, vagrant-bundle) as they
// land in the generated lab: real bash -n, shellcheck and ruby -c over the rendered bundle+bridge lab,
// for the course's 1.20 era and for a current release.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderFiles } from '../../src/render/files.js';
import { FIXTURE_SECRETS, planFor } from '../fixtures/render/variants.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'k8slab-bundle-partials-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (cmd: string, args: string[]) => {
  try {
    return { code: 0, out: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
};

for (const version of ['1.20.2', '1.34.2']) {
  describe(`bundle + bridge lab, Kubernetes ${version}`, () => {
    let files: Map<string, { content: string }>;
    let sub: string;
    beforeAll(async () => {
      const plan = planFor({
        provider: 'libvirt',
        workers: { count: 2 },
        kubernetes: { version, source: 'bundle', bundle: '../bundle', cni: 'bridge' },
        // Traefik 3 needs 1.21+: the course's era runs without the ingress
        ...(version === '1.20.2' ? { addons: { ingress: { enabled: false } } } : {}),
      });
      files = renderFiles(plan, FIXTURE_SECRETS);
      sub = await mkdtemp(join(dir, `v${version}-`));
      for (const [name, f] of files) {
        if (!name.includes('/')) await writeFile(join(sub, name), f.content);
      }
    });

    it('includes the offline partials, not the download steps', () => {
      const install = files.get('install_pkg.sh')!.content;
      expect(install).toContain('bundle_images');
      expect(install).toContain('ctr -n k8s.io images import');
      expect(install).not.toMatch(/^install_kubernetes_packages$/m);
      const master = files.get('master_node.sh')!.content;
      expect(master).toContain('--skip-phases');
      expect(master).toContain('init_args+=(--skip-phases');
      expect(master).toContain('api=kubeadm.k8s.io/v1beta2');
      expect(master).toContain('k8slab-bridge-sync.timer');
      expect(files.get('work_nodes.sh')!.content).toContain('--cri-socket');
      expect(files.get('work_nodes.sh')!.content).toContain('bridge-sync');
      expect(files.get('Vagrantfile')!.content).toContain("BUNDLE = '../bundle'");
      expect(files.get('Vagrantfile')!.content).toMatch(/synced_folder BUNDLE, "\/k8slab-bundle", type: "rsync"/);
    });

    for (const script of ['install_pkg.sh', 'master_node.sh', 'work_nodes.sh']) {
      it(`${script}: bash -n and shellcheck are clean`, () => {
        const path = join(sub, script);
        expect(run('bash', ['-n', path])).toEqual({ code: 0, out: '' });
        const sc = run('shellcheck', ['-x', '-S', 'style', path]);
        expect(sc.out).toBe('');
        expect(sc.code).toBe(0);
      });
    }

    it('Vagrantfile: ruby -c accepts it', () => {
      const r = run('ruby', ['-c', join(sub, 'Vagrantfile')]);
      expect(r.out).toContain('Syntax OK');
    });

    // Real ruby loads the generated Vagrantfile; only Vagrant.configure is a stub (STUB_Vagrant: no VM is
    // made), so the helpers run as vagrant would run them and print what a worker's rsync leaves out.
    const workerExcludes = () => {
      const probe = 'module Vagrant; def self.configure(*) = nil; end; load ARGV[0]; puts JSON.generate(k8slab_control_plane_only_images(BUNDLE))';
      const r = run('ruby', ['-e', probe, join(sub, 'Vagrantfile')]);
      expect(r.code, r.out).toBe(0);
      return JSON.parse(r.out) as string[];
    };

    it("Vagrantfile: workers' rsync leaves out the tarballs only the control plane imports", async () => {
      const images = join(dir, 'bundle', 'images');
      await mkdir(images, { recursive: true });
      const entry = (file: string, ...names: string[]) => ({ file, images: names, size: 1, sha256: 'x' });
      await writeFile(join(images, 'index.json'), JSON.stringify({
        kubernetesVersion: `v${version}`,
        images: [
          entry('etcd.tar', 'registry.k8s.io/etcd:3.4.13-0'),
          entry('kube-apiserver.tar', 'k8s.gcr.io/kube-apiserver:v1.20.2'),
          entry('kube-proxy.tar', 'k8s.gcr.io/kube-proxy:v1.20.2'),
          entry('mixed.tar', 'k8s.gcr.io/kube-scheduler:v1.20.2', 'k8s.gcr.io/pause:3.2'),
          entry('app.tar', 'k8slab.local/app:1'),
        ],
      }));
      expect(workerExcludes()).toEqual(['/images/etcd.tar', '/images/kube-apiserver.tar']);
      // an unreadable index costs time, never a missing image: workers then get the whole bundle
      await writeFile(join(images, 'index.json'), '{ not json');
      expect(workerExcludes()).toEqual([]);
    });
  });
}

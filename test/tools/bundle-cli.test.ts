// `k8slab bundle` against real files: the testbed's Kubernetes v1.20.2 binaries (run for their versions and
// `kubeadm config images list`), its image tarballs (read with the real tar), a loopback HTTP mirror for
// `bundle create`, and this host's real lack of internet.
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli-run.js';
import { CACHE } from '../testbed.js';
import { addonNeeds } from '../../src/bundle/addons.js';
import { downloadManifests, pullImages, type Fetcher } from '../../src/bundle/create.js';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_VERSIONS } from '../../src/config/versions.js';

const BIN = join(CACHE, 'k8s/v1.20.2/bin');
const IMAGES = join(CACHE, 'images');
const haveTestbed = existsSync(join(BIN, 'kubeadm')) && existsSync(join(IMAGES, 'index.json'));
const CORE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'pause', 'etcd'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'k8slab-bundle-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const place = async (src: string, dst: string) => {
  await link(src, dst).catch(() => copyFile(src, dst));
};

describe.skipIf(!haveTestbed)('bundle index + check on a bundle made of the testbed files', () => {
  let b: string;
  beforeAll(async () => {
    b = join(dir, 'bundle');
    await mkdir(join(b, 'bin'), { recursive: true });
    await mkdir(join(b, 'images'), { recursive: true });
    for (const f of ['kubeadm', 'kubelet', 'kubectl']) await place(join(BIN, f), join(b, 'bin', f));
    await place(join(IMAGES, 'pause.tar'), join(b, 'images', 'pause.tar'));
    await place(join(IMAGES, 'app.tar'), join(b, 'images', 'app.tar'));
    await writeFile(join(b, 'bundle.json'), JSON.stringify({ format: 1, kubernetes: '1.20.2' }));
  });

  it('index: names come from the tarballs themselves', async () => {
    const r = await runCli('bundle', 'index', b);
    expect(r.code).toBe(0);
    expect(r.out).toContain('2 tarballs, 2 images');
    const index = JSON.parse(await readFile(join(b, 'images/index.json'), 'utf8')) as { images: { file: string; images: string[]; sha256: string }[] };
    expect(index.images.map((e) => [e.file, e.images])).toEqual([
      ['app.tar', ['k8slab.local/app:1']],
      ['pause.tar', ['k8s.gcr.io/pause:3.2']],
    ]);
    const want = createHash('sha256').update(await readFile(join(b, 'images/pause.tar'))).digest('hex');
    expect(index.images[1]!.sha256).toBe(want);
  });

  it('check: the real kubeadm names what is missing; exit 1', async () => {
    const r = await runCli('bundle', 'check', b, '--json', '-c', join(dir, 'absent.yaml'));
    // an explicit --config that does not exist is a usage error, and nothing is checked
    expect(r.code).toBe(2);
    const c = await runCli('bundle', 'check', b, '--json');
    expect(c.code).toBe(1);
    const report = JSON.parse(c.out) as { usable: boolean; findings: { code: string; message: string }[]; skippedPhases: string[] };
    expect(report.usable).toBe(false);
    const missing = report.findings.filter((f) => f.code === 'image-missing').map((f) => f.message.split(' ')[0]);
    expect(missing).toEqual([
      'k8s.gcr.io/kube-apiserver:v1.20.2',
      'k8s.gcr.io/kube-controller-manager:v1.20.2',
      'k8s.gcr.io/kube-scheduler:v1.20.2',
      'k8s.gcr.io/etcd:3.4.13-0',
    ]);
    expect(report.skippedPhases).toEqual(['addon/kube-proxy', 'addon/coredns']);
    expect(report.findings.map((f) => f.code)).not.toContain('binary-version');
  });

  it('check: with every control-plane image it is usable; the lab is checked too', async () => {
    for (const img of CORE) await place(join(IMAGES, `${img}.tar`), join(b, 'images', `${img}.tar`)).catch(() => undefined);
    expect((await runCli('bundle', 'index', b)).code).toBe(0);
    const labFile = join(dir, 'lab.yaml');
    const bridgeLab = 'kubernetes: { version: "1.20.2", source: bundle, bundle: ./bundle, cni: bridge }\nimages: { app: "k8slab.local/app:1" }\n';
    // the default add-ons (MetalLB, NFS storage) need what this bundle lacks: each is named, with how to turn it off
    // (Traefik 3 needs Kubernetes 1.21: this 1.20.2 lab turns the ingress off)
    await writeFile(labFile, `${bridgeLab}addons: { ingress: { enabled: false } }\n`);
    const d = await runCli('bundle', 'check', '-c', labFile);
    expect(d.code).toBe(1);
    expect(d.out).toContain('ERROR  MetalLB 0.16.2 (addons.metallb.enabled is true): the bundle has no manifests/metallb/0.16.2/metallb-native.yaml'.replaceAll('0.16.2', DEFAULT_VERSIONS.metallb));
    expect(d.out).toContain('or do without it in lab.yaml: addons: { metallb: { enabled: false } }');
    expect(d.out).toContain('no debs/ or rpms/');
    expect(d.out).toContain('debs/ has no nfs-common, which every node (the NFS client) installs');
    await writeFile(labFile, `${bridgeLab}addons: { metallb: { enabled: false }, storage: { provider: none }, ingress: { enabled: false } }\n`);
    const r = await runCli('bundle', 'check', '-c', labFile);
    expect(r.out).toContain(`bundle ${b} for lab "k8slab": Kubernetes 1.20.2`);
    expect(r.out).toContain('kubeadm phase addon/coredns will be skipped');
    expect(r.out).toContain('no debs/ or rpms/');
    expect(r.out).toMatch(/usable: yes/);
    expect(r.code).toBe(0);
    const wrong = join(dir, 'lab-1.21.yaml');
    await writeFile(wrong, 'kubernetes: { version: "1.21.0", source: bundle, bundle: ./bundle, cni: bridge }\n');
    const w = await runCli('bundle', 'check', '-c', wrong);
    expect(w.code).toBe(1);
    expect(w.out).toContain('lab.yaml asks for Kubernetes 1.21.0, the bundle brings 1.20.2');
  });

  it('check --verify-hashes: a damaged tarball is caught', async () => {
    const damaged = join(dir, 'damaged');
    await mkdir(join(damaged, 'images'), { recursive: true });
    await mkdir(join(damaged, 'bin'), { recursive: true });
    for (const f of ['kubeadm', 'kubelet', 'kubectl']) await place(join(BIN, f), join(damaged, 'bin', f));
    await copyFile(join(b, 'bundle.json'), join(damaged, 'bundle.json'));
    await copyFile(join(b, 'images/index.json'), join(damaged, 'images/index.json'));
    for (const img of ['app', ...CORE]) await place(join(b, 'images', `${img}.tar`), join(damaged, 'images', `${img}.tar`));
    // same size, one byte changed: only the hash can tell
    const app = join(damaged, 'images/app.tar');
    const bytes = await readFile(app);
    await rm(app);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await writeFile(app, bytes);
    expect((await runCli('bundle', 'check', damaged)).code).toBe(0);
    const r = await runCli('bundle', 'check', damaged, '--verify-hashes');
    expect(r.code).toBe(1);
    expect(r.out).toContain('images/app.tar does not match its SHA-256 in the index');
  });
});

describe('bundle create', () => {
  it('on this host (no internet): prints the steps, says so, exits 3 and creates nothing', async () => {
    const out = join(dir, 'created-offline');
    const r = await runCli('bundle', 'create', '--kubernetes', '1.20.2', '-o', out, '-c', join(dir, 'none.yaml'));
    expect(r.code).toBe(3);
    expect(r.out).toContain('https://dl.k8s.io/release/v1.20.2/bin/linux/amd64/$f');
    expect(r.out).toContain('kubeadm config images list --kubernetes-version v1.20.2');
    expect(r.err).toMatch(/no internet access: .*dl\.k8s\.io.* Nothing was downloaded/);
    expect(existsSync(out)).toBe(false);
  });

  it("--steps-only: the default lab's add-ons (Calico vxlan, MetalLB, NFS) at versions.ts's versions, curl and the NFS packages", async () => {
    const r = await runCli('bundle', 'create', '--kubernetes', '1.37.1', '-o', join(dir, 'steps'), '--steps-only', '-c', join(dir, 'none.yaml'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('the default lab (no lab.yaml)');
    const { calico, metallb, nfsProvisioner: nfs } = DEFAULT_VERSIONS;
    expect(r.out).toContain(`manifests/calico/${calico}/calico-vxlan.yaml --create-dirs https://raw.githubusercontent.com/projectcalico/calico/v${calico}/manifests/calico-vxlan.yaml`);
    expect(r.out).toContain(`manifests/metallb/${metallb}/metallb-native.yaml`);
    expect(r.out).toContain(`manifests/nfs-provisioner/${nfs}/deployment.yaml`);
    expect(r.out).toContain('without it: addons: { metallb: { enabled: false } }');
    expect(r.out).toMatch(/--no-enhances containerd runc conntrack socat curl .* nfs-kernel-server nfs-common \|/);
    expect(r.out).toMatch(/dnf download .* curl nfs-utils\)/);
    expect(existsSync(join(dir, 'steps'))).toBe(false);
  });

  it("--steps-only follows lab.yaml: ipip is calico.yaml, local-path needs no NFS packages, MetalLB off is left out", async () => {
    const labFile = join(dir, 'lab-steps.yaml');
    await writeFile(labFile, 'calico: { encapsulation: ipip }\naddons: { metallb: { enabled: false }, storage: { provider: local-path } }\n');
    const r = await runCli('bundle', 'create', '--kubernetes', '1.37.1', '--steps-only', '-c', labFile);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`manifests/calico/${DEFAULT_VERSIONS.calico}/calico.yaml --create-dirs`);
    expect(r.out).toContain(`manifests/local-path/${DEFAULT_VERSIONS.localPath}/local-path-storage.yaml`);
    expect(r.out).not.toContain('metallb');
    expect(r.out).not.toContain('nfs-common');
  });

  it('downloadManifests writes each file where bundle check looks, keeps going past a failure, and keeps what is there', async () => {
    const lab = parseConfig('kubernetes: { version: "1.37.1", source: bundle, bundle: b }');
    const needs = addonNeeds(lab);
    const served = new Map(needs.flatMap((n) => n.files).map((f) => [f.url, `# ${f.path}\nimage: example.org/${f.path.split('/')[0]}:1\n`]));
    const broken = needs.find((n) => n.key === 'metallb')!.files[0]!.url;
    let calls = 0;
    const fetcher: Fetcher = async (url) => {
      calls++;
      return url === broken ? new Response('nope', { status: 404 }) : new Response(served.get(url) ?? '', { status: served.has(url) ? 200 : 404 });
    };
    const out = join(dir, 'manifests-bundle');
    const failed = await downloadManifests(out, needs, () => {}, fetcher);
    expect(failed).toEqual([{ path: `manifests/metallb/${DEFAULT_VERSIONS.metallb}/metallb-native.yaml`, url: broken, reason: 'HTTP 404' }]);
    expect(calls).toBe(5); // calico, metallb, and NFS's three files
    const calicoFile = join(out, 'manifests/calico', DEFAULT_VERSIONS.calico, 'calico-vxlan.yaml');
    expect(await readFile(calicoFile, 'utf8')).toContain('image: example.org/calico:1');
    // bundle check reads them and names only what is still missing
    await writeFile(join(out, 'bundle.json'), JSON.stringify({ format: 1, kubernetes: '1.37.1' }));
    const labFile = join(dir, 'lab-manifests.yaml');
    await writeFile(labFile, 'kubernetes: { version: "1.37.1", source: bundle, bundle: ./manifests-bundle }\n');
    const c = await runCli('bundle', 'check', '--json', '-c', labFile);
    const findings = (JSON.parse(c.out) as { findings: { code: string; message: string }[] }).findings;
    expect(findings.filter((f) => f.code === 'manifest-missing').map((f) => f.message.split(' (')[0])).toEqual([`MetalLB ${DEFAULT_VERSIONS.metallb}`]);
    expect(findings.filter((f) => f.code === 'manifest-image-missing').map((f) => f.message.split(': ')[1])).toEqual([
      'images/ lacks example.org/calico:1 (named by manifests/calico/3.33.1/calico-vxlan.yaml); nothing can be pulled'.replace('3.33.1', DEFAULT_VERSIONS.calico),
      'images/ lacks example.org/nfs-provisioner:1 (named by manifests/nfs-provisioner/V/rbac.yaml, manifests/nfs-provisioner/V/deployment.yaml, manifests/nfs-provisioner/V/class.yaml); nothing can be pulled'.replaceAll('/V/', `/${DEFAULT_VERSIONS.nfsProvisioner}/`),
    ]);
    // a second run keeps the files it has and fetches only the missing one
    calls = 0;
    await downloadManifests(out, needs, () => {}, fetcher);
    expect(calls).toBe(1);
  });

  it('pullImages saves each image once under its tarball name, keeps going past a failure, and leaves no partial file', async () => {
    const out = join(dir, 'pulled');
    const pulled: string[] = [];
    const pull = async (ref: string, file: string) => {
      pulled.push(ref);
      if (ref.includes('speaker')) throw new Error('skopeo: manifest unknown\nmore');
      await writeFile(file, `tar of ${ref}`);
    };
    const refs = ['quay.io/metallb/controller:v0.16.2', 'quay.io/metallb/speaker:v0.16.2', 'quay.io/metallb/controller:v0.16.2'];
    const failed = await pullImages(out, refs, pull, () => {});
    expect(failed).toEqual([{ ref: 'quay.io/metallb/speaker:v0.16.2', reason: 'skopeo: manifest unknown' }]);
    expect(pulled).toEqual(['quay.io/metallb/controller:v0.16.2', 'quay.io/metallb/speaker:v0.16.2']);
    expect(await readFile(join(out, 'images/controller-v0.16.2.tar'), 'utf8')).toBe('tar of quay.io/metallb/controller:v0.16.2');
    expect(existsSync(join(out, 'images/speaker-v0.16.2.tar.part'))).toBe(false);
    pulled.length = 0;
    await pullImages(out, refs, pull, () => {});
    expect(pulled).toEqual(['quay.io/metallb/speaker:v0.16.2']);
  });

  it('without a full version it is a usage error', async () => {
    const r = await runCli('bundle', 'create', '--kubernetes', '1.20', '-c', join(dir, 'none.yaml'));
    expect(r.code).toBe(2);
  });

  describe.skipIf(!haveTestbed)('from a loopback mirror serving the testbed binaries', () => {
    let server: Server;
    let base: string;
    const tamper = { kubectl: false };
    beforeAll(async () => {
      const blobs = new Map<string, Buffer>();
      for (const f of ['kubeadm', 'kubelet', 'kubectl']) blobs.set(f, await readFile(join(BIN, f)));
      server = createServer((req, res) => {
        const m = /^\/release\/v1\.20\.2\/bin\/linux\/amd64\/(\w+)(\.sha256)?$/.exec(req.url ?? '');
        const blob = m ? blobs.get(m[1]!) : undefined;
        if (!m || !blob) {
          res.writeHead(404).end();
          return;
        }
        if (m[2]) {
          const sum = createHash('sha256').update(blob).digest('hex');
          res.end(tamper.kubectl && m[1] === 'kubectl' ? sum.replace(/^./, (c) => (c === '0' ? '1' : '0')) : sum);
        } else res.end(blob);
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

    it('downloads bin/ with SHA-256 checks, writes bundle.json, and exits 1 because images are still to do', async () => {
      const out = join(dir, 'created-mirror');
      const r = await runCli('bundle', 'create', '--kubernetes', '1.20.2', '-o', out, '--mirror', base, '-c', join(dir, 'none.yaml'));
      expect(r.out).toContain('kubelet: 105021440 bytes, sha256 ok'.replace('105021440', String((await readFile(join(BIN, 'kubelet'))).length)));
      expect(r.out).toContain('Not done by this command: images');
      expect(r.code).toBe(1);
      expect(JSON.parse(await readFile(join(out, 'bundle.json'), 'utf8'))).toMatchObject({ format: 1, kubernetes: '1.20.2', arch: 'amd64' });
      const check = await runCli('bundle', 'check', out, '--json');
      const findings = (JSON.parse(check.out) as { findings: { code: string }[] }).findings.map((f) => f.code);
      expect(findings).not.toContain('binary-missing');
      expect(findings).not.toContain('binary-version');
      expect(findings).toContain('image-index-invalid');
    });

    it('refuses a binary whose published SHA-256 does not match', async () => {
      tamper.kubectl = true;
      const out = join(dir, 'created-bad');
      const r = await runCli('bundle', 'create', '--kubernetes', '1.20.2', '-o', out, '--mirror', base, '-c', join(dir, 'none.yaml'));
      tamper.kubectl = false;
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/download failed: .*kubectl: SHA-256 [0-9a-f]+ does not match the published/);
      expect(existsSync(join(out, 'bin/kubectl'))).toBe(false);
    });
  });
});


// checkBundle is pure: these build inventories as data (what readBundle would report) and judge them.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { checkBundle, kubeadmApiVersion, requiredImages, type Finding } from '../../src/bundle/check.js';
import type { BundleInventory } from '../../src/bundle/inventory.js';
import { manifestImageRefs } from '../../src/bundle/inventory.js';
import type { BundleProbe } from '../../src/bundle/probe.js';
import { imageBaseName, normalizeImageRef } from '../../src/bundle/image-ref.js';
import { containerdVersion, parseDebFile, parseRpmFile } from '../../src/bundle/debs.js';
import { DEFAULT_VERSIONS } from '../../src/config/versions.js';

const K8S_IMAGES = [
  'k8s.gcr.io/kube-apiserver:v1.20.2',
  'k8s.gcr.io/kube-controller-manager:v1.20.2',
  'k8s.gcr.io/kube-scheduler:v1.20.2',
  'k8s.gcr.io/kube-proxy:v1.20.2',
  'k8s.gcr.io/pause:3.2',
  'k8s.gcr.io/etcd:3.4.13-0',
];
const KUBEADM_LIST = [...K8S_IMAGES, 'k8s.gcr.io/coredns:1.7.0'];
const file = (ref: string) => `${imageBaseName(ref)}.tar`;

/** The testbed's bundle, as data: everything but CoreDNS and crictl. */
function inventory(over: Partial<BundleInventory> = {}, images: string[] = [...K8S_IMAGES, 'k8slab.local/app:1', 'k8slab.local/tools:1']): BundleInventory {
  return {
    dir: '/b',
    exists: true,
    manifest: { format: 1, kubernetes: '1.20.2', containerd: '1.6.20', arch: 'amd64' },
    binaries: ['kubeadm', 'kubelet', 'kubectl'].map((name) => ({ name, size: 1, executable: true, arch: 'amd64' })),
    imageIndex: { format: 'docker-archive', images: images.map((ref) => ({ file: file(ref), images: [ref], size: 100 })) },
    imageFiles: images.map((ref) => ({ file: file(ref), size: 100 })),
    debs: ['containerd_1.6.20~ds1-1+deb12u3_amd64.deb', 'runc_1.1.5+ds1-1+deb12u1_amd64.deb', 'curl_7.88.1-10+deb12u14_amd64.deb'].map(
      (f) => parseDebFile(f)!,
    ),
    rpms: [],
    cniPlugins: ['bridge', 'host-local', 'loopback', 'portmap'],
    runtime: [],
    manifests: [],
    manifestImages: {},
    ...over,
  };
}
const probe = (over: Partial<BundleProbe> = {}): BundleProbe => ({
  versions: { kubeadm: 'v1.20.2', kubelet: 'v1.20.2', kubectl: 'v1.20.2' },
  requiredImages: KUBEADM_LIST,
  errors: [],
  ...over,
});
// The e2e lab turns both add-ons off (the testbed bundle has neither manifest); a test may ask for them.
const lab = (extra = 'addons: { metallb: { enabled: false }, storage: { provider: none }, ingress: { enabled: false } }') =>
  parseConfig(`
name: e2e
provider: libvirt
kubernetes: { version: "1.20.2", source: bundle, bundle: ./bundle, cni: bridge }
images: { app: "k8slab.local/app:1", tools: "k8slab.local/tools:1", init: "k8slab.local/tools:1", busybox: "k8slab.local/tools:1", nginx: "k8slab.local/app:1", myweb: "k8slab.local/app:1", mariadb: "k8slab.local/tools:1" }
${extra}`);
const codes = (fs: Finding[], level?: Finding['level']) => fs.filter((f) => level === undefined || f.level === level).map((f) => f.code);

describe('checkBundle: the testbed bundle', () => {
  it('is usable for the e2e lab; CoreDNS absent means phase addon/coredns is skipped, with a warning', () => {
    const r = checkBundle({ inventory: inventory(), probe: probe(), lab: lab() });
    expect(codes(r.findings, 'error')).toEqual([]);
    expect(r.usable).toBe(true);
    expect(r.skippedPhases).toEqual(['addon/coredns']);
    expect(codes(r.findings, 'warning')).toEqual(['image-missing-phase-skipped']);
    expect(r.findings.find((f) => f.code === 'image-missing-phase-skipped')!.message).toContain('k8s.gcr.io/coredns:1.7.0');
    expect(codes(r.findings, 'info')).toEqual(expect.arrayContaining(['legacy-runtime-flags', 'crictl-missing']));
    expect(r).toMatchObject({ kubernetes: '1.20.2', containerd: '1.6.20' });
  });

  it('missing kube-proxy: a warning and phase addon/kube-proxy skipped', () => {
    const imgs = [...K8S_IMAGES.filter((i) => !i.includes('kube-proxy'))];
    const r = checkBundle({ inventory: inventory({}, imgs), probe: probe() });
    expect(r.usable).toBe(true);
    expect(r.skippedPhases).toEqual(['addon/kube-proxy', 'addon/coredns']);
  });

  it('missing a control-plane image is an error', () => {
    const imgs = K8S_IMAGES.filter((i) => !i.includes('etcd'));
    const r = checkBundle({ inventory: inventory({}, imgs), probe: probe() });
    expect(r.usable).toBe(false);
    expect(r.findings.find((f) => f.code === 'image-missing')!.message).toContain('k8s.gcr.io/etcd:3.4.13-0');
  });
});

describe('checkBundle: what is wrong with a bundle', () => {
  it('a missing directory is an error and nothing else is judged', () => {
    const r = checkBundle({ inventory: { ...inventory(), exists: false }, probe: probe() });
    expect(codes(r.findings)).toEqual(['bundle-missing']);
    expect(r.usable).toBe(false);
  });

  it('no bundle.json', () => {
    const inv = inventory();
    delete inv.manifest;
    inv.manifestError = 'missing';
    const r = checkBundle({ inventory: inv, probe: probe() });
    expect(codes(r.findings, 'error')).toContain('manifest-invalid');
    expect(r.findings.find((f) => f.code === 'manifest-invalid')!.fix).toContain('"kubernetes"');
  });

  it('no kubeadm, a non-executable kubelet', () => {
    const inv = inventory({
      binaries: [
        { name: 'kubelet', size: 1, executable: false, arch: 'amd64' },
        { name: 'kubectl', size: 1, executable: true, arch: 'amd64' },
      ],
    });
    const r = checkBundle({ inventory: inv, probe: probe({ versions: {} }) });
    expect(codes(r.findings, 'error')).toEqual(['binary-missing', 'binary-not-executable']);
    expect(r.findings.find((f) => f.code === 'binary-not-executable')!.fix).toBe('chmod +x bin/kubelet');
  });

  it('binaries of another architecture, or not ELF at all', () => {
    const inv = inventory({
      binaries: [
        { name: 'kubeadm', size: 1, executable: true, arch: 'arm64' },
        { name: 'kubelet', size: 1, executable: true },
        { name: 'kubectl', size: 1, executable: true, arch: 'amd64' },
      ],
    });
    expect(codes(checkBundle({ inventory: inv, probe: probe() }).findings, 'error')).toEqual(['binary-arch', 'binary-not-elf']);
  });

  it('a binary whose version differs from bundle.json', () => {
    const r = checkBundle({ inventory: inventory(), probe: probe({ versions: { kubeadm: 'v1.20.2', kubelet: 'v1.21.0' } }) });
    expect(r.findings.filter((f) => f.code === 'binary-version').map((f) => f.message)).toEqual(['bin/kubelet is v1.21.0, bundle.json says 1.20.2']);
  });

  it('index problems: a listed file missing, a truncated file, a hash mismatch, an unlisted tarball', () => {
    const inv = inventory();
    inv.imageFiles = inv.imageFiles.filter((f) => f.file !== 'etcd.tar').map((f) => (f.file === 'pause.tar' ? { ...f, size: 7 } : f));
    inv.imageFiles.push({ file: 'extra.tar', size: 3 });
    const r = checkBundle({ inventory: inv, probe: probe(), hashMismatches: ['kube-proxy.tar'] });
    expect(codes(r.findings)).toEqual(
      expect.arrayContaining(['image-file-missing', 'image-file-size', 'image-file-hash', 'image-file-unlisted']),
    );
    // the images of the bad files do not count as present
    expect(r.findings.filter((f) => f.code === 'image-missing').map((f) => f.message.split(' ')[0])).toEqual([
      'k8s.gcr.io/pause:3.2',
      'k8s.gcr.io/etcd:3.4.13-0',
    ]);
    expect(r.skippedPhases).toContain('addon/kube-proxy');
  });

  it('no images/index.json', () => {
    const inv = inventory();
    delete inv.imageIndex;
    inv.imageIndexError = 'is not valid JSON: Unexpected token';
    const r = checkBundle({ inventory: inv, probe: probe() });
    expect(r.findings.find((f) => f.code === 'image-index-invalid')!.message).toBe('images/index.json is not valid JSON: Unexpected token');
  });

  it('containerd 2.x cannot run a 1.20 kubelet (no CRI v1alpha2)', () => {
    const inv = inventory({ manifest: { format: 1, kubernetes: '1.20.2', containerd: '2.1.4', arch: 'amd64' } });
    expect(codes(checkBundle({ inventory: inv, probe: probe() }).findings, 'error')).toEqual(['containerd-too-new']);
  });

  it('runtime packages without curl: a warning that the box must bring it', () => {
    const r = checkBundle({ inventory: inventory({ debs: inventory().debs.filter((p) => p.name !== 'curl') }), probe: probe() });
    expect(r.usable).toBe(true);
    expect(r.findings.find((f) => f.code === 'no-curl-package')!.message).toContain('the box must bring curl');
    expect(codes(checkBundle({ inventory: inventory(), probe: probe() }).findings)).not.toContain('no-curl-package');
  });

  it('no runtime packages: a warning that the box must bring containerd', () => {
    const r = checkBundle({ inventory: inventory({ debs: [] }), probe: probe() });
    expect(r.usable).toBe(true);
    expect(r.findings.find((f) => f.code === 'no-runtime-packages')!.message).toMatch(/box must already have containerd/);
  });

  it('Kubernetes older than 1.18 is refused', () => {
    const inv = inventory({ manifest: { format: 1, kubernetes: '1.17.4', arch: 'amd64' } });
    expect(codes(checkBundle({ inventory: inv, probe: probe({ versions: {} }) }).findings, 'error')).toContain('kubernetes-unsupported');
  });
});

describe('checkBundle: for a lab', () => {
  it('a version mismatch with lab.yaml', () => {
    const l = parseConfig('kubernetes: { version: "1.20.5", source: bundle, bundle: b, cni: bridge }\naddons: { ingress: { enabled: false } }');
    const r = checkBundle({ inventory: inventory(), probe: probe(), lab: l });
    expect(r.findings.find((f) => f.code === 'version-mismatch')!.fix).toBe('set kubernetes.version: "1.20.2" in lab.yaml, or use a 1.20.5 bundle');
  });

  it("cni: calico needs the manifest of the lab's encapsulation (vxlan: calico-vxlan.yaml, ipip: calico.yaml) and every image it names", () => {
    const l = parseConfig('kubernetes: { version: "1.30.2", source: bundle, bundle: b }\ncalico: { version: 3.28.2 }\naddons: { metallb: { enabled: false }, storage: { provider: none }, ingress: { enabled: false } }');
    expect(l.calico.encapsulation).toBe('vxlan');
    const inv = inventory({ manifest: { format: 1, kubernetes: '1.30.2', arch: 'amd64' } }, []);
    const check = () => checkBundle({ inventory: inv, probe: probe({ versions: {}, requiredImages: [] }), lab: l });
    const none = check().findings.find((f) => f.code === 'manifest-missing')!;
    expect(none.message).toBe('Calico 3.28.2 (vxlan) (kubernetes.cni is calico, calico.encapsulation vxlan): the bundle has no manifests/calico/3.28.2/calico-vxlan.yaml');
    expect(none.fix).toContain('https://raw.githubusercontent.com/projectcalico/calico/v3.28.2/manifests/calico-vxlan.yaml into manifests/calico/3.28.2/calico-vxlan.yaml');
    expect(none.fix).toContain('kubernetes: { cni: bridge }');

    // the IP-in-IP manifest does not serve a vxlan lab, and the old flat name is not read at all
    inv.manifests = ['calico.yaml', 'calico/3.28.2/calico.yaml'];
    expect(codes(check().findings, 'error')).toContain('manifest-missing');
    const ipip = parseConfig('kubernetes: { version: "1.30.2", source: bundle, bundle: b }\ncalico: { version: 3.28.2, encapsulation: ipip }\naddons: { metallb: { enabled: false }, storage: { provider: none }, ingress: { enabled: false } }');
    expect(codes(checkBundle({ inventory: inv, probe: probe({ versions: {}, requiredImages: [] }), lab: ipip }).findings)).not.toContain('manifest-missing');

    inv.manifests = ['calico/3.28.2/calico-vxlan.yaml'];
    inv.manifestImages = { 'calico/3.28.2/calico-vxlan.yaml': ['docker.io/calico/cni:v3.28.2', 'docker.io/calico/node:v3.28.2'] };
    inv.imageIndex = { format: 'docker-archive', images: [{ file: 'node.tar', images: ['calico/node:v3.28.2'] }] };
    inv.imageFiles = [{ file: 'node.tar', size: 1 }];
    const some = check();
    expect(codes(some.findings, 'error').filter((c) => c.startsWith('manifest'))).toEqual(['manifest-image-missing']);
    expect(some.findings.find((f) => f.code === 'manifest-image-missing')!.message).toBe(
      'Calico 3.28.2 (vxlan): images/ lacks docker.io/calico/cni:v3.28.2 (named by manifests/calico/3.28.2/calico-vxlan.yaml); nothing can be pulled',
    );
  });

  it("the default Calico follows versions.ts, and another version in the bundle is named", () => {
    const l = parseConfig('kubernetes: { version: "1.37.1", source: bundle, bundle: b }\naddons: { metallb: { enabled: false }, storage: { provider: none }, ingress: { enabled: false } }');
    const r = checkBundle({ inventory: inventory({ manifests: ['calico/3.31.3/calico-vxlan.yaml'] }), probe: probe(), lab: l });
    expect(r.findings.find((f) => f.code === 'manifest-missing')!.message).toBe(
      `Calico ${DEFAULT_VERSIONS.calico} (vxlan) (kubernetes.cni is calico, calico.encapsulation vxlan): the bundle has no manifests/calico/${DEFAULT_VERSIONS.calico}/calico-vxlan.yaml (it has calico 3.31.3)`,
    );
  });

  it('bridge without cni/ plugins: a warning that the box must have them', () => {
    const r = checkBundle({ inventory: inventory({ cniPlugins: ['bridge'] }), probe: probe(), lab: lab() });
    expect(r.findings.find((f) => f.code === 'cni-plugins-from-box')!.message).toContain('host-local, loopback, portmap');
  });

  it('the default add-ons (MetalLB, NFS storage): each says what it lacks and the lab.yaml change that turns it off', () => {
    const l = parseConfig('kubernetes: { version: "1.20.2", source: bundle, bundle: b, cni: bridge }\naddons: { ingress: { enabled: false } }');
    expect([l.addons.metallb.enabled, l.addons.storage.provider]).toEqual([true, 'nfs']);
    const r = checkBundle({ inventory: inventory(), probe: probe(), lab: l });
    expect(r.usable).toBe(false);
    const errors = r.findings.filter((f) => f.level === 'error');
    expect(errors.map((f) => f.code)).toEqual(['manifest-missing', 'manifest-missing', 'addon-packages-missing', 'addon-packages-missing']);
    const [mlb, nfs, server, client] = errors as [Finding, Finding, Finding, Finding];
    const m = DEFAULT_VERSIONS.metallb;
    const n = DEFAULT_VERSIONS.nfsProvisioner;
    expect(mlb.message).toBe(`MetalLB ${m} (addons.metallb.enabled is true): the bundle has no manifests/metallb/${m}/metallb-native.yaml`);
    expect(mlb.fix).toContain(`https://raw.githubusercontent.com/metallb/metallb/v${m}/config/manifests/metallb-native.yaml into manifests/metallb/${m}/metallb-native.yaml`);
    expect(mlb.fix).toContain('or do without it in lab.yaml: addons: { metallb: { enabled: false } }');
    expect(nfs.message).toBe(
      `nfs-subdir-external-provisioner ${n} (addons.storage.provider is nfs): the bundle has no ` +
        `manifests/nfs-provisioner/${n}/rbac.yaml, manifests/nfs-provisioner/${n}/deployment.yaml, manifests/nfs-provisioner/${n}/class.yaml`,
    );
    expect(nfs.fix).toContain('addons: { storage: { provider: none } }');
    expect(server.message).toContain('debs/ has no nfs-kernel-server, which the control plane (the NFS server) installs');
    expect(client.message).toContain('debs/ has no nfs-common, which every node (the NFS client) installs');
    expect(client.fix).toMatch(/^apt-get download .*nfs-common.* in debs\/ .*or do without it in lab.yaml: addons: \{ storage: \{ provider: none \} \}/);
  });

  it('add-ons whose manifests are there: their images, and the NFS packages (debs/ or rpms/)', () => {
    const l = parseConfig('kubernetes: { version: "1.20.2", source: bundle, bundle: b, cni: bridge }\naddons: { ingress: { enabled: false } }');
    const m = DEFAULT_VERSIONS.metallb;
    const n = DEFAULT_VERSIONS.nfsProvisioner;
    const files = [`metallb/${m}/metallb-native.yaml`, ...['rbac', 'deployment', 'class'].map((f) => `nfs-provisioner/${n}/${f}.yaml`)];
    const controller = `quay.io/metallb/controller:v${m}`;
    const inv = inventory({
      manifests: files,
      manifestImages: { [files[0]!]: [controller, `quay.io/metallb/speaker:v${m}`], [files[2]!]: ['registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2'] },
    }, [...K8S_IMAGES, controller]);
    inv.debs.push(parseDebFile('nfs-common_1%3a2.6.2-4+deb12u1_amd64.deb')!, parseDebFile('nfs-kernel-server_1%3a2.6.2-4+deb12u1_amd64.deb')!);
    const r = checkBundle({ inventory: inv, probe: probe(), lab: l });
    expect(r.findings.filter((f) => f.level === 'error').map((f) => f.message)).toEqual([
      `MetalLB ${m}: images/ lacks quay.io/metallb/speaker:v${m} (named by manifests/metallb/${m}/metallb-native.yaml); nothing can be pulled`,
      `nfs-subdir-external-provisioner ${n}: images/ lacks registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2 (named by manifests/nfs-provisioner/${n}/deployment.yaml); nothing can be pulled`,
    ]);
    // a RHEL-family bundle carries nfs-utils instead
    const rpm = inventory({ debs: [], rpms: [parseRpmFile('containerd.io-1.7.2-3.1.el9.x86_64.rpm')!, parseRpmFile('curl-7.76.1-29.el9.x86_64.rpm')!] });
    const rr = checkBundle({ inventory: rpm, probe: probe(), lab: l }).findings.filter((f) => f.code === 'addon-packages-missing');
    expect(rr.map((f) => f.message.split(': ')[1])).toEqual([
      'rpms/ has no nfs-utils, which the control plane (the NFS server) installs; offline, the package manager cannot download it (a box that already has it needs nothing)',
      'rpms/ has no nfs-utils, which every node (the NFS client) installs; offline, the package manager cannot download it (a box that already has it needs nothing)',
    ]);
    expect(rr[0]!.fix).toMatch(/^dnf download --resolve --destdir rpms nfs-utils/);
  });

  it('the ingress controller (on by default) needs its image, which no manifest of the bundle names', () => {
    const l = parseConfig('kubernetes: { version: "1.37.1", source: bundle, bundle: b, cni: bridge }\naddons: { metallb: { enabled: false }, storage: { provider: none } }');
    const image = `docker.io/library/traefik:v${DEFAULT_VERSIONS.traefik}`;
    const r = checkBundle({ inventory: inventory(), probe: probe(), lab: l });
    // (the fixture bundle is 1.20.2: its version mismatch is the other error, not this test's subject)
    const errors = r.findings.filter((f) => f.level === 'error' && f.code !== 'version-mismatch');
    expect(errors.map((f) => f.message)).toEqual([
      `Traefik ${DEFAULT_VERSIONS.traefik} (Ingress controller) (addons.ingress.enabled is true): images/ lacks ${image}; nothing can be pulled`,
    ]);
    expect(errors[0]!.fix).toContain('or do without it in lab.yaml: addons: { ingress: { enabled: false } }');
    // the same image by its short name (as `docker save traefik:v3.7.13` writes it) is enough
    const have = checkBundle({ inventory: inventory({}, [...K8S_IMAGES, `traefik:v${DEFAULT_VERSIONS.traefik}`]), probe: probe(), lab: l });
    expect(codes(have.findings, 'error')).toEqual(['version-mismatch']);
  });

  it('storage local-path needs its manifest at the lab\'s version, and no packages', () => {
    const l = lab('addons: { metallb: { enabled: false }, storage: { provider: local-path }, ingress: { enabled: false } }');
    const v = DEFAULT_VERSIONS.localPath;
    const r = checkBundle({ inventory: inventory(), probe: probe(), lab: l });
    expect(r.findings.filter((f) => f.level === 'error').map((f) => f.message)).toEqual([
      `local-path-provisioner ${v} (addons.storage.provider is local-path): the bundle has no manifests/local-path/${v}/local-path-storage.yaml`,
    ]);
    const ok = checkBundle({ inventory: inventory({ manifests: [`local-path/${v}/local-path-storage.yaml`] }), probe: probe(), lab: l });
    expect(codes(ok.findings, 'error')).toEqual([]);
  });

  it('lesson images the bundle lacks are named by key', () => {
    const l = parseConfig('kubernetes: { version: "1.20.2", source: bundle, bundle: b, cni: bridge }\nimages: { app: "k8slab.local/app:1" }\naddons: { ingress: { enabled: false } }');
    const w = checkBundle({ inventory: inventory(), probe: probe(), lab: l }).findings.find((f) => f.code === 'lesson-images-missing')!;
    expect(w.message).toContain('nginx=nginx');
    expect(w.message).not.toContain('app=');
  });

  it("names only the images of the lab's mysql flavor", () => {
    const missing = (extra: string) =>
      checkBundle({ inventory: inventory(), probe: probe(), lab: parseConfig(`kubernetes: { version: "1.20.2", source: bundle, bundle: b, cni: bridge }\naddons: { ingress: { enabled: false } }\n${extra}`) })
        .findings.find((f) => f.code === 'lesson-images-missing')!.message;
    const mariadb = missing('');
    expect(mariadb).toContain('mariadb=mariadb:10.11');
    expect(mariadb).not.toMatch(/\b(mysql|xtrabackup)=/);
    const mysql = missing('lessons: { mysql: { flavor: mysql } }');
    expect(mysql).toContain('mysql=mysql:5.7');
    expect(mysql).toContain('xtrabackup=gcr.io/google-samples/xtrabackup:1.0');
    expect(mysql).not.toContain('mariadb=');
  });
});

describe('required images without a runnable kubeadm', () => {
  it('core images by exact name, pause/etcd/coredns by name only', () => {
    const req = requiredImages('1.20.2', { versions: {}, errors: [], skipped: 'this host runs darwin' });
    expect(req).toContainEqual({ base: 'kube-apiserver', ref: 'k8s.gcr.io/kube-apiserver:v1.20.2' });
    expect(req).toContainEqual({ base: 'etcd' });
    expect(requiredImages('1.30.1', { versions: {}, errors: [] })).toContainEqual({ base: 'kube-proxy', ref: 'registry.k8s.io/kube-proxy:v1.30.1' });
    const inv = inventory();
    const r = checkBundle({ inventory: inv, probe: { versions: {}, errors: [], skipped: 'another OS' } });
    expect(r.skippedPhases).toEqual(['addon/coredns']);
    expect(codes(r.findings, 'info')).toContain('probe-skipped');
  });
});

describe('small parsers', () => {
  it('image references as containerd stores them', () => {
    expect(normalizeImageRef('nginx')).toBe('docker.io/library/nginx:latest');
    expect(normalizeImageRef('calico/node:v3.28.2')).toBe('docker.io/calico/node:v3.28.2');
    expect(normalizeImageRef('k8s.gcr.io/pause:3.2')).toBe('k8s.gcr.io/pause:3.2');
    expect(normalizeImageRef('localhost:5000/x')).toBe('localhost:5000/x:latest');
    expect(normalizeImageRef('k8slab.local/app:1')).toBe('k8slab.local/app:1');
    expect(imageBaseName('k8s.gcr.io/coredns/coredns:v1.8.0')).toBe('coredns');
  });

  it('package file names, epochs URL-encoded as apt-get download writes them', () => {
    expect(parseDebFile('conntrack_1%3a1.4.7-1+b2_amd64.deb')).toEqual({ file: 'conntrack_1%3a1.4.7-1+b2_amd64.deb', name: 'conntrack', version: '1:1.4.7-1+b2' });
    expect(parseDebFile('README')).toBeUndefined();
    expect(parseRpmFile('containerd.io-1.6.20-3.1.el9.x86_64.rpm')).toMatchObject({ name: 'containerd.io', version: '1.6.20-3.1.el9' });
    expect(containerdVersion([parseRpmFile('containerd.io-1.7.2-3.1.el9.x86_64.rpm')!])).toBe('1.7.2');
  });

  it('manifest image references', () => {
    const yaml = 'spec:\n  containers:\n    - name: a\n      image: docker.io/calico/cni:v3.28.2\n    - image: "calico/node:v3.28.2" # pinned\n  x: notimage: y\n';
    expect(manifestImageRefs(yaml)).toEqual(['calico/node:v3.28.2', 'docker.io/calico/cni:v3.28.2']);
  });

  it('kubeadm config API of each release', () => {
    expect([18, 20, 21, 22, 30, 31, 35].map(kubeadmApiVersion)).toEqual([
      'kubeadm.k8s.io/v1beta2',
      'kubeadm.k8s.io/v1beta2',
      'kubeadm.k8s.io/v1beta2',
      'kubeadm.k8s.io/v1beta3',
      'kubeadm.k8s.io/v1beta3',
      'kubeadm.k8s.io/v1beta4',
      'kubeadm.k8s.io/v1beta4',
    ]);
  });
});

describe('checkBundle: runtime/ release files (the stack bundle)', () => {
  const full = (c: string, r: string) => [
    `containerd/v${c}/containerd-${c}-linux-amd64.tar.gz`,
    `containerd/v${c}/containerd-${c}-linux-amd64.tar.gz.sha256sum`,
    `containerd/v${c}/containerd.service`,
    `runc/v${r}/runc.amd64`,
    `runc/v${r}/runc.sha256sum`,
  ];
  const noDebs = { debs: ['curl_7.88.1-10+deb12u14_amd64.deb'].map((f) => parseDebFile(f)!) };
  const labWith = (c: string, r: string) => lab(`addons: { metallb: { enabled: false }, storage: { provider: none }, ingress: { enabled: false } }\ncontainerd: { version: "${c}", runcVersion: "${r}" }`);

  it('the lab\'s versions in full: containerd and runc come from runtime/, no containerd package is wanted', () => {
    const r = checkBundle({ inventory: inventory({ ...noDebs, runtime: full('1.6.20', '1.1.5') }), probe: probe(), lab: labWith('1.6.20', '1.1.5') });
    expect(codes(r.findings)).toContain('runtime-release-files');
    expect(codes(r.findings)).not.toContain('no-containerd-package');
    expect(r.usable).toBe(true);
  });

  it('other versions than the lab\'s: a warning naming both and the lab.yaml change', () => {
    const r = checkBundle({ inventory: inventory({ ...noDebs, runtime: full('1.7.1', '1.1.9') }), probe: probe(), lab: labWith('1.6.20', '1.1.5') });
    const f = r.findings.find((x) => x.code === 'runtime-version-mismatch')!;
    expect(f.level).toBe('warning');
    expect(f.message).toContain('containerd 1.7.1');
    expect(f.message).toContain('the lab asks for containerd 1.6.20 and runc 1.1.5');
    expect(f.fix).toContain('containerd: { version: "1.7.1", runcVersion: "1.1.9" }');
  });

  it('a partial release: an error naming the missing file', () => {
    const files = full('1.6.20', '1.1.5').filter((f) => !f.endsWith('containerd.service'));
    const r = checkBundle({ inventory: inventory({ runtime: files }), probe: probe(), lab: labWith('1.6.20', '1.1.5') });
    const f = r.findings.find((x) => x.code === 'runtime-incomplete')!;
    expect(f.message).toBe('runtime/containerd/v1.6.20/containerd.service is missing beside the other release files');
    expect(r.usable).toBe(false);
  });
});

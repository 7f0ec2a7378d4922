// Rendering: golden files, determinism, file modes, the join's security, and the shape of the Vagrantfile.
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSecrets, type LabSecrets } from '../../src/plan/secrets.js';
import { PROVISION_DIR, TEMPLATES_DIR } from '../../src/paths.js';
import { createEngine } from '../../src/render/engine.js';
import { renderFiles, renderLab, SCRIPTS } from '../../src/render/index.js';
import { bash, settingsOf } from '../fixtures/render/bash.js';
import { FAKE_TOKEN, FIXTURE_CA_CERT, FIXTURE_SECRETS, GOLDEN_VARIANTS, VARIANTS, planFor } from '../fixtures/render/variants.js';

const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

describe.each(GOLDEN_VARIANTS)('golden files: %s', (name) => {
  const files = renderFiles(planFor(VARIANTS[name]!), FIXTURE_SECRETS);

  test('the fixture renders no private key', () => {
    expect([...files.keys()]).not.toContain('pki/ca.key');
  });

  test.each([...files.keys()])('%s matches test/golden (UPDATE_GOLDEN=1 rewrites it)', async (path) => {
    const golden = join(GOLDEN_DIR, name, path);
    const content = files.get(path)!.content;
    if (UPDATE) {
      await mkdir(dirname(golden), { recursive: true });
      await writeFile(golden, content);
    }
    expect(content).toBe(await readFile(golden, 'utf8'));
  });
});

describe('determinism', () => {
  test.each(Object.keys(VARIANTS))('%s: two renders give the same bytes', (name) => {
    const a = renderFiles(planFor(VARIANTS[name]!), FIXTURE_SECRETS);
    const b = renderFiles(planFor(VARIANTS[name]!), FIXTURE_SECRETS);
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [path, file] of a) expect(b.get(path), path).toEqual(file);
  });

  test('renderLab twice into two folders: same bytes, same modes', async () => {
    const secrets = { ...FIXTURE_SECRETS, caKey: 'not a real key: renderLab copies it as it is\n' };
    const root = await mkdtemp(join(tmpdir(), 'k8slab-render-det-'));
    try {
      const plan = planFor(VARIANTS['default']!);
      const first = await renderLab(plan, secrets, join(root, 'a'));
      await renderLab(plan, secrets, join(root, 'b'));
      for (const { path } of first) {
        const [sa, sb] = [await stat(join(root, 'a', path)), await stat(join(root, 'b', path))];
        expect(sa.mode, path).toBe(sb.mode);
        expect(await readFile(join(root, 'a', path), 'utf8')).toBe(await readFile(join(root, 'b', path), 'utf8'));
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('modes and secrets on disk', () => {
  let root: string;
  let secrets: LabSecrets;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'k8slab-render-modes-'));
    secrets = await generateSecrets();
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  test('scripts 0755, Vagrantfile and ca.crt 0644, ca.key 0600 in a 0700 folder, whatever the umask', async () => {
    const old = process.umask(0o077);
    try {
      const dir = join(root, 'lab');
      await renderLab(planFor({}, secrets.token, secrets.caCert), secrets, dir);
      const mode = async (p: string) => (await stat(join(dir, p))).mode & 0o777;
      for (const s of SCRIPTS) expect(await mode(s), s).toBe(0o755);
      expect(await mode('Vagrantfile')).toBe(0o644);
      expect(await mode('pki/ca.crt')).toBe(0o644);
      expect(await mode('pki/ca.key')).toBe(0o600);
      expect(await mode('pki')).toBe(0o700);
      expect(await readFile(join(dir, 'pki/ca.key'), 'utf8')).toBe(secrets.caKey);
      expect(await readFile(join(dir, 'pki/ca.crt'), 'utf8')).toBe(secrets.caCert);
    } finally {
      process.umask(old);
    }
  });
});

describe('join security on every variant', () => {
  test.each(Object.keys(VARIANTS))('%s: no fixed token, no skipped CA check; the lab token and CA hash are pinned', (name) => {
    const plan = planFor(VARIANTS[name]!);
    const files = renderFiles(plan, FIXTURE_SECRETS);
    for (const [path, { content }] of files) {
      expect(content, path).not.toContain('123456.1234567890123456');
      expect(content, path).not.toContain('unsafe-skip-ca-verification');
    }
    const worker = files.get('work_nodes.sh')!.content;
    expect(worker).toContain(`JOIN_TOKEN=${FAKE_TOKEN}\n`);
    expect(worker).toContain(`CA_CERT_HASH=${plan.join.caCertHash}\n`);
    expect(worker).toMatch(/--discovery-token-ca-cert-hash "\$CA_CERT_HASH"/);
    const master = files.get('master_node.sh')!.content;
    expect(master).toContain(`JOIN_TOKEN=${FAKE_TOKEN}\n`);
    expect(master).toMatch(/- token: "\$JOIN_TOKEN"\n\s+ttl: "0s"/);
  });
});

describe('Vagrantfile shape', () => {
  const vf = renderFiles(planFor(VARIANTS['default']!), FIXTURE_SECRETS).get('Vagrantfile')!.content;

  test("provisioners in the course's order, the CA uploaded before master_node.sh", () => {
    const order = [
      "path: 'config.sh', args: ['3']",
      "path: 'install_pkg.sh', args: ['1.37', 'Main']",
      `inline: 'install -d -m 0700 -o "\${SUDO_USER:-$(id -un)}" /tmp/k8slab-pki'`,
      "source: File.join(__dir__, 'pki/ca.crt')",
      "source: File.join(__dir__, 'pki/ca.key')",
      "path: 'master_node.sh'",
      "path: 'config.sh', args: ['3']",
      "path: 'install_pkg.sh', args: ['1.37']",
      "path: 'work_nodes.sh'",
    ];
    let at = 0;
    for (const step of order) {
      const found = vf.indexOf(step, at);
      expect(found, step).toBeGreaterThan(at - 1);
      at = found + step.length;
    }
  });

  test('both provider blocks, synced folder off, ssh port forwarded with auto_correct', () => {
    expect(vf).toContain('cfg.vm.provider "virtualbox" do |vb|');
    expect(vf).toContain('vb.customize ["modifyvm", :id, "--groups", VB_GROUP]');
    expect(vf).toContain('cfg.vm.provider :libvirt do |lv|');
    expect(vf).toContain('lv.forward_ssh_port = true');
    expect(vf).toContain('config.vm.synced_folder ".", "/vagrant", disabled: true');
    expect(vf).toContain('cfg.vm.network "forwarded_port", guest: 22, host: node[:ssh_port], auto_correct: true, id: "ssh"');
    expect(vf).toContain("{ name: 'w3-k8s', vm_name: 'k8slab-w3-k8s', ip: '192.168.56.103', ssh_port: 60103, cpus: 1, memory: 2560 }");
    expect(vf).toContain("CONTROL_PLANE = { name: 'm-k8s', vm_name: 'k8slab-m-k8s', ip: '192.168.56.10', ssh_port: 60010, cpus: 2, memory: 3072 }");
  });

  test('the libvirt lab carries its driver and CPU mode, and defaults vagrant to libvirt', () => {
    const lv = renderFiles(planFor(VARIANTS['libvirt-2-workers']!), FIXTURE_SECRETS).get('Vagrantfile')!.content;
    expect(lv).toContain("LIBVIRT_DRIVER = 'qemu'");
    expect(lv).toContain("LIBVIRT_CPU_MODE = 'maximum'");
    expect(lv).toContain(`ENV["VAGRANT_DEFAULT_PROVIDER"] ||= 'libvirt'`);
    expect(lv).not.toContain('w3-k8s');
  });
});

describe('script content follows the plan', () => {
  const render = (name: string) => renderFiles(planFor(VARIANTS[name]!), FIXTURE_SECRETS);

  test('a patch version is what install_pkg.sh is called with; a minor otherwise', () => {
    expect(render('k8s-patch').get('Vagrantfile')!.content).toContain("K8S_VERSION = '1.37.2'");
    expect(render('default').get('Vagrantfile')!.content).toContain("K8S_VERSION = '1.37'");
  });

  test('Calico by default with the pod CIDR and the private network; no add-ons when turned off', () => {
    const d = render('default').get('master_node.sh')!.content;
    expect(d).toContain('CALICO_URL=https://raw.githubusercontent.com/projectcalico/calico/v3.33.1/manifests/calico-vxlan.yaml');
    expect(d).toContain('CALICO_ENCAPSULATION=vxlan');
    // MetalLB (on .200-.220 of the private network) and NFS storage are on by default
    expect(d).toContain('METALLB_RANGE=192.168.56.200-192.168.56.220');
    expect(d).toMatch(/^install_nfs$/m);
    const m = render('no-addons').get('master_node.sh')!.content;
    expect(m).toContain('POD_CIDR=172.16.0.0/16');
    expect(m).toContain('PRIVATE_CIDR=192.168.56.0/24');
    expect(m).toContain('value: "cidr=$PRIVATE_CIDR"');
    expect(m).not.toMatch(/METALLB|LOCAL_PATH|NFS_|INGRESS|traefik/);
  });

  test('the ingress controller (on by default): its image by version, LoadBalancer with MetalLB, else NodePort', () => {
    const d = render('default').get('master_node.sh')!.content;
    expect(d).toContain('INGRESS_IMAGE=docker.io/library/traefik:v3.7.13');
    expect(d).toContain('INGRESS_SERVICE_TYPE=LoadBalancer');
    expect(d).toMatch(/^install_ingress$/m);
    // the manifest is kept per version, so a re-run after a version change applies the new one
    expect(d).toContain('local dir=$ADDONS_DIR/ingress/$INGRESS_VERSION');
    expect(d).toContain('ingressclass.kubernetes.io/is-default-class: "true"');
    expect(d).toContain('controller: traefik.io/ingress-controller');
    expect(render('ingress-nodeport').get('master_node.sh')!.content).toContain('INGRESS_SERVICE_TYPE=NodePort');
    const newer = renderFiles(planFor({ addons: { ingress: { version: '3.8.0' } } }), FIXTURE_SECRETS).get('master_node.sh')!.content;
    expect(newer).toContain('INGRESS_IMAGE=docker.io/library/traefik:v3.8.0');
  });

  test('calico.encapsulation: vxlan (the default) takes calico-vxlan.yaml, ipip the BIRD manifest calico.yaml', () => {
    const ipip = renderFiles(planFor({ calico: { encapsulation: 'ipip' } }), FIXTURE_SECRETS).get('master_node.sh')!.content;
    expect(ipip).toContain('CALICO_URL=https://raw.githubusercontent.com/projectcalico/calico/v3.33.1/manifests/calico.yaml\n');
    expect(ipip).toContain('CALICO_ENCAPSULATION=ipip');
    expect(() => planFor({ calico: { encapsulation: 'geneve' as 'vxlan' } })).toThrow(/calico\.encapsulation.*must be one of: vxlan, ipip/s);
  });

  test('MetalLB and local-path when enabled', () => {
    const m = render('metallb-local-path').get('master_node.sh')!.content;
    expect(m).toContain('METALLB_RANGE=192.168.56.200-192.168.56.220');
    expect(m).toContain('metallb/metallb/v0.16.2/config/manifests/metallb-native.yaml');
    expect(m).toContain('rancher/local-path-provisioner/v0.0.37/deploy/local-path-storage.yaml');
    expect(m).toMatch(/^install_metallb$/m);
    expect(m).toMatch(/^install_local_path$/m);
  });

  test('NFS: the export on the control plane, the client on every node', () => {
    const files = render('nfs');
    expect(files.get('master_node.sh')!.content).toMatch(/^install_nfs$/m);
    expect(files.get('install_pkg.sh')!.content).toContain('NFS_CLIENT=yes');
    expect(render('no-addons').get('install_pkg.sh')!.content).toContain('NFS_CLIENT=no');
  });

  test('no workers: the control plane is untainted', () => {
    expect(render('no-workers').get('master_node.sh')!.content).toContain('WORKER_COUNT=0');
    expect(render('no-workers').get('Vagrantfile')!.content).toContain('WORKERS = [\n]');
  });

  test('bundle + bridge: the offline partials replace the downloads and Calico', () => {
    const files = render('bundle-bridge');
    const install = files.get('install_pkg.sh')!.content;
    // no top-level download step; containerd and runc come from the bundle's release files, by file:// URL
    expect(install).not.toMatch(/^install_containerd$/m);
    expect(install).toMatch(/^bundle_release_runtime\(\) \{\n(?:  .*\n)*  CONTAINERD_TARBALL_URL=file:\/\/\$BUNDLE_RUNTIME\/(?:  .*\n|.*\n)*?  install_containerd\n  install_runc\n\}$/m);
    expect(files.get('master_node.sh')!.content).not.toContain('CALICO_URL');
    expect(files.get('master_node.sh')!.content).toContain('ROLE=control-plane');
    expect(files.get('work_nodes.sh')!.content).toContain('ROLE=worker');
  });

  test('the fixture certificate is the one in pki/ca.crt', () => {
    expect(render('default').get('pki/ca.crt')!.content).toBe(FIXTURE_CA_CERT);
  });
});

// Git for Windows checks text out with CRLF unless .gitattributes says otherwise; the renderer must give
// the same LF scripts from such a checkout (a CR after `pipefail` kills every script under bash).
describe('a CRLF checkout of the templates and provision pieces', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'k8slab-render-crlf-'));
    await cp(TEMPLATES_DIR, join(root, 'templates'), { recursive: true });
    await cp(PROVISION_DIR, join(root, 'provision'), { recursive: true });
    for (const dir of ['templates', 'templates/partials', 'provision']) {
      for (const f of await readdir(join(root, dir))) {
        if (!/\.(hbs|sh)$/.test(f)) continue;
        const file = join(root, dir, f);
        await writeFile(file, (await readFile(file, 'utf8')).replace(/\n/g, '\r\n'));
      }
    }
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  test.each(Object.keys(VARIANTS))('%s: the same bytes as from an LF checkout, and bash runs them', async (name) => {
    const crlfTemplate = await readFile(join(root, 'templates', 'config.sh.hbs'), 'utf8');
    expect(crlfTemplate).toContain('set -euo pipefail\r\n'); // the input really is CRLF
    const engine = createEngine({ templates: join(root, 'templates'), provision: join(root, 'provision') });
    const crlf = renderFiles(planFor(VARIANTS[name]!), FIXTURE_SECRETS, engine);
    const lf = renderFiles(planFor(VARIANTS[name]!), FIXTURE_SECRETS);
    for (const [path, file] of lf) expect(crlf.get(path)!.content, path).toBe(file.content);
    for (const s of SCRIPTS) {
      const r = await bash(`${settingsOf(crlf.get(s)!.content)}echo settings-ok`);
      expect([r.exitCode, r.stderr, r.stdout], s).toEqual([0, '', 'settings-ok']);
    }
  });
});

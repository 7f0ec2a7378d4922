// master_node.sh's kubeadm config, as write_kubeadm_config renders it, read by a real kubeadm (the testbed's
// v1.20.2 build, API kubeadm.k8s.io/v1beta2): `kubeadm config images list --config` parses every document,
// and the images it names carry the version the config pins (the installed kubeadm's own, issue 13 item 8).
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROVISION_DIR } from '../../src/paths.js';
import { renderFiles } from '../../src/render/index.js';
import { functionFrom } from '../fixtures/render/bash.js';
import { FIXTURE_SECRETS, planFor } from '../fixtures/render/variants.js';
import { CACHE } from '../testbed.js';

const KUBEADM = join(CACHE, 'k8s/v1.20.2/bin/kubeadm');
const piece = (name: string) => readFileSync(join(PROVISION_DIR, `${name}.sh`), 'utf8');

describe.skipIf(!existsSync(KUBEADM))('the kubeadm config, read by kubeadm v1.20.2', () => {
  const master = renderFiles(planFor({}), FIXTURE_SECRETS).get('master_node.sh')!.content;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-kubeadm-config-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const write = async (name: string, version: string, container: boolean) => {
    const file = join(dir, `${name}.yaml`);
    const code = [
      piece('log'),
      piece('files'),
      `KUBEADM_CONFIG=${file}`,
      'JOIN_TOKEN=abcdef.0123456789abcdef NODE_IP=192.168.56.10 NODE_NAME=m-k8s POD_CIDR=172.16.0.0/16 SERVICE_CIDR=10.96.0.0/12',
      `systemd-detect-virt() { [[ \${2:-} == -q ]] || echo systemd-nspawn; return ${container ? 0 : 1}; }`,
      functionFrom(master, 'in_container'),
      functionFrom(master, 'write_kubeadm_config'),
      `write_kubeadm_config ${version}`,
    ].join('\n');
    const r = await execa('bash', ['--noprofile', '--norc', '-c', code], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    return file;
  };
  const images = (file: string) => execa(KUBEADM, ['config', 'images', 'list', '--config', file], { reject: false });

  test.each([false, true])('in a container: %s. kubeadm reads every document; the images are the pinned version', async (container) => {
    const version = (await execa(KUBEADM, ['version', '-o', 'short'])).stdout;
    expect(version).toBe('v1.20.2');
    const file = await write(`init-${container}`, version, container);
    expect((await readFile(file, 'utf8')).includes('kind: KubeProxyConfiguration')).toBe(container);
    const r = await images(file);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('k8s.gcr.io/kube-apiserver:v1.20.2');
    expect(r.stdout).toContain('k8s.gcr.io/kube-proxy:v1.20.2');
  });

  test('control: kubeadm refuses a KubeProxyConfiguration it cannot read, so the check above can fail', async () => {
    const file = await write('broken', 'v1.20.2', true);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('maxPerCore: 0', 'maxPerCore: zero'));
    expect((await images(file)).exitCode).not.toBe(0);
  });

  test('the version comes from the config, not from kubeadm\'s default (another patch gives other images)', async () => {
    const r = await images(await write('other-patch', 'v1.20.9', false));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('k8s.gcr.io/kube-apiserver:v1.20.9');
  });
});

describe.skipIf(!existsSync(KUBEADM))('the API server certificate names the extra addresses (provider: machines)', () => {
  test('kubeadm v1.20.2 reads apiServer.certSANs beside the timeout and puts them in apiserver.crt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'k8slab-cert-sans-'));
    try {
      const master = renderFiles(planFor({}), FIXTURE_SECRETS).get('master_node.sh')!.content;
      const file = join(dir, 'init.yaml');
      const code = [
        piece('log'),
        piece('files'),
        `KUBEADM_CONFIG=${file}`,
        'JOIN_TOKEN=abcdef.0123456789abcdef NODE_IP=192.168.56.10 NODE_NAME=m-k8s POD_CIDR=172.16.0.0/16 SERVICE_CIDR=10.96.0.0/12',
        'API_SERVER_CERT_SANS=203.0.113.10,cp.example.net',
        'systemd-detect-virt() { return 1; }',
        functionFrom(master, 'in_container'),
        functionFrom(master, 'write_kubeadm_config'),
        'write_kubeadm_config v1.20.2',
      ].join('\n');
      const w = await execa('bash', ['--noprofile', '--norc', '-c', code], { reject: false });
      expect(w.exitCode, w.stderr).toBe(0);
      // the certificates go to the scratch folder, not /etc/kubernetes/pki
      await writeFile(file, (await readFile(file, 'utf8')).replace('kind: ClusterConfiguration\n', `kind: ClusterConfiguration\ncertificatesDir: ${dir}/pki\n`));
      for (const phase of ['ca', 'apiserver']) {
        const r = await execa(KUBEADM, ['init', 'phase', 'certs', phase, '--config', file], { reject: false });
        expect(r.exitCode, r.stderr).toBe(0);
      }
      const sans = (await execa('openssl', ['x509', '-in', join(dir, 'pki', 'apiserver.crt'), '-noout', '-ext', 'subjectAltName'])).stdout;
      expect(sans).toContain('IP Address:203.0.113.10');
      expect(sans).toContain('DNS:cp.example.net');
      expect(sans).toContain('IP Address:192.168.56.10');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

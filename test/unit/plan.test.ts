// The plan: a pure function of config + secrets; secrets are fresh per lab and the CA hash is what kubeadm pins.
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { makePlan } from '../../src/plan/plan.js';
import { TOKEN_PATTERN, caCertHash, generateSecrets, generateToken, type LabSecrets } from '../../src/plan/secrets.js';

// One CA for the whole file: RSA key generation is the slow part.
const secrets: Promise<LabSecrets> = generateSecrets();

/** The hash exactly as kubeadm's docs compute it, with the real openssl. */
function opensslCaHash(pem: string): string {
  const pub = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: pem });
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const sum = execFileSync('sha256sum', [], { input: der }).toString().split(' ')[0]!;
  return `sha256:${sum}`;
}

describe('makePlan', () => {
  it('plans the course topology from the defaults', async () => {
    const plan = makePlan(parseConfig(''), await secrets);
    expect(plan.nodes.map((n) => ({ ...n }))).toEqual([
      { name: 'm-k8s', role: 'control-plane', ip: '192.168.56.10', sshPort: 60010, cpus: 2, memory: 3072, index: 0 },
      { name: 'w1-k8s', role: 'worker', ip: '192.168.56.101', sshPort: 60101, cpus: 1, memory: 2560, index: 1 },
      { name: 'w2-k8s', role: 'worker', ip: '192.168.56.102', sshPort: 60102, cpus: 1, memory: 2560, index: 2 },
      { name: 'w3-k8s', role: 'worker', ip: '192.168.56.103', sshPort: 60103, cpus: 1, memory: 2560, index: 3 },
    ]);
    expect(plan.controlPlane).toBe(plan.nodes[0]);
    expect(plan.workers).toEqual(plan.nodes.slice(1));
    expect(plan.network).toEqual({ private: '192.168.56.0/24', podCidr: '172.16.0.0/16', serviceCidr: '10.96.0.0/12' });
    expect(plan.kubernetes).toMatchObject({ minor: '1.37', source: 'pkgs.k8s.io', cni: 'calico', apiServer: '192.168.56.10:6443' });
    expect(plan.kubernetes.patch).toBeUndefined();
    expect(plan.box).toBe('bento/ubuntu-24.04');
    expect(plan.virtualbox.group).toBe('/k8slab');
    expect(plan.boxVersion).toBe('202404.26.0');
    expect(plan.versions).toEqual({ containerd: '2.3.7', runc: '1.4.4', calico: '3.33.1' });
    // MetalLB is on by default, with .200-.220 of the private network
    expect(plan.addons.metallb).toEqual({ version: '0.16.2', range: { first: '192.168.56.200', last: '192.168.56.220' } });
    expect(plan.addons.storage.provider).toBe('nfs');
  });

  it('follows the config: libvirt, two workers, a full version, MetalLB', async () => {
    const config = parseConfig(`
provider: libvirt
box: { libvirt: generic/debian12 }
workers: { count: 2, sshPortBase: 61000 }
kubernetes: { version: "1.33.4" }
calico: { version: 3.30.3 }
addons: { metallb: { enabled: true, range: 192.168.56.200-192.168.56.210 } }
`);
    const plan = makePlan(config, await secrets);
    expect(plan.box).toBe('generic/debian12');
    expect(plan.workers.map((w) => [w.name, w.sshPort])).toEqual([
      ['w1-k8s', 61001],
      ['w2-k8s', 61002],
    ]);
    expect(plan.kubernetes).toMatchObject({ minor: '1.33', patch: '1.33.4' });
    expect(plan.boxVersion).toBeUndefined();
    expect(plan.addons.metallb).toEqual({ version: '0.16.2', range: { first: '192.168.56.200', last: '192.168.56.210' } });
  });

  it('is pure: the same input gives the same plan, and the input is not changed', async () => {
    const s = await secrets;
    const config = parseConfig('workers:\n  count: 2');
    const frozen = JSON.stringify(config);
    const a = makePlan(config, s);
    const b = makePlan(structuredClone(config), { ...s });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(config)).toBe(frozen);
  });

  it('carries the lab token and the CA hash of the lab CA, never a fixed token', async () => {
    const s = await secrets;
    const plan = makePlan(parseConfig(''), s);
    expect(plan.join.token).toBe(s.token);
    expect(plan.join.caCertHash).toBe(caCertHash(s.caCert));
    // The course's fixed token must never appear.
    expect(JSON.stringify(plan)).not.toContain('123456.1234567890123456');
  });
});

describe('lab secrets', () => {
  it('tokens match kubeadm\'s pattern and are fresh each time', () => {
    const tokens = Array.from({ length: 50 }, generateToken);
    for (const t of tokens) expect(t).toMatch(TOKEN_PATTERN);
    expect(new Set(tokens).size).toBe(50);
  });

  it('two labs get different tokens and different CAs', async () => {
    const [a, b] = [await secrets, await generateSecrets()];
    expect(a.token).not.toBe(b.token);
    expect(a.caCert).not.toBe(b.caCert);
    expect(caCertHash(a.caCert)).not.toBe(caCertHash(b.caCert));
  });

  it('the CA is a CA for "kubernetes" and its key matches the certificate', async () => {
    const s = await secrets;
    const cert = new X509Certificate(s.caCert);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=kubernetes');
    expect(cert.checkPrivateKey(createPrivateKey(s.caKey))).toBe(true);
    expect(cert.verify(createPublicKey(s.caCert))).toBe(true);
    // kubeadm wants years of validity
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(9 * 365 * 24 * 3600_000);
  });

  it("caCertHash equals openssl's `x509 -pubkey | pkey -pubin -outform der | sha256sum`", async () => {
    const s = await secrets;
    const hash = caCertHash(s.caCert);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hash).toBe(opensslCaHash(s.caCert));
  });

  it('openssl itself accepts the CA and its key (the files kubeadm will read)', async () => {
    const s = await secrets;
    const certMod = execFileSync('openssl', ['x509', '-noout', '-modulus'], { input: s.caCert }).toString();
    const keyMod = execFileSync('openssl', ['rsa', '-noout', '-modulus'], { input: s.caKey }).toString();
    expect(certMod).toMatch(/^Modulus=[0-9A-F]{512}\n$/);
    expect(keyMod).toBe(certMod);
  });
});

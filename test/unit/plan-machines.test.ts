// provider: machines in the plan: each node's SSH target beside its private address, and the API server
// certificate's extra address when the host reaches the control plane by another one.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { makePlan } from '../../src/plan/plan.js';
import { makeView } from '../../src/render/view.js';
import { apiServerAddresses } from '../../src/cluster/kubeconfig.js';

// makePlan only hashes the CA's public key: any certificate will do (a fixed EC one, quicker than a new RSA CA).
const secrets = { token: 'abcdef.0123456789abcdef', caCert: '' };
const lab = (cp: string) =>
  parseConfig(`provider: machines
workers:
  count: 1
network:
  private: 10.0.0.0/24
machines:
  ssh:
    user: debian
    keyFile: /keys/id
  controlPlane:
    address: ${cp}
  workers:
    - address: 203.0.113.11
      privateIp: 10.0.0.57
      port: 2222
`);

describe('makePlan: provider machines', () => {
  it('plans each machine with its node name, private address and SSH target', () => {
    const plan = makePlan(lab('203.0.113.10'), { ...secrets, caCert: CA });
    expect(plan.machines).toEqual([
      { name: 'm-k8s', role: 'control-plane', privateIp: '10.0.0.10', address: '203.0.113.10', port: 22, user: 'debian', keyFile: '/keys/id' },
      { name: 'w1-k8s', role: 'worker', privateIp: '10.0.0.57', address: '203.0.113.11', port: 2222, user: 'debian', keyFile: '/keys/id' },
    ]);
    expect(plan.workers[0]!.ip).toBe('10.0.0.57');
    expect(plan.box).toBe('');
  });

  it('the API server certificate carries the control plane\'s SSH address when it is not the private one', () => {
    expect(makePlan(lab('203.0.113.10'), { ...secrets, caCert: CA }).kubernetes.certSans).toEqual(['203.0.113.10']);
    expect(makePlan(lab('cp.example.net'), { ...secrets, caCert: CA }).kubernetes.certSans).toEqual(['cp.example.net']);
    expect(makePlan(lab('10.0.0.10'), { ...secrets, caCert: CA }).kubernetes.certSans).toEqual([]);
    expect(makeView(makePlan(lab('203.0.113.10'), { ...secrets, caCert: CA })).apiServerCertSans).toBe('203.0.113.10');
    expect(apiServerAddresses(makePlan(lab('203.0.113.10'), { ...secrets, caCert: CA }))).toEqual(['10.0.0.10', '203.0.113.10']);
  });

  it('a Vagrant lab has no machines and no extra certificate address', () => {
    const plan = makePlan(parseConfig(''), { ...secrets, caCert: CA });
    expect(plan.machines).toBeUndefined();
    expect(plan.kubernetes.certSans).toEqual([]);
  });
});

const CA = `-----BEGIN CERTIFICATE-----
MIIBfjCCASWgAwIBAgIURl7V6HyU2mHYWY5NtLYzJXPre+MwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjExMzAxNzE2MzBaFw0zNjExMjcx
NzE2MzBaMBUxEzARBgNVBAMMCmt1YmVybmV0ZXMwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATdJUtq6zVFXR9IHgZIBJRfSJSk2MOp0neGj29n4mt3f3E59HG6h5fh
ANW8dEUJbyV9UtcVbBJtX8AAJbihd1wFo1MwUTAdBgNVHQ4EFgQUkamRTxtSnzn+
yxm0/VTkmBjl47IwHwYDVR0jBBgwFoAUkamRTxtSnzn+yxm0/VTkmBjl47IwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiB7Ks6LhEvRI7B2yUsR+z8G
CO42eEGB0gY2i9Dx9PoOZwIgCwx7C9veUJdKCpWJJWinkctKI8/wmORMaX4g1w2v
b+4=
-----END CERTIFICATE-----
`;

describe('render: the API server certificate names the control plane\'s SSH address', () => {
  it('master_node.sh carries the addresses, and an empty value for a Vagrant lab', async () => {
    const { renderFiles } = await import('../../src/render/index.js');
    const machines = renderFiles(makePlan(lab('203.0.113.10'), { ...secrets, caCert: CA }), { caCert: CA });
    expect(machines.get('master_node.sh')!.content).toMatch(/^API_SERVER_CERT_SANS=203\.0\.113\.10$/m);
    expect(machines.get('master_node.sh')!.content).toContain('certSANs: [$API_SERVER_CERT_SANS]');
    const vagrant = renderFiles(makePlan(parseConfig(''), { ...secrets, caCert: CA }), { caCert: CA });
    expect(vagrant.get('master_node.sh')!.content).toMatch(/^API_SERVER_CERT_SANS=''$/m);
  });
});

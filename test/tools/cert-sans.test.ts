// kubeadm init's config (master_node.sh's write_kubeadm_config): its apiServer line, evaluated by bash exactly
// as written, must be valid YAML with the timeout (old kubeadm APIs) and the certificate's extra addresses.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const partial = readFileSync(join(__dirname, '..', '..', 'templates', 'master_node.sh.hbs'), 'utf8');
const lines = partial.split('\n').filter((l) => /^\s+(api_server=|if \[\[ -n \$api_server \]\])/.test(l));

function apiServer(cpTimeout: string, sans: string): unknown {
  const out = execFileSync('bash', ['-c', `cp_timeout=${JSON.stringify(cpTimeout)}; API_SERVER_CERT_SANS=${JSON.stringify(sans)}; api_server=''\n${lines.join('\n')}\nprintf '%s' "$api_server"`], { encoding: 'utf8' });
  return out === '' ? null : parse(out);
}

describe('write_kubeadm_config: apiServer in the ClusterConfiguration', () => {
  it('has the two lines it evaluates', () => expect(lines).toHaveLength(2));
  it('timeout and extra addresses (v1beta2/v1beta3)', () => {
    expect(apiServer('timeoutForControlPlane: 10m0s', '203.0.113.10,cp.example.net')).toEqual({
      apiServer: { timeoutForControlPlane: '10m0s', certSANs: ['203.0.113.10', 'cp.example.net'] },
    });
  });
  it('extra addresses only (v1beta4 has no timeout there)', () => {
    expect(apiServer('', '203.0.113.10')).toEqual({ apiServer: { certSANs: ['203.0.113.10'] } });
  });
  it('the timeout only (a Vagrant lab), and nothing at all', () => {
    expect(apiServer('timeoutForControlPlane: 10m0s', '')).toEqual({ apiServer: { timeoutForControlPlane: '10m0s' } });
    expect(apiServer('', '')).toBeNull();
  });
});

// lab.yaml with provider: machines: the machines block, its defaults, and every bad input named by path,
// value and what is allowed. Key files are host I/O: they are checked by loadConfigFile only.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { nodeAddresses } from '../../src/config/cross-check.js';
import { machineTargets, resolveKeyFile } from '../../src/config/machines.js';
import { type BadCase, expectRefused } from '../config-helpers.js';

const TWO_VMS = `provider: machines
workers:
  count: 2
network:
  private: 10.0.0.0/24
machines:
  ssh:
    user: debian
    keyFile: ./id_lab
  controlPlane:
    address: 203.0.113.10
  workers:
    - address: 203.0.113.11
    - address: node3.example.net
      port: 2222
      user: admin
`;

describe('lab.yaml: provider machines, good input', () => {
  it('fills each machine from machines.ssh and keeps the lab names and planned private addresses', () => {
    const c = parseConfig(TWO_VMS);
    expect(c.provider).toBe('machines');
    expect(machineTargets(c.machines).map((t) => [t.path, t.address, t.port, t.user, t.keyFile])).toEqual([
      ['machines.controlPlane', '203.0.113.10', 22, 'debian', './id_lab'],
      ['machines.workers.0', '203.0.113.11', 22, 'debian', './id_lab'],
      ['machines.workers.1', 'node3.example.net', 2222, 'admin', './id_lab'],
    ]);
    expect(nodeAddresses(c).map((n) => [n.name, n.ip])).toEqual([
      ['m-k8s', '10.0.0.10'],
      ['w1-k8s', '10.0.0.101'],
      ['w2-k8s', '10.0.0.102'],
    ]);
  });

  it('machines.ssh defaults to root on port 22 with ~/.ssh/id_ed25519', () => {
    const c = parseConfig('provider: machines\nworkers:\n  count: 0\nmachines:\n  controlPlane:\n    address: 10.1.1.1');
    expect(c.machines?.ssh).toEqual({ port: 22, user: 'root', keyFile: '~/.ssh/id_ed25519' });
  });

  it('a machine may bring its own private address (a cloud VM\'s), inside network.private', () => {
    const c = parseConfig(`${TWO_VMS.replace('    address: 203.0.113.10', '    address: 203.0.113.10\n    privateIp: 10.0.0.4')}`);
    expect(nodeAddresses(c)[0]).toMatchObject({ name: 'm-k8s', ip: '10.0.0.4', path: 'machines.controlPlane.privateIp' });
  });

  it('the same address on two ports is two machines (port forwards to one host)', () => {
    const yaml = 'provider: machines\nworkers:\n  count: 1\nmachines:\n  controlPlane:\n    address: 127.0.0.1\n    port: 2201\n  workers:\n    - address: 127.0.0.1\n      port: 2202';
    expect(() => parseConfig(yaml)).not.toThrow();
  });

  it('Vagrant-only fields at their defaults (as `k8slab init` writes them) are accepted', () => {
    const yaml = `${TWO_VMS}controlPlane:\n  cpus: 2\n  memory: 3072\n  sshPort: 60010\nbox:\n  virtualbox: bento/ubuntu-24.04\nlibvirt:\n  driver: kvm\n`;
    expect(() => parseConfig(yaml)).not.toThrow();
  });
});

const M = 'provider: machines\nworkers:\n  count: 1\nmachines:\n  controlPlane:\n    address: 203.0.113.10\n  workers:\n    - address: 203.0.113.11\n';

const BAD: BadCase[] = [
  { name: 'machines block missing', yaml: 'provider: machines', path: 'machines', allowed: /required with provider: machines.*controlPlane: \{ address:/ },
  { name: 'control-plane machine missing', yaml: 'provider: machines\nworkers:\n  count: 0\nmachines:\n  ssh:\n    user: root', path: 'machines.controlPlane', allowed: /required with provider: machines/ },
  { name: 'machine count not matching workers.count (default 3)', yaml: 'provider: machines\nmachines:\n  controlPlane:\n    address: 203.0.113.10\n  workers:\n    - address: 203.0.113.11', path: 'machines.workers', found: '1', allowed: /lists 1 machine but workers.count is 3; list one machine per worker, or set workers.count: 1/ },
  { name: 'two nodes on one SSH address', yaml: M.replace('203.0.113.11', '203.0.113.10'), path: 'machines.workers.0.address', found: '"203.0.113.10"', allowed: /203.0.113.10 port 22 is already machines.controlPlane's SSH address/ },
  { name: 'two nodes on one DNS name, any case', yaml: M.replace('203.0.113.10', 'Node.example.net').replace('203.0.113.11', 'node.example.net'), path: 'machines.workers.0.address', found: '"node.example.net"', allowed: /already machines.controlPlane's SSH address/ },
  { name: 'private address outside network.private', yaml: M.replace('    - address: 203.0.113.11', '    - address: 203.0.113.11\n      privateIp: 10.9.9.9'), path: 'machines.workers.0.privateIp', found: '"10.9.9.9"', allowed: /w1-k8s would get 10.9.9.9, which is not a usable host address in network.private 192.168.56.0\/24/ },
  { name: 'private address equal to another node\'s', yaml: M.replace('    - address: 203.0.113.11', '    - address: 203.0.113.11\n      privateIp: 192.168.56.10'), path: 'machines.workers.0.privateIp', found: '"192.168.56.10"', allowed: /already used by m-k8s/ },
  { name: 'private address not an address', yaml: M.replace('    address: 203.0.113.10', '    address: 203.0.113.10\n    privateIp: m-k8s'), path: 'machines.controlPlane.privateIp', found: '"m-k8s"', allowed: /IPv4 address inside network.private/ },
  { name: 'SSH address with a shell character', yaml: M.replace('203.0.113.11', '"host;reboot"'), path: 'machines.workers.0.address', found: '"host;reboot"', allowed: /IPv4 address or a DNS name/ },
  { name: 'SSH address a bad IPv4', yaml: M.replace('203.0.113.11', '203.0.113.300'), path: 'machines.workers.0.address', found: '"203.0.113.300"', allowed: /IPv4 address or a DNS name/ },
  { name: 'SSH address missing', yaml: M.replace('    - address: 203.0.113.11', '    - port: 22'), path: 'machines.workers.0.address', allowed: /IPv4 address or a DNS name/ },
  { name: 'SSH port 0', yaml: `${M}  ssh:\n    port: 0\n`, path: 'machines.ssh.port', found: '0', allowed: /at least 1 \(the machine's SSH port\)/ },
  { name: 'SSH port of a machine above 65535', yaml: M.replace('    address: 203.0.113.10', '    address: 203.0.113.10\n    port: 70000'), path: 'machines.controlPlane.port', found: '70000', allowed: /at most 65535/ },
  { name: 'user with a space', yaml: `${M}  ssh:\n    user: "my user"\n`, path: 'machines.ssh.user', found: '"my user"', allowed: /login name such as root or ubuntu/ },
  { name: 'empty key file', yaml: `${M}  ssh:\n    keyFile: ""\n`, path: 'machines.ssh.keyFile', found: '""', allowed: /path of an SSH private key/ },
  { name: 'workers as a mapping', yaml: 'provider: machines\nmachines:\n  controlPlane:\n    address: 203.0.113.10\n  workers:\n    w1: 203.0.113.11', path: 'machines.workers', found: 'a mapping', allowed: /list of machines, one per worker/ },
  { name: 'unknown machine setting', yaml: M.replace('    - address: 203.0.113.11', '    - address: 203.0.113.11\n      ip: 192.168.56.101'), path: 'machines.workers.0.ip', allowed: /unknown setting/ },
  { name: 'machines block with provider virtualbox', yaml: M.replace('provider: machines', 'provider: virtualbox'), path: 'machines', allowed: /only used with provider: machines/ },
  { name: 'unknown provider lists machines', yaml: 'provider: ssh', path: 'provider', found: '"ssh"', allowed: /one of: virtualbox, libvirt, machines/ },
  // Vagrant-only fields changed from their defaults would silently do nothing.
  { name: 'control-plane memory with machines', yaml: `${M}controlPlane:\n  memory: 8192\n`, path: 'controlPlane.memory', found: '8192', allowed: /means nothing with provider: machines.*remove it/ },
  { name: 'worker CPUs with machines', yaml: M.replace('  count: 1\n', '  count: 1\n  cpus: 4\n'), path: 'workers.cpus', found: '4', allowed: /means nothing with provider: machines/ },
  { name: 'SSH port forward with machines', yaml: `${M}controlPlane:\n  sshPort: 2222\n`, path: 'controlPlane.sshPort', found: '2222', allowed: /means nothing with provider: machines/ },
  { name: 'a box with machines', yaml: `${M}box:\n  libvirt: debian/bookworm64\n`, path: 'box.libvirt', found: '"debian/bookworm64"', allowed: /means nothing with provider: machines/ },
  { name: 'a box version with machines', yaml: `${M}box:\n  version: "202404.26.0"\n`, path: 'box.version', found: '"202404.26.0"', allowed: /means nothing with provider: machines/ },
  { name: 'libvirt driver with machines', yaml: `${M}libvirt:\n  driver: qemu\n`, path: 'libvirt.driver', found: '"qemu"', allowed: /means nothing with provider: machines/ },
];

describe('lab.yaml: provider machines, bad input', () => {
  it.each(BAD)('$name', (c) => expectRefused(c));
});

describe('lab.yaml: provider machines, key files (checked when the file is loaded)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-machines-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a key file that does not exist names the field, the value and the resolved path', async () => {
    await writeFile(join(dir, 'lab.yaml'), TWO_VMS);
    const err = await loadConfigFile(join(dir, 'lab.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toContain(`machines.ssh.keyFile (found "./id_lab"): cannot read the SSH private key ${join(dir, 'id_lab')} (ENOENT)`);
    expect((err as ConfigError).problems).toHaveLength(1);
  });

  it('a machine\'s own key file is checked under its own path; a folder is not a key', async () => {
    await writeFile(join(dir, 'id_lab'), 'key');
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'lab.yaml'), TWO_VMS.replace('      user: admin', '      user: admin\n      keyFile: keys'));
    const err = (await loadConfigFile(join(dir, 'lab.yaml')).catch((e: unknown) => e)) as ConfigError;
    expect(err.problems.map((p) => [p.path, p.value])).toEqual([['machines.workers.1.keyFile', 'keys']]);
    expect(err.message).toContain('(not a file)');
  });

  it('existing keys load, resolved against lab.yaml\'s folder', async () => {
    await writeFile(join(dir, 'id_lab'), 'key');
    await writeFile(join(dir, 'lab.yaml'), TWO_VMS);
    const c = await loadConfigFile(join(dir, 'lab.yaml'));
    expect(machineTargets(c.machines).map((t) => t.keyFile)).toEqual(Array(3).fill(join(dir, 'id_lab')));
  });

  it('resolveKeyFile: ~/ is the home folder, relative is beside lab.yaml, absolute stays', () => {
    expect(resolveKeyFile('~/.ssh/id', '/lab', '/home/u')).toBe('/home/u/.ssh/id');
    expect(resolveKeyFile('keys/id', '/lab', '/home/u')).toBe('/lab/keys/id');
    expect(resolveKeyFile('/k/id', '/lab', '/home/u')).toBe('/k/id');
  });
});

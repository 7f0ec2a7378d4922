// doctor on provider: machines: the probe's output parsed into facts, and the pure judge fed with facts,
// each check seen passing and failing, each failure naming its fix.
import { describe, expect, it } from 'vitest';
import type { MachineNode } from '../../src/plan/plan.js';
import { parseProbe, type MachineFacts } from '../../src/doctor/machines/probe.js';
import { judgeMachines, type MachineProbe } from '../../src/doctor/machines/judge.js';
import { doctorMachines, type MachineRunner } from '../../src/doctor/machines/gather.js';
import type { CheckResult } from '../../src/doctor/types.js';
import { runDoctor } from '../../src/doctor/run.js';
import type { Host } from '../../src/doctor/host.js';
import { parseConfig } from '../../src/config/load.js';

const PROBE_OUTPUT = `user=debian
uid=1000
sudo=ok
os_id=debian
os_like=
os_version=12
os_pretty=Debian GNU/Linux 12 (bookworm)
arch=x86_64
kernel=6.1.0-18-amd64
cpus=2
mem_kib=4028440
swap_kib=0
disk_path=/var/lib
disk_free_kib=20971520
hostname=cp1
product_uuid=4C4C4544-0042-4810-8050-B5C04F4A3332
mac=eth0 52:54:00:AA:00:01
ip=yes
addr=lo 127.0.0.1/8
addr=eth0 203.0.113.10/24
addr=eth1 10.0.0.10/24
ss=yes
listen=22
listen=53
cgroup_fs=cgroup2fs
resolv=/etc/resolv.conf 2
now=1796053575
`;

describe('parseProbe', () => {
  it('reads every key of the probe', () => {
    expect(parseProbe(PROBE_OUTPUT)).toEqual({
      user: 'debian',
      uid: 1000,
      sudo: 'ok',
      os: { id: 'debian', like: '', version: '12', pretty: 'Debian GNU/Linux 12 (bookworm)' },
      arch: 'x86_64',
      kernel: '6.1.0-18-amd64',
      cpus: 2,
      memMiB: 3934,
      swapMiB: 0,
      disk: { path: '/var/lib', freeMiB: 20480 },
      hostname: 'cp1',
      productUuid: '4c4c4544-0042-4810-8050-b5c04f4a3332',
      macs: [{ ifname: 'eth0', mac: '52:54:00:aa:00:01' }],
      addresses: [
        { ifname: 'lo', address: '127.0.0.1', prefixlen: 8 },
        { ifname: 'eth0', address: '203.0.113.10', prefixlen: 24 },
        { ifname: 'eth1', address: '10.0.0.10', prefixlen: 24 },
      ],
      listening: [22, 53],
      container: undefined,
      cgroupFs: 'cgroup2fs',
      resolver: { file: '/etc/resolv.conf', nameservers: 2 },
      provisionedByK8slab: false,
      nowSec: 1796053575,
    });
  });

  it('a point-to-point address ("inet A peer B/32") has no prefix of its own: /32', () => {
    expect(parseProbe('ip=yes\naddr=eth0 192.168.56.240\n').addresses).toEqual([{ ifname: 'eth0', address: '192.168.56.240', prefixlen: 32 }]);
  });

  it('a missing tool is unknown, not empty: no `ip` gives no addresses, no `ss` no ports', () => {
    const f = parseProbe(PROBE_OUTPUT.replace(/^(ip|ss)=yes\n/gm, '').replace(/^(addr|listen)=.*\n/gm, ''));
    expect(f.addresses).toBeUndefined();
    expect(f.listening).toBeUndefined();
    expect(parseProbe(PROBE_OUTPUT.replace(/^listen=.*\n/gm, '')).listening).toEqual([]);
  });
});

const node = (name: string, role: MachineNode['role'], privateIp: string, address: string): MachineNode => ({
  name,
  role,
  privateIp,
  address,
  port: 22,
  user: 'debian',
  keyFile: '/keys/id',
});
const CP = node('m-k8s', 'control-plane', '10.0.0.10', '203.0.113.10');
const W1 = node('w1-k8s', 'worker', '10.0.0.101', '203.0.113.11');
const HOST_MS = 1796053575_000;

const base = parseProbe(PROBE_OUTPUT);
const w1Facts: MachineFacts = {
  ...base,
  hostname: 'w1',
  productUuid: 'aaaa-bbbb',
  macs: [{ ifname: 'eth0', mac: '52:54:00:aa:00:02' }],
  addresses: [{ ifname: 'eth1', address: '10.0.0.101', prefixlen: 24 }],
};

const probe = (n: MachineNode, facts: MachineFacts): MachineProbe => ({
  node: n,
  outcome: { ok: true, facts, hostBeforeMs: HOST_MS - 200, hostAfterMs: HOST_MS + 300 },
});

function judgeCp(cp: Partial<MachineFacts>, w1: Partial<MachineFacts> = {}, minor = 37): CheckResult[] {
  return judgeMachines([probe(CP, { ...base, ...cp }), probe(W1, { ...w1Facts, ...w1 })], minor);
}
const find = (results: CheckResult[], name: string): CheckResult => {
  const r = results.find((x) => x.name === name);
  if (!r) throw new Error(`no ${name} in ${results.map((x) => x.name).join(', ')}`);
  return r;
};

describe('judgeMachines', () => {
  it('two good machines pass every check, per node', () => {
    const results = judgeCp({});
    expect(results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(results.map((r) => r.name)).toEqual(
      ['ssh', 'os', 'cpus', 'memory', 'disk', 'private-ip', 'unique', 'ports', 'swap', 'cgroups', 'dns', 'clock'].flatMap((c) => `m-k8s ${c}`).concat(
        ['ssh', 'os', 'cpus', 'memory', 'disk', 'private-ip', 'unique', 'ports', 'swap', 'cgroups', 'dns', 'clock'].map((c) => `w1-k8s ${c}`),
      ),
    );
  });

  interface Bad {
    name: string;
    cp?: Partial<MachineFacts>;
    w1?: Partial<MachineFacts>;
    check: string;
    status: 'warn' | 'fail';
    detail: RegExp;
    fix: RegExp;
  }
  const BAD: Bad[] = [
    { name: 'sudo asks for a password', cp: { sudo: 'password' }, check: 'm-k8s ssh', status: 'fail', detail: /sudo asks for a password/, fix: /NOPASSWD.*sudoers.d\/k8slab|root/ },
    { name: 'no sudo and not root', cp: { sudo: 'missing' }, check: 'm-k8s ssh', status: 'fail', detail: /not root and sudo is not installed/, fix: /install sudo/ },
    { name: 'unknown distribution', cp: { os: { id: 'alpine', like: '', version: '3.20', pretty: 'Alpine Linux v3.20' } }, check: 'm-k8s os', status: 'fail', detail: /Alpine.*not a distribution the scripts know/, fix: /Ubuntu.*Debian 12.*Rocky/ },
    { name: 'no os-release', cp: { os: undefined }, check: 'm-k8s os', status: 'fail', detail: /no \/etc\/os-release/, fix: /Debian 12/ },
    { name: 'unsupported architecture', cp: { arch: 'riscv64' }, check: 'm-k8s os', status: 'fail', detail: /amd64 or arm64 only/, fix: /x86_64 or aarch64/ },
    { name: 'control plane with 1 CPU', cp: { cpus: 1 }, check: 'm-k8s cpus', status: 'fail', detail: /1 CPU: kubeadm needs 2/, fix: /at least 2 CPUs/ },
    { name: 'control plane with 1 GiB', cp: { memMiB: 1024 }, check: 'm-k8s memory', status: 'fail', detail: /1024 MiB.*kubeadm needs 1700 MiB/, fix: /more memory/ },
    { name: 'worker with 512 MiB', w1: { memMiB: 512 }, check: 'w1-k8s memory', status: 'fail', detail: /512 MiB.*worker needs about 900 MiB/, fix: /more memory/ },
    { name: 'disk nearly full', cp: { disk: { path: '/var/lib', freeMiB: 1000 } }, check: 'm-k8s disk', status: 'fail', detail: /1000 MiB free at \/var\/lib/, fix: /free at least 6144 MiB/ },
    { name: 'disk low', cp: { disk: { path: '/var/lib/containerd', freeMiB: 4000 } }, check: 'm-k8s disk', status: 'warn', detail: /4000 MiB free.*evicts/, fix: /free at least/ },
    { name: 'private address on no interface', cp: { addresses: [{ ifname: 'eth0', address: '10.0.0.99', prefixlen: 24 }] }, check: 'm-k8s private-ip', status: 'fail', detail: /10.0.0.10.*on none of its interfaces; it has 10.0.0.99 \(eth0\)/, fix: /privateIp/ },
    { name: 'no ip command', cp: { addresses: undefined }, check: 'm-k8s private-ip', status: 'warn', detail: /no `ip` command/, fix: /iproute2/ },
    { name: 'same hostname', w1: { hostname: 'CP1' }, check: 'w1-k8s unique', status: 'fail', detail: /hostname CP1 \(also m-k8s\).*unique/, fix: /hostnamectl/ },
    { name: 'same MAC', w1: { macs: [{ ifname: 'ens3', mac: '52:54:00:aa:00:01' }] }, check: 'm-k8s unique', status: 'fail', detail: /MAC 52:54:00:aa:00:01 of eth0 \(also w1-k8s\)/, fix: /new MAC/ },
    { name: 'same product_uuid on VMs', w1: { productUuid: base.productUuid }, check: 'w1-k8s unique', status: 'fail', detail: /product_uuid 4c4c4544.* \(also m-k8s\)/, fix: /machine identity/ },
    { name: 'same product_uuid in system containers', cp: { container: 'systemd-nspawn' }, w1: { productUuid: base.productUuid, container: 'systemd-nspawn' }, check: 'w1-k8s unique', status: 'warn', detail: /system containers see their host's product_uuid/, fix: /nothing to do/ },
    { name: 'port 6443 taken', cp: { listening: [22, 6443] }, check: 'm-k8s ports', status: 'fail', detail: /already listens on 6443/, fix: /ss -ltnp.*6443/ },
    { name: 'port 10250 taken on a worker', w1: { listening: [10250] }, check: 'w1-k8s ports', status: 'fail', detail: /already listens on 10250/, fix: /stop it/ },
    { name: 'swap on', cp: { swapMiB: 2048 }, check: 'm-k8s swap', status: 'warn', detail: /2048 MiB of swap is on/, fix: /config.sh turns it off/ },
    { name: 'swap in a container', cp: { swapMiB: 2048, container: 'lxc' }, check: 'm-k8s swap', status: 'warn', detail: /lxc container cannot turn off/, fix: /container's host/ },
    { name: 'cgroup v1 with Kubernetes 1.37', w1: { cgroupFs: 'tmpfs' }, check: 'w1-k8s cgroups', status: 'warn', detail: /cgroup v1 \(tmpfs.*kubelet 1.37 refuses it unless told; the scripts tell it \(failCgroupV1: false\)/, fix: /systemd.unified_cgroup_hierarchy=1/ },
    { name: 'no nameserver', w1: { resolver: { file: '/run/systemd/resolve/resolv.conf', nameservers: 0 } }, check: 'w1-k8s dns', status: 'fail', detail: /no nameserver in \/run\/systemd\/resolve\/resolv.conf: CoreDNS .* does not start without one/, fix: /add a nameserver line/ },
    { name: 'no resolv.conf', cp: { resolver: undefined }, check: 'm-k8s dns', status: 'warn', detail: /no readable \/etc\/resolv.conf/, fix: /nameserver line/ },
    { name: 'cgroup type unreadable', cp: { cgroupFs: undefined }, check: 'm-k8s cgroups', status: 'warn', detail: /could not read/, fix: /stat -fc/ },
    { name: 'clock 60 s ahead', cp: { nowSec: HOST_MS / 1000 + 60 }, check: 'm-k8s clock', status: 'fail', detail: /60 s ahead of the host's clock/, fix: /timedatectl set-ntp/ },
    { name: 'clock 30 s behind', w1: { nowSec: HOST_MS / 1000 - 30 }, check: 'w1-k8s clock', status: 'fail', detail: /behind the host's clock/, fix: /chrony/ },
  ];

  it.each(BAD)('$name', ({ cp, w1, check, status, detail, fix }) => {
    const r = find(judgeCp(cp ?? {}, w1 ?? {}), check);
    expect(r.status).toBe(status);
    expect(r.detail).toMatch(detail);
    expect(r.fix).toMatch(fix);
  });

  it('cgroup v1 is fine for kubelet before 1.35', () => {
    expect(find(judgeCp({ cgroupFs: 'tmpfs' }, {}, 34), 'm-k8s cgroups')).toMatchObject({ status: 'pass', detail: /cgroup v1 \(tmpfs at \/sys\/fs\/cgroup\), which kubelet 1.34 runs on/ });
  });

  it('ports in use on a machine the lab provisioned before are the lab\'s own', () => {
    expect(find(judgeCp({ listening: [6443, 10250], provisionedByK8slab: true }), 'm-k8s ports')).toMatchObject({ status: 'pass', detail: /lab's own/ });
  });

  it('a clock within the round trip plus a few seconds passes', () => {
    expect(find(judgeCp({ nowSec: HOST_MS / 1000 + 5 }), 'm-k8s clock').status).toBe('pass');
    expect(find(judgeCp({ nowSec: HOST_MS / 1000 - 6 }), 'm-k8s clock').status).toBe('pass'); // 1 s of rounding
  });

  it('a machine it cannot reach gives one ssh failure with the exact ssh command to try', () => {
    const results = judgeMachines([{ node: CP, outcome: { ok: false, error: 'connect ECONNREFUSED 203.0.113.10:22' } }, probe(W1, w1Facts)]);
    expect(results.filter((r) => r.name.startsWith('m-k8s'))).toEqual([
      {
        name: 'm-k8s ssh',
        status: 'fail',
        detail: 'cannot log in as debian on 203.0.113.10:22 with /keys/id: connect ECONNREFUSED 203.0.113.10:22',
        fix: expect.stringContaining('`ssh -i /keys/id -p 22 debian@203.0.113.10 true`'),
      },
    ]);
    expect(find(results, 'w1-k8s unique').status).toBe('pass');
  });
});

describe('doctorMachines (through a fake runner)', () => {
  it('sends the probe script on stdin to `sh -s`, times it with the host clock, and judges the answers', async () => {
    const seen: string[] = [];
    const clock = [HOST_MS - 100, HOST_MS + 100, HOST_MS - 100, HOST_MS + 100];
    const results = await doctorMachines([CP, W1], {
      now: () => clock.shift()!,
      connect: async (n) => {
        if (n.name === 'w1-k8s') throw new Error('All configured authentication methods failed');
        const runner: MachineRunner = {
          run: async (command, opts) => {
            seen.push(command, opts.input.includes('product_uuid') ? 'probe' : 'other');
            return { exitCode: 0, stdout: PROBE_OUTPUT, stderr: '' };
          },
        };
        return runner;
      },
    });
    expect(seen).toEqual(['sh -s', 'probe']);
    expect(find(results, 'm-k8s clock').status).toBe('pass');
    expect(find(results, 'w1-k8s ssh')).toMatchObject({ status: 'fail', detail: /All configured authentication methods failed/ });
  });
});

describe('runDoctor with provider: machines', () => {
  it('probes the machines instead of checking Vagrant on the host', async () => {
    const config = parseConfig('provider: machines\nworkers:\n  count: 0\nnetwork:\n  private: 10.0.0.0/24\nmachines:\n  controlPlane:\n    address: 203.0.113.10');
    const asked: string[] = [];
    // Only the clock is the host's business here (the version check's date): anything else is an error.
    const host = new Proxy({}, { get: (_t, key) => { if (key === 'now') return () => new Date(HOST_MS); throw new Error(`the host was asked for ${String(key)}`); } }) as Host;
    const results = await runDoctor(config, host, {
      labDir: '/nonexistent',
      machines: { now: () => HOST_MS, connect: async (n) => { asked.push(`${n.user}@${n.address}:${n.port}`); return { run: async () => ({ exitCode: 0, stdout: PROBE_OUTPUT, stderr: '' }) }; } },
    });
    expect(asked).toEqual(['root@203.0.113.10:22']);
    expect(results.map((r) => r.name)).not.toContain('vagrant');
    expect(find(results, 'm-k8s private-ip')).toMatchObject({ status: 'pass', detail: '10.0.0.10 is on eth1' });
  });
});

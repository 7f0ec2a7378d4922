// The doctor's judgements are pure functions of the config and the host facts: the cases this machine
// cannot show (macOS, a vboxnet interface, a VPN route, a full disk) are driven through facts here.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { hasFailure, judge } from '../../src/doctor/run.js';
import type { HostFacts } from '../../src/doctor/facts.js';
import { parseNetworksConf } from '../../src/doctor/checks/vbox-networks.js';
import { formatJson, formatTable } from '../../src/doctor/format.js';
import type { CheckResult } from '../../src/doctor/types.js';

function facts(over: Partial<HostFacts> = {}): HostFacts {
  return {
    platform: 'linux',
    vagrant: { found: true, version: '2.4.9' },
    virtualbox: { found: true, version: '7.1.4' },
    vboxNetworksConf: { path: '/etc/vbox/networks.conf' },
    addressSource: 'ip',
    addresses: [{ ifname: 'eth0', address: '192.0.2.2', prefixlen: 24 }],
    routes: [{ dst: 'default', dev: 'eth0' }, { dst: '192.0.2.0/24', dev: 'eth0' }],
    memory: { freeMiB: 32_000, totalMiB: 32_768 },
    cpus: 8,
    today: '2026-11-30',
    disks: [
      { what: 'lab folder', path: '/home/u/lab', needMiB: 200, measuredAt: '/home/u', device: 1, freeMiB: 100_000 },
      { what: 'Vagrant boxes', path: '/home/u/.vagrant.d', needMiB: 2048, measuredAt: '/home/u/.vagrant.d', device: 1, freeMiB: 100_000 },
      { what: '4 VM disks', path: '/home/u/VirtualBox VMs', needMiB: 16_384, measuredAt: '/home/u', device: 1, freeMiB: 100_000 },
    ],
    ...over,
  };
}

const named = (rs: CheckResult[], name: string) => rs.filter((r) => r.name === name);
const one = (rs: CheckResult[], name: string) => {
  const hits = named(rs, name);
  expect(hits, JSON.stringify(rs, null, 2)).toHaveLength(1);
  return hits[0]!;
};

describe('doctor judgements', () => {
  it('a healthy VirtualBox host passes everything', () => {
    const rs = judge(parseConfig(''), facts(), '/home/u/lab');
    expect(rs.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(rs.map((r) => r.name)).toEqual(['vagrant', 'virtualbox', 'vbox-host-only-range', 'private-network', 'memory', 'cpus', 'disk', 'kubernetes-eol']);
    const full = judge(parseConfig(''), facts({ kvmModules: { loaded: [] }, boxes: [{ name: 'bento/ubuntu-24.04', provider: 'virtualbox', version: '202404.26.0' }] }), '/home/u/lab');
    expect(full.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(full.map((r) => r.name)).toEqual(['vagrant', 'virtualbox', 'kvm-modules', 'vbox-host-only-range', 'box', 'private-network', 'memory', 'cpus', 'disk', 'kubernetes-eol']);
  });

  it('Vagrant older than a VirtualBox release fails; an unknown newer VirtualBox warns', () => {
    expect(one(judge(parseConfig(''), facts({ vagrant: { found: true, version: '2.4.1' } }), '/l'), 'virtualbox').status).toBe('fail');
    expect(one(judge(parseConfig(''), facts({ virtualbox: { found: true, version: '7.3.0' } }), '/l'), 'virtualbox').status).toBe('warn');
    // each row at its boundary: the first Vagrant that drives it passes, the release before fails
    for (const [vbox, first, before] of [['6.1.50', '2.2.7', '2.2.6'], ['7.0.20', '2.3.2', '2.3.1'], ['7.1.4', '2.4.2', '2.4.1'], ['7.2.4', '2.4.9', '2.4.8']] as const) {
      const status = (vagrant: string) => one(judge(parseConfig(''), facts({ vagrant: { found: true, version: vagrant }, virtualbox: { found: true, version: vbox } }), '/l'), 'virtualbox').status;
      expect([vbox, status(first), status(before)]).toEqual([vbox, 'pass', 'fail']);
    }
    expect(one(judge(parseConfig(''), facts({ vagrant: { found: true, version: '2.2.19' }, virtualbox: { found: true, version: '6.1.50' } }), '/l'), 'vagrant').status).toBe('warn');
  });

  it('a vagrant that does not run fails with what it said', () => {
    const v = one(judge(parseConfig(''), facts({ vagrant: { found: true, error: '`vagrant --version` exited 1: boom' } }), '/l'), 'vagrant');
    expect(v).toMatchObject({ status: 'fail', detail: expect.stringContaining('boom') });
  });

  it('the host-only range applies on Linux and macOS only', () => {
    const cfg = parseConfig('network:\n  private: 172.20.0.0/24');
    expect(one(judge(cfg, facts(), '/l'), 'vbox-host-only-range').status).toBe('fail');
    expect(one(judge(cfg, facts({ platform: 'darwin' }), '/l'), 'vbox-host-only-range').status).toBe('fail');
    expect(one(judge(cfg, facts({ platform: 'win32' }), '/l'), 'vbox-host-only-range')).toMatchObject({ status: 'pass', detail: expect.stringContaining('win32') });
  });

  it('parses networks.conf: "*" lines, several ranges a line, comments and IPv6 skipped', () => {
    expect(parseNetworksConf('# comment\n* 10.0.0.0/8 192.168.0.0/16\n* 2001::/64\n\n  *   172.16.0.0/12\nbogus 1.2.3.0/24\n')).toEqual([
      '10.0.0.0/8',
      '192.168.0.0/16',
      '172.16.0.0/12',
    ]);
    expect(parseNetworksConf('* 0.0.0.0/0 ::/0')).toEqual(['0.0.0.0/0']);
  });

  it('a range partly allowed is refused (the whole network must fit)', () => {
    const f = facts({ vboxNetworksConf: { path: '/c', text: '* 192.168.56.0/25\n' } });
    expect(one(judge(parseConfig(''), f, '/l'), 'vbox-host-only-range').status).toBe('fail');
  });

  it('an existing vboxnet with the same subnet is reused; any other interface there clashes', () => {
    const vboxnet = facts({ addresses: [{ ifname: 'vboxnet0', address: '192.168.56.1', prefixlen: 24 }], routes: [{ dst: '192.168.56.0/24', dev: 'vboxnet0' }] });
    expect(named(judge(parseConfig(''), vboxnet, '/l'), 'private-network')).toEqual([
      expect.objectContaining({ status: 'pass', detail: expect.stringContaining('VirtualBox host-only vboxnet0') }),
    ]);
    const wifi = facts({ addresses: [{ ifname: 'wlan0', address: '192.168.56.23', prefixlen: 24 }] });
    expect(one(judge(parseConfig(''), wifi, '/l'), 'private-network')).toMatchObject({ status: 'fail', detail: expect.stringContaining('wlan0 (192.168.56.23/24)') });
    // a vboxnet on a different subnet that overlaps is not the lab's
    const wider = facts({ addresses: [{ ifname: 'vboxnet1', address: '192.168.56.1', prefixlen: 16 }] });
    expect(one(judge(parseConfig(''), wider, '/l'), 'private-network').status).toBe('fail');
  });

  it("a libvirt network is the lab's own when named after the lab or vagrant-libvirt's <folder><n>", () => {
    const cfg = parseConfig('provider: libvirt\nname: lab2\nlibvirt:\n  driver: qemu');
    const base = { libvirt: { daemon: { found: true, version: '9.0.0' }, networks: [] as { name: string; bridge?: string }[] }, vagrantPlugins: ['vagrant-libvirt'], kvm: { devicePath: '/dev/kvm', deviceUsable: false, cpuFlag: false } };
    const withNet = (name: string) =>
      facts({ ...base, libvirt: { ...base.libvirt, networks: [{ name, bridge: 'virbr7' }] }, addresses: [{ ifname: 'virbr7', address: '192.168.56.1', prefixlen: 24 }] });
    expect(one(judge(cfg, withNet('lab2'), '/x/lab'), 'private-network').status).toBe('pass');
    expect(one(judge(cfg, withNet('lab0'), '/x/lab'), 'private-network').status).toBe('pass');
    const other = one(judge(cfg, withNet('someone-else'), '/x/lab'), 'private-network');
    expect(other).toMatchObject({ status: 'fail', fix: expect.stringContaining('virsh net-destroy someone-else') });
  });

  it('routes: a narrower one inside the network fails, a wider one (VPN) warns, default is ignored', () => {
    const narrow = facts({ routes: [{ dst: 'default', dev: 'eth0' }, { dst: '192.168.56.128/25', dev: 'tun0' }] });
    expect(one(judge(parseConfig(''), narrow, '/l'), 'private-network')).toMatchObject({ status: 'fail', detail: expect.stringContaining('192.168.56.128/25 via tun0') });
    const wide = facts({ routes: [{ dst: '192.168.0.0/16', dev: 'tun0' }] });
    expect(one(judge(parseConfig(''), wide, '/l'), 'private-network').status).toBe('warn');
    const host = facts({ routes: [{ dst: '192.168.56.7', dev: 'tun0' }] });
    expect(one(judge(parseConfig(''), host, '/l'), 'private-network').status).toBe('fail');
  });

  it('KVM: kvm driver needs it; qemu driver warns either way', () => {
    const lv = (kvm: HostFacts['kvm'], yaml = '') =>
      one(judge(parseConfig(`provider: libvirt\n${yaml}`), facts({ libvirt: { daemon: { found: true, version: '9' }, networks: [] }, vagrantPlugins: ['vagrant-libvirt'], kvm }), '/l'), 'kvm');
    expect(lv({ devicePath: '/dev/kvm', deviceUsable: true, cpuFlag: true }).status).toBe('pass');
    expect(lv({ devicePath: '/dev/kvm', deviceUsable: true, cpuFlag: false })).toMatchObject({ status: 'fail', detail: expect.stringContaining('vmx/svm') });
    expect(lv({ devicePath: '/dev/kvm', deviceUsable: false, cpuFlag: true })).toMatchObject({ status: 'fail', detail: expect.stringContaining('/dev/kvm cannot be opened') });
    expect(lv({ devicePath: '/dev/kvm', deviceUsable: false, cpuFlag: false }, 'libvirt:\n  driver: qemu').status).toBe('warn');
    expect(lv({ devicePath: '/dev/kvm', deviceUsable: true, cpuFlag: true }, 'libvirt:\n  driver: qemu')).toMatchObject({ status: 'warn', fix: expect.stringContaining('libvirt.driver: kvm') });
  });

  it('libvirtd not answering and the plugin missing both fail', () => {
    const rs = judge(parseConfig('provider: libvirt\nlibvirt:\n  driver: qemu'), facts({ libvirt: { daemon: { found: true, error: 'failed to connect' }, networks: [] }, vagrantPlugins: [], kvm: { devicePath: '/dev/kvm', deviceUsable: true, cpuFlag: true } }), '/l');
    expect(one(rs, 'libvirt')).toMatchObject({ status: 'fail', fix: expect.stringContaining('libvirtd') });
    expect(one(rs, 'vagrant-libvirt')).toMatchObject({ status: 'fail', fix: expect.stringContaining('vagrant plugin install vagrant-libvirt') });
  });

  it('memory: enough passes, within the margin warns, short fails', () => {
    const mem = (freeMiB: number) => one(judge(parseConfig(''), facts({ memory: { freeMiB, totalMiB: 32_768 } }), '/l'), 'memory').status;
    // 3072 + 3 x 2560 = 10752 MiB; margin 1024 + 4 x 128
    expect(mem(12_288)).toBe('pass');
    expect(mem(12_287)).toBe('warn');
    expect(mem(10_752)).toBe('warn');
    expect(mem(10_751)).toBe('fail');
  });

  it('cpus: a VM larger than the host fails, overcommit warns', () => {
    const cpus = (n: number) => one(judge(parseConfig(''), facts({ cpus: n }), '/l'), 'cpus').status;
    expect(cpus(5)).toBe('pass');
    expect(cpus(4)).toBe('warn');
    expect(cpus(1)).toBe('fail');
  });

  it('disk: needs on one file system add up; each file system is judged', () => {
    const tight = facts().disks.map((d) => ({ ...d, freeMiB: 18_000 })); // 200 + 2048 + 16384 = 18632 > 18000
    expect(one(judge(parseConfig(''), facts({ disks: tight }), '/l'), 'disk')).toMatchObject({ status: 'fail', detail: expect.stringContaining('need about 18.2 GiB') });
    const split = facts().disks.map((d, i) => ({ ...d, device: i, freeMiB: 17_000 }));
    expect(named(judge(parseConfig(''), facts({ disks: split }), '/l'), 'disk').map((d) => d.status)).toEqual(['pass', 'pass', 'pass']);
  });
});

describe('doctor report', () => {
  const rs: CheckResult[] = [
    { name: 'vagrant', status: 'pass', detail: 'Vagrant 2.3.4', fix: '' },
    { name: 'cpus', status: 'warn', detail: 'shared', fix: 'lower workers.count' },
    { name: 'kvm', status: 'fail', detail: 'no KVM', fix: 'set libvirt.driver: qemu' },
  ];

  it('the table shows each status, the fix under warnings and failures, and a summary', () => {
    const t = formatTable(rs);
    expect(t).toMatch(/^STATUS\s+CHECK\s+DETAIL$/m);
    expect(t).toMatch(/^PASS\s+vagrant\s+Vagrant 2.3.4$/m);
    expect(t).toMatch(/^WARN\s+cpus\s+shared\n\s+fix: lower workers.count$/m);
    expect(t).toMatch(/^FAIL\s+kvm\s+no KVM\n\s+fix: set libvirt.driver: qemu$/m);
    expect(t).toContain('1 passed, 1 warnings, 1 failed');
  });

  it('JSON carries ok and the checks', () => {
    expect(JSON.parse(formatJson(rs))).toEqual({ ok: false, checks: rs });
    expect(JSON.parse(formatJson(rs.slice(0, 2))).ok).toBe(true);
  });
});

describe('doctor: versions', () => {
  it('a Kubernetes minor newer than k8slab knows warns; known ones add nothing', () => {
    const newer = judge(parseConfig('kubernetes:\n  version: "1.38"\n  cni: bridge'), facts(), '/l');
    expect(one(newer, 'kubernetes-version')).toMatchObject({ status: 'warn', detail: expect.stringContaining('1.38 is newer than the 1.37') });
    expect(named(judge(parseConfig(''), facts(), '/l'), 'kubernetes-version')).toEqual([]);
    expect(named(judge(parseConfig('kubernetes:\n  version: "1.36"'), facts(), '/l'), 'kubernetes-version')).toEqual([]);
  });

  it('with Calico, a Kubernetes newer than every Calico row is accepted and the warning names the risk', () => {
    const rs = judge(parseConfig('kubernetes:\n  version: "1.38"'), facts(), '/l');
    expect(one(rs, 'kubernetes-version')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/1.38 is newer than any Calico release k8slab knows is tested with \(Calico 3.33 up to 1.37\): the pod network may not come up/),
      fix: expect.stringContaining('kubernetes.version "1.37"'),
    });
    expect(hasFailure(rs)).toBe(false);
  });

  it('a Calico newer than the table warns; a known one adds nothing', () => {
    expect(one(judge(parseConfig('calico:\n  version: 3.34.0'), facts(), '/l'), 'calico-version')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('Calico 3.34.0 is newer than the releases k8slab knows (up to 3.33)'),
    });
    expect(named(judge(parseConfig(''), facts(), '/l'), 'calico-version')).toEqual([]);
    expect(named(judge(parseConfig('calico:\n  version: 3.34.0\nkubernetes:\n  cni: bridge'), facts(), '/l'), 'calico-version')).toEqual([]);
  });

  it('end of life: judged against the clock in the facts, from the table beside the Calico one', () => {
    const eol = (yaml: string, today: string) => one(judge(parseConfig(yaml), facts({ today }), '/l'), 'kubernetes-eol');
    const k134 = 'kubernetes:\n  version: "1.34"\ncalico:\n  version: 3.32.3';
    expect(eol(k134, '2026-10-27')).toMatchObject({ status: 'pass', detail: 'Kubernetes 1.34 is supported until 2026-10-27' });
    expect(eol(k134, '2026-10-28')).toMatchObject({
      status: 'warn',
      detail: 'Kubernetes 1.34 reached end of life on 2026-10-27 (kubernetes.io/releases): it gets no security fixes',
      fix: expect.stringContaining('kubernetes.version "1.37"'),
    });
    expect(eol('', '2026-11-30')).toMatchObject({ status: 'pass', detail: 'Kubernetes 1.37 is supported until 2027-10-28' });
    expect(eol('', '2027-10-29').status).toBe('warn');
    // the course's offline bundle: an old release, a warning and no failure
    const bundle = judge(parseConfig('kubernetes: { version: "1.20.2", source: bundle, bundle: ./b, cni: bridge }\naddons: { ingress: { enabled: false } }'), facts(), '/l');
    expect(one(bundle, 'kubernetes-eol')).toMatchObject({ status: 'warn', detail: expect.stringContaining('1.20 reached end of life on 2022-02-28') });
    // a minor newer than the table has no date to judge
    expect(named(judge(parseConfig('kubernetes:\n  version: "1.38"'), facts(), '/l'), 'kubernetes-eol')).toEqual([]);
  });
});

describe('doctor: VirtualBox beside KVM (Linux 6.12+)', () => {
  const kvm = (kvmModules: HostFacts['kvmModules'], over: Partial<HostFacts> = {}, yaml = '') =>
    named(judge(parseConfig(yaml), facts({ kvmModules, ...over }), '/l'), 'kvm-modules');

  it('kvm_intel loaded on 6.12+ fails, naming the VirtualBox error and the remedy', () => {
    const [r] = kvm({ loaded: ['kvm_intel', 'kvm'], kernel: '6.12.9-amd64', virtAtLoad: 'Y' });
    expect(r).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('kvm_intel is loaded and Linux 6.12.9-amd64 enables VT-x/AMD-V when KVM loads: VirtualBox VMs will not start (VERR_VMX_IN_VMX_ROOT_MODE / VERR_SVM_IN_USE)'),
      fix: expect.stringContaining('sudo modprobe -r kvm_intel kvm'),
    });
    expect(kvm({ loaded: ['kvm_amd', 'kvm'], kernel: '6.14.0-24-generic' })[0]).toMatchObject({ status: 'fail', fix: expect.stringContaining('modprobe -r kvm_amd kvm') });
  });

  it('no vendor module, an older kernel, or enable_virt_at_load=0 do not fail', () => {
    expect(kvm({ loaded: [] })[0]!.status).toBe('pass');
    expect(kvm({ loaded: ['kvm'], kernel: '6.12.1' })[0]!.status).toBe('pass');
    expect(kvm({ loaded: ['kvm_intel', 'kvm'], kernel: '6.11.0-29-generic', virtAtLoad: 'Y' })[0]).toMatchObject({ status: 'pass', detail: expect.stringContaining('only while a KVM VM runs') });
    expect(kvm({ loaded: ['kvm_intel', 'kvm'], kernel: '6.12.9', virtAtLoad: 'N' })[0]).toMatchObject({ status: 'warn', detail: expect.stringContaining('VirtualBox#711') });
  });

  it('only with VirtualBox on Linux', () => {
    expect(kvm({ loaded: ['kvm_intel'], kernel: '6.12.9' }, { platform: 'darwin' })).toEqual([]);
    expect(kvm({ loaded: ['kvm_intel'], kernel: '6.12.9' }, {}, 'provider: libvirt')).toEqual([]);
  });
});

describe('doctor: the VirtualBox fix names the releases the Vagrant found drives', () => {
  const fix = (vagrant: string | undefined, virtualbox: HostFacts['virtualbox']) =>
    one(judge(parseConfig(''), facts({ vagrant: vagrant === undefined ? { found: false, error: 'vagrant is not on PATH' } : { found: true, version: vagrant }, virtualbox }), '/l'), 'virtualbox').fix;

  it('VirtualBox missing', () => {
    expect(fix('2.4.9', { found: false })).toMatch(/^install VirtualBox 6.1, 7.0, 7.1 or 7.2 \(the releases Vagrant 2.4.9 drives\)/);
    expect(fix('2.4.2', { found: false })).toMatch(/^install VirtualBox 6.1, 7.0 or 7.1 \(the releases Vagrant 2.4.2 drives\)/);
    expect(fix('2.3.4', { found: false })).toMatch(/^install VirtualBox 6.1 or 7.0 \(the releases Vagrant 2.3.4 drives\)/);
    expect(fix('2.2.0', { found: false })).toMatch(/^upgrade Vagrant \(2.2.0 drives no VirtualBox k8slab knows\), then install VirtualBox 7.2/);
    expect(fix(undefined, { found: false })).toMatch(/^install VirtualBox 7.2 with Vagrant 2.4.9 or newer/);
  });

  it('a VirtualBox this Vagrant refuses, or one too old', () => {
    expect(fix('2.4.2', { found: true, version: '7.2.4' })).toBe('upgrade Vagrant to 2.4.9 or newer, or install VirtualBox 6.1, 7.0 or 7.1 (the releases Vagrant 2.4.2 drives)');
    expect(fix('2.3.4', { found: true, version: '6.0.24' })).toBe('install VirtualBox 6.1 or 7.0 (the releases Vagrant 2.3.4 drives)');
  });
});

describe('doctor: the pinned box', () => {
  const box = (boxes: HostFacts['boxes'], yaml = '') => named(judge(parseConfig(yaml), facts(boxes === undefined ? {} : { boxes }), '/l'), 'box');
  const bento = (version: string, provider = 'virtualbox') => ({ name: 'bento/ubuntu-24.04', provider, version });

  it('the pinned version installed for the provider passes', () => {
    expect(box([bento('202404.26.0')])[0]).toMatchObject({ status: 'pass', detail: 'bento/ubuntu-24.04 202404.26.0 (virtualbox) is installed' });
  });

  it('another version, or another provider, is a warning that says what to do', () => {
    const [r] = box([bento('202510.26.0'), bento('202404.26.0', 'libvirt')]);
    expect(r).toMatchObject({
      status: 'warn',
      detail: 'bento/ubuntu-24.04 202404.26.0 (virtualbox) is not installed (installed: 202510.26.0); `up` downloads it',
      fix: expect.stringContaining("vagrant box add bento/ubuntu-24.04 --provider virtualbox --box-version '202404.26.0'"),
    });
    expect(r!.fix).toContain('no virtualbox build: set box.version');
    expect(box([])[0]!.status).toBe('warn');
  });

  it('a constraint or an unpinned box is satisfied by any installed version; no box list, no check', () => {
    expect(box([bento('202510.26.0')], 'box:\n  version: ">= 202404.26.0"')[0]).toMatchObject({ status: 'pass', detail: expect.stringContaining('(202510.26.0)') });
    expect(box([{ name: 'k8slab/debian12', provider: 'libvirt', version: '0' }], 'provider: libvirt\nbox:\n  libvirt: k8slab/debian12\nlibvirt:\n  driver: qemu')[0]!.status).toBe('pass');
    expect(box(undefined)).toEqual([]);
  });
});

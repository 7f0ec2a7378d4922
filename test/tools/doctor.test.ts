// `k8slab doctor` against this machine's real vagrant, virsh, ip, memory and disks. Only VirtualBox is
// faked (test/fixtures/fake-bin/VBoxManage), because it cannot exist here.
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { realHost, runDoctor, type CheckResult } from '../../src/doctor/index.js';
import { compareVersions } from '../../src/doctor/version.js';
import { virtualBoxFor } from '../../src/doctor/checks/tools.js';
import { fromInt, parseCidr } from '../../src/config/net.js';
import { testbedScript } from '../testbed.js';
import { runCli, type CliRun } from '../cli-run.js';

const FAKE_BIN = resolve(import.meta.dirname, '../fixtures/fake-bin');
const REAL_PATH = process.env.PATH ?? '/usr/bin:/bin';
const withFakeVbox = (extra: Record<string, string> = {}) => ({ ...process.env, PATH: `${FAKE_BIN}${delimiter}${REAL_PATH}`, ...extra });

let dir: string;
let labDir: string;
/** a networks.conf path that does not exist: VirtualBox's built-in default applies */
let noConf: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'k8slab-doctor-'));
  labDir = join(dir, 'lab');
  noConf = join(dir, 'absent-networks.conf');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function doctor(yaml: string, env: Record<string, string | undefined>, vboxNetworksConf = noConf, now?: () => Date): Promise<CheckResult[]> {
  return runDoctor(parseConfig(yaml), realHost({ env, ...(now ? { now } : {}) }), { labDir, vboxNetworksConf });
}

function only(results: CheckResult[], name: string): CheckResult {
  const hits = results.filter((r) => r.name === name);
  expect(hits, JSON.stringify(results, null, 2)).toHaveLength(1);
  return hits[0]!;
}

/** libvirtd does not survive a reboot here (no systemd): start it with the testbed script, under the shared lock. */
function ensureLibvirtd(): void {
  const testbed = testbedScript('libvirt.sh');
  try {
    execFileSync('virsh', ['--connect', 'qemu:///system', 'version'], { stdio: 'ignore' });
  } catch {
    execFileSync('flock', ['/var/lock/k8slab-libvirt.lock', testbed, 'up'], { stdio: 'inherit' });
  }
}

const realVagrantVersion = execFileSync('vagrant', ['--version']).toString().trim().replace(/^Vagrant /, '');

describe('doctor: vagrant and VirtualBox (fake VBoxManage)', () => {
  it('finds the real vagrant and the VirtualBox version', async () => {
    const r = await doctor('', withFakeVbox());
    expect(only(r, 'vagrant')).toMatchObject({ status: 'pass', detail: `Vagrant ${realVagrantVersion}` });
    expect(only(r, 'virtualbox')).toMatchObject({ status: 'pass', detail: 'VirtualBox 7.0.20' });
  });

  it('fails when VirtualBox is missing, with the fix', async () => {
    const r = await doctor('', { ...process.env, PATH: REAL_PATH });
    expect(only(r, 'virtualbox')).toMatchObject({ status: 'fail', detail: expect.stringContaining('VBoxManage is not on PATH') });
    // the fix names the VirtualBox releases this vagrant drives (Debian 12's 2.3.4: 6.1 or 7.0)
    const fits = virtualBoxFor(realVagrantVersion);
    expect(fits.length).toBeGreaterThan(0);
    const list = fits.length === 1 ? fits[0]! : `${fits.slice(0, -1).join(', ')} or ${fits.at(-1)!}`;
    expect(only(r, 'virtualbox').fix).toContain(`install VirtualBox ${list} (the releases Vagrant ${realVagrantVersion} drives)`);
    expect(only(r, 'virtualbox').fix).toContain('provider: libvirt');
  });

  it('fails when this vagrant is too old for the VirtualBox release', async () => {
    const r = await doctor('', withFakeVbox({ FAKE_VBOX_VERSION: '7.1.4r165100' }));
    const vb = only(r, 'virtualbox');
    if (compareVersions(realVagrantVersion, '2.4.2') < 0) {
      expect(vb).toMatchObject({ status: 'fail', detail: expect.stringContaining(`needs Vagrant 2.4.2 or newer; this is Vagrant ${realVagrantVersion}`) });
    } else {
      expect(vb.status).toBe('pass');
    }
  });

  it('default range (no networks.conf): 192.168.56.0/24 passes', async () => {
    const r = await doctor('', withFakeVbox());
    expect(only(r, 'vbox-host-only-range')).toMatchObject({ status: 'pass', detail: expect.stringContaining('VirtualBox allows only 192.168.56.0/21') });
  });

  it("default range: the course's 192.168.1.0/24 fails the range check and warns as the course network", async () => {
    const r = await doctor('network:\n  private: 192.168.1.0/24', withFakeVbox());
    const range = only(r, 'vbox-host-only-range');
    expect(range.status).toBe('fail');
    expect(range.detail).toContain('will refuse network.private 192.168.1.0/24');
    expect(range.fix).toContain(`* 192.168.1.0/24\` to ${noConf}`);
    expect(only(r, 'course-network').status).toBe('warn');
  });

  it('networks.conf lines replace the default range', async () => {
    const conf = join(dir, 'networks.conf');
    await writeFile(conf, '# allowed ranges\n* 10.0.0.0/8 192.168.0.0/16\n* 2001::/64\n');
    const ok = await doctor('network:\n  private: 10.77.0.0/24', withFakeVbox(), conf);
    expect(only(ok, 'vbox-host-only-range')).toMatchObject({ status: 'pass', detail: expect.stringContaining(`${conf} allows 10.0.0.0/8 192.168.0.0/16`) });
    const course = await doctor('network:\n  private: 192.168.1.0/24', withFakeVbox(), conf);
    expect(only(course, 'vbox-host-only-range').status).toBe('pass');
    expect(only(course, 'course-network').status).toBe('warn');

    await writeFile(conf, '* 10.0.0.0/8\n');
    const refused = await doctor('', withFakeVbox(), conf);
    expect(only(refused, 'vbox-host-only-range')).toMatchObject({ status: 'fail', detail: expect.stringContaining('192.168.56.0/24') });
    const outside = await doctor('network:\n  private: 172.20.0.0/24', withFakeVbox(), conf);
    expect(only(outside, 'vbox-host-only-range').status).toBe('fail');
  });

  it('VirtualBox before 6.1.28 has no range restriction', async () => {
    const r = await doctor('network:\n  private: 172.20.0.0/24', withFakeVbox({ FAKE_VBOX_VERSION: '6.1.26r145957' }));
    expect(only(r, 'vbox-host-only-range')).toMatchObject({ status: 'pass', detail: expect.stringContaining('predates') });
  });
});

describe('doctor: libvirt (real virsh and vagrant-libvirt)', () => {
  beforeAll(ensureLibvirtd);
  const cpuinfo = execFileSync('cat', ['/proc/cpuinfo']).toString();
  const cpuFlag = /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);

  it('sees libvirtd answering and the plugin installed', async () => {
    const r = await doctor('provider: libvirt\nnetwork:\n  private: 10.213.47.0/24', { ...process.env });
    expect(only(r, 'libvirt')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/libvirtd answers on qemu:\/\/\/system/) });
    expect(only(r, 'vagrant-libvirt').status).toBe('pass');
    expect(r.find((x) => x.name === 'virtualbox')).toBeUndefined();
  });

  it('judges KVM from the real /dev/kvm and CPU flags', async () => {
    let deviceOk = true;
    await access('/dev/kvm', constants.R_OK | constants.W_OK).catch(() => (deviceOk = false));
    const usable = deviceOk && cpuFlag;
    const kvm = only(await doctor('provider: libvirt', { ...process.env }), 'kvm');
    expect(kvm.status).toBe(usable ? 'pass' : 'fail');
    if (!usable) expect(kvm.fix).toContain('libvirt.driver: qemu');
    const qemu = only(await doctor('provider: libvirt\nlibvirt:\n  driver: qemu\n  cpuMode: maximum', { ...process.env }), 'kvm');
    expect(qemu.status).toBe('warn');
  });

  it('a KVM device that cannot be opened fails a kvm lab', async () => {
    const r = await runDoctor(parseConfig('provider: libvirt'), realHost(), { labDir, kvmDevice: join(dir, 'no-kvm') });
    expect(only(r, 'kvm')).toMatchObject({ status: 'fail', detail: expect.stringContaining('cannot be opened') });
  });

  it('fails without virsh and without the plugin (PATH holding only vagrant)', async () => {
    const r = await doctor('provider: libvirt', { ...process.env, PATH: '/usr/bin/vagrant-only-missing' });
    expect(only(r, 'libvirt')).toMatchObject({ status: 'fail', detail: expect.stringContaining('virsh is not on PATH') });
    expect(only(r, 'vagrant-libvirt').status).toBe('fail');
  });
});

describe('doctor: the private network against the real host interfaces', () => {
  beforeAll(ensureLibvirtd);
  const links = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr']).toString()) as { ifname: string; addr_info: { local: string; prefixlen: number; scope: string }[] }[];
  const global = links.flatMap((l) => l.addr_info.filter((a) => a.scope === 'global' && a.prefixlen <= 28).map((a) => ({ ...a, ifname: l.ifname })));
  it('a network nothing on the host uses passes', async () => {
    const r = await doctor('provider: libvirt\nnetwork:\n  private: 10.213.47.0/24', { ...process.env });
    expect(r.filter((x) => x.name === 'private-network')).toEqual([
      expect.objectContaining({ status: 'pass', detail: expect.stringContaining('is free on this host (`ip` addresses and routes)') }),
    ]);
  });

  it.skipIf(global.length === 0)("fails on the network of a real host interface", async () => {
    const a = global[0]!;
    const c = parseCidr(`${a.local}/${a.prefixlen}`)!;
    const cidr = `${fromInt(c.base)}/${c.prefix}`;
    const r = await doctor(`network:\n  private: ${cidr}`, withFakeVbox());
    const clash = r.find((x) => x.name === 'private-network' && x.status === 'fail');
    expect(clash?.detail).toContain(`clashes with ${a.ifname} (${a.local}/${a.prefixlen})`);
  });

  it("libvirt's default network clashes, unless it is the lab's own", async () => {
    // libvirt's NAT network "default" (192.168.122.0/24), which the testbed keeps active
    const info = execFileSync('virsh', ['--connect', 'qemu:///system', 'net-info', 'default']).toString();
    const virbr0 = /Bridge:\s+(\S+)/.exec(info)?.[1];
    expect(virbr0).toBeDefined();
    const other = await doctor('provider: libvirt\nnetwork:\n  private: 192.168.122.0/24', { ...process.env });
    expect(other.find((x) => x.name === 'private-network')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(`clashes with ${virbr0} (192.168.122.1/24, libvirt network default)`),
      fix: expect.stringContaining('virsh net-destroy default'),
    });
    // A lab named like the network owns it: vagrant-libvirt will reuse it.
    const own = await doctor('name: default\nprovider: libvirt\nnetwork:\n  private: 192.168.122.0/24', { ...process.env });
    expect(own.filter((x) => x.name === 'private-network')).toEqual([
      expect.objectContaining({ status: 'pass', detail: expect.stringContaining("this lab's libvirt network default") }),
    ]);
  });

  it('without `ip` on PATH it falls back to the OS interface list', async () => {
    const r = await doctor('network:\n  private: 10.213.47.0/24', { ...process.env, PATH: FAKE_BIN });
    expect(only(r, 'private-network').detail).toContain('no `ip` command');
  });
});

describe('doctor: the pinned box in the real `vagrant box list`', () => {
  /** A VAGRANT_HOME of our own: its boxes folder holds exactly what the test puts there. */
  async function vagrantHome(boxes: { name: string; version: string; provider: string }[]): Promise<string> {
    const home = await mkdtemp(join(dir, 'vagrant-home-'));
    for (const b of boxes) {
      const d = join(home, 'boxes', b.name.replace('/', '-VAGRANTSLASH-'), b.version, b.provider);
      await mkdir(d, { recursive: true });
      await writeFile(join(d, 'metadata.json'), JSON.stringify({ provider: b.provider }));
    }
    return home;
  }

  it('not installed: a warning that says `up` downloads it and how to fetch it now', async () => {
    const r = await doctor('', withFakeVbox({ VAGRANT_HOME: await vagrantHome([]) }));
    expect(only(r, 'box')).toMatchObject({
      status: 'warn',
      detail: 'bento/ubuntu-24.04 202404.26.0 (virtualbox) is not installed; `up` downloads it',
      fix: expect.stringContaining("vagrant box add bento/ubuntu-24.04 --provider virtualbox --box-version '202404.26.0'"),
    });
  });

  it('the pinned version passes; another version of the box does not count', async () => {
    const pinned = await vagrantHome([{ name: 'bento/ubuntu-24.04', version: '202404.26.0', provider: 'virtualbox' }]);
    expect(only(await doctor('', withFakeVbox({ VAGRANT_HOME: pinned })), 'box')).toMatchObject({ status: 'pass' });
    const other = await vagrantHome([{ name: 'bento/ubuntu-24.04', version: '202502.21.0', provider: 'virtualbox' }]);
    expect(only(await doctor('', withFakeVbox({ VAGRANT_HOME: other })), 'box')).toMatchObject({ status: 'warn', detail: expect.stringContaining('(installed: 202502.21.0)') });
  });
});

describe('doctor: KVM modules and the clock of this host', () => {
  it('reads the loaded KVM modules (VirtualBox on Linux only)', async () => {
    const r = await doctor('', withFakeVbox());
    const vendor = ['kvm_intel', 'kvm_amd'].filter((m) => execFileSync('sh', ['-c', `grep -q '^${m} ' /proc/modules 2>/dev/null || test -e /sys/module/${m}/parameters/nested && echo y || true`]).toString().trim() === 'y');
    const k = only(r, 'kvm-modules');
    if (vendor.length === 0) expect(k).toMatchObject({ status: 'pass', detail: expect.stringContaining('no KVM module is loaded') });
    else expect(k.detail).toContain(vendor.join(', '));
    expect((await doctor('provider: libvirt\nlibvirt:\n  driver: qemu', { ...process.env })).filter((x) => x.name === 'kvm-modules')).toEqual([]);
  });

  it('end of life is judged against the host clock (injectable)', async () => {
    const yaml = 'kubernetes:\n  version: "1.34"\ncalico:\n  version: 3.32.3';
    const before = await doctor(yaml, withFakeVbox(), noConf, () => new Date('2026-10-27T12:00:00Z'));
    expect(only(before, 'kubernetes-eol')).toMatchObject({ status: 'pass', detail: 'Kubernetes 1.34 is supported until 2026-10-27' });
    const after = await doctor(yaml, withFakeVbox(), noConf, () => new Date('2026-10-28T00:00:01Z'));
    expect(only(after, 'kubernetes-eol')).toMatchObject({ status: 'warn', detail: expect.stringContaining('reached end of life on 2026-10-27') });
  });
});

describe('doctor: resources of this host', () => {
  it('passes RAM and disk for a small lab', async () => {
    const r = await doctor('workers:\n  count: 1\n  memory: 1024\ncontrolPlane:\n  memory: 2048', withFakeVbox());
    expect(only(r, 'memory').status).toBe('pass');
    expect(r.filter((x) => x.name === 'disk').every((x) => x.status === 'pass')).toBe(true);
  });

  it('fails RAM when the VMs need more than the host has free', async () => {
    const r = await doctor('workers:\n  count: 9\n  memory: 262144', withFakeVbox());
    expect(only(r, 'memory')).toMatchObject({ status: 'fail', detail: expect.stringContaining('10 VMs need 2362368 MiB') });
  });

  it.skipIf(availableParallelism() >= 32)('fails CPUs when one VM wants more than the host has', async () => {
    const r = await doctor(`controlPlane:\n  cpus: ${availableParallelism() + 1}`, withFakeVbox());
    expect(only(r, 'cpus')).toMatchObject({ status: 'fail', fix: expect.stringContaining(`at most ${availableParallelism()}`) });
  });

  it('measures the disk of the nearest existing parent of a lab folder not made yet', async () => {
    const r = await doctor('', withFakeVbox());
    const disk = r.find((x) => x.name === 'disk' && x.detail.includes('lab folder'));
    expect(disk?.detail).toContain(`free on ${dir}`);
    await expect(stat(labDir)).rejects.toThrow(/ENOENT/);
  });
});

describe('k8slab doctor (the command)', () => {
  beforeAll(ensureLibvirtd);
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });
  async function run(args: string[], yaml: string, path: string): Promise<CliRun> {
    const file = join(dir, 'cli.yaml');
    await writeFile(file, yaml);
    process.env.PATH = path;
    return runCli('doctor', '--config', file, '--lab-dir', labDir, ...args);
  }

  it('PATH without vagrant: fail in the table and exit 1', async () => {
    const r = await run([], 'network:\n  private: 10.213.47.0/24', FAKE_BIN);
    expect(r.code).toBe(EXIT.failed);
    expect(r.out).toMatch(/^FAIL\s+vagrant\s+vagrant is not on PATH$/m);
    expect(r.out).toMatch(/fix: install Vagrant/);
    expect(r.out).toMatch(/^PASS\s+virtualbox\s+VirtualBox 7.0.20$/m);
    expect(r.out).toMatch(/\d+ passed, \d+ warnings, [1-9]\d* failed/);
  });

  it('--json gives every check and ok=false on a failure', async () => {
    const r = await run(['--json'], 'network:\n  private: 10.213.47.0/24', FAKE_BIN);
    const report = JSON.parse(r.out) as { ok: boolean; checks: CheckResult[] };
    expect(r.code).toBe(EXIT.failed);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'vagrant')).toMatchObject({ status: 'fail', fix: expect.stringContaining('install Vagrant') });
    for (const c of report.checks) expect(Object.keys(c).sort()).toEqual(['detail', 'fix', 'name', 'status']);
  });

  it('exit 0 when nothing fails (warnings allowed)', async () => {
    // libvirt with software emulation: no KVM needed, a free network, a small lab.
    const yaml = 'provider: libvirt\nlibvirt:\n  driver: qemu\n  cpuMode: maximum\nworkers:\n  count: 1\n  memory: 1024\ncontrolPlane:\n  memory: 2048\nnetwork:\n  private: 10.213.47.0/24';
    const r = await run(['--json'], yaml, `${REAL_PATH}`);
    const report = JSON.parse(r.out) as { ok: boolean; checks: CheckResult[] };
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(r.code).toBe(EXIT.ok);
  });

  it('a bad lab.yaml exits 2 before checking anything', async () => {
    const r = await run([], 'workers:\n  count: 10', REAL_PATH);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('workers.count (found 10)');
    expect(r.out).toBe('');
  });

  it('reads the lab.yaml given with --config', async () => {
    const r = await run(['--json'], 'provider: libvirt\nnetwork:\n  private: 10.213.47.0/24', REAL_PATH);
    const report = JSON.parse(r.out) as { checks: CheckResult[] };
    expect(report.checks.map((c) => c.name)).toContain('vagrant-libvirt');
    expect(await readFile(join(dir, 'cli.yaml'), 'utf8')).toContain('provider: libvirt');
  });
});

// Gathers what the checks judge. All I/O goes through Host; the checks themselves are pure.
import { join } from 'node:path';
import type { LabConfig } from '../config/schema.js';
import { parseBoxList, type BoxInfo } from '../provider/parsers.js';
import type { Host, HostInterfaceAddress } from './host.js';

/** A program's answer to "--version": the version when it ran, the reason when it did not. */
export interface ToolProbe {
  found: boolean;
  version?: string;
  error?: string;
}

export interface LibvirtNetwork {
  name: string;
  bridge?: string;
}

export interface RouteEntry {
  dst: string;
  dev?: string;
}

export interface DiskNeed {
  /** what lives there */
  what: string;
  path: string;
  needMiB: number;
}

export interface DiskFact extends DiskNeed {
  measuredAt: string;
  device: number;
  freeMiB: number;
}

export interface HostFacts {
  platform: NodeJS.Platform;
  vagrant: ToolProbe;
  /** `vagrant plugin list`, only asked for libvirt labs */
  vagrantPlugins?: string[];
  virtualbox?: ToolProbe;
  /** /etc/vbox/networks.conf: its path and text (undefined text: no file) */
  vboxNetworksConf?: { path: string; text?: string };
  libvirt?: { daemon: ToolProbe; networks: LibvirtNetwork[] };
  kvm?: { devicePath: string; deviceUsable: boolean; cpuFlag: boolean };
  /**
   * With VirtualBox on Linux: the loaded KVM modules (/proc/modules), the kernel release, and kvm's
   * enable_virt_at_load parameter ("Y"/"N", undefined when kvm is not loaded or the kernel lacks it).
   */
  kvmModules?: { loaded: string[]; kernel?: string; virtAtLoad?: string };
  /** `vagrant box list`; undefined when vagrant does not run */
  boxes?: BoxInfo[];
  /** today's date, YYYY-MM-DD (UTC), from the host's clock */
  today: string;
  /** where interface and route facts came from: `ip -j`, or the OS when `ip` is missing */
  addressSource: 'ip' | 'os';
  addresses: HostInterfaceAddress[];
  routes: RouteEntry[];
  memory: { freeMiB: number; totalMiB: number };
  cpus: number;
  disks: DiskFact[];
}

export interface GatherOptions {
  labDir: string;
  /** VirtualBox's host-only range file; a test points it at a temp file */
  vboxNetworksConf?: string;
  /** /dev/kvm; a test may point it elsewhere */
  kvmDevice?: string;
}

export const DEFAULT_VBOX_NETWORKS_CONF = '/etc/vbox/networks.conf';
export const LIBVIRT_URI = 'qemu:///system';

export async function gatherFacts(config: LabConfig, host: Host, opts: GatherOptions): Promise<HostFacts> {
  const libvirt = config.provider === 'libvirt';
  // Independent probes run together: vagrant alone takes a second or two to start.
  const [vagrant, vagrantPlugins, virtualbox, libvirtFacts, kvm, kvmModules, boxes, net, disks] = await Promise.all([
    probeVersion(host, 'vagrant', ['--version'], /Vagrant\s+(\d+\.\d+\.\d+)/),
    libvirt ? listVagrantPlugins(host) : Promise.resolve(undefined),
    libvirt ? Promise.resolve(undefined) : probeVersion(host, 'VBoxManage', ['--version'], /(?:^|\n)(\d+\.\d+\.\d+)[^\n]*$/),
    libvirt ? probeLibvirt(host) : Promise.resolve(undefined),
    libvirt ? probeKvm(host, opts.kvmDevice ?? '/dev/kvm') : Promise.resolve(undefined),
    !libvirt && host.platform === 'linux' ? readKvmModules(host) : Promise.resolve(undefined),
    listBoxes(host),
    readNetwork(host),
    measureDisks(config, host, opts.labDir),
  ]);
  const confPath = opts.vboxNetworksConf ?? DEFAULT_VBOX_NETWORKS_CONF;
  return {
    platform: host.platform,
    vagrant,
    ...(vagrantPlugins ? { vagrantPlugins } : {}),
    ...(virtualbox ? { virtualbox, vboxNetworksConf: { path: confPath, text: await host.readText(confPath) } } : {}),
    ...(libvirtFacts ? { libvirt: libvirtFacts } : {}),
    ...(kvm ? { kvm } : {}),
    ...(kvmModules ? { kvmModules } : {}),
    ...(boxes ? { boxes } : {}),
    today: host.now().toISOString().slice(0, 10),
    ...net,
    memory: { freeMiB: host.freeMemoryMiB(), totalMiB: host.totalMemoryMiB() },
    cpus: host.cpuCount(),
    disks,
  };
}

async function probeVersion(host: Host, cmd: string, args: string[], pattern: RegExp): Promise<ToolProbe> {
  const r = await host.run(cmd, args);
  if (!r.found) return { found: false, error: `${cmd} is not on PATH` };
  const version = pattern.exec(r.stdout.trim())?.[1];
  if (r.exitCode !== 0 || version === undefined) {
    return { found: true, error: `\`${cmd} ${args.join(' ')}\` ${r.exitCode === 0 ? 'printed' : `exited ${r.exitCode}:`} ${firstLine(r.stderr || r.stdout)}` };
  }
  return { found: true, version };
}

async function listVagrantPlugins(host: Host): Promise<string[]> {
  const r = await host.run('vagrant', ['plugin', 'list']);
  if (!r.found || r.exitCode !== 0) return [];
  // "vagrant-libvirt (0.11.2, system)"
  return r.stdout
    .split('\n')
    .map((l) => /^([\w.-]+)\s+\(/.exec(l.trim())?.[1])
    .filter((n): n is string => n !== undefined);
}

async function probeLibvirt(host: Host): Promise<{ daemon: ToolProbe; networks: LibvirtNetwork[] }> {
  // `virsh version` needs the daemon to answer, not just the client to exist.
  const daemon = await probeVersion(host, 'virsh', ['--connect', LIBVIRT_URI, 'version'], /Running hypervisor:.*?(\d+\.\d+\.\d+)/s);
  if (daemon.version === undefined) return { daemon, networks: [] };
  const list = await host.run('virsh', ['--connect', LIBVIRT_URI, 'net-list', '--all', '--name']);
  const names = list.exitCode === 0 ? list.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : [];
  const networks = await Promise.all(
    names.map(async (name): Promise<LibvirtNetwork> => {
      const info = await host.run('virsh', ['--connect', LIBVIRT_URI, 'net-info', name]);
      const bridge = /^Bridge:\s+(\S+)/m.exec(info.stdout)?.[1];
      return bridge ? { name, bridge } : { name };
    }),
  );
  return { daemon, networks };
}

async function probeKvm(host: Host, devicePath: string): Promise<NonNullable<HostFacts['kvm']>> {
  const cpuinfo = (await host.readText('/proc/cpuinfo')) ?? '';
  const cpuFlag = /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);
  return { devicePath, deviceUsable: await host.canOpenReadWrite(devicePath), cpuFlag };
}

/** Linux 6.12+ enables VT-x/AMD-V when kvm_intel/kvm_amd load, and VirtualBox then cannot start a VM. */
async function readKvmModules(host: Host): Promise<NonNullable<HostFacts['kvmModules']>> {
  const [modules, kernel, virtAtLoad, intel, amd] = await Promise.all([
    host.readText('/proc/modules'),
    host.readText('/proc/sys/kernel/osrelease'),
    host.readText('/sys/module/kvm/parameters/enable_virt_at_load'),
    // A KVM built into the kernel is not in /proc/modules, but its parameters are in /sys/module.
    host.readText('/sys/module/kvm_intel/parameters/nested'),
    host.readText('/sys/module/kvm_amd/parameters/nested'),
  ]);
  const listed = new Set((modules ?? '').split('\n').map((l) => l.split(' ')[0]!));
  if (intel !== undefined) listed.add('kvm_intel');
  if (amd !== undefined) listed.add('kvm_amd');
  const loaded = ['kvm', 'kvm_intel', 'kvm_amd'].filter((m) => listed.has(m));
  return {
    loaded,
    ...(kernel?.trim() ? { kernel: kernel.trim() } : {}),
    ...(virtAtLoad?.trim() ? { virtAtLoad: virtAtLoad.trim() } : {}),
  };
}

async function listBoxes(host: Host): Promise<BoxInfo[] | undefined> {
  const r = await host.run('vagrant', ['box', 'list', '--machine-readable']);
  return r.found && r.exitCode === 0 ? parseBoxList(r.stdout) : undefined;
}

async function readNetwork(host: Host): Promise<Pick<HostFacts, 'addressSource' | 'addresses' | 'routes'>> {
  const [addr, route] = await Promise.all([host.run('ip', ['-j', '-4', 'addr']), host.run('ip', ['-j', '-4', 'route'])]);
  if (!addr.found || addr.exitCode !== 0) {
    return { addressSource: 'os', addresses: host.interfaceAddresses(), routes: [] };
  }
  const links = JSON.parse(addr.stdout || '[]') as { ifname: string; addr_info?: { family: string; local: string; prefixlen: number }[] }[];
  const addresses = links.flatMap((l) =>
    (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => ({ ifname: l.ifname, address: a.local, prefixlen: a.prefixlen })),
  );
  const routes = route.exitCode === 0 ? (JSON.parse(route.stdout || '[]') as RouteEntry[]) : [];
  return { addressSource: 'ip', addresses, routes: routes.map((r) => (r.dev ? { dst: r.dst, dev: r.dev } : { dst: r.dst })) };
}

/** Rough disk needs: the box once, each VM's disk, and the lab folder's few files and logs. */
export const DISK_NEED_MIB = { box: 2048, perNode: 4096, labDir: 200 } as const;

async function measureDisks(config: LabConfig, host: Host, labDir: string): Promise<DiskFact[]> {
  const nodes = 1 + config.workers.count;
  const vagrantHome = host.env.VAGRANT_HOME ?? join(host.homeDir, '.vagrant.d');
  const vmDir = config.provider === 'libvirt' ? '/var/lib/libvirt/images' : join(host.homeDir, 'VirtualBox VMs');
  const needs: DiskNeed[] = [
    { what: 'lab folder', path: labDir, needMiB: DISK_NEED_MIB.labDir },
    { what: 'Vagrant boxes', path: vagrantHome, needMiB: DISK_NEED_MIB.box },
    { what: `${nodes} VM disks`, path: vmDir, needMiB: nodes * DISK_NEED_MIB.perNode },
  ];
  return Promise.all(
    needs.map(async (n) => {
      const d = await host.diskAt(n.path);
      return { ...n, measuredAt: d.path, device: d.device, freeMiB: d.freeMiB };
    }),
  );
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

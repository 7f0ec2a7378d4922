// System-container machines for the node tier: each node is a systemd-nspawn container booting systemd,
// with sshd and a static address on a private bridge the tier creates. To k8slab they are plain machines
// reached over SSH (`provider: machines`). Facts behind each flag: ../shared/spikes/container-nodes/NOTES.md.
//
// Everything the tier creates on the host carries one of its own names, so a sweep after a crashed run
// removes exactly that and nothing of anyone else:
//   machines     k8sn-<host>               (nspawn -M; its host veth is vb-k8sn-<host>)
//   bridge       k8sn-br0, 10.214.0.1/24
//   cgroups      k8slab-nodes/<machine> in every hierarchy
//   files        /var/lib/k8slab-nodes     (overlay mounts, containerd stores, logs, the owner file)
//   iptables     FORWARD rule commented k8slab-nodes
//   nspawn       /run/systemd/nspawn/propagate/k8sn-<host>, and the lock of each machine's root (recorded at start)
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { alive, cgroupHierarchies, links, mountsUnder, processStart, run, until } from './host.js';

export const TIER = {
  prefix: 'k8sn-',
  bridge: 'k8sn-br0',
  /** first three octets of the bridge's /24; the host is .1 */
  net: '10.214.0',
  cgroup: 'k8slab-nodes',
  comment: 'k8slab-nodes',
  state: process.env.K8SLAB_NODES_STATE ?? '/var/lib/k8slab-nodes',
  cache: process.env.K8SLAB_NODES_CACHE ?? '/var/cache/k8slab-nodes',
} as const;

export const HOST_ADDRESS = `${TIER.net}.1`;
const MACHINES = join(TIER.state, 'machines');
const OWNER = join(TIER.state, 'owner');
const PROPAGATE = '/run/systemd/nspawn/propagate';
const LOCKS = '/run/systemd/nspawn/locks';

/** nspawn's run state of a stopped machine: it cannot remove propagate/ itself when /run is not a tmpfs, and a killed nspawn leaves its lock */
function forgetNspawnState(dir: string, name: string): string[] {
  const removed: string[] = [];
  const entries = [join(PROPAGATE, name)];
  const lock = join(dir, 'nspawn.lock');
  if (existsSync(lock)) entries.push(readFileSync(lock, 'utf8').trim());
  for (const e of entries) {
    if (!e.startsWith('/run/systemd/nspawn/') || !existsSync(e)) continue;
    rmSync(e, { recursive: true, force: true });
    removed.push(`nspawn ${e}`);
  }
  return removed;
}

export interface MachineSpec {
  /** the node's hostname, e.g. m-k8s; the machine is k8sn-<hostname> */
  hostname: string;
  /** its address on the bridge, inside TIER.net */
  ip: string;
}

const machineName = (hostname: string): string => `${TIER.prefix}${hostname}`;

function validate(spec: MachineSpec): void {
  // nspawn names the host side of the veth vb-<machine>, and a link name has at most 15 characters
  if (!/^[a-z][a-z0-9-]{0,6}$/.test(spec.hostname)) {
    throw new Error(`machine hostname "${spec.hostname}": use 1-7 of a-z, 0-9, - (the host veth vb-${TIER.prefix}<hostname> must fit 15 characters)`);
  }
  const m = spec.ip.match(/^(\d+\.\d+\.\d+)\.(\d+)$/);
  if (!m || m[1] !== TIER.net || Number(m[2]) < 2 || Number(m[2]) > 254) {
    throw new Error(`machine ${spec.hostname} address "${spec.ip}": use ${TIER.net}.2-254 (the bridge is ${HOST_ADDRESS}/24)`);
  }
}

// ------------------------------------------------------------------ ownership

/** One tier run at a time owns the host's tier state: a second run (or its sweep) must not take the first's machines. */
export function claimHost(): void {
  mkdirSync(TIER.state, { recursive: true });
  if (existsSync(OWNER)) {
    const [pid, start] = readFileSync(OWNER, 'utf8').trim().split(' ');
    const owner = Number(pid);
    if (owner !== process.pid && alive(owner) && processStart(owner) === start) {
      throw new Error(`another node-tier run (pid ${owner}) owns ${TIER.state}; wait for it to end`);
    }
  }
  writeFileSync(OWNER, `${process.pid} ${processStart(process.pid)}\n`);
}

/** The sweep takes everything of the tier: only the run that claimed the host may do it. */
function assertOwner(): void {
  const owner = existsSync(OWNER) ? readFileSync(OWNER, 'utf8').split(' ')[0] : undefined;
  if (owner !== String(process.pid)) throw new Error(`this run (pid ${process.pid}) has not claimed ${TIER.state} (owner: ${owner ?? 'none'}); call claimHost() first`);
}

export function releaseHost(): void {
  if (existsSync(OWNER) && readFileSync(OWNER, 'utf8').startsWith(`${process.pid} `)) rmSync(OWNER);
  // the state folder goes once nothing of the tier is in it
  for (const dir of [MACHINES, TIER.state]) {
    try {
      rmdirSync(dir);
    } catch {
      /* still in use, or never made */
    }
  }
}

// ------------------------------------------------------------------ rootfs

export interface Rootfs {
  dir: string;
  /** built by this call (cold) or found in the cache (warm) */
  cache: 'warm' | 'cold';
  /** the build's own record: key, packages, build seconds */
  build: Record<string, unknown>;
}

/** The cached Debian 12 tree every node boots from (built on first use by machine/rootfs.sh). */
export function ensureRootfs(): Rootfs {
  const script = join(import.meta.dirname, 'machine/rootfs.sh');
  const key = run('sha256sum', [script]).stdout.slice(0, 12);
  const dir = join(TIER.cache, 'rootfs', key);
  const cache = existsSync(join(dir, '.complete')) ? 'warm' : 'cold';
  const out = run('nice', ['-n', '10', script], { timeoutMs: 30 * 60_000 }).stdout.trim().split('\n').at(-1);
  if (out !== dir) throw new Error(`rootfs.sh printed "${out}", expected ${dir}`);
  return { dir, cache, build: JSON.parse(readFileSync(`${dir}.json`, 'utf8')) as Record<string, unknown> };
}

// ------------------------------------------------------------------ bridge

/** The private bridge: nodes reach each other and this host, and nothing beyond it. */
export function bridgeUp(): void {
  if (!links().includes(TIER.bridge)) {
    // the subnet must be free: a route into it from anything else means someone uses it
    const used = run('ip', ['-4', '-o', 'route', 'show', 'match', `${TIER.net}.1`]).stdout.split('\n').filter((r) => r && !r.startsWith('default'));
    if (used.length > 0) throw new Error(`${TIER.net}.0/24 is already routed on this host (${used.join('; ')}); the node tier needs it to itself`);
    run('ip', ['link', 'add', TIER.bridge, 'type', 'bridge']);
  }
  run('ip', ['addr', 'replace', `${HOST_ADDRESS}/24`, 'dev', TIER.bridge]);
  run('ip', ['link', 'set', TIER.bridge, 'up']);
  // nothing that arrives on the bridge is routed on to other networks (no NAT, no way out)
  run('sysctl', ['-qw', `net.ipv4.conf.${TIER.bridge}.forwarding=0`]);
  run('sysctl', ['-qw', `net.ipv6.conf.${TIER.bridge}.disable_ipv6=1`]);
  // bridged node-to-node frames pass the host's FORWARD chain (bridge-nf-call-iptables): accept them
  // first, so a DROP policy set by another tool (dockerd, a firewall) cannot cut the nodes off
  const rule = forwardRule();
  if (run('iptables', ['-C', 'FORWARD', ...rule], { ok: [0, 1] }).code !== 0) run('iptables', ['-I', 'FORWARD', '1', ...rule]);
}

const forwardRule = (): string[] => ['-i', TIER.bridge, '-o', TIER.bridge, '-m', 'comment', '--comment', TIER.comment, '-j', 'ACCEPT'];

/** The FORWARD rules the tier added (as `iptables -S` prints them). */
function tierRules(): string[] {
  const r = run('iptables', ['-S', 'FORWARD'], { ok: [0, 1, 3] });
  // the comment exactly: a rule commented k8slab-nodes-something is someone else's
  const mine = new RegExp(`--comment "?${TIER.comment}"?( |$)`);
  return r.stdout.split('\n').filter((l) => l.startsWith('-A FORWARD') && mine.test(l));
}

function bridgeDown(): string[] {
  const removed: string[] = [];
  for (const rule of tierRules()) {
    run('iptables', ['-D', ...rule.slice(3).split(' ')]);
    removed.push(`iptables ${rule}`);
  }
  if (links().includes(TIER.bridge)) {
    run('ip', ['link', 'del', TIER.bridge]);
    removed.push(`link ${TIER.bridge}`);
  }
  return removed;
}

// ------------------------------------------------------------------ machines

export class Machine {
  readonly name: string;
  readonly dir: string;

  constructor(
    readonly spec: MachineSpec,
    private readonly rootfs: string,
  ) {
    validate(spec);
    this.name = machineName(spec.hostname);
    this.dir = join(MACHINES, this.name);
  }

  get ip(): string {
    return this.spec.ip;
  }

  get hostname(): string {
    return this.spec.hostname;
  }

  private get root(): string {
    return join(this.dir, 'root');
  }

  /** First boot's disk: an overlay over the shared tree, with this machine's identity and the run's SSH key. */
  create(authorizedKey: string): void {
    if (existsSync(this.dir)) throw new Error(`machine ${this.name} exists (${this.dir}); destroy it or run the sweep`);
    for (const d of ['upper', 'work', 'root', 'containerd']) mkdirSync(join(this.dir, d), { recursive: true });
    run('mount', ['-t', 'overlay', `${TIER.cgroup}-${this.name}`, '-o', `lowerdir=${this.rootfs},upperdir=${this.dir}/upper,workdir=${this.dir}/work`, this.root]);
    const r = this.root;
    writeFileSync(join(r, 'etc/hostname'), `${this.hostname}\n`);
    writeFileSync(join(r, 'etc/hosts'), `127.0.0.1 localhost\n127.0.1.1 ${this.hostname}\n`);
    writeFileSync(join(r, 'etc/machine-id'), `${randomBytes(16).toString('hex')}\n`);
    writeFileSync(
      join(r, 'etc/systemd/network/10-host0.network'),
      // the gateway is the host: kubeadm wants a default route to pick its address from
      `[Match]\nName=host0\n\n[Network]\nAddress=${this.ip}/24\nGateway=${HOST_ADDRESS}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`,
    );
    // a resolver, as every real machine has one: CoreDNS forwards outside names to the node's and will not
    // start without one. Nothing on the host answers port 53 there, so no query goes anywhere.
    writeFileSync(join(r, 'etc/resolv.conf'), `nameserver ${HOST_ADDRESS}\noptions timeout:1 attempts:1\n`);
    mkdirSync(join(r, 'root/.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(r, 'root/.ssh/authorized_keys'), `${authorizedKey.trim()}\n`, { mode: 0o600 });
  }

  private pid(): number | undefined {
    const file = join(this.dir, 'nspawn.pid');
    if (!existsSync(file)) return undefined;
    const [pid, start] = readFileSync(file, 'utf8').trim().split(' ');
    return alive(Number(pid)) && processStart(Number(pid)) === start ? Number(pid) : undefined;
  }

  get running(): boolean {
    return this.pid() !== undefined;
  }

  /** Boots the machine: the launcher joins the machine's cgroups, then becomes systemd-nspawn. */
  start(): void {
    if (this.running) return;
    const procs = cgroupHierarchies().map((h) => {
      const dir = join(h, TIER.cgroup, this.name);
      mkdirSync(dir, { recursive: true });
      if (h.endsWith('/cpuset')) {
        // a new cpuset cgroup starts with no CPUs and no memory nodes: give both levels the root's
        for (const d of [join(h, TIER.cgroup), dir]) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(d, f), readFileSync(join(h, f)));
        }
      }
      return join(dir, 'cgroup.procs');
    });
    writeFileSync(join(this.dir, 'nspawn.lock'), this.lockFile());
    const log = openSync(join(this.dir, 'nspawn.log'), 'a');
    const child = spawn(
      'sh',
      ['-c', 'for p in $K8SN_PROCS; do echo $$ >"$p" || exit 1; done; exec systemd-nspawn "$@"', 'k8sn-launch', ...this.nspawnArgs()],
      // detached: its own session, so the machine outlives a test runner that dies (the sweep finds it)
      { detached: true, stdio: ['ignore', log, log], env: { ...process.env, K8SN_PROCS: procs.join(' ') } },
    );
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error(`machine ${this.name}: the launcher did not start`);
    writeFileSync(join(this.dir, 'nspawn.pid'), `${child.pid} ${processStart(child.pid)}\n`);
  }

  /** nspawn's lock on the root directory, named by its device and inode; a killed nspawn leaves it behind */
  private lockFile(): string {
    const st = statSync(this.root);
    return join(LOCKS, `inode-${st.dev}:${st.ino}`);
  }

  private nspawnArgs(): string[] {
    return [
      // no host systemd or machined: stay in the cgroups the launcher joined, register nowhere
      '--keep-unit', '--register=no',
      '-D', this.root, '-M', this.name, `--hostname=${this.hostname}`,
      `--network-bridge=${TIER.bridge}`,
      '--link-journal=no', '--resolv-conf=off', '--timezone=off', '--console=read-only',
      // stop = a clean systemd poweroff
      '--kill-signal=SIGRTMIN+3',
      // CAP_SYSLOG for /dev/kmsg, and the rest a VM's root has (runc and kubelet use many)
      '--capability=all',
      // runc joins a session keyring; nspawn's seccomp filter refuses keyctl without this
      '--system-call-filter=@keyring',
      // containerd's overlayfs snapshotter cannot use an overlay upper dir: a plain host directory instead
      `--bind=${join(this.dir, 'containerd')}:/var/lib/containerd`,
      // kubelet 1.20 stops without /dev/kmsg, which nspawn does not create
      '--bind-ro=/dev/kmsg',
      '/usr/local/sbin/k8slab-node-init',
    ];
  }

  /** Powers the machine off (systemd shuts down cleanly); what its disk holds stays for the next start. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const pid = this.pid();
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      if (!(await until(() => !alive(pid), timeoutMs))) process.kill(pid, 'SIGKILL');
    }
    await killCgroup(this.name);
    await removeCgroups(this.name);
    forgetNspawnState(this.dir, this.name);
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  /** Stops the machine and deletes its disk. */
  async destroy(): Promise<void> {
    await this.stop();
    for (const m of mountsUnder(this.dir).reverse()) run('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The machine's console (systemd's boot messages), for a failure report. */
  consoleTail(lines = 30): string {
    const f = join(this.dir, 'nspawn.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n') : '';
  }
}

// ------------------------------------------------------------------ cgroups

function cgroupDirs(h: string, machine?: string): string[] {
  const top = machine ? join(h, TIER.cgroup, machine) : join(h, TIER.cgroup);
  if (!existsSync(top)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    out.push(d); // children first: a cgroup is removed only once empty of sub-cgroups
  };
  walk(top);
  return out;
}

function cgroupPids(machine?: string): number[] {
  const pids = new Set<number>();
  for (const h of cgroupHierarchies()) {
    for (const d of cgroupDirs(h, machine)) {
      try {
        for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return [...pids];
}

/** Kills whatever still runs in a machine's cgroups (or all of the tier's), e.g. after a launcher was killed. */
async function killCgroup(machine?: string): Promise<number[]> {
  const killed = new Set<number>();
  const empty = await until(() => {
    const pids = cgroupPids(machine).filter((p) => p !== process.pid);
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
        killed.add(p);
      } catch {
        /* gone */
      }
    }
    return pids.length === 0;
  }, 15_000, 200);
  if (!empty) throw new Error(`processes left in the ${TIER.cgroup}${machine ? `/${machine}` : ''} cgroups: ${cgroupPids(machine).join(' ')}`);
  return [...killed];
}

/** Removes a machine's cgroups (or all of the tier's), deepest first, once their processes are gone. */
async function removeCgroups(machine?: string): Promise<string[]> {
  const removed: string[] = [];
  let busy = '';
  // a cgroup whose last process exited a moment ago can still be busy until the kernel finishes with it
  const done = await until(() => {
    busy = '';
    for (const h of cgroupHierarchies()) {
      for (const d of cgroupDirs(h, machine)) {
        try {
          rmdirSync(d);
          removed.push(d);
        } catch (err) {
          busy = `${d}: ${(err as Error).message}`;
        }
      }
    }
    return busy === '';
  }, 10_000, 200);
  if (!done) throw new Error(`cannot remove the cgroup ${busy}`);
  return removed;
}

// ------------------------------------------------------------------ sweep and leftovers

/**
 * Removes what earlier runs of the tier left behind (a crash, a killed runner): machines and their
 * processes, cgroups, mounts, state, nspawn's run entries, the bridge and its rule. Only the tier's own names.
 */
export async function sweep(): Promise<string[]> {
  assertOwner();
  const removed: string[] = [];
  // the launchers first (a clean poweroff where possible), then anything left in the cgroups
  if (existsSync(MACHINES)) {
    for (const name of readdirSync(MACHINES)) {
      const file = join(MACHINES, name, 'nspawn.pid');
      if (!existsSync(file)) continue;
      const [pid, start] = readFileSync(file, 'utf8').trim().split(' ');
      if (alive(Number(pid)) && processStart(Number(pid)) === start) {
        process.kill(Number(pid), 'SIGTERM');
        if (!(await until(() => !alive(Number(pid)), 20_000))) process.kill(Number(pid), 'SIGKILL');
        removed.push(`machine ${name} (pid ${pid})`);
      }
    }
  }
  for (const p of await killCgroup()) removed.push(`process ${p}`);
  removed.push(...(await removeCgroups()).map((d) => `cgroup ${d}`));
  for (const m of mountsUnder(TIER.state).reverse()) {
    run('umount', ['-l', m]);
    removed.push(`mount ${m}`);
  }
  if (existsSync(MACHINES)) {
    for (const name of readdirSync(MACHINES)) {
      removed.push(...forgetNspawnState(join(MACHINES, name), name));
      rmSync(join(MACHINES, name), { recursive: true, force: true });
      removed.push(`state ${join(MACHINES, name)}`);
    }
  }
  if (existsSync(PROPAGATE)) {
    for (const name of readdirSync(PROPAGATE).filter((n) => n.startsWith(TIER.prefix))) {
      rmSync(join(PROPAGATE, name), { recursive: true, force: true });
      removed.push(`nspawn ${join(PROPAGATE, name)}`);
    }
  }
  // a host veth outlives its machine only if nspawn was killed mid-setup
  for (const l of links().filter((n) => n.startsWith(`vb-${TIER.prefix}`))) {
    run('ip', ['link', 'del', l], { ok: [0, 1] });
    removed.push(`link ${l}`);
  }
  removed.push(...bridgeDown());
  return removed;
}

/** Everything of the tier that exists on the host now; empty after a sweep. */
export function leftovers(): string[] {
  const found: string[] = [];
  const nspawns = run('pgrep', ['-a', '-f', `systemd-nspawn .*-M ${TIER.prefix}`], { ok: [0, 1] }).stdout.split('\n').filter(Boolean);
  found.push(...nspawns.map((p) => `process ${p}`));
  found.push(...cgroupPids().map((p) => `process ${p} in the tier's cgroups`));
  for (const h of cgroupHierarchies()) if (existsSync(join(h, TIER.cgroup))) found.push(`cgroup ${join(h, TIER.cgroup)}`);
  found.push(...mountsUnder(TIER.state).map((m) => `mount ${m}`));
  found.push(...readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(` ${TIER.cgroup}-${TIER.prefix}`)).map((l) => `mount ${l}`));
  if (existsSync(MACHINES)) found.push(...readdirSync(MACHINES).map((n) => `state ${join(MACHINES, n)}`));
  if (existsSync(PROPAGATE)) found.push(...readdirSync(PROPAGATE).filter((n) => n.startsWith(TIER.prefix)).map((n) => `nspawn ${join(PROPAGATE, n)}`));
  found.push(...links().filter((l) => l === TIER.bridge || l.startsWith(`vb-${TIER.prefix}`)).map((l) => `link ${l}`));
  found.push(...tierRules().map((r) => `iptables ${r}`));
  return found;
}

// Network namespaces as fake nodes for the SSH tests. Each node is a namespace joined to the root
// namespace by a veth pair with point-to-point /32 addresses in 192.168.56.200-249, so only
// host routes are added: nothing else on 192.168.56.0/24 (a VM lab) is affected, and no existing
// interface is touched. Every name carries NS_PREFIX, the owner pid and a run tag, so leftovers of
// a crashed run are recognised and removed, and nobody else's.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';

export const NS_PREFIX = 'k8slab-t-';
const VETH_PREFIX = 'k8t';
const RANGE_FIRST = 200; // 192.168.56.200 ..
const RANGE_LAST = 249; //  .. 192.168.56.249
const PAIRS = Math.floor((RANGE_LAST - RANGE_FIRST + 1) / 2);

export function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why the namespace tests cannot run here, or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (creates network namespaces and starts sshd)';
  try {
    ip(['netns', 'list']);
  } catch (err) {
    return `\`ip netns\` is unavailable: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills every process inside a namespace (sshd and its session children, test servers). */
export function killNsProcesses(ns: string): void {
  let pids: number[] = [];
  try {
    pids = ip(['netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function deleteNs(ns: string): void {
  killNsProcesses(ns);
  try {
    ip(['netns', 'del', ns]); // also destroys the veth pair whose peer lives in it
  } catch {
    /* already gone */
  }
}

/**
 * Removes namespaces of our prefix left by earlier runs: created before `runStart` and owned by a
 * process that no longer exists (or older than a day). Returns what it removed.
 */
export function sweepLeftovers(runStart: number, prefix = NS_PREFIX): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
  } catch {
    names = [];
  }
  for (const ns of names) {
    const m = /^(\d+)-([0-9a-f]{4})-\d+$/.exec(ns.slice(prefix.length));
    let mtime = 0;
    try {
      mtime = statSync(`/run/netns/${ns}`).mtimeMs;
    } catch {
      continue;
    }
    const owner = m ? Number(m[1]) : 0;
    if (mtime < runStart && (!m || !pidAlive(owner) || Date.now() - mtime > 86_400_000)) {
      deleteNs(ns);
      removed.push(ns);
    }
  }
  // A host-side veth whose peer never left the root namespace: a run killed between creating the
  // pair and moving it. (A peer inside a namespace dies with it.) A live run creates its namespace
  // before its veths, so a tag still named by any namespace is left alone.
  let tagsInUse = '';
  try {
    tagsInUse = readdirSync('/run/netns').join(' ');
  } catch {
    tagsInUse = '';
  }
  let links = '';
  try {
    links = ip(['-o', 'link', 'show', 'type', 'veth']);
  } catch {
    links = '';
  }
  for (const line of links.split('\n')) {
    const m = /^\d+: (k8t([0-9a-f]{4})\d+h)@/.exec(line);
    if (!m || line.includes('link-netns')) continue;
    if (tagsInUse.includes(`-${m[2]!}-`)) continue;
    try {
      ip(['link', 'del', m[1]!]);
      removed.push(m[1]!);
    } catch {
      /* gone meanwhile */
    }
  }
  return removed;
}

/** Addresses already on root-namespace interfaces (ours or anyone's), to stay clear of them. */
function usedAddresses(): Set<string> {
  const used = new Set<string>();
  for (const m of ip(['-4', '-o', 'addr', 'show']).matchAll(/inet (\d+\.\d+\.\d+\.\d+)(?: peer (\d+\.\d+\.\d+\.\d+))?/g)) {
    used.add(m[1]!);
    if (m[2]) used.add(m[2]);
  }
  return used;
}

export interface NsNode {
  ns: string;
  hostVeth: string;
  /** the node's address inside its namespace (where sshd listens) */
  nodeIp: string;
  /** the root-namespace end of the veth */
  hostIp: string;
}

/** One run's set of namespaces. */
export class NetnsRun {
  readonly tag = randomBytes(2).toString('hex');
  readonly nodes: NsNode[] = [];
  /** first pair tried; random so that parallel runs rarely collide */
  private readonly startPair = randomBytes(1)[0]! % PAIRS;

  /** Creates a namespace with lo up and a veth to the root namespace; returns its addresses. */
  addNode(): NsNode {
    const idx = this.nodes.length;
    const ns = `${NS_PREFIX}${process.pid}-${this.tag}-${idx}`;
    const hostVeth = `${VETH_PREFIX}${this.tag}${idx}h`;
    const [nodeIp, hostIp] = this.allocatePair();
    ip(['netns', 'add', ns]);
    const node: NsNode = { ns, hostVeth, nodeIp, hostIp };
    this.nodes.push(node); // registered first, so cleanup covers a half-built node
    const peer = `${VETH_PREFIX}${this.tag}${idx}n`;
    ip(['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', peer]);
    ip(['link', 'set', peer, 'netns', ns]);
    ip(['-n', ns, 'link', 'set', peer, 'name', 'eth0']);
    ip(['-n', ns, 'addr', 'add', nodeIp, 'peer', hostIp, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['addr', 'add', hostIp, 'peer', nodeIp, 'dev', hostVeth]);
    ip(['link', 'set', hostVeth, 'up']);
    return node;
  }

  /** Two addresses in the range that no interface (ours or anyone's) uses yet. */
  private allocatePair(): [string, string] {
    const used = usedAddresses();
    for (const n of this.nodes) used.add(n.nodeIp).add(n.hostIp);
    for (let i = 0; i < PAIRS; i++) {
      const p = (this.startPair + i) % PAIRS;
      const a = `192.168.56.${RANGE_FIRST + 2 * p}`;
      const b = `192.168.56.${RANGE_FIRST + 2 * p + 1}`;
      if (!used.has(a) && !used.has(b)) return [a, b];
    }
    throw new Error(`no free address pair left in 192.168.56.${RANGE_FIRST}-${RANGE_LAST}`);
  }

  /** Synchronous, so it also works from a process 'exit' hook. */
  cleanup(): void {
    for (const n of this.nodes.splice(0)) {
      deleteNs(n.ns);
      try {
        ip(['link', 'del', n.hostVeth]);
      } catch {
        /* removed together with the namespace */
      }
    }
  }
}

// Host-side commands for the node tier, run synchronously: the tier's setup and teardown are short
// sequences of ip/iptables/mount calls whose order matters more than their speed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; a code outside `ok` throws with the command line and its stderr. */
export function run(cmd: string, args: string[], opts: { ok?: number[]; input?: string; timeoutMs?: number } = {}): Ran {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 120_000 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  const ran = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  if (!(opts.ok ?? [0]).includes(ran.code)) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${ran.code}${r.signal ? ` (${r.signal})` : ''}: ${ran.stderr.trim() || ran.stdout.trim()}`);
  }
  return ran;
}

/** The kernel's start time of a process (clock ticks since boot), so a recycled PID is never taken for it. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    // a zombie has exited: only its parent's wait is missing
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits until `done()` holds, checking every `everyMs`; false when the deadline passed first. */
export async function until(done: () => boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The cgroup hierarchies mounted under /sys/fs/cgroup (v1 controllers, name=systemd, unified). */
export function cgroupHierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => {
      const [pre, post] = line.split(' - ');
      return { mountPoint: pre?.split(' ')[4] ?? '', fsType: post?.split(' ')[0] ?? '' };
    })
    .filter((m) => (m.fsType === 'cgroup' || m.fsType === 'cgroup2') && m.mountPoint.startsWith('/sys/fs/cgroup/'))
    .map((m) => m.mountPoint)
    .sort();
}

/** Mount points (as the kernel lists them, deepest last) whose target lies under `dir`. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unescapeMount(line.split(' ')[4] ?? ''))
    .filter((target) => target === dir || target.startsWith(`${dir}/`));
}

/** mountinfo writes space, tab, newline and backslash as octal escapes */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The host's network links, by name (without the @peer suffix). */
export function links(): string[] {
  return run('ip', ['-o', 'link', 'show'])
    .stdout.split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    .filter(Boolean);
}

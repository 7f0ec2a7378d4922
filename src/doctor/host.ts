// The doctor's only window on the machine: run a command, read a file, ask the OS. Tests pass a real
// host with another PATH or another networks.conf; nothing else is swapped out.
import { constants } from 'node:fs';
import { open, readFile, stat, statfs } from 'node:fs/promises';
import { availableParallelism, freemem, homedir, networkInterfaces, platform, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { execa } from 'execa';

export interface CommandResult {
  /** false when the program is not on PATH */
  found: boolean;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

export interface HostInterfaceAddress {
  ifname: string;
  address: string;
  prefixlen: number;
}

export interface Host {
  readonly platform: NodeJS.Platform;
  readonly homeDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  run(cmd: string, args: readonly string[]): Promise<CommandResult>;
  /** the file's text, or undefined when it does not exist or cannot be read */
  readText(path: string): Promise<string | undefined>;
  /** whether the file opens for reading and writing (e.g. /dev/kvm for the current user) */
  canOpenReadWrite(path: string): Promise<boolean>;
  freeMemoryMiB(): number;
  totalMemoryMiB(): number;
  cpuCount(): number;
  /** IPv4 addresses of the host's interfaces, from the OS (used when `ip` is missing) */
  interfaceAddresses(): HostInterfaceAddress[];
  /** free space and device id of the file system holding `path` (or its nearest existing parent) */
  diskAt(path: string): Promise<{ path: string; device: number; freeMiB: number }>;
  /** the current time: end-of-life dates are judged against it */
  now(): Date;
}

export interface RealHostOptions {
  /** environment for the commands (PATH decides which vagrant/VBoxManage/virsh run); default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** the clock; a test passes a fixed one */
  now?: () => Date;
}

const MiB = 1024 * 1024;

export function realHost(options: RealHostOptions = {}): Host {
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  return {
    now,
    platform: platform(),
    homeDir: homedir(),
    env,
    async run(cmd, args) {
      // A command that hangs (a wedged libvirtd) must not hang the doctor.
      const r = await execa(cmd, args, { env: env as Record<string, string>, extendEnv: false, reject: false, timeout: 60_000, stdin: 'ignore' });
      const missing = (r as { code?: string }).code === 'ENOENT';
      return { found: !missing, exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
    },
    async readText(path) {
      try {
        return await readFile(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    async canOpenReadWrite(path) {
      try {
        const fh = await open(path, constants.O_RDWR);
        await fh.close();
        return true;
      } catch {
        return false;
      }
    },
    freeMemoryMiB: () => Math.floor(freemem() / MiB),
    totalMemoryMiB: () => Math.floor(totalmem() / MiB),
    cpuCount: () => availableParallelism(),
    interfaceAddresses() {
      return Object.entries(networkInterfaces()).flatMap(([ifname, addrs]) =>
        (addrs ?? [])
          .filter((a) => a.family === 'IPv4' && a.cidr)
          .map((a) => ({ ifname, address: a.address, prefixlen: Number(a.cidr!.split('/')[1]) })),
      );
    },
    async diskAt(path) {
      let p = path;
      // The lab folder may not exist yet: measure the file system it will be created on.
      for (;;) {
        try {
          const [s, fs] = await Promise.all([stat(p), statfs(p)]);
          return { path: p, device: s.dev, freeMiB: Math.floor((fs.bavail * fs.bsize) / MiB) };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw err;
          p = dirname(p);
        }
      }
    },
  };
}

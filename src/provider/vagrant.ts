// Typed calls to the `vagrant` CLI (execa). Output is read with --machine-readable; each machine's
// messages go to <logDir>/<machine>.log and drive the progress callback.
// This module knows nothing about SSH or Kubernetes (see ARCHITECTURE.md).
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { LineSplitter } from '../util/lines.js';
import { parseLine, type VagrantRecord } from './machine-readable.js';
import { classifyVagrantFailure, VagrantError } from './errors.js';
import {
  parseSshConfigRecords,
  parseStatus,
  uiMessage,
  type MachineStatus,
  type SshConfigEntry,
} from './parsers.js';
import { parseSnapshotList } from './snapshots.js';

export type Provider = 'libvirt' | 'virtualbox';

/** A machine's current step, e.g. "Waiting for domain to get an IP address...". */
export interface VagrantProgress {
  machine: string;
  step: string;
}

export interface VagrantOptions {
  /** the lab folder that holds the Vagrantfile */
  cwd: string;
  provider: Provider;
  /** per-machine logs go here; none when undefined */
  logDir?: string;
  /** extra environment (e.g. VAGRANT_HOME in tests) */
  env?: Record<string, string>;
  /** aborting sends vagrant one SIGINT (its graceful clean-up), then SIGKILL after `killGraceMs` */
  signal?: AbortSignal;
  killGraceMs?: number;
  onProgress?: (p: VagrantProgress) => void;
  /** the executable, for tests of the not-installed case */
  bin?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  records: VagrantRecord[];
}

export class Vagrant {
  private readonly logs = new Map<string, WriteStream>();

  constructor(readonly opts: VagrantOptions) {}

  /** Boots machines. libvirt can create them in parallel; VirtualBox cannot (Vagrant then goes one by one). */
  async up(o: { machines?: string[]; noProvision?: boolean; parallel?: boolean } = {}): Promise<void> {
    const parallel = (o.parallel ?? true) && this.opts.provider !== 'virtualbox';
    await this.run(
      [
        'up',
        `--provider=${this.opts.provider}`,
        o.noProvision ? '--no-provision' : '--provision',
        parallel ? '--parallel' : '--no-parallel',
        ...(o.machines ?? []),
      ],
      { progress: true },
    );
  }

  async status(machines: string[] = []): Promise<MachineStatus[]> {
    return parseStatus((await this.run(['status', ...machines])).stdout);
  }

  /**
   * SSH settings of running machines. Vagrant exits 1 when any asked machine is not running, so ask
   * for the running ones only (machine-readable output gives one `ssh-config` record per machine).
   */
  async sshConfig(machines: string[] = []): Promise<SshConfigEntry[]> {
    const running = (await this.status(machines)).filter((m) => m.state === 'running').map((m) => m.name);
    if (running.length === 0) return [];
    return parseSshConfigRecords((await this.run(['ssh-config', ...running])).stdout);
  }

  async destroy(machines: string[] = []): Promise<void> {
    await this.run(['destroy', '-f', ...machines], { progress: true });
  }

  async snapshotSave(name: string, machines: string[] = []): Promise<void> {
    // `vagrant snapshot save [vm] NAME`: without a VM it saves every machine.
    await this.run(['snapshot', 'save', ...(machines.length === 1 ? machines : []), name], { progress: true, each: machines.length > 1 ? machines : undefined });
  }

  async snapshotRestore(name: string, machines: string[] = []): Promise<void> {
    await this.run(['snapshot', 'restore', '--no-provision', ...(machines.length === 1 ? machines : []), name], {
      progress: true,
      each: machines.length > 1 ? machines : undefined,
    });
  }

  async snapshotList(machines: string[] = []): Promise<Record<string, string[]>> {
    return parseSnapshotList((await this.run(['snapshot', 'list', ...machines])).stdout);
  }

  async validate(): Promise<void> {
    await this.run(['validate'], { machineReadable: false });
  }

  async version(): Promise<string> {
    const out = (await this.run(['--version'], { machineReadable: false })).stdout;
    return /(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? out.trim();
  }

  /** Closes the per-machine log files. */
  async close(): Promise<void> {
    await Promise.all([...this.logs.values()].map((s) => new Promise<void>((r) => s.end(r))));
    this.logs.clear();
  }

  /**
   * Runs `vagrant ARGS`. With `each`, runs it once per machine (commands such as `snapshot save` that take
   * a single VM) in sequence.
   */
  async run(
    args: string[],
    o: { machineReadable?: boolean; progress?: boolean; each?: string[] } = {},
  ): Promise<RunResult> {
    if (o.each) {
      const all: RunResult = { stdout: '', stderr: '', records: [] };
      const [verb, sub] = args;
      for (const m of o.each) {
        const r = await this.run([verb!, sub!, m, ...args.slice(2)], { ...o, each: undefined });
        all.stdout += r.stdout;
        all.stderr += r.stderr;
        all.records.push(...r.records);
      }
      return all;
    }
    const machineReadable = o.machineReadable ?? true;
    const full = machineReadable ? [...args, '--machine-readable'] : args;
    const command = `vagrant ${args.join(' ')}`;
    const signal = this.opts.signal;
    if (signal?.aborted) throw this.interrupted(command);
    this.log('', `$ ${command}`);

    // detached: vagrant gets its own process group, so a terminal Ctrl-C reaches only us and we send it
    // exactly one SIGINT (a second one makes vagrant exit without cleaning up).
    const child = execa(this.opts.bin ?? 'vagrant', full, {
      cwd: this.opts.cwd,
      env: { VAGRANT_NO_COLOR: '1', ...this.opts.env },
      reject: false,
      detached: true,
      stdin: 'ignore',
      encoding: 'utf8',
    });
    const records: VagrantRecord[] = [];
    const split = new LineSplitter();
    const onLine = (line: string) => {
      const rec = machineReadable ? parseLine(line) : undefined;
      if (!rec) return;
      records.push(rec);
      this.record(rec, o.progress ?? false);
    };
    child.stdout?.on('data', (chunk: Buffer | string) => split.push(chunk.toString()).forEach(onLine));
    child.stderr?.on('data', (chunk: Buffer | string) => this.log('', chunk.toString().trimEnd()));

    const stop = signal ? this.stopOnAbort(child, signal) : undefined;
    const result = await child;
    stop?.();
    split.flush().forEach(onLine);

    const stdout = String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '');
    if (signal?.aborted) throw this.interrupted(command);
    if (result.failed) {
      const spawnError = (result as { code?: string }).code;
      const err = classifyVagrantFailure({
        command,
        ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }),
        stdout,
        stderr,
        ...(spawnError ? { spawnError } : {}),
        provider: this.opts.provider,
        ...(this.opts.logDir ? { logDir: this.opts.logDir } : {}),
      });
      this.log('', `! ${err.message}`);
      throw err;
    }
    return { stdout, stderr, records };
  }

  private stopOnAbort(child: ResultPromise, signal: AbortSignal): () => void {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGINT');
      timer = setTimeout(() => child.kill('SIGKILL'), this.opts.killGraceMs ?? 120_000);
      timer.unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return () => {
      signal.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    };
  }

  private interrupted(command: string): VagrantError {
    return classifyVagrantFailure({ command, exitCode: 130, stdout: '', stderr: '', provider: this.opts.provider });
  }

  private record(rec: VagrantRecord, progress: boolean): void {
    const text = uiMessage(rec);
    if (text === undefined) return;
    // vagrant-libvirt's box upload prints one huge \r-separated "Progress:" line; keep it out of logs.
    if (/^\s*Progress:/.test(text)) return;
    this.log(rec.target, text);
    if (progress && rec.target !== '' && this.opts.onProgress) {
      const step = stepOf(text, rec.target);
      if (step) this.opts.onProgress({ machine: rec.target, step });
    }
  }

  private log(machine: string, text: string): void {
    if (!this.opts.logDir || text === '') return;
    const name = machine === '' ? 'vagrant' : machine;
    let s = this.logs.get(name);
    if (!s) {
      mkdirSync(this.opts.logDir, { recursive: true });
      s = createWriteStream(join(this.opts.logDir, `${name}.log`), { flags: 'a' });
      this.logs.set(name, s);
    }
    s.write(`${new Date().toISOString()} ${text}\n`);
  }
}

/** "==> m-k8s: Starting domain." -> "Starting domain." (the first line, without Vagrant's prefix). */
export function stepOf(message: string, machine: string): string | undefined {
  const first = message.split('\n')[0]!.trim();
  const stripped = first.replace(new RegExp(`^(==> )?${escapeRe(machine)}: ?`), '').trim();
  // " -- Name: ...": the table of domain settings vagrant-libvirt prints; not a step
  return stripped === '' || stripped.startsWith('-- ') ? undefined : stripped;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

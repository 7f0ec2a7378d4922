// Pure parsers for what `vagrant` prints. Inputs are the raw stdout of each command.
import { parseMachineReadable, type VagrantRecord } from './machine-readable.js';

/** Vagrant's state names (libvirt: running, shutoff, paused, not_created...; VirtualBox: poweroff, saved, aborted). */
export interface MachineStatus {
  name: string;
  state: string;
  /** e.g. "not created", "running" */
  stateHuman: string;
  provider: string;
}

export function parseStatus(stdout: string): MachineStatus[] {
  const byName = new Map<string, MachineStatus>();
  const get = (name: string) => {
    let m = byName.get(name);
    if (!m) {
      m = { name, state: 'unknown', stateHuman: 'unknown', provider: '' };
      byName.set(name, m);
    }
    return m;
  };
  for (const r of parseMachineReadable(stdout)) {
    if (r.target === '') continue;
    if (r.type === 'state') get(r.target).state = r.data[0] ?? 'unknown';
    else if (r.type === 'state-human-short') get(r.target).stateHuman = r.data[0] ?? 'unknown';
    else if (r.type === 'provider-name') get(r.target).provider = r.data[0] ?? '';
    else if (r.type === 'metadata' && r.data[0] === 'provider') get(r.target).provider = r.data[1] ?? '';
  }
  return [...byName.values()];
}

/** One `Host` block of `vagrant ssh-config` (OpenSSH client config syntax). */
export interface SshConfigEntry {
  name: string;
  host: string;
  port: number;
  user: string;
  identityFile: string;
  /** every option as printed, keys lowercased */
  options: Record<string, string>;
}

export function parseSshConfig(stdout: string): SshConfigEntry[] {
  const blocks: { name: string; options: Record<string, string> }[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = unquote(m[2]!.trim());
    if (key === 'host') blocks.push({ name: value, options: {} });
    else if (blocks.length > 0) blocks[blocks.length - 1]!.options[key] ??= value; // first value wins, as in ssh
  }
  return blocks.map(({ name, options }) => ({
    name,
    host: options.hostname ?? name,
    port: Number(options.port ?? 22),
    user: options.user ?? 'vagrant',
    identityFile: options.identityfile ?? '',
    options,
  }));
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** The text of a ui record: data is [level, message]. */
export function uiMessage(r: VagrantRecord): string | undefined {
  return r.type === 'ui' ? r.data.slice(1).join(',') : undefined;
}

/** `vagrant ssh-config --machine-readable`: one `ssh-config` record per machine holding its Host block. */
export function parseSshConfigRecords(stdout: string): SshConfigEntry[] {
  return parseMachineReadable(stdout)
    .filter((r) => r.type === 'ssh-config')
    .flatMap((r) => parseSshConfig(r.data.join(',')));
}

export interface BoxInfo {
  name: string;
  provider: string;
  version: string;
}

/** `vagrant box list --machine-readable`: each box starts with a box-name record. */
export function parseBoxList(stdout: string): BoxInfo[] {
  const boxes: BoxInfo[] = [];
  for (const r of parseMachineReadable(stdout)) {
    if (r.type === 'box-name') boxes.push({ name: r.data[0] ?? '', provider: '', version: '' });
    const last = boxes[boxes.length - 1];
    if (!last) continue;
    if (r.type === 'box-provider') last.provider = r.data[0] ?? '';
    if (r.type === 'box-version') last.version = r.data[0] ?? '';
  }
  return boxes;
}

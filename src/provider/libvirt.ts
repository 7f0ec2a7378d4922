// What exists in libvirt (domains, networks, volumes), read with `virsh`, so `up` can record which
// networks it created and `down` can remove exactly those and prove that nothing of the lab is left.
// libvirt is shared by everything on the host: callers only ever remove names they recorded.
import { execa } from 'execa';

export const LIBVIRT_URI = 'qemu:///system';

async function virsh(args: string[], signal?: AbortSignal): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const r = await execa('virsh', ['-c', LIBVIRT_URI, ...args], {
    reject: false,
    stdin: 'ignore',
    ...(signal ? { cancelSignal: signal } : {}),
  });
  return { ok: !r.failed, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? r.message ?? '') };
}

export function names(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export async function virshAvailable(): Promise<boolean> {
  return (await virsh(['version'])).ok;
}

export async function listDomains(): Promise<string[]> {
  const r = await virsh(['list', '--all', '--name']);
  if (!r.ok) throw new Error(`virsh list failed: ${r.stderr.trim()}`);
  return names(r.stdout);
}

export async function listNetworks(): Promise<string[]> {
  const r = await virsh(['net-list', '--all', '--name']);
  if (!r.ok) throw new Error(`virsh net-list failed: ${r.stderr.trim()}`);
  return names(r.stdout);
}

/** Volume names in a pool (vagrant-libvirt puts VM disks in `default` unless told otherwise). */
export async function listVolumes(pool = 'default'): Promise<string[]> {
  const r = await virsh(['vol-list', pool]);
  if (!r.ok) return [];
  // "Name  Path" table: the first column of each row after the dashes.
  return r.stdout
    .split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

export async function domainName(uuid: string): Promise<string | undefined> {
  const r = await virsh(['domname', uuid]);
  return r.ok ? r.stdout.trim() || undefined : undefined;
}

/** Networks each domain's interfaces use (domiflist), to avoid removing a network another VM needs. */
export async function networksOfDomain(domain: string): Promise<string[]> {
  const r = await virsh(['domiflist', domain]);
  if (!r.ok) return [];
  return r.stdout
    .split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols[1] === 'network' && cols[2])
    .map((cols) => cols[2]!);
}

export async function destroyDomain(name: string): Promise<string | undefined> {
  await virsh(['destroy', name]); // stops it if running; fails harmlessly when shut off
  const r = await virsh(['undefine', name, '--remove-all-storage', '--snapshots-metadata', '--nvram']);
  if (r.ok) return undefined;
  const plain = await virsh(['undefine', name, '--snapshots-metadata']);
  return plain.ok ? undefined : plain.stderr.trim();
}

export async function removeNetwork(name: string): Promise<string | undefined> {
  await virsh(['net-destroy', name]);
  const r = await virsh(['net-undefine', name]);
  return r.ok ? undefined : r.stderr.trim();
}

export async function removeVolume(name: string, pool = 'default'): Promise<string | undefined> {
  const r = await virsh(['vol-delete', name, '--pool', pool]);
  return r.ok ? undefined : r.stderr.trim();
}

/** VirtualBox VM names (for the "nothing left" check of VirtualBox labs). */
export async function listVirtualBoxVms(): Promise<string[] | undefined> {
  const r = await execa('VBoxManage', ['list', 'vms'], { reject: false, stdin: 'ignore' });
  if (r.failed) return undefined;
  return String(r.stdout)
    .split('\n')
    .map((l) => /^"(.*)" \{/.exec(l.trim())?.[1])
    .filter((n): n is string => n !== undefined);
}

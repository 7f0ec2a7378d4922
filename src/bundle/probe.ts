// Runs the bundle's own binaries on the host, when they can run here, for facts no file name gives:
// their versions and the exact images this kubeadm needs (`kubeadm config images list`).
import { arch as hostArch, platform } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { LAYOUT } from './layout.js';
import type { BundleInventory } from './inventory.js';

export interface BundleProbe {
  /** why the binaries were not run (another OS or CPU, not executable); undefined when they were */
  skipped?: string;
  versions: Partial<Record<'kubeadm' | 'kubelet' | 'kubectl', string>>;
  /** `kubeadm config images list` for the bundle's version */
  requiredImages?: string[];
  errors: string[];
}

/** The one side effect: run a command, get stdout or an error. Tests pass a real or a fake one. */
export type Runner = (file: string, args: readonly string[]) => Promise<string>;

export const execRunner: Runner = async (file, args) => {
  const r = await execa(file, args, { timeout: 30_000, env: { KUBECONFIG: '/dev/null' } });
  return r.stdout;
};

export function hostCanRun(inv: BundleInventory): string | undefined {
  if (platform() !== 'linux') return `this host runs ${platform()}, the binaries are for Linux`;
  const want = hostArch() === 'x64' ? 'amd64' : hostArch();
  const kubeadm = inv.binaries.find((b) => b.name === 'kubeadm');
  if (!kubeadm) return 'bin/kubeadm is missing';
  if (kubeadm.arch !== want) return `bin/kubeadm is built for ${kubeadm.arch ?? 'no known CPU'}, this host is ${want}`;
  if (!kubeadm.executable) return 'bin/kubeadm is not executable';
  return undefined;
}

export async function probeBundle(inv: BundleInventory, run: Runner = execRunner): Promise<BundleProbe> {
  const probe: BundleProbe = { versions: {}, errors: [] };
  const skip = hostCanRun(inv);
  if (skip) return { ...probe, skipped: skip };
  const bin = (name: string) => join(inv.dir, LAYOUT.bin, name);
  const has = (name: string) => inv.binaries.some((b) => b.name === name && b.executable);

  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      probe.errors.push(`${what}: ${firstLine(err)}`);
      return undefined;
    }
  };
  const kubeadm = await attempt('bin/kubeadm version', () => run(bin('kubeadm'), ['version', '-o', 'short']));
  if (kubeadm !== undefined) probe.versions.kubeadm = kubeadm.trim();
  if (has('kubelet')) {
    const out = await attempt('bin/kubelet --version', () => run(bin('kubelet'), ['--version']));
    const v = out === undefined ? undefined : /v\d+\.\d+\.\d+\S*/.exec(out)?.[0];
    if (v) probe.versions.kubelet = v;
  }
  if (has('kubectl')) {
    const out = await attempt('bin/kubectl version', () => run(bin('kubectl'), ['version', '--client', '-o', 'json']));
    const v = out === undefined ? undefined : /"gitVersion":\s*"(v[^"]+)"/.exec(out)?.[1];
    if (v) probe.versions.kubectl = v;
  }
  const version = inv.manifest?.kubernetes ?? probe.versions.kubeadm;
  if (version !== undefined) {
    const out = await attempt('bin/kubeadm config images list', () =>
      run(bin('kubeadm'), ['config', 'images', 'list', '--kubernetes-version', withV(version)]),
    );
    if (out !== undefined) probe.requiredImages = out.split('\n').map((l) => l.trim()).filter((l) => /^\S+:\S+$/.test(l));
  }
  return probe;
}

export function withV(version: string): string {
  return version.startsWith('v') ? version : `v${version}`;
}

function firstLine(err: unknown): string {
  const e = err as { shortMessage?: string; stderr?: string; message?: string };
  const text = (e.stderr && e.stderr.trim() !== '' ? e.stderr : (e.shortMessage ?? e.message ?? String(err))).trim();
  return text.split('\n')[0] ?? text;
}

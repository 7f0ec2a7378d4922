// provider: machines: the offline bundle onto a machine at /k8slab-bundle, where install_pkg.sh reads it
// (the Vagrantfile's synced folder does this for VMs; a machine may have no rsync). A worker gets no
// control-plane-only image (images/index.json says which). A file already there with the same size is
// not sent again, so a re-run of `up` copies only what changed.
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { controlPlaneOnlyFiles } from '../bundle/roles.js';
import type { Node } from '../nodes/node.js';
import type { Role } from '../plan/plan.js';
import { commandLine, shQuote } from '../util/shell.js';

export const MACHINE_BUNDLE_DIR = '/k8slab-bundle';

export interface BundleUpload {
  sent: string[];
  kept: string[];
}

export async function uploadBundle(node: Node, bundleDir: string, role: Role, signal?: AbortSignal): Promise<BundleUpload> {
  const opts = { timeoutMs: 60_000, ...(signal ? { signal } : {}) };
  const skip = new Set(role === 'worker' ? controlPlaneOnlyFiles(await readFile(join(bundleDir, 'images', 'index.json'), 'utf8').catch(() => '')) : []);
  const files = (await listFiles(bundleDir)).filter((f) => !skip.has(f.path));
  // the folder belongs to the login user, so that the file upload (as that user) can write there
  const prep = await node.run(`install -d -m 0755 -o "\${SUDO_USER:-$(id -un)}" ${shQuote(MACHINE_BUNDLE_DIR)}`, { ...opts, sudo: true });
  if (prep.exitCode !== 0) throw new Error(`preparing ${MACHINE_BUNDLE_DIR} failed: ${prep.stderr.trim()}`);
  const listed = await node.run(`find ${shQuote(MACHINE_BUNDLE_DIR)} -type f -printf '%s %P\\n'`, opts);
  const there = new Map(
    listed.stdout.split('\n').flatMap((l) => {
      const m = /^(\d+) (.+)$/.exec(l);
      return m ? [[m[2]!, Number(m[1])] as const] : [];
    }),
  );
  const dirs = [...new Set(files.map((f) => dirname(f.path)).filter((d) => d !== '.'))].map((d) => `${MACHINE_BUNDLE_DIR}/${d}`);
  if (dirs.length > 0) {
    const mk = await node.run(commandLine(['mkdir', '-p', ...dirs]), opts);
    if (mk.exitCode !== 0) throw new Error(`creating the bundle's folders failed: ${mk.stderr.trim()}`);
  }
  const out: BundleUpload = { sent: [], kept: [] };
  for (const f of files) {
    if (there.get(f.path) === f.size) {
      out.kept.push(f.path);
      continue;
    }
    await node.put(await readFile(join(bundleDir, f.path)), `${MACHINE_BUNDLE_DIR}/${f.path}`, f.mode);
    out.sent.push(f.path);
  }
  return out;
}

/** Every file under dir (symlinks followed, as rsync --copy-links), as a path relative to dir. */
async function listFiles(dir: string, prefix = ''): Promise<{ path: string; size: number; mode: number }[]> {
  const out: { path: string; size: number; mode: number }[] = [];
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    const st = await stat(join(dir, rel));
    if (st.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (st.isFile()) out.push({ path: rel, size: st.size, mode: st.mode & 0o111 ? 0o755 : 0o644 });
  }
  return out;
}

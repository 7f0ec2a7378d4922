// `k8slab bundle create`: the steps that build a bundle from the official sources, and, where the host can
// reach them, the downloads themselves (binaries, add-on manifests, and images with skopeo or crane). Without
// internet it says so and changes nothing.
import { createHash } from 'node:crypto';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LabConfig } from '../config/schema.js';
import { addonNeeds, type AddonNeed } from './addons.js';
import { BUNDLE_FORMAT, LAYOUT, type BundleManifest } from './layout.js';
import { tarballName } from './pull.js';

export interface CreateOptions {
  kubernetes: string;
  arch: 'amd64' | 'arm64';
  out: string;
  /** base URL of the Kubernetes release binaries; default https://dl.k8s.io (a local mirror works too) */
  mirror: string;
  /** the lab the bundle is for: its CNI and add-ons (lab.yaml, else the defaults) */
  lab: LabConfig;
}

/** The node packages a bundle carries: the runtime, curl (the API server waits), and what the add-ons install. */
export function nodePackages(lab: LabConfig): { debs: string[]; rpms: string[] } {
  const extra = addonNeeds(lab).flatMap((n) => n.packages ?? []);
  const uniq = (xs: string[]) => [...new Set(xs)];
  return {
    debs: uniq(['containerd', 'runc', 'conntrack', 'socat', 'curl', 'ebtables', 'ethtool', 'ipset', 'containernetworking-plugins', ...extra.flatMap((p) => p.debs)]),
    rpms: uniq(['containerd.io', 'conntrack-tools', 'socat', 'curl', ...extra.flatMap((p) => p.rpms)]),
  };
}

export const OFFICIAL_MIRROR = 'https://dl.k8s.io';

export function binaryUrl(o: Pick<CreateOptions, 'mirror' | 'kubernetes' | 'arch'>, name: string): string {
  return `${o.mirror.replace(/\/$/, '')}/release/v${o.kubernetes}/bin/linux/${o.arch}/${name}`;
}

/** The whole recipe, printed for the user (and followed by `performCreate` where it can be). */
export function createSteps(o: CreateOptions): string[] {
  const minor = o.kubernetes.split('.').slice(0, 2).join('.');
  const needs = addonNeeds(o.lab);
  const pkgs = nodePackages(o.lab);
  const v = `v${o.kubernetes}`;
  return [
    `mkdir -p ${o.out}/{bin,images,debs,cni,manifests}`,
    `Binaries (${LAYOUT.bin}/): for f in kubeadm kubelet kubectl; do curl -fLo ${o.out}/bin/$f ${binaryUrl(o, '$f')}; ` +
      `echo "$(curl -fsL ${binaryUrl(o, '$f')}.sha256)  ${o.out}/bin/$f" | sha256sum -c; done; chmod +x ${o.out}/bin/*`,
    `crictl (optional): https://github.com/kubernetes-sigs/cri-tools/releases/download/v${minor}.0/crictl-v${minor}.0-linux-${o.arch}.tar.gz, unpacked into ${LAYOUT.bin}/`,
    `Images (${LAYOUT.images}/): for each of \`${o.out}/bin/kubeadm config images list --kubernetes-version ${v}\` (plus the lesson images), ` +
      '`crane pull IMAGE FILE.tar`, or `skopeo copy docker://IMAGE docker-archive:FILE.tar:IMAGE`, or `ctr images pull IMAGE && ctr images export FILE.tar IMAGE`',
    `Container runtime and node packages (${LAYOUT.debs}/), on the box's distribution: cd ${o.out}/${LAYOUT.debs} && apt-get download $(apt-cache depends --recurse --no-recommends --no-suggests ` +
      `--no-conflicts --no-breaks --no-replaces --no-enhances ${pkgs.debs.join(' ')} | grep "^\\w" | sort -u)` +
      ` (RHEL family: dnf download --resolve --destdir ${o.out}/${LAYOUT.rpms} ${pkgs.rpms.join(' ')})`,
    `CNI plugins for cni: bridge (${LAYOUT.cni}/, optional when the box has them): https://github.com/containernetworking/plugins/releases (cni-plugins-linux-${o.arch}-*.tgz)`,
    ...needs.map(
      (n) =>
        `${n.title} (${n.why}; without it: ${n.off}): ` +
        [
          ...n.files.map((f) => `curl -fLo ${o.out}/${LAYOUT.manifests}/${f.path} --create-dirs ${f.url}`),
          ...(n.files.length > 0 ? [`then every image its manifests name into ${LAYOUT.images}/`] : []),
          ...(n.images ?? []).map((ref) => `the image ${ref} into ${LAYOUT.images}/`),
        ].join('; '),
    ),
    `${LAYOUT.manifest}: {"format": ${BUNDLE_FORMAT}, "kubernetes": "${o.kubernetes}", "arch": "${o.arch}", "containerd": "<version in debs/>"}`,
    `Index: \`k8slab bundle index ${o.out}\` writes ${LAYOUT.imageIndex} from the tarballs`,
    `Check: k8slab bundle check ${o.out} --config lab.yaml`,
  ];
}

export type Fetcher = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

/** Can the host reach the release server? Returns the reason when it cannot. */
export async function reachable(o: CreateOptions, fetcher: Fetcher = fetch, timeoutMs = 8000): Promise<string | undefined> {
  return reachableUrl(`${binaryUrl(o, 'kubeadm')}.sha256`, fetcher, timeoutMs);
}

/** Does one URL answer? The reason when it does not. */
export async function reachableUrl(url: string, fetcher: Fetcher = fetch, timeoutMs = 8000): Promise<string | undefined> {
  try {
    const r = await fetcher(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return `${url} answered HTTP ${r.status}`;
    await r.arrayBuffer();
    return undefined;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return `${url} is unreachable (${e.cause?.code ?? e.cause?.message ?? e.message})`;
  }
}

/** Downloads bin/ with SHA-256 verification and writes bundle.json. Images and packages are separate steps. */
export async function downloadBinaries(o: CreateOptions, log: (line: string) => void, fetcher: Fetcher = fetch): Promise<void> {
  await mkdir(join(o.out, LAYOUT.bin), { recursive: true });
  for (const name of ['kubeadm', 'kubelet', 'kubectl']) {
    const url = binaryUrl(o, name);
    log(`downloading ${url}`);
    const want = (await text(fetcher, `${url}.sha256`)).trim().split(/\s+/)[0] ?? '';
    const r = await fetcher(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    const body = Buffer.from(await r.arrayBuffer());
    const got = createHash('sha256').update(body).digest('hex');
    if (got !== want) throw new Error(`${url}: SHA-256 ${got} does not match the published ${want}`);
    const target = join(o.out, LAYOUT.bin, name);
    await writeFile(`${target}.part`, body);
    await chmod(`${target}.part`, 0o755);
    await rename(`${target}.part`, target);
    log(`  ${name}: ${body.length} bytes, sha256 ok`);
  }
}

/** bundle.json for what `bundle create` gathered. */
export async function writeBundleManifest(o: CreateOptions): Promise<void> {
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    kubernetes: o.kubernetes,
    arch: o.arch,
    ...(o.lab.kubernetes.cni === 'calico' ? { calico: o.lab.calico.version } : {}),
    source: `k8slab bundle create from ${o.mirror} and the add-ons' upstream repositories`,
    created: new Date().toISOString(),
  };
  await mkdir(o.out, { recursive: true });
  await writeFile(join(o.out, LAYOUT.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Downloads each add-on manifest the lab needs into manifests/<addon>/<version>/, where `bundle check` looks
 * (the relative paths master_node.sh keeps them at under /etc/k8slab/addons). A file already there is kept (a pinned URL never changes). Returns the files that could
 * not be fetched, with the reason; the others are written.
 */
export async function downloadManifests(
  out: string,
  needs: readonly AddonNeed[],
  log: (line: string) => void,
  fetcher: Fetcher = fetch,
): Promise<{ path: string; url: string; reason: string }[]> {
  const failed: { path: string; url: string; reason: string }[] = [];
  for (const f of needs.flatMap((n) => n.files)) {
    const target = join(out, LAYOUT.manifests, f.path);
    if ((await stat(target).catch(() => undefined))?.size) {
      log(`  ${LAYOUT.manifests}/${f.path}: kept`);
      continue;
    }
    try {
      const r = await fetcher(f.url);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const body = await r.text();
      await mkdir(dirname(target), { recursive: true });
      await writeFile(`${target}.part`, body);
      await rename(`${target}.part`, target);
      log(`  ${LAYOUT.manifests}/${f.path}: ${body.length} bytes from ${f.url}`);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      failed.push({ path: `${LAYOUT.manifests}/${f.path}`, url: f.url, reason: e.cause?.code ?? e.cause?.message ?? e.message });
    }
  }
  return failed;
}

async function text(fetcher: Fetcher, url: string): Promise<string> {
  const r = await fetcher(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

/** Pulls one image into a docker-archive tarball (pull.ts's skopeo or crane; tests pass their own). */
export type ImagePuller = (ref: string, file: string) => Promise<void>;

/**
 * Saves each image into images/<name>.tar with the puller; a tarball already there is kept. Returns the
 * images that could not be pulled, with the reason; `k8slab bundle index` then lists what was saved.
 */
export async function pullImages(
  out: string,
  refs: readonly string[],
  pull: ImagePuller,
  log: (line: string) => void,
): Promise<{ ref: string; reason: string }[]> {
  const failed: { ref: string; reason: string }[] = [];
  await mkdir(join(out, LAYOUT.images), { recursive: true });
  for (const ref of [...new Set(refs)]) {
    const target = join(out, LAYOUT.images, tarballName(ref));
    if ((await stat(target).catch(() => undefined))?.size) {
      log(`  ${LAYOUT.images}/${tarballName(ref)}: kept (${ref})`);
      continue;
    }
    try {
      await pull(ref, `${target}.part`);
      await rename(`${target}.part`, target);
      log(`  ${LAYOUT.images}/${tarballName(ref)}: ${ref}`);
    } catch (err) {
      await rm(`${target}.part`, { force: true });
      const e = err as { shortMessage?: string; message?: string };
      failed.push({ ref, reason: (e.shortMessage ?? e.message ?? String(err)).split('\n')[0]! });
    }
  }
  return failed;
}

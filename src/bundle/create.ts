// `k8slab bundle create`: the steps that build a bundle from the official sources, and, where the host can
// reach them, the download itself. Without internet it says so and changes nothing.
import { createHash } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLE_FORMAT, LAYOUT, type BundleManifest } from './layout.js';

export interface CreateOptions {
  kubernetes: string;
  arch: 'amd64' | 'arm64';
  out: string;
  /** base URL of the Kubernetes release binaries; default https://dl.k8s.io (a local mirror works too) */
  mirror: string;
  calico?: string;
}

export const OFFICIAL_MIRROR = 'https://dl.k8s.io';

export function binaryUrl(o: Pick<CreateOptions, 'mirror' | 'kubernetes' | 'arch'>, name: string): string {
  return `${o.mirror.replace(/\/$/, '')}/release/v${o.kubernetes}/bin/linux/${o.arch}/${name}`;
}

/** The whole recipe, printed for the user (and followed by `performCreate` where it can be). */
export function createSteps(o: CreateOptions): string[] {
  const minor = o.kubernetes.split('.').slice(0, 2).join('.');
  const v = `v${o.kubernetes}`;
  return [
    `mkdir -p ${o.out}/{bin,images,debs,cni,manifests}`,
    `Binaries (${LAYOUT.bin}/): for f in kubeadm kubelet kubectl; do curl -fLo ${o.out}/bin/$f ${binaryUrl(o, '$f')}; ` +
      `echo "$(curl -fsL ${binaryUrl(o, '$f')}.sha256)  ${o.out}/bin/$f" | sha256sum -c; done; chmod +x ${o.out}/bin/*`,
    `crictl (optional): https://github.com/kubernetes-sigs/cri-tools/releases/download/v${minor}.0/crictl-v${minor}.0-linux-${o.arch}.tar.gz, unpacked into ${LAYOUT.bin}/`,
    `Images (${LAYOUT.images}/): for each of \`${o.out}/bin/kubeadm config images list --kubernetes-version ${v}\` (plus the lesson images), ` +
      '`crane pull IMAGE FILE.tar`, or `skopeo copy docker://IMAGE docker-archive:FILE.tar:IMAGE`, or `ctr images pull IMAGE && ctr images export FILE.tar IMAGE`',
    `Index: \`k8slab bundle index ${o.out}\` writes ${LAYOUT.imageIndex} from the tarballs`,
    `Container runtime (${LAYOUT.debs}/), on the box's distribution: apt-get download $(apt-cache depends --recurse --no-recommends --no-suggests ` +
      '--no-conflicts --no-breaks --no-replaces --no-enhances containerd runc conntrack socat ebtables ethtool ipset containernetworking-plugins | grep "^\\w" | sort -u)' +
      ` (RHEL family: dnf download --resolve --destdir ${o.out}/rpms containerd.io conntrack-tools socat)`,
    `CNI plugins for cni: bridge (${LAYOUT.cni}/, optional when the box has them): https://github.com/containernetworking/plugins/releases (cni-plugins-linux-${o.arch}-*.tgz)`,
    `Manifests (${LAYOUT.manifests}/): calico.yaml from https://raw.githubusercontent.com/projectcalico/calico/v${o.calico ?? 'X.Y.Z'}/manifests/calico.yaml (and its images), ` +
      'metallb-native.yaml, local-path-storage.yaml when those add-ons are enabled',
    `${LAYOUT.manifest}: {"format": ${BUNDLE_FORMAT}, "kubernetes": "${o.kubernetes}", "arch": "${o.arch}", "containerd": "<version in debs/>"}`,
    `Check: k8slab bundle check ${o.out} --config lab.yaml`,
  ];
}

export type Fetcher = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

/** Can the host reach the release server? Returns the reason when it cannot. */
export async function reachable(o: CreateOptions, fetcher: Fetcher = fetch, timeoutMs = 8000): Promise<string | undefined> {
  const url = `${binaryUrl(o, 'kubeadm')}.sha256`;
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
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    kubernetes: o.kubernetes,
    arch: o.arch,
    source: `k8slab bundle create from ${o.mirror}`,
    created: new Date().toISOString(),
  };
  await writeFile(join(o.out, LAYOUT.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
}

async function text(fetcher: Fetcher, url: string): Promise<string> {
  const r = await fetcher(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

// What a k8slab bundle directory holds, and the JSON files that describe it. One place for the names so
// the checker, the creator, the testbed script and the generated shell scripts agree.
import { z } from 'zod';

export const BUNDLE_FORMAT = 1;

export const LAYOUT = {
  manifest: 'bundle.json',
  bin: 'bin',
  images: 'images',
  imageIndex: 'images/index.json',
  debs: 'debs',
  rpms: 'rpms',
  /** optional: CNI plugin binaries (bridge, host-local, loopback, portmap) when the box lacks them */
  cni: 'cni',
  /**
   * optional: containerd's and runc's release files, as install_pkg.sh downloads them online:
   * runtime/containerd/v<V>/containerd-<V>-linux-<arch>.tar.gz (+ .sha256sum, containerd.service) and
   * runtime/runc/v<V>/runc.<arch> (+ runc.sha256sum)
   */
  runtime: 'runtime',
  /** add-on manifests as manifests/<addon>/<version>/<file> (addons.ts says which a lab needs) */
  manifests: 'manifests',
} as const;

export const REQUIRED_BINARIES = ['kubeadm', 'kubelet', 'kubectl'] as const;
export const OPTIONAL_BINARIES = ['crictl'] as const;
/** The plugins `cni: bridge` uses on every node. */
export const BRIDGE_CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;

const version = z.string().regex(/^v?\d+\.\d+\.\d+([-+~][0-9A-Za-z.+~-]+)?$/, {
  error: 'must be a version such as 1.20.2',
});

/** bundle.json: which versions the bundle brings. Only `format` and `kubernetes` are required. */
export const bundleManifestSchema = z.looseObject({
  format: z.literal(BUNDLE_FORMAT, { error: `must be ${BUNDLE_FORMAT} (the bundle format this k8slab reads)` }),
  kubernetes: version,
  /** containerd version the runtime/ release files or the debs/rpms carry (absent: the box must bring it) */
  containerd: version.optional(),
  /** runc version of the runtime/ release files */
  runc: version.optional(),
  /** CPU architecture of bin/ and the images */
  arch: z.enum(['amd64', 'arm64'], { error: 'must be amd64 or arm64' }).default('amd64'),
  calico: version.optional(),
  cniPlugins: version.optional(),
  /** free text: where the bundle came from */
  source: z.string().optional(),
  created: z.string().optional(),
});
export type BundleManifest = z.output<typeof bundleManifestSchema>;

/** images/index.json: one entry per tarball, with the image references it holds. */
export const imageIndexSchema = z.looseObject({
  format: z.enum(['docker-archive', 'oci-archive']).default('docker-archive'),
  images: z.array(
    z.looseObject({
      file: z.string().regex(/^[^/]+\.tar$/, { error: 'must be a .tar file name inside images/' }),
      images: z.array(z.string().min(1)).min(1, { error: 'must name at least one image' }),
      size: z.number().int().nonnegative().optional(),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/, { error: 'must be a lowercase hex SHA-256' })
        .optional(),
    }),
  ),
});
export type ImageIndex = z.output<typeof imageIndexSchema>;

/** The release files a runtime/ folder holds for one containerd and one runc version (names as upstream's). */
export const runtimeFiles = (containerd: string, runc: string, arch: string) => ({
  containerd: [
    `containerd/v${containerd}/containerd-${containerd}-linux-${arch}.tar.gz`,
    `containerd/v${containerd}/containerd-${containerd}-linux-${arch}.tar.gz.sha256sum`,
    `containerd/v${containerd}/containerd.service`,
  ],
  runc: [`runc/v${runc}/runc.${arch}`, `runc/v${runc}/runc.sha256sum`],
});

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
  manifests: 'manifests',
} as const;

export const REQUIRED_BINARIES = ['kubeadm', 'kubelet', 'kubectl'] as const;
export const OPTIONAL_BINARIES = ['crictl'] as const;
/** The plugins `cni: bridge` uses on every node. */
export const BRIDGE_CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;

/** Add-on manifests a bundle carries for the features a lab can enable, by file name under manifests/. */
export const ADDON_MANIFESTS = {
  calico: 'calico.yaml',
  metallb: 'metallb-native.yaml',
  'local-path': 'local-path-storage.yaml',
  nfs: 'nfs-subdir-external-provisioner.yaml',
} as const;
export type AddonKey = keyof typeof ADDON_MANIFESTS;

const version = z.string().regex(/^v?\d+\.\d+\.\d+([-+~][0-9A-Za-z.+~-]+)?$/, {
  error: 'must be a version such as 1.20.2',
});

/** bundle.json: which versions the bundle brings. Only `format` and `kubernetes` are required. */
export const bundleManifestSchema = z.looseObject({
  format: z.literal(BUNDLE_FORMAT, { error: `must be ${BUNDLE_FORMAT} (the bundle format this k8slab reads)` }),
  kubernetes: version,
  /** containerd version the debs/rpms carry (absent: the box must bring containerd) */
  containerd: version.optional(),
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

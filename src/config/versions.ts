// Version facts the schema checks against. Kept in one place so a new Kubernetes or Calico release is a
// one-line change.

/** pkgs.k8s.io serves v1.24 and later; the old Google apt/yum repositories are gone. */
export const PKGS_K8S_IO_MIN_MINOR = 24;
/** Newest minor this release of k8slab knows about (a newer one is allowed, with a doctor warning). */
export const NEWEST_KNOWN_MINOR = 35;

/**
 * Kubernetes minors each Calico minor is tested against, from Calico's "System requirements" pages.
 * Older Calico minors are not offered: their manifests predate the pkgs.k8s.io era.
 */
export const CALICO_SUPPORT: Readonly<Record<string, readonly [number, number]>> = {
  '3.26': [24, 28],
  '3.27': [27, 29],
  '3.28': [28, 30],
  '3.29': [29, 32],
  '3.30': [30, 33],
  '3.31': [31, 35],
};

export const DEFAULT_VERSIONS = {
  kubernetes: '1.34',
  containerd: '2.1.4',
  runc: '1.3.0',
  calico: '3.31.3',
  metallb: '0.15.2',
  localPath: '0.0.32',
  nfsProvisioner: '4.0.18',
} as const;

export interface K8sVersion {
  major: 1;
  minor: number;
  /** undefined when only a minor such as "1.34" was given: the newest patch of that minor is installed. */
  patch?: number;
}

export function parseK8sVersion(text: string): K8sVersion | undefined {
  const m = /^v?1\.(\d{1,2})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const minor = Number(m[1]);
  return m[2] === undefined ? { major: 1, minor } : { major: 1, minor, patch: Number(m[2]) };
}

/** "3.31.3" -> "3.31" */
export function minorOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

// Version facts the schema and the doctor check against. Kept in one place so a new Kubernetes or Calico
// release is a one-line change; the README's tables are kept equal to these (a unit test compares them).

/** pkgs.k8s.io serves v1.24 and later; the old Google apt/yum repositories are gone. */
export const PKGS_K8S_IO_MIN_MINOR = 24;

/**
 * Kubernetes minors each Calico minor is tested against, from Calico's "System requirements" pages
 * (docs.tigera.io/calico/<minor>/getting-started/kubernetes/requirements; 3.31 gained 1.35 later,
 * projectcalico discussion #11717). Older Calico minors are not offered: their manifests predate the
 * pkgs.k8s.io era. A Calico minor newer than the last row is accepted with a doctor warning.
 */
export const CALICO_SUPPORT: Readonly<Record<string, readonly [number, number]>> = {
  '3.26': [24, 28],
  '3.27': [27, 29],
  '3.28': [28, 30],
  '3.29': [29, 32],
  '3.30': [31, 33],
  '3.31': [32, 35],
  '3.32': [34, 36],
  '3.33': [35, 37],
};

/**
 * End of life of each Kubernetes minor (kubernetes.io/releases/1.N; before 1.30, endoflife.date).
 * A minor past its date gets no security fixes: `k8slab doctor` warns about it.
 */
export const KUBERNETES_EOL: Readonly<Record<number, string>> = {
  18: '2021-06-18',
  19: '2021-10-28',
  20: '2022-02-28',
  21: '2022-06-28',
  22: '2022-10-28',
  23: '2023-02-28',
  24: '2023-07-28',
  25: '2023-10-27',
  26: '2024-02-28',
  27: '2024-06-28',
  28: '2024-10-28',
  29: '2025-02-28',
  30: '2025-07-15',
  31: '2025-10-28',
  32: '2026-02-28',
  33: '2026-06-28',
  34: '2026-10-27',
  35: '2027-02-28',
  36: '2027-06-28',
  37: '2027-10-28',
};

/**
 * containerd 2.x is in containerd's Kubernetes support table from 1.30 on (RELEASES.md, "Kubernetes
 * Support"); older minors are served only by containerd 1.7/1.6.
 */
export const CONTAINERD2_MIN_K8S_MINOR = 30;

const calicoMinors = (): number[] => Object.keys(CALICO_SUPPORT).map((m) => Number(m.split('.')[1]));

/** The newest Kubernetes minor some known Calico release is tested with. */
export const NEWEST_CALICO_K8S_MINOR = Math.max(...Object.values(CALICO_SUPPORT).map(([, hi]) => hi));
/** Newest minor this release of k8slab knows about (a newer one is allowed, with a doctor warning). */
export const NEWEST_KNOWN_MINOR = NEWEST_CALICO_K8S_MINOR;
/** "3.33": the newest Calico minor in the table. */
export const NEWEST_CALICO_MINOR = `3.${Math.max(...calicoMinors())}`;

export const DEFAULT_VERSIONS = {
  /** The newest minor a known Calico supports (1.37, supported until 2027-10-28). */
  kubernetes: `1.${NEWEST_CALICO_K8S_MINOR}`,
  /** containerd 2.3 is its first annual LTS release (containerd 2.3.0 release notes; RELEASES.md). */
  containerd: '2.3.7',
  /** The runc minor containerd 2.3 ships with (containerd#13590, cherry-picked to release/2.3). */
  runc: '1.4.4',
  /** Calico 3.33 is tested with Kubernetes 1.35-1.37. */
  calico: '3.33.1',
  metallb: '0.16.2',
  /** 0.0.34 fixes CVE-2025-62878 and 0.0.36 CVE-2026-44543. */
  localPath: '0.0.37',
  nfsProvisioner: '4.0.18',
  /** Traefik 3.7, its newest patch on the Go module proxy (bench/stack builds it from there). */
  traefik: '3.7.13',
} as const;

/**
 * The ingress controllers k8slab can install, and the majors whose manifest (command-line flags, RBAC) it
 * renders. Traefik's Ingress provider reads networking.k8s.io/v1 Ingress and IngressClass and
 * discovery.k8s.io/v1 EndpointSlices: Kubernetes serves the last from 1.21 on.
 */
export const INGRESS_CONTROLLERS = {
  traefik: { majors: [3], minK8sMinor: 21 },
} as const;

/** The default box and the version pinned for it: bento has published versions without a VirtualBox build (chef/bento#1588, #1595). */
export const DEFAULT_BOX = 'bento/ubuntu-24.04';
export const DEFAULT_BOX_VERSION = '202404.26.0';

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

/** "3.31" -> 31: the number after the first dot. */
export function minorNumber(version: string): number {
  return Number(version.split('.')[1]);
}

/** The Calico minors tested with a Kubernetes minor, oldest first. */
export function calicoFor(k8sMinor: number): string[] {
  return Object.entries(CALICO_SUPPORT)
    .filter(([, [lo, hi]]) => k8sMinor >= lo && k8sMinor <= hi)
    .map(([m]) => m);
}

/** End of life of a Kubernetes minor; minors older than the table ended before its first date. */
export function kubernetesEol(minor: number): { date: string; before?: true } | undefined {
  const known = KUBERNETES_EOL[minor];
  if (known !== undefined) return { date: known };
  const oldest = Math.min(...Object.keys(KUBERNETES_EOL).map(Number));
  return minor < oldest ? { date: KUBERNETES_EOL[oldest]!, before: true } : undefined;
}

// Package file names in debs/ and rpms/: enough parsing to tell which runtime version a bundle carries.

export interface PackageFile {
  file: string;
  name: string;
  version: string;
}

/** "containerd_1.6.20~ds1-1+deb12u3_amd64.deb" (epochs may be URL-encoded, as apt-get download writes them) */
export function parseDebFile(file: string): PackageFile | undefined {
  const m = /^([a-z0-9][a-z0-9+.-]*)_([^_]+)_([a-z0-9]+)\.deb$/.exec(file);
  if (!m) return undefined;
  return { file, name: m[1]!, version: decodeURIComponent(m[2]!) };
}

/** "containerd.io-1.6.20-3.1.el9.x86_64.rpm" */
export function parseRpmFile(file: string): PackageFile | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.([a-z0-9_]+)\.rpm$/.exec(file);
  if (!m) return undefined;
  return { file, name: m[1]!, version: `${m[2]!}-${m[3]!}` };
}

/** The upstream part of a package version: "1:1.6.20~ds1-1+deb12u3" -> "1.6.20". */
export function upstreamVersion(pkgVersion: string): string | undefined {
  return /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(pkgVersion)?.[1];
}

/** containerd's version among the package files (Debian "containerd", Docker's "containerd.io"). */
export function containerdVersion(pkgs: readonly PackageFile[]): string | undefined {
  const p = pkgs.find((x) => x.name === 'containerd' || x.name === 'containerd.io');
  return p ? upstreamVersion(p.version) : undefined;
}

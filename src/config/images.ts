// Every image the lessons use, in one place: what lab.yaml's `images:` map may name (config owns the catalogue,
// the lessons read it from here). Defaults are the course's own images; an override sets a registry mirror
// or the offline lab's local images.

export const DEFAULT_IMAGES = {
  /** kubetm/app: answers GET /hostname ("Hostname : <pod>") on :8080 */
  app: 'kubetm/app',
  /** kubetm/init: a shell-capable helper image the course execs curl/nslookup from */
  init: 'kubetm/init',
  /** the course's StatefulSet/Service web server */
  myweb: 'ghcr.io/c1t1d0s7/go-myweb',
  /** DNS/HTTP client pod for in-cluster probes (nslookup, dig, wget, mysql client) */
  tools: 'praqma/network-multitool',
  nginx: 'nginx',
  busybox: 'busybox',
  mysql: 'mysql:5.7',
  xtrabackup: 'gcr.io/google-samples/xtrabackup:1.0',
} as const;

export type ImageKey = keyof typeof DEFAULT_IMAGES;
export const IMAGE_KEYS = Object.keys(DEFAULT_IMAGES) as ImageKey[];

export function resolveImages(overrides: Readonly<Record<string, string>>): Record<ImageKey, string> {
  return { ...DEFAULT_IMAGES, ...overrides } as Record<ImageKey, string>;
}

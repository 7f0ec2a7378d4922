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
  /** the mysql lesson's mariadb flavor (the default): mariadbd, mariadb-backup, mbstream and socat in one image */
  mariadb: 'mariadb:10.11',
  /** the mysql lesson's mysql flavor: the course's own images (amd64 only; MySQL 5.7 is end-of-life) */
  mysql: 'mysql:5.7',
  xtrabackup: 'gcr.io/google-samples/xtrabackup:1.0',
} as const;

export type ImageKey = keyof typeof DEFAULT_IMAGES;
export const IMAGE_KEYS = Object.keys(DEFAULT_IMAGES) as ImageKey[];

/**
 * The mysql lesson's flavors (lab.yaml lessons.mysql.flavor). mariadb is the default: the official image is
 * multi-arch and its 10.11 line is maintained; mysql is the course's mysql:5.7 + xtrabackup, end-of-life and
 * amd64 only.
 */
export const MYSQL_FLAVORS = ['mariadb', 'mysql'] as const;
export type MysqlFlavor = (typeof MYSQL_FLAVORS)[number];
export const DEFAULT_MYSQL_FLAVOR: MysqlFlavor = 'mariadb';
/** The image keys each flavor uses; the other flavor's are not pulled, bundled or checked. */
export const FLAVOR_IMAGES: Readonly<Record<MysqlFlavor, readonly ImageKey[]>> = { mariadb: ['mariadb'], mysql: ['mysql', 'xtrabackup'] };

/** lab.yaml's `lessons:`: how some lessons run (the lessons read it through the check context). */
export interface LessonSettings {
  mysql: { flavor: MysqlFlavor };
}
export const DEFAULT_LESSON_SETTINGS: LessonSettings = { mysql: { flavor: DEFAULT_MYSQL_FLAVOR } };

/** The images a lab with this flavor uses: every key but the other flavor's. */
export function imagesInUse(images: Readonly<Record<ImageKey, string>>, flavor: MysqlFlavor): Partial<Record<ImageKey, string>> {
  const unused = new Set(MYSQL_FLAVORS.filter((f) => f !== flavor).flatMap((f) => FLAVOR_IMAGES[f]));
  return Object.fromEntries(Object.entries(images).filter(([k]) => !unused.has(k as ImageKey)));
}

export function resolveImages(overrides: Readonly<Record<string, string>>): Record<ImageKey, string> {
  return { ...DEFAULT_IMAGES, ...overrides } as Record<ImageKey, string>;
}

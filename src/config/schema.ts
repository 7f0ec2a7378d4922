// The lab.yaml schema. Every field has a default that reproduces the course's lab as it should be
// built today; `k8slab init` writes them all out with comments (see template.ts).
import { z } from 'zod';
import { DEFAULT_BOX, DEFAULT_VERSIONS, INGRESS_CONTROLLERS, parseK8sVersion } from './versions.js';
import { fromInt, isIPv4, parseCidr, parseRange, toInt, type Cidr } from './net.js';
import { machinesSchema } from './machines.js';
import { DEFAULT_MYSQL_FLAVOR, MYSQL_FLAVORS } from './images.js';

const isNetworkAddress = (c: Cidr): boolean => toInt(c.text.split('/')[0]!) === c.base;
const networkOf = (text: string): string => {
  const c = parseCidr(text)!;
  return `${fromInt(c.base)}/${c.prefix}`;
};

const int = (min: number, max: number, what: string) =>
  z
    .number({ error: `must be a whole number of ${what} from ${min} to ${max}` })
    .int({ error: `must be a whole number of ${what} from ${min} to ${max}` })
    .min(min, { error: `must be at least ${min} ${what}` })
    .max(max, { error: `must be at most ${max} ${what}` });

const cidr = (example: string) =>
  z
    .string({ error: `must be an IPv4 CIDR such as ${example}` })
    .refine((s) => parseCidr(s) !== undefined, { error: `must be an IPv4 CIDR such as ${example}`, abort: true })
    // Host bits set ("192.168.56.5/24") would reach kubeadm, Calico and Vagrant as written: ask for the network.
    .refine((s) => isNetworkAddress(parseCidr(s)!), {
      error: (iss) => `must be a network address: use ${networkOf(String(iss.input))}`,
    });

const ipv4 = z
  .string({ error: 'must be an IPv4 address such as 192.168.56.10' })
  .refine(isIPv4, { error: 'must be an IPv4 address such as 192.168.56.10' });

const semver = (example: string) =>
  z
    .string({ error: `must be a version such as ${example}` })
    .regex(/^\d+\.\d+\.\d+$/, { error: `must be a full version such as ${example} (major.minor.patch)` });

const port = int(1024, 65535, 'port');

/** Vagrant's box_version: an exact version or a constraint such as ">= 202404.26.0" (comma-separated). */
const boxVersion = z
  .string({ error: 'must be a box version such as "202404.26.0" or a constraint such as ">= 202404.26.0"' })
  .regex(/^\s*(?:(?:=|!=|>=?|<=?|~>)\s*)?\d+(?:\.\d+)*\s*(?:,\s*(?:(?:=|!=|>=?|<=?|~>)\s*)?\d+(?:\.\d+)*\s*)*$/, {
    error: 'must be a box version such as "202404.26.0" or a Vagrant constraint such as ">= 202404.26.0"',
  });

/** Names become hostnames, VM names and Kubernetes node names: RFC 1123 labels. */
const hostname = z
  .string({ error: 'must be a hostname' })
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    error: 'must be a lowercase hostname: letters, digits and "-", not starting or ending with "-"',
  });

/** Box names go into the Vagrantfile: "owner/name" or a plain local name. */
const boxName = z
  .string({ error: 'must be a Vagrant box name such as bento/ubuntu-24.04' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, {
    error: 'must be a Vagrant box name such as bento/ubuntu-24.04 (letters, digits, ".", "_", "-", "/")',
  });

/** virtualbox and libvirt run VMs through Vagrant; machines are existing hosts reached over SSH. */
export const VAGRANT_PROVIDERS = ['virtualbox', 'libvirt'] as const;
export const PROVIDERS = [...VAGRANT_PROVIDERS, 'machines'] as const;
export type VagrantProvider = (typeof VAGRANT_PROVIDERS)[number];
export const SOURCES = ['pkgs.k8s.io', 'bundle'] as const;
export const CNIS = ['calico', 'bridge'] as const;
/** Calico's overlay: vxlan (calico-vxlan.yaml, no BIRD) or ipip (calico.yaml, IP-in-IP routed by BIRD over BGP). */
export const CALICO_ENCAPSULATIONS = ['vxlan', 'ipip'] as const;
export const STORAGE = ['none', 'local-path', 'nfs'] as const;
/** The Ingress controller: traefik (ingress-nginx was retired in 2026; see README "Versions"). */
export const INGRESS_CONTROLLER_NAMES = ['traefik'] as const;
export const LIBVIRT_DRIVERS = ['kvm', 'qemu'] as const;
export const CPU_MODES = ['host-passthrough', 'host-model', 'maximum', 'custom'] as const;

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of: ${values.join(', ')}` });

export const labSchema = z.strictObject({
  name: z
    .string({ error: 'must be a short name' })
    .regex(/^[a-z][a-z0-9-]{0,30}$/, {
      error: 'must start with a letter and hold at most 31 lowercase letters, digits or "-"',
    })
    .default('k8slab'),
  provider: oneOf(PROVIDERS).default('virtualbox'),
  box: z
    .strictObject({
      virtualbox: boxName.default(DEFAULT_BOX),
      libvirt: boxName.default(DEFAULT_BOX),
      /** Default: DEFAULT_BOX_VERSION when the box is DEFAULT_BOX, else any (see boxVersionOf). */
      version: boxVersion.optional(),
    })
    .prefault({}),
  controlPlane: z
    .strictObject({
      name: hostname.default('m-k8s'),
      cpus: int(2, 32, 'CPUs (kubeadm needs 2)').default(2),
      memory: int(2048, 262144, 'MiB').default(3072),
      sshPort: port.default(60010),
    })
    .prefault({}),
  workers: z
    .strictObject({
      count: int(0, 9, 'workers').default(3),
      cpus: int(1, 32, 'CPUs').default(1),
      memory: int(1024, 262144, 'MiB').default(2560),
      /** Worker i gets sshPortBase + i: 60101, 60102, ... as in the course. */
      sshPortBase: int(1024, 65526, 'port').default(60100),
    })
    .prefault({}),
  network: z
    .strictObject({
      private: cidr('192.168.56.0/24').default('192.168.56.0/24'),
      /** Default: the 10th address of the private network (.10). */
      controlPlaneIp: ipv4.optional(),
      /** Default: the 101st address (.101); worker i gets firstWorkerIp + i - 1. */
      firstWorkerIp: ipv4.optional(),
      podCidr: cidr('172.16.0.0/16').default('172.16.0.0/16'),
      serviceCidr: cidr('10.96.0.0/12').default('10.96.0.0/12'),
    })
    .prefault({}),
  kubernetes: z
    .strictObject({
      version: z
        .string({ error: `must be a Kubernetes version such as "${DEFAULT_VERSIONS.kubernetes}" or "${DEFAULT_VERSIONS.kubernetes}.2" (quote it in YAML)` })
        .refine((s) => parseK8sVersion(s) !== undefined, {
          error: `must be a Kubernetes version such as "${DEFAULT_VERSIONS.kubernetes}" (newest patch) or "${DEFAULT_VERSIONS.kubernetes}.2"`,
        })
        .default(DEFAULT_VERSIONS.kubernetes),
      source: oneOf(SOURCES).default('pkgs.k8s.io'),
      /** With source: bundle, the bundle directory (relative to lab.yaml). */
      bundle: z.string({ error: 'must be a directory path' }).min(1, { error: 'must not be empty' }).optional(),
      cni: oneOf(CNIS).default('calico'),
    })
    .prefault({}),
  containerd: z
    .strictObject({
      version: semver(DEFAULT_VERSIONS.containerd).default(DEFAULT_VERSIONS.containerd),
      /** The runc installed beside containerd (its release binary). */
      runcVersion: semver(DEFAULT_VERSIONS.runc).default(DEFAULT_VERSIONS.runc),
    })
    .prefault({}),
  calico: z
    .strictObject({
      version: semver(DEFAULT_VERSIONS.calico).default(DEFAULT_VERSIONS.calico),
      encapsulation: oneOf(CALICO_ENCAPSULATIONS).default('vxlan'),
    })
    .prefault({}),
  addons: z
    .strictObject({
      metallb: z
        .strictObject({
          enabled: z.boolean({ error: 'must be true or false' }).default(true),
          version: semver(DEFAULT_VERSIONS.metallb).default(DEFAULT_VERSIONS.metallb),
          /** Addresses MetalLB hands out: "FIRST-LAST" or a CIDR, inside the private network (default: see metallbRange). */
          range: z
            .string({ error: 'must be an address range such as 192.168.56.200-192.168.56.220' })
            .refine((s) => parseRange(s) !== undefined, {
              error: 'must be "FIRST-LAST" (first <= last) or a CIDR, e.g. 192.168.56.200-192.168.56.220',
            })
            .optional(),
        })
        .prefault({}),
      storage: z
        .strictObject({
          provider: oneOf(STORAGE).default('nfs'),
          localPathVersion: semver(DEFAULT_VERSIONS.localPath).default(DEFAULT_VERSIONS.localPath),
          nfsProvisionerVersion: semver(DEFAULT_VERSIONS.nfsProvisioner).default(DEFAULT_VERSIONS.nfsProvisioner),
        })
        .prefault({}),
      /** An Ingress controller serving the standard Ingress resource, with a default IngressClass. */
      ingress: z
        .strictObject({
          enabled: z.boolean({ error: 'must be true or false' }).default(true),
          controller: oneOf(INGRESS_CONTROLLER_NAMES).default('traefik'),
          version: semver(DEFAULT_VERSIONS.traefik)
            // The manifest k8slab renders uses Traefik 3's flags; another major would not start with them.
            .refine((v) => (INGRESS_CONTROLLERS.traefik.majors as readonly number[]).includes(Number(v.split('.')[0])), {
              error: `must be a Traefik ${INGRESS_CONTROLLERS.traefik.majors.map((m) => `${m}.x`).join(' or ')} version such as ${DEFAULT_VERSIONS.traefik}: k8slab renders that major's manifest`,
            })
            .default(DEFAULT_VERSIONS.traefik),
        })
        .prefault({}),
    })
    .prefault({}),
  libvirt: z
    .strictObject({
      /** kvm needs hardware virtualization; qemu is software emulation (slow, works everywhere). */
      driver: oneOf(LIBVIRT_DRIVERS).default('kvm'),
      cpuMode: oneOf(CPU_MODES).default('host-passthrough'),
    })
    .prefault({}),
  virtualbox: z
    .strictObject({
      group: z
        .string({ error: 'must be a VirtualBox group such as /k8slab' })
        .regex(/^\/[A-Za-z0-9 ._()-]+(\/[A-Za-z0-9 ._()-]+)*$/, {
          error: 'must be a VirtualBox group path such as /k8slab (starts with "/")',
        })
        .optional(),
    })
    .prefault({}),
  /** provider: machines: how to reach each node over SSH (see machines.ts). */
  machines: machinesSchema.optional(),
  /** How some lessons run; the images they use are under `images`. */
  lessons: z
    .strictObject({
      mysql: z
        .strictObject({
          /** mariadb (mariadb:10.11, multi-arch, maintained) or mysql (the course's mysql:5.7 + xtrabackup, amd64 only). */
          flavor: z
            .enum(MYSQL_FLAVORS, {
              error: 'must be mariadb (images.mariadb: multi-arch, maintained) or mysql (the course\'s mysql:5.7 and xtrabackup: end-of-life, amd64 only)',
            })
            .default(DEFAULT_MYSQL_FLAVOR),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Lesson image overrides (registry mirrors, offline labs): key -> image reference. */
  images: z
    .record(
      z.string(),
      z
        .string({ error: 'must be an image reference such as nginx:1.27' })
        .min(1, { error: 'must be an image reference such as nginx:1.27' }),
    )
    .default({}),
});

export type LabConfig = z.output<typeof labSchema>;
export type LabConfigInput = z.input<typeof labSchema>;

// Judges a bundle: is it usable, and for a given lab, what is missing? Pure: inventory + probe + lab in,
// findings out. Each finding says what is wrong and how to fix it.
import type { LabConfig } from '../config/schema.js';
import { parseK8sVersion } from '../config/versions.js';
import { imagesInUse, resolveImages } from '../config/images.js';
import { addonNeeds, type AddonNeed } from './addons.js';
import { BRIDGE_CNI_PLUGINS, LAYOUT, OPTIONAL_BINARIES, REQUIRED_BINARIES, runtimeFiles } from './layout.js';
import { containerdVersion } from './debs.js';
import { imageBaseName, normalizeImageRef } from './image-ref.js';
import type { BundleInventory } from './inventory.js';
import type { BundleProbe } from './probe.js';

export type Level = 'error' | 'warning' | 'info';

export interface Finding {
  level: Level;
  /** stable identifier for scripts, e.g. "image-missing" */
  code: string;
  message: string;
  fix?: string;
}

export interface CheckInput {
  inventory: BundleInventory;
  probe: BundleProbe;
  /** the lab the bundle is for; without it only the bundle itself is judged */
  lab?: LabConfig;
  /** files whose SHA-256 did not match images/index.json (only when hashes were verified) */
  hashMismatches?: string[];
}

export interface BundleReport {
  dir: string;
  usable: boolean;
  kubernetes?: string;
  containerd?: string;
  images: string[];
  /** kubeadm phases the scripts will skip because their image is absent */
  skippedPhases: string[];
  findings: Finding[];
}

/** kubeadm phases that install an add-on from an image, and the image each needs. */
const OPTIONAL_PHASES: Readonly<Record<string, string>> = {
  coredns: 'addon/coredns',
  'kube-proxy': 'addon/kube-proxy',
};

export function checkBundle(input: CheckInput): BundleReport {
  const { inventory: inv, probe, lab } = input;
  const findings: Finding[] = [];
  const add = (level: Level, code: string, message: string, fix?: string) =>
    findings.push({ level, code, message, ...(fix === undefined ? {} : { fix }) });
  const report = (extra: Partial<BundleReport> = {}): BundleReport => ({
    dir: inv.dir,
    usable: !findings.some((f) => f.level === 'error'),
    images: [],
    skippedPhases: [],
    findings,
    ...extra,
  });

  if (!inv.exists) {
    add('error', 'bundle-missing', `${inv.dir} is not a directory`, 'build one with `k8slab bundle create` or point kubernetes.bundle at it');
    return report();
  }

  // bundle.json
  const manifest = inv.manifest;
  if (!manifest) {
    add('error', 'manifest-invalid', `${LAYOUT.manifest} ${inv.manifestError ?? 'is missing'}`,
      `write ${LAYOUT.manifest} with at least {"format": 1, "kubernetes": "1.20.2"}`);
  }
  const k8s = manifest?.kubernetes.replace(/^v/, '');
  const k8sVer = k8s === undefined ? undefined : parseK8sVersion(k8s);
  if (k8s !== undefined && (k8sVer === undefined || k8sVer.minor < 18)) {
    add('error', 'kubernetes-unsupported', `Kubernetes ${k8s} is not supported (k8slab supports 1.18 and newer)`);
  } else if (k8sVer !== undefined && k8sVer.minor < 24) {
    add('info', 'legacy-runtime-flags',
      `Kubernetes ${k8s} is older than 1.24: the scripts give kubelet --container-runtime=remote and use kubeadm config API ${kubeadmApiVersion(k8sVer.minor)}`);
  }

  // bin/
  for (const name of REQUIRED_BINARIES) {
    const b = inv.binaries.find((x) => x.name === name);
    if (!b) add('error', 'binary-missing', `${LAYOUT.bin}/${name} is missing`, `copy ${name} ${k8s ?? ''} into ${LAYOUT.bin}/ (from dl.k8s.io)`);
    else if (!b.executable) add('error', 'binary-not-executable', `${LAYOUT.bin}/${name} is not executable`, `chmod +x ${LAYOUT.bin}/${name}`);
  }
  for (const name of OPTIONAL_BINARIES) {
    if (!inv.binaries.some((x) => x.name === name)) {
      add('info', 'crictl-missing',
        k8sVer !== undefined && k8sVer.minor < 26
          ? `${LAYOUT.bin}/${name} is absent: kubeadm ${k8s} calls crictl, so the scripts install a small stand-in over ctr (enough for kubeadm, not for debugging)`
          : `${LAYOUT.bin}/${name} is absent: the nodes will have no ${name} (optional)`);
    }
  }
  const arch = manifest?.arch ?? 'amd64';
  for (const b of inv.binaries) {
    if (b.arch !== undefined && b.arch !== arch) {
      add('error', 'binary-arch', `${LAYOUT.bin}/${b.name} is built for ${b.arch}, the bundle says ${arch}`, 'use binaries of the bundle\'s architecture');
    } else if (b.arch === undefined) {
      add('error', 'binary-not-elf', `${LAYOUT.bin}/${b.name} is not a Linux executable (no ELF header)`);
    }
  }
  if (probe.skipped) add('info', 'probe-skipped', `binaries not run on this host (${probe.skipped}); versions taken from ${LAYOUT.manifest}`);
  for (const e of probe.errors) add('warning', 'probe-failed', `could not run a bundle binary: ${e}`);
  for (const [name, v] of Object.entries(probe.versions)) {
    if (k8s !== undefined && v.replace(/^v/, '') !== k8s) {
      add('error', 'binary-version', `${LAYOUT.bin}/${name} is ${v}, ${LAYOUT.manifest} says ${k8s}`, `put the ${k8s} binaries in ${LAYOUT.bin}/ or correct ${LAYOUT.manifest}`);
    }
  }

  // images/
  const images = indexedImages(inv, findings, input.hashMismatches ?? []);
  const have = new Set(images.map(normalizeImageRef));
  const haveBase = new Set(images.map(imageBaseName));
  const skippedPhases: string[] = [];
  for (const req of requiredImages(k8s, probe)) {
    const present = req.ref !== undefined ? have.has(normalizeImageRef(req.ref)) : haveBase.has(req.base);
    if (present) continue;
    const what = req.ref ?? `a ${req.base} image`;
    const phase = OPTIONAL_PHASES[req.base];
    if (phase) {
      skippedPhases.push(phase);
      add('warning', 'image-missing-phase-skipped',
        `${what} is not in the bundle: kubeadm phase ${phase} will be skipped${req.base === 'coredns' ? ' (no cluster DNS; DNS lessons report skipped)' : ' (Services get no kube-proxy rules)'}`,
        `add ${what} to ${LAYOUT.images}/ to get it`);
    } else {
      add('error', 'image-missing', `${what} is not in the bundle; kubeadm cannot start the control plane without it`, `add it to ${LAYOUT.images}/ and ${LAYOUT.imageIndex}`);
    }
  }

  // runtime/: containerd's and runc's release files, which install_pkg.sh prefers when they are the lab's versions
  const release = releaseRuntime(inv.runtime, arch);
  for (const missing of release.incomplete) {
    add('error', 'runtime-incomplete', `${LAYOUT.runtime}/${missing} is missing beside the other release files`,
      `copy the whole release (tarball, .sha256sum and containerd.service; runc.${arch} and runc.sha256sum) into ${LAYOUT.runtime}/`);
  }
  if (lab !== undefined && (release.containerd.length > 0 || release.runc.length > 0)) {
    const want = { containerd: lab.containerd.version, runc: lab.containerd.runcVersion };
    if (release.containerd.includes(want.containerd) && release.runc.includes(want.runc)) {
      add('info', 'runtime-release-files', `containerd ${want.containerd} and runc ${want.runc} come from ${LAYOUT.runtime}/ (their release files)`);
    } else {
      add('warning', 'runtime-version-mismatch',
        `${LAYOUT.runtime}/ carries containerd ${release.containerd.join(', ') || 'none'} and runc ${release.runc.join(', ') || 'none'}; the lab asks for containerd ${want.containerd} and runc ${want.runc}, so install_pkg.sh leaves ${LAYOUT.runtime}/ alone and takes containerd from the box or ${LAYOUT.debs}/`,
        `set containerd: { version: "${release.containerd[0] ?? want.containerd}", runcVersion: "${release.runc[0] ?? want.runc}" } in lab.yaml, or put those versions' release files in ${LAYOUT.runtime}/`);
    }
  }

  // runtime packages
  const debContainerd = containerdVersion(inv.debs) ?? containerdVersion(inv.rpms);
  const containerd = manifest?.containerd?.replace(/^v/, '') ?? release.containerd[0] ?? debContainerd;
  if (inv.debs.length === 0 && inv.rpms.length === 0) {
    add('warning', 'no-runtime-packages',
      `no ${LAYOUT.debs}/ or ${LAYOUT.rpms}/: the box must already have containerd, runc, conntrack, socat and curl (k8slab/debian12 does; stock Ubuntu/Debian boxes lack containerd)`,
      `add the container runtime's packages and their dependencies to ${LAYOUT.debs}/ (apt-get download) or ${LAYOUT.rpms}/`);
  } else {
    if (debContainerd === undefined && release.containerd.length === 0) {
      add('warning', 'no-containerd-package', `${LAYOUT.debs}/ and ${LAYOUT.rpms}/ hold no containerd package: the box must bring it`);
    }
    // install_pkg.sh installs curl from the bundle when the box lacks it: the API server waits of
    // work_nodes.sh and `k8slab up` use it
    if (![...inv.debs, ...inv.rpms].some((p) => p.name === 'curl')) {
      add('warning', 'no-curl-package',
        `${LAYOUT.debs}/ and ${LAYOUT.rpms}/ hold no curl package: the box must bring curl (work_nodes.sh and \`k8slab up\` wait for the API server with it)`,
        `add curl and its libraries to ${LAYOUT.debs}/ (apt-get download curl libcurl4 ...) or ${LAYOUT.rpms}/`);
    }
  }
  if (containerd !== undefined && k8sVer !== undefined) {
    const cMajor = Number(containerd.split('.')[0]);
    const cMinor = Number(containerd.split('.')[1]);
    if (cMajor >= 2 && k8sVer.minor < 26) {
      add('error', 'containerd-too-new', `containerd ${containerd} has no CRI v1alpha2, which kubelet ${k8s} needs`, 'use containerd 1.6 or 1.7 with Kubernetes older than 1.26');
    } else if ((cMajor < 1 || (cMajor === 1 && cMinor < 6)) && k8sVer.minor >= 26) {
      add('error', 'containerd-too-old', `containerd ${containerd} lacks CRI v1, which kubelet ${k8s} needs`, 'use containerd 1.6 or newer');
    }
  }

  if (lab) checkForLab(lab, { inv, k8s, have, findings, add });

  return report({
    ...(k8s === undefined ? {} : { kubernetes: k8s }),
    ...(containerd === undefined ? {} : { containerd }),
    images,
    skippedPhases,
  });
}

interface LabCtx {
  inv: BundleInventory;
  k8s?: string;
  have: Set<string>;
  findings: Finding[];
  add: (level: Level, code: string, message: string, fix?: string) => void;
}

function checkForLab(lab: LabConfig, { inv, k8s, have, add }: LabCtx): void {
  if (k8s !== undefined && lab.kubernetes.version.replace(/^v/, '') !== k8s) {
    add('error', 'version-mismatch', `lab.yaml asks for Kubernetes ${lab.kubernetes.version}, the bundle brings ${k8s}`,
      `set kubernetes.version: "${k8s}" in lab.yaml, or use a ${lab.kubernetes.version} bundle`);
  }
  if (lab.kubernetes.source !== 'bundle') {
    add('warning', 'source-not-bundle', `lab.yaml has kubernetes.source: ${lab.kubernetes.source}, so this bundle is not used`, 'set kubernetes.source: bundle');
  }

  if (lab.kubernetes.cni === 'bridge') {
    const missing = BRIDGE_CNI_PLUGINS.filter((p) => !inv.cniPlugins.includes(p));
    if (missing.length > 0) {
      add('warning', 'cni-plugins-from-box',
        `${LAYOUT.cni}/ lacks ${missing.join(', ')}: the bridge CNI will use the box's plugins (Debian's containernetworking-plugins in /usr/lib/cni, as in k8slab/debian12)`,
        `copy the CNI plugins (github.com/containernetworking/plugins releases) into ${LAYOUT.cni}/ for other boxes`);
    }
  }
  for (const need of addonNeeds(lab)) checkAddon(need, { inv, have, add });

  const lessons = imagesInUse(resolveImages(lab.images), lab.lessons.mysql.flavor);
  const absent = Object.entries(lessons).filter(([, ref]) => !have.has(normalizeImageRef(ref)));
  if (absent.length > 0) {
    add('warning', 'lesson-images-missing',
      `lesson images not in the bundle (lessons using them fail unless the nodes can pull): ${absent.map(([k, r]) => `${k}=${r}`).join(', ')}`,
      'add them to images/, or point lab.yaml `images:` at images the bundle has');
  }
}

/** One add-on: its manifests, the images they name, the packages it installs; each gap with both fixes. */
function checkAddon(need: AddonNeed, { inv, have, add }: Pick<LabCtx, 'inv' | 'have' | 'add'>): void {
  const without = `or do without it in lab.yaml: ${need.off}`;
  const absent = need.files.filter((f) => !inv.manifests.includes(f.path));
  if (absent.length > 0) {
    // another version of the same add-on in the bundle: name it, the lab may simply ask for the wrong one
    const dir = need.files[0]!.path.split('/')[0]!;
    const others = [...new Set(inv.manifests.filter((m) => m.startsWith(`${dir}/`)).map((m) => m.split('/')[1]!))].filter((v) => v !== need.version);
    add('error', 'manifest-missing',
      `${need.title} (${need.why}): the bundle has no ${absent.map((f) => `${LAYOUT.manifests}/${f.path}`).join(', ')}` +
        (others.length > 0 ? ` (it has ${dir} ${others.join(', ')})` : ''),
      `download ${absent.map((f) => `${f.url} into ${LAYOUT.manifests}/${f.path}`).join(', ')} (\`k8slab bundle create\` does it where the host is online), ${without}`);
  }
  const lacks = (path: string) => (inv.manifestImages[path] ?? []).filter((ref) => !have.has(normalizeImageRef(ref)));
  const lacking = [...new Set(need.files.flatMap((f) => lacks(f.path)))];
  if (lacking.length > 0) {
    const namedBy = need.files.filter((f) => lacks(f.path).length > 0).map((f) => `${LAYOUT.manifests}/${f.path}`);
    add('error', 'manifest-image-missing',
      `${need.title}: ${LAYOUT.images}/ lacks ${lacking.join(', ')} (named by ${namedBy.join(', ')}); nothing can be pulled`,
      `save each into ${LAYOUT.images}/ (skopeo copy docker://IMAGE docker-archive:FILE.tar:IMAGE) and run \`k8slab bundle index\`, ${without}`);
  }
  const ownImages = (need.images ?? []).filter((ref) => !have.has(normalizeImageRef(ref)));
  if (ownImages.length > 0) {
    add('error', 'addon-image-missing',
      `${need.title} (${need.why}): ${LAYOUT.images}/ lacks ${ownImages.join(', ')}; nothing can be pulled`,
      `save each into ${LAYOUT.images}/ (skopeo copy docker://IMAGE docker-archive:FILE.tar:IMAGE) and run \`k8slab bundle index\`, ${without}`);
  }
  for (const pkgs of need.packages ?? []) {
    const [folder, names, have] =
      inv.rpms.length > 0 && inv.debs.length === 0
        ? [LAYOUT.rpms, pkgs.rpms, inv.rpms]
        : [LAYOUT.debs, pkgs.debs, inv.debs];
    const missing = names.filter((n) => !have.some((p) => p.name === n));
    if (missing.length === 0) continue;
    add('error', 'addon-packages-missing',
      `${need.title} (${need.why}): ${folder}/ has no ${missing.join(', ')}, which ${pkgs.where} installs; offline, the package manager cannot download it (a box that already has it needs nothing)`,
      folder === LAYOUT.rpms
        ? `dnf download --resolve --destdir ${folder} ${missing.join(' ')}, ${without}`
        : `apt-get download $(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances ${missing.join(' ')} | grep "^\\w" | sort -u) in ${folder}/ (on the box's distribution), ${without}`);
  }
}

/** Image names from the index, with each file checked against the folder. */
function indexedImages(inv: BundleInventory, findings: Finding[], hashMismatches: readonly string[]): string[] {
  const add = (level: Level, code: string, message: string, fix?: string) =>
    findings.push({ level, code, message, ...(fix === undefined ? {} : { fix }) });
  if (!inv.imageIndex) {
    add('error', 'image-index-invalid', `${LAYOUT.imageIndex} ${inv.imageIndexError ?? 'is missing'}`,
      `list each tarball as {"file": "x.tar", "images": ["name:tag"]} (\`k8slab bundle index DIR\` writes it)`);
    return [];
  }
  const names: string[] = [];
  const files = new Map(inv.imageFiles.map((f) => [f.file, f.size]));
  for (const entry of inv.imageIndex.images) {
    const size = files.get(entry.file);
    if (size === undefined) {
      add('error', 'image-file-missing', `${LAYOUT.images}/${entry.file} is listed in ${LAYOUT.imageIndex} but missing`);
      continue;
    }
    if (entry.size !== undefined && entry.size !== size) {
      add('error', 'image-file-size', `${LAYOUT.images}/${entry.file} has ${size} bytes, the index says ${entry.size} (truncated copy?)`, 'copy the file again');
      continue;
    }
    if (hashMismatches.includes(entry.file)) {
      add('error', 'image-file-hash', `${LAYOUT.images}/${entry.file} does not match its SHA-256 in the index`, 'copy the file again');
      continue;
    }
    names.push(...entry.images);
  }
  const listed = new Set(inv.imageIndex.images.map((e) => e.file));
  for (const f of inv.imageFiles) {
    if (!listed.has(f.file)) {
      add('warning', 'image-file-unlisted', `${LAYOUT.images}/${f.file} is not in ${LAYOUT.imageIndex}: it is imported, but the check cannot see its images`, '`k8slab bundle index DIR` rewrites the index');
    }
  }
  return names;
}

interface RequiredImage {
  base: string;
  /** exact reference when known (from kubeadm itself, or the version for the core images) */
  ref?: string;
}

/**
 * The images kubeadm init needs: exactly, from the bundle's kubeadm when it could run; otherwise the four
 * versioned core images by repository and tag, and pause/etcd/coredns by name only (their tags vary by patch).
 */
export function requiredImages(k8s: string | undefined, probe: BundleProbe): RequiredImage[] {
  if (probe.requiredImages && probe.requiredImages.length > 0) {
    return probe.requiredImages.map((ref) => ({ base: imageBaseName(ref), ref }));
  }
  const out: RequiredImage[] = [];
  for (const base of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) {
    out.push(k8s === undefined ? { base } : { base, ref: `${defaultRepository(k8s)}/${base}:v${k8s}` });
  }
  for (const base of ['pause', 'etcd', 'coredns']) out.push({ base });
  return out;
}

/** kubeadm's default image repository: k8s.gcr.io until 1.24, registry.k8s.io from 1.25. */
export function defaultRepository(k8s: string): string {
  const v = parseK8sVersion(k8s);
  return v !== undefined && v.minor < 25 ? 'k8s.gcr.io' : 'registry.k8s.io';
}

/** kubeadm configuration API of a minor: v1beta2 up to 1.21, v1beta3 from 1.22, v1beta4 from 1.31. */
export function kubeadmApiVersion(minor: number): string {
  return minor <= 21 ? 'kubeadm.k8s.io/v1beta2' : minor <= 30 ? 'kubeadm.k8s.io/v1beta3' : 'kubeadm.k8s.io/v1beta4';
}

/**
 * The containerd and runc versions whose release files runtime/ holds in full (paths relative to it), and
 * the files missing from a partial one.
 */
export function releaseRuntime(files: readonly string[], arch: string): { containerd: string[]; runc: string[]; incomplete: string[] } {
  const have = new Set(files);
  const versions = (re: RegExp) => [...new Set(files.map((f) => re.exec(f)?.[1]).filter((v) => v !== undefined))].sort();
  const out = { containerd: [] as string[], runc: [] as string[], incomplete: [] as string[] };
  for (const v of versions(/^containerd\/v([^/]+)\//)) {
    const need = runtimeFiles(v, '', arch).containerd;
    const lacking = need.filter((f) => !have.has(f));
    if (lacking.length === 0) out.containerd.push(v);
    else out.incomplete.push(...lacking);
  }
  for (const v of versions(/^runc\/v([^/]+)\//)) {
    const lacking = runtimeFiles('', v, arch).runc.filter((f) => !have.has(f));
    if (lacking.length === 0) out.runc.push(v);
    else out.incomplete.push(...lacking);
  }
  return out;
}

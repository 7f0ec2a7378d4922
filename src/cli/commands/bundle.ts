// `k8slab bundle check|index|create`: offline bundles (kubernetes.source: bundle).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';
import { EXIT } from '../exit-codes.js';
import { addLabOptions, labPaths, type GlobalOptions } from '../context.js';
import { loadConfigFile, parseConfig } from '../../config/load.js';
import type { LabConfig } from '../../config/schema.js';
import { parseK8sVersion } from '../../config/versions.js';
import { inspectBundle, type BundleReport } from '../../bundle/index.js';
import { buildImageIndex, writeImageIndex } from '../../bundle/image-index.js';
import { addonNeeds } from '../../bundle/addons.js';
import { readBundle } from '../../bundle/inventory.js';
import { probeBundle } from '../../bundle/probe.js';
import { findPullTool, pullImage } from '../../bundle/pull.js';
import { imagesInUse, resolveImages } from '../../config/images.js';
import {
  OFFICIAL_MIRROR,
  createSteps,
  downloadBinaries,
  downloadManifests,
  pullImages,
  reachable,
  reachableUrl,
  writeBundleManifest,
  type CreateOptions,
} from '../../bundle/create.js';

export function register(program: Command): void {
  const bundle = program.command('bundle').description('offline bundles: check one, index its images, or build one');

  addLabOptions(
    bundle
      .command('check [path]')
      .description("validate a bundle and say what is missing for the lab (default path: lab.yaml's kubernetes.bundle)")
      .option('--json', 'print the report as JSON')
      .option('--verify-hashes', "also compare each image tarball's SHA-256 with images/index.json (slower)"),
  ).action(async (path: string | undefined, opts: GlobalOptions & { json?: boolean; verifyHashes?: boolean }, cmd: Command) => {
    const explicitConfig = cmd.getOptionValueSource('config') !== 'default';
    const { lab, dir } = await resolveTarget(path, opts, explicitConfig);
    const report = await inspectBundle(dir, {
      ...(lab ? { lab } : {}),
      verifyHashes: opts.verifyHashes === true,
      progress: (f) => {
        if (!opts.json) process.stderr.write(`  hashing images/${f}\n`);
      },
    });
    process.stdout.write(opts.json ? `${JSON.stringify({ ...report, lab: lab?.name ?? null }, null, 2)}\n` : formatReport(report, lab));
    process.exitCode = report.usable ? EXIT.ok : EXIT.failed;
  });

  bundle
    .command('index <path>')
    .description("write images/index.json from the image tarballs' own metadata (names, sizes, SHA-256)")
    .action(async (path: string) => {
      const dir = resolve(path);
      const index = await buildImageIndex(dir, (f) => process.stderr.write(`  reading images/${f}\n`));
      const file = await writeImageIndex(dir, index);
      process.stdout.write(`${file}: ${index.images.length} tarballs, ${index.images.reduce((n, e) => n + e.images.length, 0)} images\n`);
    });

  addLabOptions(
    bundle
      .command('create')
      .description('build a bundle from the official sources: prints every step, and downloads where the host is online')
      .option('-o, --out <dir>', 'the bundle directory to create', 'bundle')
      .option('--kubernetes <version>', 'Kubernetes version, e.g. 1.20.2 (default: lab.yaml\'s)')
      .option('--arch <arch>', 'amd64 or arm64', 'amd64')
      .option('--mirror <url>', 'where the release binaries come from', OFFICIAL_MIRROR)
      .option('--steps-only', 'print the steps and stop'),
  ).action(async (opts: GlobalOptions & { out: string; kubernetes?: string; arch: string; mirror: string; stepsOnly?: boolean }) => {
    const configFile = labPaths(opts).configFile;
    const fromFile = existsSync(configFile);
    // the add-ons of lab.yaml, else those of the default lab
    const lab = fromFile ? await loadConfigFile(configFile) : parseConfig('');
    const kubernetes = (opts.kubernetes ?? (fromFile ? lab.kubernetes.version : undefined))?.replace(/^v/, '');
    const v = kubernetes === undefined ? undefined : parseK8sVersion(kubernetes);
    if (kubernetes === undefined || v?.patch === undefined) {
      throw new UserError('bundle create needs a full Kubernetes version', 'usage', 'pass --kubernetes 1.20.2 (or set kubernetes.version: "1.20.2" in lab.yaml)');
    }
    if (opts.arch !== 'amd64' && opts.arch !== 'arm64') throw new UserError(`--arch must be amd64 or arm64, not ${opts.arch}`, 'usage');
    const o: CreateOptions = { kubernetes, arch: opts.arch, out: resolve(opts.out), mirror: opts.mirror, lab };
    process.stdout.write(
      `Building a k8slab bundle for Kubernetes ${kubernetes} (${o.arch}) in ${o.out}, with the CNI and add-ons of ${fromFile ? configFile : 'the default lab (no lab.yaml)'}:\n`,
    );
    createSteps(o).forEach((s, i) => process.stdout.write(`  ${i + 1}. ${s}\n`));
    if (opts.stepsOnly) return;

    // Each source on its own: what the host reaches is gathered, the rest is left as the steps above.
    const needs = addonNeeds(lab);
    const binariesOff = await reachable(o);
    const firstFile = needs.flatMap((n) => n.files)[0];
    const manifestsOff = firstFile ? await reachableUrl(firstFile.url) : undefined;
    if (binariesOff && (manifestsOff || !firstFile)) {
      throw new UserError(
        `no internet access: ${[binariesOff, manifestsOff].filter(Boolean).join('; ')}. Nothing was downloaded.`,
        'environment',
        'run `k8slab bundle create` on a host that reaches dl.k8s.io (or pass --mirror), or follow the steps above by hand, then `k8slab bundle check`',
      );
    }
    const left: string[] = ['runtime packages', 'CNI plugins'];
    if (binariesOff) left.unshift(`binaries (${binariesOff})`);
    else {
      try {
        await downloadBinaries(o, (l) => process.stdout.write(`${l}\n`));
      } catch (err) {
        throw new UserError(`download failed: ${(err as Error).message}`, 'failed', 'run `k8slab bundle create` again; a mismatch that persists means a bad mirror');
      }
    }
    if (manifestsOff) left.push(`the add-on manifests (${manifestsOff})`);
    else if (firstFile) {
      process.stdout.write('add-on manifests:\n');
      const failed = await downloadManifests(o.out, needs, (l) => process.stdout.write(`${l}\n`));
      left.push(...failed.map((f) => `${f.path} (${f.url}: ${f.reason})`));
    }
    await writeBundleManifest(o);
    left.unshift(...(await gatherImages(o.out, lab, needs)));
    process.stdout.write(
      `\nIn ${o.out}: bundle.json${binariesOff ? '' : ', bin/'}${manifestsOff || needs.length === 0 ? '' : ', manifests/'}. ` +
        `Not done by this command: ${left.join(', ')} (the steps above); then \`k8slab bundle check ${o.out}\`.\n`,
    );
    // The bundle is not complete yet: say so with the exit code too.
    process.exitCode = EXIT.failed;
  });
}

/**
 * The images the bundle needs (kubeadm's own list when its binary runs here, the add-on manifests', the
 * lessons'), pulled with skopeo or crane when the host has one; then images/index.json. Returns what is left.
 */
async function gatherImages(out: string, lab: LabConfig, needs: ReturnType<typeof addonNeeds>): Promise<string[]> {
  const inv = await readBundle(out);
  const probe = await probeBundle(inv);
  const refs = [
    ...new Set([
      ...(probe.requiredImages ?? []),
      ...needs.flatMap((n) => n.files.flatMap((f) => inv.manifestImages[f.path] ?? [])),
      ...needs.flatMap((n) => n.images ?? []),
      ...Object.values(imagesInUse(resolveImages(lab.images), lab.lessons.mysql.flavor)),
    ]),
  ];
  if (refs.length === 0) return ['images'];
  const tool = await findPullTool();
  if (!tool) return [`images (${refs.length}: install skopeo or crane to pull them)`];
  process.stdout.write(`images, with ${tool}:\n`);
  const failed = await pullImages(out, refs, (ref, file) => pullImage(tool, ref, file), (l) => process.stdout.write(`${l}\n`));
  if (failed.length < refs.length) {
    const index = await buildImageIndex(out);
    await writeImageIndex(out, index);
  }
  return failed.map((f) => `image ${f.ref} (${f.reason})`);
}

/** The bundle directory and the lab it is checked for. */
async function resolveTarget(
  path: string | undefined,
  opts: GlobalOptions,
  explicitConfig: boolean,
): Promise<{ lab?: LabConfig; dir: string }> {
  const paths = labPaths(opts);
  const haveConfig = explicitConfig || existsSync(paths.configFile);
  const lab = haveConfig ? await loadConfigFile(paths.configFile) : undefined;
  if (path !== undefined) return { ...(lab ? { lab } : {}), dir: resolve(path) };
  if (!lab) {
    throw new UserError('no bundle path given and no lab.yaml here', 'usage', 'k8slab bundle check PATH, or --config LAB.yaml with kubernetes.bundle set');
  }
  if (lab.kubernetes.bundle === undefined) {
    throw new UserError(`${paths.configFile} sets no kubernetes.bundle`, 'usage', 'give the bundle path: k8slab bundle check PATH');
  }
  return { lab, dir: resolve(dirname(paths.configFile), lab.kubernetes.bundle) };
}

const MARK = { error: 'ERROR', warning: 'warn ', info: 'info ' } as const;

export function formatReport(r: BundleReport, lab?: LabConfig): string {
  const lines = [
    `bundle ${r.dir}${lab ? ` for lab "${lab.name}"` : ''}: Kubernetes ${r.kubernetes ?? '?'}, containerd ${r.containerd ?? 'from the box'}, ${r.images.length} images`,
  ];
  const order = { error: 0, warning: 1, info: 2 } as const;
  for (const f of [...r.findings].sort((a, b) => order[a.level] - order[b.level])) {
    lines.push(`  ${MARK[f.level]}  ${f.message}`);
    if (f.fix) lines.push(`         fix: ${f.fix}`);
  }
  if (r.skippedPhases.length > 0) lines.push(`  kubeadm phases skipped on this bundle: ${r.skippedPhases.join(', ')}`);
  const errors = r.findings.filter((f) => f.level === 'error').length;
  const warnings = r.findings.filter((f) => f.level === 'warning').length;
  lines.push(r.usable ? `usable: yes (${warnings} warning${warnings === 1 ? '' : 's'})` : `usable: NO (${errors} error${errors === 1 ? '' : 's'})`);
  return `${lines.join('\n')}\n`;
}

// `k8slab verify`: runs the course lessons on the cluster and reports every check. By default kubectl
// runs on the lab's control plane over SSH; with --kubeconfig it runs here (offline users, tests).
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { addLabOptions, labPaths, loadLab, type GlobalOptions } from '../context.js';
import type { LabConfig } from '../../config/schema.js';
import { EXIT } from '../exit-codes.js';
import { UserError } from '../../util/errors.js';
import { LESSONS, selectLessons } from '../../lessons/index.js';
import { runLessons, namespaceFor, type RunEvent } from '../../lessons/runner.js';
import { DEFAULT_IMAGES, resolveImages } from '../../config/images.js';
import type { Executor } from '../../lessons/types.js';
import { CommandFailed } from '../../lessons/context.js';
import { shQuote } from '../../util/shell.js';
import { renderJson, renderJunit, renderText, formatTranscript } from '../../report/index.js';
import { localExecutor } from '../../nodes/index.js';
import { openLab, type LabPaths } from '../../lab/lab.js';

interface VerifyOptions extends GlobalOptions {
  lesson?: string[];
  list?: boolean;
  keep?: boolean;
  json?: boolean;
  junit?: string;
  kubeconfig?: string;
  timeScale?: string;
  strict?: boolean;
}

/** Software-emulated VMs (libvirt driver qemu) run a check several times slower than hardware-virtualised ones. */
export const EMULATED_TIME_SCALE = 3;

export function register(program: Command): void {
  addLabOptions(
    program
      .command('verify')
      .description('run the course lessons on the cluster and report each check (passed, failed, skipped)')
      .option('--lesson <name...>', 'run only these lessons, or single checks as LESSON/CHECK (repeatable); see --list')
      .option('--list', 'list the lessons and their checks, and exit')
      .option('--keep', 'leave the lesson namespaces and objects for inspection')
      .option('--json', 'print the whole report as JSON on stdout (progress goes to stderr)')
      .option('--junit <file>', 'also write a JUnit XML report, one testcase per check')
      .option('--strict', 'fail the run when any check is skipped (a lab configured without MetalLB or storage)')
      .option('--kubeconfig <file>', 'run kubectl on this machine against this cluster instead of over SSH')
      .option('--time-scale <factor>', `multiply every time limit (1-20; default ${EMULATED_TIME_SCALE} for a libvirt lab with driver qemu, else 1)`),
  ).action(async (opts: VerifyOptions) => {
    process.exitCode = await verify(opts);
  });
}

export async function verify(opts: VerifyOptions): Promise<number> {
  const lessons = selectLessons(opts.lesson ?? []);
  if (opts.list) {
    process.stdout.write(opts.json ? `${JSON.stringify(listing(lessons), null, 2)}\n` : listText(lessons));
    return EXIT.ok;
  }
  // lab.yaml is read once; with --kubeconfig it may be absent (the course's images, no time scale)
  const lab = opts.kubeconfig && !existsSync(labPaths(opts).configFile) ? undefined : await loadLab(opts);
  const images = resolveImages(lab?.config.images ?? {});
  const timeScale = labTimeScale(opts, lab?.config);
  const target = opts.kubeconfig ? await localTarget(opts.kubeconfig) : await labTarget(lab!.paths, lab!.config);
  const interrupt = onCtrlC();
  try {
    const run = await runLessons({
      executor: target.executor,
      images,
      ...(lab ? { settings: lab.config.lessons } : {}),
      lessons,
      keep: opts.keep ?? false,
      timeScale,
      onEvent: progress,
      // internetImages: can the nodes pull a small image from Docker Hub, as the course's images need?
      detect: {
        probeImage: DEFAULT_IMAGES.busybox,
        ...(lab ? { lab: { metallb: lab.config.addons.metallb.enabled, storage: lab.config.addons.storage.provider, ingress: lab.config.addons.ingress.enabled } } : {}),
      },
      signal: interrupt.signal,
    });
    if (opts.junit) await writeFile(resolve(opts.junit), renderJunit(run));
    if (opts.json) {
      process.stdout.write(renderJson(run));
    } else {
      const access = opts.kubeconfig ? `export KUBECONFIG=${shQuote(resolve(opts.kubeconfig))}` : `log in with \`k8slab ssh ${lab!.config.controlPlane.name}\` (its kubeconfig is cluster-admin) and paste the lines`;
      process.stdout.write(`\n${renderText(run, { color: process.stdout.isTTY === true, width: process.stdout.columns ?? 160, access, strict: opts.strict === true })}`);
      if (opts.keep) process.stdout.write(`kept: ${lessons.map(namespaceFor).join(', ')} (delete them with kubectl delete namespace ...)\n`);
    }
    if (interrupt.signal.aborted) return EXIT.interrupted;
    const failing = run.results.some((r) => r.status === 'failed' || (opts.strict === true && r.status === 'skipped'));
    return failing ? EXIT.failed : EXIT.ok;
  } catch (err) {
    // The first reads (the cluster facts) fail when the API server cannot be reached at all.
    if (err instanceof CommandFailed) {
      throw new UserError(`cannot talk to the cluster: ${err.message}`, 'failed', opts.kubeconfig ? `check ${opts.kubeconfig}` : 'is the lab up? see `k8slab status`');
    }
    throw err;
  } finally {
    interrupt.dispose();
    await target.close();
  }
}

/** First Ctrl-C: stop the checks but still clean up the cluster. Second: leave at once. */
function onCtrlC(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write('\ninterrupted: cleaning up the lesson namespaces (Ctrl-C again to quit now and leave them)\n');
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}

/** --time-scale, else what the lab's provider suggests (software emulation is slow), else 1. */
function labTimeScale(opts: VerifyOptions, config: LabConfig | undefined): number {
  if (opts.timeScale !== undefined) {
    const n = Number(opts.timeScale);
    if (!Number.isFinite(n) || n < 1 || n > 20) {
      throw new UserError(`--time-scale ${opts.timeScale}: not a number from 1 to 20`, 'usage', 'e.g. --time-scale 3 for a slow lab');
    }
    return n;
  }
  if (config?.provider === 'libvirt' && config.libvirt.driver === 'qemu') {
    process.stderr.write(`software-emulated lab (libvirt driver qemu): time limits x${EMULATED_TIME_SCALE} (--time-scale to change)\n`);
    return EMULATED_TIME_SCALE;
  }
  return 1;
}

interface Target {
  executor: Executor;
  close(): Promise<void>;
}

async function localTarget(kubeconfig: string): Promise<Target> {
  const file = resolve(kubeconfig);
  if (!existsSync(file)) throw new UserError(`--kubeconfig ${kubeconfig}: no such file`, 'usage');
  const executor = localExecutor({ env: { KUBECONFIG: file } });
  const probe = await executor.run('kubectl version --client -o json', { timeoutMs: 30_000 });
  if (probe.exitCode !== 0) {
    throw new UserError('kubectl is not installed here', 'environment', 'install kubectl, or drop --kubeconfig to run it on the control plane over SSH');
  }
  return { executor, close: async () => {} };
}

/** kubectl on the lab (cluster/kubectl.ts): the control plane, as root with kubeadm's admin.conf, over SSH. */
async function labTarget(paths: LabPaths, config: LabConfig): Promise<Target> {
  const lab = await openLab(paths, config);
  const name = lab.plan.controlPlane.name;
  const running = existsSync(paths.labDir) && (await lab.provider.status()).find((m) => m.name === name)?.state === 'running';
  if (!running) {
    throw new UserError(`the control plane ${name} is not running`, 'failed', 'start the lab with `k8slab up`, or pass --kubeconfig FILE');
  }
  return { executor: await lab.kubectl({ timeoutMs: 30_000 }), close: () => lab.close() };
}

/** One line per event on stderr: stdout stays clean for --json. */
function progress(e: RunEvent): void {
  const out = (s: string) => process.stderr.write(`${s}\n`);
  switch (e.type) {
    case 'facts': {
      const missing = [...e.facts.missing.keys()];
      out(`cluster: ${e.facts.schedulableNodes.length} schedulable node(s); ${missing.length === 0 ? 'every capability present' : `missing: ${missing.join(', ')}`}`);
      break;
    }
    case 'lesson-start':
      out(`▶ ${e.lesson} (namespace ${e.namespace})`);
      break;
    case 'check-start':
      out(`  … ${e.lesson}/${e.check}`);
      break;
    case 'check-end': {
      const r = e.result;
      const mark = { passed: '✓', failed: '✗', skipped: '-' }[r.status];
      out(`  ${mark} ${r.lesson}/${r.check} ${r.status}${r.status === 'skipped' ? '' : ` ${r.seconds.toFixed(1)}s`}${r.reason ? `: ${r.reason}` : ''}`);
      break;
    }
    case 'lesson-end':
      out(`■ ${e.lesson} cleanup ${e.cleanup}`);
      break;
  }
}

function listing(lessons: readonly (typeof LESSONS)[number][]) {
  return lessons.map((l) => ({
    lesson: l.id,
    title: l.title,
    source: l.source,
    parallelSafe: l.parallelSafe,
    checks: l.checks.map((c) => ({ id: c.id, title: c.title, needs: [...(c.needs ?? [])] })),
  }));
}

function listText(lessons: readonly (typeof LESSONS)[number][]): string {
  return lessons
    .map((l) => {
      const width = Math.max(...l.checks.map((c) => c.id.length));
      const checks = l.checks.map((c) => `  ${c.id.padEnd(width)}  ${c.title}${c.needs?.length ? ` [needs ${c.needs.join(', ')}]` : ''}`);
      return `${l.id} — ${l.title} (${l.source})\n${checks.join('\n')}`;
    })
    .join('\n\n')
    .concat('\n');
}

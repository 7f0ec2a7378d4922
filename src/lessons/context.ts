// The CheckContext a lesson's steps run with: kubectl through an Executor, every command recorded
// as a learner would replay it, waits that retry, and skip/fail as typed errors the runner sorts out.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { CheckContext, ClusterFacts, ExecResult, Executor, KubectlOptions, Transcript } from './types.js';
import type { ImageKey, LessonSettings } from '../config/images.js';
import { commandLine } from '../util/shell.js';
import { poll as pollUntil, PollTimeout } from '../util/poll.js';
import { truncate } from './command.js';
import { LIMITS } from './limits.js';
import { labelObjects, substitute, type ManifestObject } from './render.js';

/** ctx.skip(): the check could not run here; never counted as passed. */
export class CheckSkipped extends Error {
  override name = 'CheckSkipped';
}
/** ctx.fail() or a wait that timed out: the cluster does not behave as the lesson says. */
export class CheckFailed extends Error {
  override name = 'CheckFailed';
  constructor(
    message: string,
    /** the likely cause and the next command to run, when the check knows them */
    readonly hint?: string,
  ) {
    super(message);
  }
}
/** The runner gave up on the check (its timeout); later commands of that check must not run. */
export class CheckAborted extends Error {
  override name = 'CheckAborted';
}
/** A kubectl command exited non-zero; waits retry on it, a check that lets it through fails. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
  constructor(
    readonly command: string,
    readonly result: ExecResult,
  ) {
    super(`\`${command}\` exited ${result.exitCode}: ${(result.stderr || result.stdout).trim().slice(0, 500)}`);
  }
}

export interface LessonScope {
  lesson: string;
  ns: string;
  /** manifests/<dir> of the lesson */
  manifestsDir: string;
  executor: Executor;
  images: Readonly<Record<ImageKey, string>>;
  settings: LessonSettings;
  facts: ClusterFacts;
  /** the objects `apply` created so far in this lesson, for diagnostics */
  applied: ManifestObject[];
  /** multiplies every time limit (RunOptions.timeScale) */
  timeScale: number;
  /** secret -> what transcripts show instead, learned from opts.redact, for every later command of the lesson */
  secrets?: Map<string, string>;
  /** HTTP from the host; injectable so tests can point it at a local server */
  fetchText?: (url: string, timeoutMs: number) => Promise<{ status: number; body: string }>;
}

export class LessonContext implements CheckContext {
  readonly transcript: Transcript[] = [];
  readonly notes: string[] = [];
  private aborted = false;

  constructor(private readonly scope: LessonScope) {}

  get ns(): string {
    return this.scope.ns;
  }
  get lesson(): string {
    return this.scope.lesson;
  }
  get images(): Readonly<Record<ImageKey, string>> {
    return this.scope.images;
  }
  get settings(): LessonSettings {
    return this.scope.settings;
  }
  get facts(): ClusterFacts {
    return this.scope.facts;
  }

  /** Called by the runner when the check's time is up: the next command throws instead of running. */
  abort(): void {
    this.aborted = true;
  }

  async kubectl(args: readonly string[], opts: KubectlOptions = {}): Promise<ExecResult> {
    const bad = args.find((a) => /^--(request-)?timeout=/.test(a));
    if (bad !== undefined) throw new Error(`kubectl ${args.join(' ')}: pass waitMs/watchMs (named LIMITS) instead of ${bad}, so the time scale applies`);
    const scale = this.scope.timeScale;
    const flags = [
      ...(opts.waitMs === undefined ? [] : [`--timeout=${Math.ceil((opts.waitMs * scale) / 1000)}s`]),
      ...(opts.watchMs === undefined ? [] : [`--request-timeout=${Math.ceil((opts.watchMs * scale) / 1000)}s`]),
    ];
    const argv = ['kubectl', ...(this.ns === '' || namesNamespace(args) ? [] : ['-n', this.ns]), ...args, ...flags];
    const line = commandLine(argv);
    for (const [secret, shown] of Object.entries(opts.redact ?? {})) if (secret) this.secrets.set(secret, shown);
    const shown = this.hide(line);
    if (this.aborted) throw new CheckAborted(`check timed out before \`${shown}\``);
    // kubectl's own limit comes first: the process gets that plus a grace, so kubectl can say what it waited for.
    const ownLimit = opts.waitMs ?? opts.watchMs;
    const processMs = opts.timeoutMs ?? (ownLimit === undefined ? LIMITS.command : ownLimit + LIMITS.kubectlGrace);
    const result = await this.scope.executor.run(line, {
      timeoutMs: processMs * scale,
      ...(opts.input === undefined ? {} : { input: opts.input }),
    });
    const seen = { ...result, stdout: this.hide(result.stdout), stderr: this.hide(result.stderr) };
    this.record({
      command: shown,
      exitCode: result.exitCode,
      stdout: seen.stdout,
      stderr: seen.stderr,
      ...(opts.input === undefined ? {} : { input: this.hide(opts.input) }),
    });
    if (result.exitCode !== 0 && !opts.allowFailure) throw new CommandFailed(shown, seen);
    return result;
  }

  async kubectlJson<T = unknown>(args: readonly string[]): Promise<T> {
    const { stdout } = await this.kubectl([...args, '-o', 'json']);
    try {
      return JSON.parse(stdout) as T;
    } catch {
      throw new CheckFailed(`kubectl ${args.join(' ')} -o json did not print JSON: ${stdout.slice(0, 200)}`);
    }
  }

  async apply(file: string, opts: { change?: (obj: Record<string, unknown>) => void } = {}): Promise<string[]> {
    const where = `manifests/${this.scope.manifestsDir.split(/[\\/]/).pop()}/${file}`;
    const raw = await readFile(join(this.scope.manifestsDir, file), 'utf8');
    const text = substitute(raw, { images: this.images, namespace: this.ns, lesson: this.lesson }, where);
    if (opts.change === undefined) return this.applyText(text, where);
    const objects = parseAllDocuments(text, { version: '1.1' })
      .map((d) => d.toJS() as Record<string, unknown> | null)
      .filter((o): o is Record<string, unknown> => o !== null);
    for (const obj of objects) opts.change(obj);
    return this.applyObjects(objects, where);
  }

  applyObjects(objects: readonly object[], where: string): Promise<string[]> {
    // Written as YAML 1.1, the version labelObjects and kubectl read, so a string such as "on" stays quoted.
    return this.applyText(objects.map((o) => stringify(o, { version: '1.1' })).join('---\n'), where);
  }

  /** Labels, applies and records the objects, so diagnostics describe them and the runner can release them. */
  private async applyText(text: string, where: string): Promise<string[]> {
    const { text: labelled, objects } = labelObjects(text, this.lesson, where);
    await this.kubectl(['apply', '-f', '-'], { input: labelled });
    this.scope.applied.push(...objects);
    return objects.map((o) => `${o.kind.toLowerCase()}/${o.name}`);
  }

  exec(pod: string, command: readonly string[], opts: { container?: string; allowFailure?: boolean } = {}): Promise<ExecResult> {
    const container = opts.container === undefined ? [] : ['-c', opts.container];
    return this.kubectl(['exec', pod, ...container, '--', ...command], { allowFailure: opts.allowFailure ?? false });
  }

  async httpGet(url: string, opts: { timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const command = commandLine(['curl', '-sS', '-m', String(Math.ceil(timeoutMs / 1000)), url]);
    if (this.aborted) throw new CheckAborted(`check timed out before \`${command}\``);
    const get = this.scope.fetchText ?? fetchText;
    try {
      const res = await get(url, timeoutMs);
      this.record({ command, exitCode: res.status < 400 ? 0 : 22, stdout: this.hide(res.body), stderr: res.status < 400 ? '' : `HTTP ${res.status}` });
      return res;
    } catch (err) {
      const message = err instanceof Error ? describeFetchError(err) : String(err);
      this.record({ command, exitCode: 7, stdout: '', stderr: message });
      throw new Error(`GET ${url}: ${message}`);
    }
  }

  waitFor<T>(what: string, probe: () => Promise<T | undefined>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
    return poll(what, probe, {
      timeoutMs: (opts.timeoutMs ?? LIMITS.wait) * this.scope.timeScale,
      intervalMs: opts.intervalMs ?? 1000,
      aborted: () => this.aborted,
    });
  }

  async holds(what: string, problem: () => Promise<string | undefined>, opts: { forMs?: number; intervalMs?: number } = {}): Promise<void> {
    const forMs = (opts.forMs ?? LIMITS.quiet) * this.scope.timeScale;
    const intervalMs = opts.intervalMs ?? 2000;
    const end = Date.now() + forMs;
    for (;;) {
      const found = await problem();
      if (found !== undefined) this.fail(`${what} did not hold: ${found}`);
      if (Date.now() + intervalMs > end) return;
      if (this.aborted) throw new CheckAborted(`check timed out while watching that ${what}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  skip(reason: string): never {
    throw new CheckSkipped(reason);
  }

  fail(message: string, hint?: string): never {
    throw new CheckFailed(this.hide(message), hint === undefined ? undefined : this.hide(hint));
  }

  note(text: string): void {
    this.notes.push(this.hide(text));
  }

  /** Secrets the lesson named (opts.redact) stay hidden in every later entry, and token-like values always. */
  private get secrets(): Map<string, string> {
    return (this.scope.secrets ??= new Map());
  }

  private hide(text: string): string {
    let out = text;
    for (const [secret, shown] of this.secrets) out = out.split(secret).join(shown);
    return redactTokens(out);
  }

  scaled(limitMs: number): number {
    return limitMs * this.scope.timeScale;
  }

  private record(entry: Transcript): void {
    this.transcript.push({
      ...entry,
      command: this.hide(entry.command),
      stdout: truncate(entry.stdout),
      stderr: truncate(entry.stderr, 2000),
      ...(entry.input === undefined ? {} : { input: truncate(entry.input, 6000) }),
    });
  }
}

/** Whether kubectl's own flags name a namespace; what follows `--` is the command of an exec (`ls -A`). */
function namesNamespace(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const own = end < 0 ? args : args.slice(0, end);
  return own.some((a) => a === '-n' || a === '-A' || a === '--all-namespaces' || a.startsWith('--namespace'));
}

/**
 * Token-like values a transcript must never show, whatever command printed them: a ServiceAccount token
 * (a JWT: `kubectl create token`, a pod's mounted token), the same base64-encoded (a token Secret's
 * .data.token, which starts "ZXlK", base64 of "eyJ"), and the value of a "token" or
 * "password" field in JSON.
 */
const TOKEN_PATTERNS: readonly [RegExp, string][] = [
  [/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, '$TOKEN'],
  [/ZXlK[A-Za-z0-9+/]{16,}={0,2}/g, '<redacted base64 token>'],
  [/("(?:token|password)"\s*:\s*")[^"]+"/g, '$1<redacted>"'],
];

export function redactTokens(text: string): string {
  let out = text;
  for (const [pattern, shown] of TOKEN_PATTERNS) out = out.replace(pattern, shown);
  return out;
}

async function fetchText(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  // A new connection per request, as the transcript's curl makes: fetch would otherwise keep one alive, and
  // kube-proxy picks a Service's backend per connection, so every answer would come from the same pod.
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close' } });
  return { status: res.status, body: await res.text() };
}

function describeFetchError(err: Error): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${err.message} (${cause.code})` : (cause?.message ?? err.message);
}

/**
 * verify's waits on the one poll loop: a failing command is retried (its message kept for the timeout's
 * reason); ctx.fail/skip and an abort end the wait at once.
 */
export async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs: number; aborted?: () => boolean },
): Promise<T> {
  try {
    return await pollUntil(probe, {
      timeoutMs: opts.timeoutMs,
      intervalMs: opts.intervalMs,
      fatal: (err) => err instanceof CheckSkipped || err instanceof CheckFailed || err instanceof CheckAborted,
      beforePause: () => {
        if (opts.aborted?.()) throw new CheckAborted(`check timed out while waiting for ${what}`);
      },
    });
  } catch (err) {
    if (!(err instanceof PollTimeout)) throw err;
    throw new CheckFailed(`timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for ${what}${err.lastError ? ` (last error: ${err.lastError})` : ''}`);
  }
}

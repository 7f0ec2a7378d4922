// lab.yaml -> LabConfig: parse YAML, apply the schema, then the cross-field checks.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { isMap, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './errors.js';
import { labSchema, type LabConfig } from './schema.js';
import { machineTargets, resolveKeyFile } from './machines.js';
import { crossCheck } from './cross-check.js';

export async function loadConfigFile(file: string): Promise<LabConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? ' (run `k8slab init` to write one with every default)' : '';
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${code ?? String(err)}${hint}` }]);
  }
  const config = parseConfig(text, file);
  const problems = await checkKeyFiles(config, dirname(file), homedir());
  if (problems.length > 0) throw new ConfigError(file, problems);
  return config;
}

/**
 * provider: machines: every key file a machine uses must be a readable file. Paths are taken relative to
 * lab.yaml, "~/" is the home folder; the config keeps them absolute from here on.
 */
async function checkKeyFiles(config: LabConfig, baseDir: string, home: string): Promise<ConfigProblem[]> {
  const m = config.machines;
  if (config.provider !== 'machines' || !m) return [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const t of machineTargets(m)) {
    if (seen.has(t.keyFilePath)) continue;
    seen.add(t.keyFilePath);
    const path = resolveKeyFile(t.keyFile, baseDir, home);
    let why: string | undefined;
    try {
      if ((await stat(path)).isFile()) await access(path, constants.R_OK);
      else why = 'not a file';
    } catch (err) {
      why = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    if (why !== undefined) {
      problems.push({
        path: t.keyFilePath,
        value: t.keyFile,
        message: `cannot read the SSH private key ${path} (${why}); give the key that logs in on the machines (\`ssh -i KEY USER@ADDRESS\` must work), e.g. ~/.ssh/id_ed25519`,
      });
    }
  }
  if (problems.length === 0) {
    m.ssh.keyFile = resolveKeyFile(m.ssh.keyFile, baseDir, home);
    for (const x of [m.controlPlane, ...m.workers]) if (x?.keyFile !== undefined) x.keyFile = resolveKeyFile(x.keyFile, baseDir, home);
  }
  return problems;
}

/** Parses lab.yaml text. Throws ConfigError listing every problem found. */
export function parseConfig(text: string, source = 'lab.yaml'): LabConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: '', message: `not valid YAML: ${e.message.split('\n')[0]!.replace(/:$/, '')}${duplicateKeyHint(e, text)}` })),
    );
  }
  const raw: unknown = doc.contents === null ? {} : doc.toJS();
  if (!isMap(doc.contents) && doc.contents !== null) {
    throw new ConfigError(source, [{ path: '', message: 'must be a YAML mapping of settings (see `k8slab init`)' }]);
  }
  return validateConfig(raw, source);
}

export function validateConfig(raw: unknown, source = 'lab.yaml'): LabConfig {
  const result = labSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(source, result.error.issues.flatMap((i) => toProblems(i, raw)));
  }
  const problems = crossCheck(result.data);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return result.data;
}

type Issue = z.core.$ZodIssue;

function toProblems(issue: Issue, raw: unknown): ConfigProblem[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(path);
    return issue.keys.map((key) => {
      const guess = allowed.length > 0 ? closest(key, allowed) : undefined;
      const near = guess !== undefined && distanceOk(key, guess) ? `did you mean "${guess}"? ` : '';
      return {
        path: [...path, key].join('.'),
        message: `unknown setting; ${near}allowed here: ${allowed.join(', ')}`,
      };
    });
  }
  if (issue.code === 'invalid_type' && (issue.expected === 'object' || issue.expected === 'record')) {
    // A section given as a scalar, a list or left empty (null): say which settings it holds.
    const allowed = allowedKeysAt(path);
    const keys = allowed.length > 0 ? `: ${allowed.join(', ')}` : ' of names to values';
    return [
      {
        path: path.join('.'),
        value: valueAt(raw, path),
        message: `must be a mapping of settings${keys} (leave the key out to use the defaults)`,
      },
    ];
  }
  return [{ path: path.join('.'), value: valueAt(raw, path), message: issue.message }];
}

/** yaml reports a duplicate key by position only; name the key so the user can find it. */
function duplicateKeyHint(e: { code: string; pos: [number, number] }, text: string): string {
  if (e.code !== 'DUPLICATE_KEY') return '';
  const key = /^[^\s:]+/.exec(text.slice(e.pos[0]))?.[0];
  return key ? ` (the key "${key}" appears twice; keep one)` : '';
}

/** A guess is worth showing when it is close relative to the key's length. */
function distanceOk(key: string, guess: string): boolean {
  const a = key.toLowerCase();
  const b = guess.toLowerCase();
  if (a.includes(b) || b.includes(a)) return true;
  return distance(a, b) <= Math.max(2, Math.floor(key.length / 3));
}

function valueAt(raw: unknown, path: readonly string[]): unknown {
  let cur: unknown = raw;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The keys the schema accepts at an object path, found by walking the schema itself. */
export function allowedKeysAt(path: readonly string[]): string[] {
  let schema: unknown = labSchema;
  for (const key of path) {
    const shape = shapeOf(schema);
    if (!shape) return [];
    schema = shape[key];
  }
  return Object.keys(shapeOf(schema) ?? {});
}

function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  let s = schema as { _zod?: { def: { type: string; innerType?: unknown; shape?: Record<string, unknown> } } };
  // Unwrap default/prefault/optional wrappers down to the object.
  while (s?._zod && s._zod.def.innerType !== undefined && s._zod.def.type !== 'object') {
    s = s._zod.def.innerType as typeof s;
  }
  return s?._zod?.def.type === 'object' ? s._zod.def.shape : undefined;
}

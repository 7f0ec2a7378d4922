// The import direction of src/: data flows one way, and nothing imports from a stage above its own.
//
//   util            shell quoting, errors (with their kind, never an exit code), small pure helpers;
//                   paths.ts (where the package's templates and manifests are) sits here too
//   config          lab.yaml: schema, defaults, errors, the image catalogue lab.yaml may name
//   plan            config + secrets -> everything later stages need, pure (nodes, IPs, provisioning steps)
//   state           the lab's state file: secrets and the resume points of `up`
//   render          templates -> the lab folder
//   bundle          offline bundles (checks what render's scripts will install from)
//   provider        where the machines live (Vagrant: VirtualBox, libvirt): up, list, destroy, leftovers
//   nodes           one Node: run a command (sudo, input, timeout, signal), put a file; SSH and local
//   cluster         kubectl on the lab, readiness waits, kubeconfig
//   doctor          host checks before `up`
//   lessons         the course's checks, run through a node
//   report          table, JSON, JUnit of a lessons run
//   lab             the one entry every command builds on: config, plan, state, provider, nodes
//   ui              progress views and summary tables
//   up, down        `k8slab up` as phases with resume; `k8slab down` (teardown through the provider)
//   cli             commander commands; the only place that knows exit codes
//
// A folder may import itself and anything listed above it. A new folder must be placed here first.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

export const STAGES = [
  ['util', 'paths.ts'],
  ['config'],
  ['plan'],
  ['state'],
  ['render'],
  ['bundle'],
  ['provider'],
  ['nodes'],
  ['cluster'],
  ['doctor'],
  ['lessons'],
  ['report'],
  ['lab'],
  ['ui'],
  ['up', 'down'],
  ['cli'],
] as const;

const SRC = resolve(new URL('../../src', import.meta.url).pathname);

function rankOf(top: string): number {
  return STAGES.findIndex((s) => (s as readonly string[]).includes(top));
}

/** The top-level folder (or file) of src/ a path lies in. */
function topOf(file: string): string {
  return relative(SRC, file).split('/')[0]!;
}

/** Relative module specifiers of `import ... from`, `export ... from`, `import '...'` and `import('...')`. */
export function specifiers(source: string): string[] {
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  return [...source.matchAll(re)].map((m) => m[1]!);
}

export interface Violation {
  file: string;
  imports: string;
  why: string;
}

export function violations(files: readonly { path: string; source: string }[]): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const from = topOf(f.path);
    const rFrom = rankOf(from);
    if (rFrom < 0) out.push({ file: relative(SRC, f.path), imports: '-', why: `src/${from} is not placed in STAGES (test/unit/layers.test.ts)` });
    for (const spec of specifiers(f.source)) {
      const to = topOf(resolve(dirname(f.path), spec));
      const rTo = rankOf(to);
      if (rTo > rFrom) out.push({ file: relative(SRC, f.path), imports: spec, why: `${from} imports ${to}, a stage above it` });
    }
  }
  return out;
}

function sources(dir: string): { path: string; source: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [{ path: p, source: readFileSync(p, 'utf8') }] : [];
  });
}

describe('layers', () => {
  it('catches an upward import, a dynamic one, and an unplaced folder (the check can fail)', () => {
    const at = (p: string) => join(SRC, p);
    expect(
      violations([
        { path: at('nodes/x.ts'), source: `import type { Lesson } from '../lessons/types.js';\nimport { a } from './y.js';` },
        { path: at('config/x.ts'), source: `const m = await import('../cli/exit-codes.js');` },
        { path: at('provider/x.ts'), source: `export { z } from '../util/shell.js';\nimport { p } from '../paths.js';` },
        { path: at('newstage/x.ts'), source: '' },
      ]).map((v) => v.why),
    ).toEqual(['nodes imports lessons, a stage above it', 'config imports cli, a stage above it', 'src/newstage is not placed in STAGES (test/unit/layers.test.ts)']);
  });

  it('nothing in src/ imports from a stage above its own', () => {
    expect(violations(sources(SRC))).toEqual([]);
  });
});

// Every generated script must define each provision/ helper it calls. shellcheck cannot see this (an
// undefined function is just an unknown command to it), and a missing one only shows on a real node
// ("put_file: command not found" in work_nodes.sh with the bridge CNI was found that way).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROVISION_DIR } from '../../src/paths.js';
import { renderFiles, SCRIPTS } from '../../src/render/index.js';
import { FIXTURE_SECRETS, VARIANTS, planFor } from '../fixtures/render/variants.js';

const DEFINITION = /^([a-z_][a-z0-9_]*)\(\) \{/gm;

/** Helper function names defined in provision/*.sh. */
const helpers = readdirSync(PROVISION_DIR)
  .filter((f) => f.endsWith('.sh'))
  .flatMap((f) => [...readFileSync(join(PROVISION_DIR, f), 'utf8').matchAll(DEFINITION)].map((m) => m[1]!));

/** Names a script calls: a helper name in command position (line start, after ; | && || $( or `then/do`). */
function calledHelpers(script: string): Set<string> {
  const code = script
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');
  const called = new Set<string>();
  for (const name of helpers) {
    const inCommandPosition = new RegExp(
      `(^|[;&|(]\\s*|\\$\\(\\s*|\\b(?:then|do|else|if|while|until|!)\\s+)${name}(\\s|$|;|\\))`,
      'm',
    );
    if (inCommandPosition.test(code.replace(new RegExp(`^${name}\\(\\) \\{`, 'gm'), ''))) called.add(name);
  }
  return called;
}

describe.each(Object.keys(VARIANTS))('variant %s', (variant) => {
  const files = renderFiles(planFor(VARIANTS[variant]!, FIXTURE_SECRETS.token, FIXTURE_SECRETS.caCert), FIXTURE_SECRETS);
  test.each([...SCRIPTS])('%s defines every provision helper it calls', (script) => {
    const text = files.get(script)!.content;
    const defined = new Set([...text.matchAll(DEFINITION)].map((m) => m[1]!));
    const missing = [...calledHelpers(text)].filter((f) => !defined.has(f));
    expect(missing).toEqual([]);
  });
});

test('the check sees a call without its definition', () => {
  expect(helpers).toContain('put_file');
  expect([...calledHelpers('set -e\nput_file /etc/x 0644 <<EOF\nEOF\n')]).toEqual(['put_file']);
  expect([...calledHelpers('put_file() {\n  :\n}\n')]).toEqual([]);
});

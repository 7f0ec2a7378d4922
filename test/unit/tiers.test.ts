// The unit tier runs anywhere: no root, no vagrant, no ruby, no network namespaces. Tests that run real
// tools live in test/tools (still part of `npm test`); this guard keeps them from creeping back.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT_DIR = new URL('.', import.meta.url).pathname;
const REAL_TOOLS = ['ruby', 'vagrant', 'ip', 'virsh', 'VBoxManage', 'shellcheck', 'sudo', 'unshare', 'nsenter'];
// execa('ruby', ...), execFileSync("ip", ...), spawn(`vagrant`, ...)
const SPAWN = new RegExp(`\\b(?:execa|execaSync|execFile|execFileSync|spawn|spawnSync)\\(\\s*['"\`](${REAL_TOOLS.join('|')})['"\`]`, 'g');

export function realToolSpawns(source: string): string[] {
  return [...source.matchAll(SPAWN)].map((m) => m[1]!);
}

describe('unit tier', () => {
  it('spots a real-tool spawn (the guard can fail)', () => {
    expect(realToolSpawns(`await execa('ruby', ['-e', x]);\nexecFileSync("ip", ['netns'])`)).toEqual(['ruby', 'ip']);
    expect(realToolSpawns(`execa('bash', ['-c', x]); const ruby = 1;`)).toEqual([]);
  });

  it('no unit test runs ruby, vagrant, ip netns, virsh or sudo', () => {
    const found = readdirSync(UNIT_DIR)
      .filter((f) => f.endsWith('.ts') && f !== 'tiers.test.ts')
      .flatMap((f) => realToolSpawns(readFileSync(join(UNIT_DIR, f), 'utf8')).map((tool) => `${f}: ${tool}`));
    expect(found, 'move these to test/tools').toEqual([]);
  });
});

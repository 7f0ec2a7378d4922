// The machines doctor's probe script, for real: shellcheck as POSIX sh, and a run under dash on this
// host (it only reads), whose output parses into facts that match what Node sees of the same host.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROBE_SCRIPT, parseProbe } from '../../src/doctor/machines/probe.js';

describe('machines doctor probe', () => {
  it('passes shellcheck as a POSIX sh script', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'k8slab-probe-')), 'probe.sh');
    writeFileSync(file, `#!/bin/sh\n${PROBE_SCRIPT}`);
    const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'style', file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs under dash (sh -s) and reports this host as Node sees it', () => {
    const before = Math.floor(Date.now() / 1000);
    const out = execFileSync('dash', ['-s'], { input: PROBE_SCRIPT, encoding: 'utf8' });
    const f = parseProbe(out);
    expect(f.uid).toBe(process.getuid!());
    expect(f.hostname).toBe(hostname());
    expect(f.cpus).toBeGreaterThan(0);
    expect(f.cpus).toBeLessThanOrEqual(cpus().length);
    expect(f.memMiB).toBeGreaterThan(0);
    expect(f.disk?.freeMiB).toBeGreaterThan(0);
    expect(f.os?.id).toMatch(/^[a-z]/);
    expect(f.sudo).toBe(f.uid === 0 ? 'root' : expect.stringMatching(/^(ok|password|missing)$/));
    expect(f.nowSec).toBeGreaterThanOrEqual(before);
  });
});

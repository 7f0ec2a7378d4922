// The in-cluster GET the services checks run from request-pod, run here with the testbed tools image's own
// busybox (Debian 12's busybox-static, extracted from the image tarball with the real tar) against a loopback
// HTTP server: it must answer, and wget's -T, which crashes that busybox, must not come back.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wgetCommand } from '../../src/lessons/probes.js';
import { CACHE } from '../testbed.js';

const TOOLS_TAR = join(CACHE, 'images/tools.tar');

describe.skipIf(!existsSync(TOOLS_TAR))('request-pod GET with the tools image busybox', () => {
  let dir: string;
  let bin: string;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'k8slab-client-wget-'));
    execFileSync('tar', ['-xf', TOOLS_TAR, '-C', dir]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    const root = join(dir, 'root');
    mkdirSync(root);
    for (const layer of manifest[0]!.Layers) spawnSync('tar', ['-xf', join(dir, layer), '-C', root, 'bin/busybox']);
    bin = join(dir, 'applets');
    mkdirSync(bin);
    for (const applet of ['timeout', 'wget']) symlinkSync(join(root, 'bin/busybox'), join(bin, applet));
    server = createServer((_req, res) => res.end('Hostname : pod1\n'));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hostname`;
  });
  afterAll(async () => {
    await new Promise((ok) => server?.close(ok));
    rmSync(dir, { recursive: true, force: true });
  });

  // asynchronous: a synchronous spawn would block the loopback server, which lives in this same process
  const run = (argv: string[]) =>
    new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string }>((ok) => {
      const child = execFile(argv[0]!, argv.slice(1), { env: { PATH: bin }, timeout: 20_000 }, (_err, stdout) =>
        ok({ status: child.exitCode, signal: child.signalCode, stdout }),
      );
    });

  it('answers with the body', async () => {
    const r = await run(wgetCommand(url));
    expect(r).toEqual({ status: 0, signal: null, stdout: 'Hostname : pod1\n' });
  });

  it("this busybox's wget -T really crashes (why the limit comes from timeout)", async () => {
    const r = await run(['wget', '-qO-', '-T', '5', url]);
    expect(r.signal ?? r.status).not.toBe(0);
    expect(wgetCommand(url)).not.toContain('-T');
  });
});

// The namespace helpers clean up after a crashed run: leftovers of our prefix whose owner is gone are
// removed with their processes and veths; a live run's namespaces and anyone else's are left alone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteNs, ip, netnsUnavailableReason, sweepLeftovers } from './helpers/netns.js';

// a prefix of its own, so the other test files' sweeps (running in parallel) never take ours
const PREFIX = 'k8slab-tsweep-';

const unavailable = netnsUnavailableReason();

function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

function linkExists(name: string): boolean {
  const links = ip(['-o', 'link', 'show']);
  return links.includes(` ${name}@`) || links.includes(` ${name}:`);
}

describe.skipIf(unavailable !== undefined)(`leftover sweep${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const tag = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
  const orphan = `${PREFIX}${deadPid()}-${tag}-0`;
  const live = `${PREFIX}${process.pid}-${tag}-1`;
  const foreign = `k8slabx-other-${tag}`;
  afterAll(() => {
    for (const ns of [orphan, live, foreign]) deleteNs(ns);
  });

  it('removes only dead runs of our prefix, with their processes and veths', async () => {
    for (const ns of [orphan, live, foreign]) ip(['netns', 'add', ns]);
    ip(['link', 'add', `k8t${tag}0h`, 'type', 'veth', 'peer', 'name', `k8t${tag}0n`]);
    ip(['link', 'set', `k8t${tag}0n`, 'netns', orphan]);
    const sleeper = spawn('ip', ['netns', 'exec', orphan, 'sleep', '300'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => sleeper.once('exit', (_c, sig) => resolve(sig)));
    await new Promise((r) => setTimeout(r, 200));
    expect(ip(['netns', 'pids', orphan]).trim()).not.toBe('');

    const removed = sweepLeftovers(Date.now() + 1, PREFIX);

    expect(removed).toContain(orphan);
    expect(removed).not.toContain(live);
    expect(existsSync(`/run/netns/${orphan}`)).toBe(false);
    expect(existsSync(`/run/netns/${live}`)).toBe(true);
    expect(existsSync(`/run/netns/${foreign}`)).toBe(true);
    expect(await exited).toBe('SIGKILL');
    // the kernel tears a deleted namespace (and the veth inside it) down asynchronously
    const end = Date.now() + 5_000;
    while (linkExists(`k8t${tag}0h`) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(linkExists(`k8t${tag}0h`)).toBe(false);
  });

  it('removes a veth pair a run left in the root namespace before moving it', () => {
    const other = (parseInt(tag, 16) ^ 0x5a5a).toString(16).padStart(4, '0');
    ip(['link', 'add', `k8t${other}0h`, 'type', 'veth', 'peer', 'name', `k8t${other}0n`]);
    try {
      expect(sweepLeftovers(Date.now(), PREFIX)).toContain(`k8t${other}0h`);
      expect(linkExists(`k8t${other}0h`)).toBe(false);
      expect(linkExists(`k8t${other}0n`)).toBe(false);
    } finally {
      if (linkExists(`k8t${other}0h`)) ip(['link', 'del', `k8t${other}0h`]);
    }
  });

  it('leaves namespaces created after the run started', () => {
    const fresh = `${PREFIX}${deadPid()}-${tag}-2`;
    ip(['netns', 'add', fresh]);
    try {
      expect(sweepLeftovers(Date.now() - 60_000, PREFIX)).not.toContain(fresh);
      expect(existsSync(`/run/netns/${fresh}`)).toBe(true);
    } finally {
      deleteNs(fresh);
    }
  });
});

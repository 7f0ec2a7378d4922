// The provider seam with a fake provider (what a second provider plugs into): the lab entry connects to
// the targets the provider lists and reuses them; down goes through destroy + leftovers and reports what
// is left; a provider without snapshots makes snapshot/reset a usage error (exit 2).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotsOf } from '../../src/cli/commands/snapshot.js';
import { exitCodeOf } from '../../src/cli/exit-codes.js';
import { parseConfig } from '../../src/config/load.js';
import { down } from '../../src/down/down.js';
import { openLab } from '../../src/lab/lab.js';
import type { Node } from '../../src/nodes/node.js';
import type { Leftovers, Provider } from '../../src/provider/types.js';
import { UserError } from '../../src/util/errors.js';

function fakeProvider(o: { running: string[]; left?: Leftovers }): Provider & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    name: 'fake',
    machineWord: 'machine',
    describeUp: (n) => `start ${n} machines`,
    up: async () => void calls.push('up'),
    status: async () => [],
    sshTargets: async (names) => {
      calls.push(`targets ${names.join(',')}`);
      return names.filter((n) => o.running.includes(n)).map((name) => ({ name, host: '192.0.2.9', port: 22, user: 'root', privateKeyPath: '/k' }));
    },
    destroy: async () => {
      calls.push('destroy');
      return { removed: { vms: ['m-k8s'], networks: [], volumes: [] }, kept: { networks: [] }, problems: [] };
    },
    leftovers: async () => o.left ?? { vms: [], networks: [], volumes: [] },
    shell: async () => 0,
  };
}

function fakeNode(name: string, log: string[]): Node {
  return {
    name,
    run: async (command, ro) => {
      log.push(`${name}: ${ro?.sudo ? 'sudo ' : ''}${command}`);
      return { stdout: '', stderr: '', exitCode: 0 };
    },
    put: async () => undefined,
    close: async () => void log.push(`${name}: close`),
  };
}

async function lab(provider: Provider, log: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'k8slab-seam-'));
  const configFile = join(dir, 'lab.yaml');
  writeFileSync(configFile, 'workers: {count: 1}\n');
  return openLab({ configFile, labDir: join(dir, 'lab') }, parseConfig('workers: {count: 1}\n'), {
    provider: () => provider,
    connect: async (t) => {
      log.push(`connect ${t.name} ${t.user}@${t.host}`);
      return fakeNode(t.name, log);
    },
  });
}

describe('the lab entry on a provider', () => {
  it('connects to the targets the provider lists, once, and runs kubectl as root with admin.conf', async () => {
    const log: string[] = [];
    const p = fakeProvider({ running: ['m-k8s', 'w1-k8s'] });
    const l = await lab(p, log);
    await l.nodes(['m-k8s', 'w1-k8s']);
    const k = await l.kubectl();
    await k.run('kubectl get nodes');
    await l.close();
    expect(p.calls).toEqual(['targets m-k8s,w1-k8s']); // the control plane was reused, not asked for again
    expect(log).toEqual([
      'connect m-k8s root@192.0.2.9',
      'connect w1-k8s root@192.0.2.9',
      "m-k8s: sudo export KUBECONFIG=/etc/kubernetes/admin.conf\nkubectl get nodes",
      'm-k8s: close',
      'w1-k8s: close',
    ]);
  });

  it('a node the provider lists no target for is a clear error that says where to look', async () => {
    const l = await lab(fakeProvider({ running: ['m-k8s'] }));
    const err = await l.nodes(['m-k8s', 'w1-k8s']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe('no SSH settings for w1-k8s: is the machine running?');
    expect((err as UserError).hint).toContain('k8slab status');
  });
});

describe('down through the provider', () => {
  it('reports what destroy removed and what leftovers still finds', async () => {
    const p = fakeProvider({ running: [], left: { vms: ['w1-k8s'], networks: [], volumes: [] } });
    const l = await lab(p);
    await l.save();
    const r = await down(l);
    expect(p.calls).toEqual(['destroy']);
    expect(r.removed.vms).toEqual(['m-k8s']);
    expect(r.removed.files).toEqual(['.k8slab']);
    expect(r.left.vms).toEqual(['w1-k8s']);
    expect(existsSync(l.paths.configFile)).toBe(true);
  });
});

describe('snapshots', () => {
  it('a provider without snapshots: a usage error (exit 2) naming the provider', async () => {
    const l = await lab(fakeProvider({ running: [] }));
    const err = (() => {
      try {
        snapshotsOf(l);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/^machines have no snapshots \(provider fake\)/);
    expect(exitCodeOf((err as UserError).errorKind)).toBe(2);
  });
});

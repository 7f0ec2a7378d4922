// MachinesProvider: the machines exist already. SSH targets come from lab.yaml's machines block; status
// and up only ask whether each sshd answers (a TCP server this test opens on loopback, and a closed
// port); destroy leaves the machines; there are no snapshots.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MachinesProvider } from '../../src/provider/machines-provider.js';
import type { MachineNode } from '../../src/plan/plan.js';

let server: Server;
let openPort: number;
let closedPort: number;
beforeAll(async () => {
  server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  openPort = (server.address() as { port: number }).port;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const m = (name: string, role: MachineNode['role'], port: number): MachineNode => ({ name, role, privateIp: '10.0.0.4', address: '127.0.0.1', port, user: 'debian', keyFile: '/keys/id' });

describe('MachinesProvider', () => {
  it('lists SSH targets from the machines block', async () => {
    const p = new MachinesProvider([m('m-k8s', 'control-plane', 2201), m('w1-k8s', 'worker', 2202)]);
    expect(await p.sshTargets(['w1-k8s'])).toEqual([{ name: 'w1-k8s', host: '127.0.0.1', port: 2202, user: 'debian', privateKeyPath: '/keys/id' }]);
    expect(p.snapshots).toBeUndefined();
    expect(await p.destroy()).toEqual({ removed: { vms: [], networks: [], volumes: [] }, kept: { networks: [] }, problems: [] });
    expect(await p.leftovers()).toEqual({ vms: [], networks: [], volumes: [] });
  });

  it('status: running where sshd answers, unreachable where nothing listens; up fails naming the machine', async () => {
    const p = new MachinesProvider([m('m-k8s', 'control-plane', openPort), m('w1-k8s', 'worker', closedPort)]);
    expect(await p.status()).toEqual([
      { name: 'm-k8s', role: 'control-plane', state: 'running' },
      { name: 'w1-k8s', role: 'worker', state: 'unreachable' },
    ]);
    await expect(p.up()).rejects.toThrow(`no sshd answers on w1-k8s (127.0.0.1:${closedPort})`);
    await expect(new MachinesProvider([m('m-k8s', 'control-plane', openPort)]).up()).resolves.toBeUndefined();
  });
});

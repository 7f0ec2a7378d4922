// `down` on provider: machines, through the lab entry with the real MachinesProvider and fake SSH nodes:
// teardown.sh (rendered from the plan) goes to every machine on stdin as root, each machine's leftovers
// are reported with it, an unreachable machine is reported, and the machines themselves stay.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { down } from '../../src/down/down.js';
import { openLab } from '../../src/lab/lab.js';
import type { Node } from '../../src/nodes/node.js';

const YAML = `provider: machines
workers: {count: 2}
network: {private: 10.214.0.0/24}
machines:
  ssh: {user: root, keyFile: /keys/id}
  controlPlane: {address: 192.0.2.10}
  workers:
    - {address: 192.0.2.11}
    - {address: 192.0.2.12}
`;

describe('down on machines', () => {
  it('runs teardown.sh on each machine and reports per machine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8slab-down-machines-'));
    const configFile = join(dir, 'lab.yaml');
    writeFileSync(configFile, YAML);
    const seen: string[] = [];
    const lab = await openLab({ configFile, labDir: join(dir, 'lab') }, parseConfig(YAML), {
      connect: async (t) => {
        if (t.host === '192.0.2.12') throw new Error('connect ETIMEDOUT 192.0.2.12:22');
        const node: Node = {
          name: t.name,
          run: async (command, o = {}) => {
            seen.push(`${t.name} ${t.user}@${t.host}: ${o.sudo ? 'sudo ' : ''}${command} <${String(o.input).startsWith('#!/usr/bin/env bash\n# teardown.sh') ? 'teardown.sh' : 'other'}>`);
            return t.name === 'w1-k8s'
              ? { exitCode: 1, stdout: 'leftover: interface cni0\n', stderr: '' }
              : { exitCode: 0, stdout: '[k8slab teardown.sh 10:00:00] left of the lab on m-k8s: nothing\n', stderr: '' };
          },
          put: async () => undefined,
          close: async () => undefined,
        };
        return node;
      },
    });
    const report = await down(lab, { purge: true });
    expect(seen.sort()).toEqual([
      'm-k8s root@192.0.2.10: sudo bash -s -- --purge <teardown.sh>',
      'w1-k8s root@192.0.2.11: sudo bash -s -- --purge <teardown.sh>',
    ]);
    expect(report.machines).toEqual([
      { node: 'm-k8s', leftovers: [] },
      { node: 'w1-k8s', leftovers: ['interface cni0'] },
      { node: 'w2-k8s', leftovers: [], error: expect.stringContaining('cannot reach it over SSH: connect ETIMEDOUT 192.0.2.12:22') },
    ]);
    expect(report.removed.vms).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(existsSync(join(dir, 'lab.yaml'))).toBe(true);
  });
});

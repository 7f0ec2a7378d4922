// doctor on provider: machines against real sshd "machines" (network namespaces): the probe goes over
// SSH with the machine's key, comes back parsed, and is judged. The namespaces share this host's
// hostname and DMI, so the uniqueness check must catch the shared hostname. Needs root and `ip netns`.
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorMachines } from '../../src/doctor/machines/gather.js';
import { realMachineDeps } from '../../src/doctor/machines/ssh.js';
import type { CheckResult } from '../../src/doctor/types.js';
import type { MachineNode } from '../../src/plan/plan.js';
import { SshTestLab, type TestNode } from './helpers/lab.js';
import { netnsUnavailableReason } from './helpers/netns.js';

const unavailable = netnsUnavailableReason();

describe.skipIf(unavailable !== undefined)(`machines doctor over real SSH${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let lab: SshTestLab;
  let a: TestNode, b: TestNode;
  const machine = (n: TestNode, name: string, role: MachineNode['role']): MachineNode => ({
    name,
    role,
    privateIp: n.nodeIp,
    address: n.nodeIp,
    port: 22,
    user: 'root',
    keyFile: n.target.privateKeyPath,
  });
  beforeAll(async () => {
    lab = new SshTestLab();
    a = await lab.addNode('cp');
    b = await lab.addNode('w1');
  });
  afterAll(() => lab?.cleanup());

  it('probes each machine over SSH and judges what it found', async () => {
    const results = await doctorMachines([machine(a, 'm-k8s', 'control-plane'), machine(b, 'w1-k8s', 'worker')], realMachineDeps);
    const at = (name: string): CheckResult => results.find((r) => r.name === name)!;
    expect(at('m-k8s ssh')).toMatchObject({ status: 'pass', detail: `root@${a.nodeIp}:22 logs in with the key, as root` });
    expect(at('m-k8s private-ip')).toMatchObject({ status: 'pass', detail: `${a.nodeIp} is on eth0` });
    expect(at('w1-k8s private-ip')).toMatchObject({ status: 'pass', detail: `${b.nodeIp} is on eth0` });
    expect(at('m-k8s ports')).toMatchObject({ status: 'pass', detail: '6443 and 10250 free' });
    expect(at('m-k8s clock').status).toBe('pass');
    expect(at('m-k8s os').detail).toMatch(/on (x86_64|aarch64)/);
    // network namespaces are not machines: same hostname (and DMI) as this host
    expect(at('w1-k8s unique')).toMatchObject({ status: 'fail', detail: expect.stringContaining(`hostname ${hostname()} (also m-k8s)`) });
  });

  it('a wrong address is one ssh failure naming the command to try', async () => {
    const wrong = { ...machine(a, 'm-k8s', 'control-plane'), port: 2 };
    const results = await doctorMachines([wrong], { ...realMachineDeps });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ name: 'm-k8s ssh', status: 'fail', fix: expect.stringContaining(`-p 2 root@${a.nodeIp} true`) });
  });
});

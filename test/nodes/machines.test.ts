// The node tier's machines on their own: three system containers boot systemd and sshd on the tier's
// bridge, reach each other, carry the machine-level fixes kubelet needs, survive a restart like a
// rebooted VM, and leave nothing behind. A crashed run's machine is removed by the sweep, and the sweep
// takes only the tier's own names.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupHierarchies, links, processStart, run } from './host.js';
import { HOST_ADDRESS, Machine, TIER, bridgeUp, claimHost, ensureRootfs, leftovers, releaseHost, sweep, type Rootfs } from './machines.js';
import { type KeyPair, runKey, ssh, waitForSsh } from './ssh.js';
import { nodeTierUnavailable } from './preconditions.js';

const unavailable = nodeTierUnavailable();

describe.skipIf(unavailable !== undefined)(`system-container machines${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let rootfs: Rootfs;
  let key: KeyPair;
  const machines: Machine[] = [];

  beforeAll(async () => {
    claimHost();
    await sweep();
    rootfs = ensureRootfs();
    bridgeUp();
    key = runKey();
  });

  afterAll(async () => {
    for (const m of machines) await m.destroy().catch(() => undefined);
    await sweep();
    releaseHost();
  });

  const must = async (m: Machine, command: string): Promise<string> => {
    const r = await ssh(m.ip, key, command);
    expect(r.code, `${m.hostname}: ${command}\n${r.stderr}${r.stdout}`).toBe(0);
    return r.stdout.trim();
  };

  it('boots three machines with systemd running, their own address and a path to each other', async () => {
    for (const [i, hostname] of ['node1', 'node2', 'node3'].entries()) {
      const m = new Machine({ hostname, ip: `${TIER.net}.${21 + i}` }, rootfs.dir);
      machines.push(m);
      m.create(key.publicKey);
      m.start();
    }
    for (const m of machines) await waitForSsh(m.ip, key, 60_000).catch((err: Error) => Promise.reject(new Error(`${err.message}\n${m.consoleTail()}`)));

    for (const m of machines) {
      // `running`, not `degraded`: every unit of the machine started
      const state = await ssh(m.ip, key, 'systemctl is-system-running --wait; systemctl --failed --no-legend --plain');
      expect(state.stdout.trim(), m.hostname).toBe('running');
      expect(await must(m, 'hostname')).toBe(m.hostname);
      expect(await must(m, 'ip -4 -o addr show dev host0')).toContain(` ${m.ip}/24 `);
      expect(await must(m, 'ip route show default')).toContain(`via ${HOST_ADDRESS}`);
      expect(await must(m, 'systemd-detect-virt -c')).toBe('systemd-nspawn');
      for (const other of machines.filter((o) => o !== m)) {
        await must(m, `ping -c 1 -W 2 ${other.ip}`);
        await must(m, `timeout 3 bash -c '</dev/tcp/${other.ip}/22'`);
      }
    }
    // each machine is its own: distinct machine-ids (kubeadm requires unique ones) and SSH host keys
    const ids = await Promise.all(machines.map((m) => must(m, 'cat /etc/machine-id')));
    const hostKeys = await Promise.all(machines.map((m) => must(m, 'cat /etc/ssh/ssh_host_ed25519_key.pub')));
    expect(new Set(ids).size).toBe(3);
    expect(new Set(hostKeys).size).toBe(3);
  });

  it('gives kubelet and runc what a VM would: writable cgroups, /dev/kmsg, private kernel sysctls', async () => {
    const m = machines[0]!;
    // nspawn mounts the v1 controllers read-only; the PID 1 wrapper remounted them read-write
    await must(m, 'for c in memory cpu pids cpuset; do mkdir /sys/fs/cgroup/$c/k8sn-probe && rmdir /sys/fs/cgroup/$c/k8sn-probe || exit 1; done');
    await must(m, 'test -c /dev/kmsg && exec 3</dev/kmsg');
    // kubelet writes these host-global keys: the machine's private copy changes, the host's does not
    const hostValue = readFileSync('/proc/sys/vm/overcommit_memory', 'utf8').trim();
    const wanted = hostValue === '1' ? '0' : '1';
    await must(m, `echo ${wanted} >/proc/sys/vm/overcommit_memory`);
    expect(await must(m, 'cat /proc/sys/vm/overcommit_memory')).toBe(wanted);
    expect(readFileSync('/proc/sys/vm/overcommit_memory', 'utf8').trim()).toBe(hostValue);
    expect(await must(m, 'systemctl is-active k8slab-node-sysctls.service')).toBe('active');
    // the containerd store is a plain host directory, not the overlay root (its snapshotter needs that)
    expect(await must(m, 'findmnt -n -o FSTYPE /var/lib/containerd')).toBe('ext4');
    expect(await must(m, 'findmnt -n -o FSTYPE /')).toBe('overlay');
  });

  it('restarts a machine like a rebooted VM: the disk stays, /run starts empty', async () => {
    const m = machines[1]!;
    await must(m, 'echo kept >/root/restart-marker; echo gone >/run/restart-marker');
    await m.stop();
    expect(m.running).toBe(false);
    await expect(ssh(m.ip, key, 'true', 5_000)).rejects.toThrow();
    m.start();
    await waitForSsh(m.ip, key, 60_000);
    expect(await must(m, 'cat /root/restart-marker')).toBe('kept');
    expect(await must(m, 'test -e /run/restart-marker && echo present || echo absent')).toBe('absent');
    expect((await ssh(m.ip, key, 'systemctl is-system-running --wait')).stdout.trim()).toBe('running');
    // and the others still reach it
    await must(machines[0]!, `timeout 3 bash -c '</dev/tcp/${m.ip}/22'`);
  });

  it('destroys the machines and the bridge, leaving nothing of the tier', async () => {
    for (const m of machines.splice(0)) await m.destroy();
    await sweep();
    expect(leftovers()).toEqual([]);
  });

  it('refuses to sweep or claim while another live run owns the host', async () => {
    const owner = join(TIER.state, 'owner');
    const mine = readFileSync(owner, 'utf8');
    // PID 1 stands in for the other run: alive, and its start time is what the owner file records
    writeFileSync(owner, `1 ${processStart(1)}\n`);
    try {
      await expect(sweep()).rejects.toThrow(/has not claimed/);
      expect(() => claimHost()).toThrow(/another node-tier run \(pid 1\)/);
    } finally {
      writeFileSync(owner, mine);
    }
  });

  it("sweeps a crashed run's running machine, and only the tier's own names", async () => {
    // what another tool might have that looks close to the tier's names
    const foreignLink = 'k8snx-probe';
    const foreignCgroup = join(cgroupHierarchies().find((h) => h.endsWith('/pids'))!, `${TIER.cgroup}-other`);
    const foreignRule = ['FORWARD', '-i', 'k8snx-probe', '-m', 'comment', '--comment', `${TIER.comment}-other`, '-j', 'ACCEPT'];
    run('ip', ['link', 'add', foreignLink, 'type', 'bridge']);
    mkdirSync(foreignCgroup);
    run('iptables', ['-A', ...foreignRule]);
    try {
      bridgeUp();
      const crashed = new Machine({ hostname: 'crash', ip: `${TIER.net}.29` }, rootfs.dir);
      crashed.create(key.publicKey);
      crashed.start();
      await waitForSsh(crashed.ip, key, 60_000);
      expect(leftovers().length).toBeGreaterThan(0);

      // the run "crashes" hard: nspawn is killed outright, so its container, veth and lock outlive it,
      // and only the host's state is left for the sweep
      const lock = readFileSync(join(crashed.dir, 'nspawn.lock'), 'utf8').trim();
      process.kill(Number(readFileSync(join(crashed.dir, 'nspawn.pid'), 'utf8').split(' ')[0]), 'SIGKILL');
      const removed = await sweep();

      expect(removed).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^process \d+$/),
          `mount ${join(crashed.dir, 'root')}`,
          `state ${crashed.dir}`,
          `nspawn ${lock}`,
          `link ${TIER.bridge}`,
        ]),
      );
      expect(leftovers()).toEqual([]);
      expect(existsSync(lock), lock).toBe(false);
      expect(links()).toContain(foreignLink);
      expect(existsSync(foreignCgroup)).toBe(true);
      expect(run('iptables', ['-C', ...foreignRule], { ok: [0, 1] }).code).toBe(0);
    } finally {
      run('ip', ['link', 'del', foreignLink], { ok: [0, 1] });
      rmdirSync(foreignCgroup);
      run('iptables', ['-D', ...foreignRule], { ok: [0, 1] });
    }
  });
});

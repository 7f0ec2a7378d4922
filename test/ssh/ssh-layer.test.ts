// The SSH layer against real OpenSSH daemons, each in a network namespace of its own that plays a
// node. Needs root and `ip netns` (CI runs as root).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSsh } from '../../src/nodes/connect.js';
import { SshAbortedError, SshClosedError, SshCommandError, SshConnectError, SshFileError, SshTimeoutError } from '../../src/nodes/errors.js';
import { sshNode } from '../../src/nodes/ssh-node.js';
import type { SshSession } from '../../src/nodes/session.js';
import { SshTestLab, type TestNode } from './helpers/lab.js';
import { killNsProcesses, netnsUnavailableReason } from './helpers/netns.js';

const unavailable = netnsUnavailableReason();
const hasSudo = existsSync('/usr/bin/sudo');

function remoteProcessAlive(pattern: string): boolean {
  // the namespaces share the host's pid namespace, so the remote process is visible from here
  try {
    execFileSync('pgrep', ['-f', '--', pattern], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
}

describe.skipIf(unavailable !== undefined)(`SSH layer against real sshd in network namespaces${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let lab: SshTestLab;
  let a: TestNode, b: TestNode, c: TestNode;
  const sessions: SshSession[] = [];
  const open = async (n: TestNode): Promise<SshSession> => {
    const s = await connectSsh(n.target, { deadlineMs: 10_000 });
    sessions.push(s);
    return s;
  };
  let sa: SshSession;

  beforeAll(async () => {
    lab = new SshTestLab();
    [a, b, c] = await Promise.all([lab.addNode('node-a'), lab.addNode('node-b'), lab.addNode('node-c')]);
    sa = await open(a);
  });

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    lab?.cleanup();
  });

  describe('exec', () => {
    it('returns stdout, stderr and the exit code, and quotes the command', async () => {
      const r = await sa.exec(`echo "it's here"; echo oops >&2; exit 3`);
      expect(r).toEqual({ stdout: "it's here\n", stderr: 'oops\n', exitCode: 3 });
    });

    it('runs on the node (its own address) and feeds stdin', async () => {
      const r = await sa.exec('ip -4 -o addr show dev eth0; cat', { input: 'from stdin' });
      expect(r.stdout).toContain(`inet ${a.nodeIp}`);
      expect(r.stdout.endsWith('from stdin')).toBe(true);
    });

    it('rejects with the output when check is set and the command fails', async () => {
      const err = await sa.exec('echo bad thing >&2; exit 7', { check: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshCommandError);
      expect((err as SshCommandError).exitCode).toBe(7);
      expect((err as Error).message).toMatch(/node-a exited with 7[\s\S]*bad thing/);
    });

    it('reports a command killed by a signal as 128 + signal', async () => {
      const r = await sa.exec('kill -TERM $$');
      expect(r.exitCode).toBe(143);
    });

    it.skipIf(!hasSudo)('runs through sudo when asked', async () => {
      const r = await sa.exec('echo "$SUDO_USER:$(id -u)"', { sudo: true, check: true });
      expect(r.stdout.trim()).toBe('root:0');
    });

    it('streams output chunks before the command exits', async () => {
      // The command goes on only once we have seen its first line: it waits for a file that onStdout
      // creates. Output held back until the exit would leave it waiting, and it gives up with exit 9.
      // (Sequence, not clock readings: no sleep to beat.)
      const flag = join(lab.dir, `streamed-${process.pid}`);
      const seen: string[] = [];
      const errs: string[] = [];
      const r = await sa.exec(
        `echo first; i=0; while [ ! -e ${flag} ]; do i=$((i+1)); [ $i -gt 300 ] && exit 9; sleep 0.05; done; echo second; echo e1 >&2`,
        {
          onStdout: (text) => {
            seen.push(text);
            if (text.includes('first')) writeFileSync(flag, '');
          },
          onStderr: (text) => errs.push(text),
        },
      );
      expect(r.exitCode).toBe(0);
      expect(seen.join('')).toBe('first\nsecond\n');
      expect(seen[0]).toBe('first\n');
      expect(errs.join('')).toBe('e1\n');
      expect(r.stdout).toBe('first\nsecond\n');
    });

    it('kills a command that runs past its timeout, and the remote process is gone', async () => {
      const marker = `sleep 30.${Date.now() % 100000}`;
      const pending = sa.exec(`${marker}; echo never`, { timeoutMs: 1_000 });
      await waitUntil('the remote sleep to start', () => remoteProcessAlive(marker), 2_000);
      // The timeout's own error: the command (30 s) did not end by itself, and the test's timeout bounds it.
      const err = await pending.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshTimeoutError);
      expect((err as Error).message).toContain('node-a');
      await waitUntil(`remote "${marker}" to be killed`, () => !remoteProcessAlive(marker), 6_000);
      // the session is still usable afterwards
      expect((await sa.exec('echo ok')).stdout).toBe('ok\n');
    });

    it('kills the command when the caller aborts', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 500);
      // Aborted, not timed out: the abort ended it before its 5 s limit.
      const err = await sa.exec('sleep 30', { timeoutMs: 5_000, signal: ac.signal }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshAbortedError);
      expect((err as Error).message).toBe('command "sleep 30" on node-a was interrupted');
      await expect(sa.exec('true', { signal: ac.signal })).rejects.toBeInstanceOf(SshAbortedError);
    });

    it('queues more commands than the server allows channels at once', async () => {
      const results = await Promise.all(Array.from({ length: 14 }, (_, i) => sa.exec(`echo ${i}`)));
      expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 14 }, (_, i) => String(i)));
    });
  });

  describe('connect', () => {
    it('fails with a clear error after bounded retries when nothing listens', async () => {
      const down = await lab.addNode('node-down', { sshd: false });
      const retries: number[] = [];
      const err = await connectSsh(down.target, { deadlineMs: 2_000, onRetry: (i) => retries.push(i.attempt) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshConnectError);
      const e = err as SshConnectError;
      expect(e.message).toContain(`node-down (root@${down.nodeIp}:22)`);
      expect(e.message).toContain('ECONNREFUSED');
      expect(e.retryable).toBe(true);
      expect(e.attempts).toBeGreaterThan(2);
      expect(e.hint).toMatch(/k8slab status/);
      expect(retries.length).toBe(e.attempts - 1);
    });

    it('stops retrying at once when the caller aborts', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 700);
      // Aborted, not given up: the abort ended it before its 20 s deadline.
      const err = await connectSsh({ ...a.target, port: 2 }, { deadlineMs: 20_000, signal: ac.signal }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshAbortedError);
      expect((err as Error).message).toBe('connecting on node-a was interrupted');
    });

    it('gives up on a silent node (packets go nowhere) within its deadline', async () => {
      const silent = await lab.addNode('node-silent');
      execFileSync('ip', ['-n', silent.ns, 'link', 'set', 'eth0', 'down']);
      const err = await connectSsh(silent.target, { deadlineMs: 1_500, attemptTimeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshConnectError);
      expect((err as SshConnectError).retryable).toBe(true);
      expect((err as Error).message).toMatch(/node-silent .*(Timed out|ETIMEDOUT|EHOSTUNREACH)/);
    });

    it('retries until a late node starts sshd', async () => {
      const late = await lab.addNode('node-late', { sshd: false });
      const starting = new Promise<void>((resolve, reject) => {
        setTimeout(() => late.startSshd().then(() => resolve(), reject), 3_000);
      });
      const retries: string[] = [];
      const s = await connectSsh(late.target, { deadlineMs: 20_000, onRetry: (i) => retries.push(i.error) });
      sessions.push(s);
      await starting;
      // refused while sshd was not there yet, then connected
      expect(retries.length).toBeGreaterThan(0);
      expect(retries[0]).toContain('ECONNREFUSED');
      expect((await s.exec('echo up')).stdout).toBe('up\n');
    });

    it('does not retry a refused key', async () => {
      const err = await connectSsh({ ...b.target, privateKeyPath: lab.keys.strangerKey }, { deadlineMs: 10_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshConnectError);
      expect((err as SshConnectError).attempts).toBe(1);
      expect((err as SshConnectError).retryable).toBe(false);
      expect((err as SshConnectError).hint).toMatch(/refused the key/);
    });

    it('names a missing key file without trying to connect', async () => {
      const err = await connectSsh({ ...b.target, privateKeyPath: join(lab.dir, 'nope') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshConnectError);
      expect((err as Error).message).toContain(join(lab.dir, 'nope'));
      expect((err as SshConnectError).attempts).toBe(0);
    });
  });

  describe('a node that goes away', () => {
    it('fails the running command and later calls with a closed-connection error', async () => {
      const gone = await lab.addNode('node-gone');
      const s = await open(gone);
      const marker = `sleep 20.${process.pid}`;
      const running = s.exec(marker, { timeoutMs: 30_000 });
      await waitUntil('the remote sleep to start', () => remoteProcessAlive(marker), 5_000);
      killNsProcesses(gone.ns); // sshd and its session die, as in a VM crash
      // closed, not finished and not timed out: the node went away under the running command
      const err = await running.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshClosedError);
      expect((err as Error).message).toMatch(new RegExp(`node-gone closed before the command finished: ${marker.replace('.', '\\.')}`));
      await waitUntil('the session to notice', () => !s.isOpen, 2_000);
      await expect(s.exec('true')).rejects.toBeInstanceOf(SshClosedError);
    });
  });

  describe('sftp', () => {
    it('reads a remote file', async () => {
      const remote = join(lab.dir, 'admin.conf');
      writeFileSync(remote, 'apiVersion: v1\nkind: Config\n');
      expect((await sa.readFile(remote)).toString()).toBe('apiVersion: v1\nkind: Config\n');
    });

    it('names the node and path of a missing file', async () => {
      const err = await sa.readFile('/nonexistent/k8slab/admin.conf').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshFileError);
      expect((err as SshFileError).sftpCode).toBe(2);
      expect((err as Error).message).toBe('read /nonexistent/k8slab/admin.conf on node-a failed: no such file');
    });

    it('writes a file with its mode, and an existing file gets the new mode', async () => {
      mkdirSync(join(lab.dir, 'dest'), { recursive: true });
      const one = join(lab.dir, 'dest', 'secret.txt');
      await sa.writeFile(one, 'first\n', 0o600);
      expect(statSync(one).mode & 0o777).toBe(0o600);
      await sa.writeFile(one, 'overwritten\n', 0o640);
      expect(readFileSync(one, 'utf8')).toBe('overwritten\n');
      expect(statSync(one).mode & 0o777).toBe(0o640);
    });
  });

  describe('several nodes', () => {
    it('runs on three nodes at once, and one failed node does not hide the others', async () => {
      const [sb, sc] = await Promise.all([open(b), open(c)]);
      // A barrier, by sequence and not by clock: each command marks that it started, then waits (bounded)
      // until all three have. Run one after another, the first would give up and exit 9.
      const gate = join(lab.dir, `gate-${process.pid}`);
      mkdirSync(gate);
      const command = (name: string) =>
        `touch ${gate}/${name}; i=0; while [ $(ls ${gate} | wc -l) -lt 3 ]; do i=$((i+1)); [ $i -gt 200 ] && exit 9; sleep 0.05; done; ip -4 -o addr show dev eth0 | grep -o "inet [0-9.]*"`;
      const nodes = [sa, sb, sc].map((s) => sshNode(s));
      const results = await Promise.all(nodes.map((n) => n.run(command(n.name))));
      expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
      expect(results.map((r) => r.stdout.trim())).toEqual([`inet ${a.nodeIp}`, `inet ${b.nodeIp}`, `inet ${c.nodeIp}`]);

      const dead = await connectSsh(c.target, { deadlineMs: 5_000 });
      await dead.close();
      const mixed = await Promise.allSettled([sa, dead, sb].map((s) => sshNode(s).run('echo fine')));
      expect(mixed.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(mixed[1]!.status === 'rejected' && mixed[1]!.reason).toBeInstanceOf(SshClosedError);
    });
  });

  describe('the Node over SSH', () => {
    it('runs sh -c with stdin, sudo, line callbacks, exit codes and timeouts, and puts files', async () => {
      const node = sshNode(sa);
      expect(node.name).toBe('node-a');
      expect(await node.run('tr a-z A-Z; exit 4', { input: 'kube' })).toEqual({ stdout: 'KUBE', stderr: '', exitCode: 4 });
      const lines: string[] = [];
      await node.run('printf "one\\ntwo\\npartial"; echo err >&2', { onLine: (l, stream) => lines.push(`${stream}:${l}`) });
      expect(lines.sort()).toEqual(['stderr:err', 'stdout:one', 'stdout:partial', 'stdout:two']);
      if (hasSudo) expect((await node.run('id -u', { sudo: true })).stdout).toBe('0\n');
      await expect(node.run('sleep 5', { timeoutMs: 300 })).rejects.toBeInstanceOf(SshTimeoutError);
      const file = join(lab.dir, 'put.sh');
      await node.put('echo put\n', file, 0o700);
      expect(statSync(file).mode & 0o777).toBe(0o700);
      expect((await node.run(`sh ${file}`)).stdout).toBe('put\n');
    });
  });

  describe('dispose', () => {
    it('close() releases every socket', async () => {
      const before = tcpHandles();
      const s = await connectSsh(b.target, { deadlineMs: 5_000 });
      await s.exec('true');
      await s.readFile('/etc/hostname');
      expect(tcpHandles()).toBeGreaterThan(before);
      await s.close();
      await s.close(); // twice is fine
      await waitUntil('sockets to be released', () => tcpHandles() === before, 2_000);
      await expect(s.exec('true')).rejects.toBeInstanceOf(SshClosedError);
      await expect(s.readFile('/etc/hostname')).rejects.toBeInstanceOf(SshClosedError);
    });
  });
});

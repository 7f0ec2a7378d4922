// Pure parts of the SSH layer: which connect failures are retried, the backoff, quoting and the
// remote command line. No network needed.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { remoteCommandLine } from '../../src/nodes/exec.js';
import { createLimiter } from '../../src/nodes/limit.js';
import { backoffMs, classifyConnectError, connectHint, describeConnectError } from '../../src/nodes/retry.js';
import { shQuote } from '../../src/util/shell.js';

const withProps = (message: string, props: Record<string, unknown>): Error => Object.assign(new Error(message), props);

describe('connect retry policy', () => {
  it.each([
    ['ECONNREFUSED', { code: 'ECONNREFUSED', level: 'client-socket' }],
    ['ETIMEDOUT', { code: 'ETIMEDOUT', level: 'client-socket' }],
    ['EHOSTUNREACH', { code: 'EHOSTUNREACH', level: 'client-socket' }],
    ['ready timeout', { level: 'client-timeout' }],
    ['handshake failure', { level: 'handshake' }],
  ])('retries %s', (_, props) => {
    expect(classifyConnectError(withProps('x', props))).toBe('retry');
  });

  it('does not retry an authentication failure or an unknown error', () => {
    expect(classifyConnectError(withProps('All configured authentication methods failed', { level: 'client-authentication' }))).toBe('fatal');
    expect(classifyConnectError(new Error('Cannot parse privateKey'))).toBe('fatal');
    expect(classifyConnectError(undefined)).toBe('fatal');
  });

  it('backs off from 250 ms, doubling, capped, never past the deadline', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 60_000))).toEqual([250, 500, 1000, 2000, 2000, 2000]);
    expect(backoffMs(4, 300)).toBe(300);
    expect(backoffMs(1, -5)).toBe(0);
  });

  it('gives a hint that fits the failure', () => {
    expect(connectHint(withProps('x', { level: 'client-authentication' }), 'fatal')).toMatch(/refused the key/);
    expect(connectHint(withProps('x', { code: 'ECONNREFUSED' }), 'retry')).toMatch(/nothing listens/);
    expect(connectHint(withProps('x', { level: 'client-timeout' }), 'retry')).toMatch(/did not answer in time/);
  });

  it('puts the error code in front of messages that lack it', () => {
    expect(describeConnectError(withProps('socket hang up', { code: 'ECONNRESET' }))).toBe('ECONNRESET: socket hang up');
    expect(describeConnectError(withProps('connect ECONNREFUSED 1.2.3.4:22', { code: 'ECONNREFUSED' }))).toBe('connect ECONNREFUSED 1.2.3.4:22');
  });
});

describe('shQuote', () => {
  it.each(["it's", 'a b', '$(id)', '`x`', '"q"', '', 'tab\there', 'new\nline', "''", 'back\\slash'])('round-trips %j through sh', (s) => {
    expect(execFileSync('sh', ['-c', `printf %s ${shQuote(s)}`], { encoding: 'utf8' })).toBe(s);
  });

  it('leaves plain words alone', () => {
    expect(shQuote('/etc/kubernetes/admin.conf')).toBe('/etc/kubernetes/admin.conf');
  });
});

describe('remoteCommandLine', () => {
  it('runs the command under a kill-on-deadline backstop a little after our own timeout', () => {
    expect(remoteCommandLine("echo 'hi'", { timeoutMs: 1_000 })).toBe(`timeout -s KILL 3 sh -c "echo 'hi'"`);
    expect(remoteCommandLine('id', { timeoutMs: 1_500, sudo: true })).toBe('sudo -n -- timeout -s KILL 4 sh -c id');
  });

  it('the line really runs the command in sh', () => {
    const line = remoteCommandLine('echo "$0:$((1+2))"; exit 5', { timeoutMs: 5_000 });
    let out = '';
    let code = 0;
    try {
      out = execFileSync('bash', ['-c', line], { encoding: 'utf8' });
    } catch (err) {
      const e = err as { status: number; stdout: string };
      code = e.status;
      out = e.stdout;
    }
    expect(out).toBe('sh:3\n');
    expect(code).toBe(5);
  });
});

describe('createLimiter', () => {
  it('never runs more than n tasks at once and keeps their results', async () => {
    const gate = createLimiter(2);
    let active = 0;
    let peak = 0;
    const results = await Promise.all(
      [30, 10, 20, 5, 15].map((ms, i) =>
        gate(async () => {
          peak = Math.max(peak, ++active);
          await new Promise((r) => setTimeout(r, ms));
          active--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(results).toEqual([0, 1, 2, 3, 4]);
  });

  it('frees the slot when a task fails', async () => {
    const gate = createLimiter(1);
    await expect(gate(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate(async () => 'next')).resolves.toBe('next');
  });

  it('rejects a bad limit', () => {
    expect(() => createLimiter(0)).toThrow(/positive integer/);
  });
});

// Real OpenSSH daemons for the tests: generated host and client keys, one generated sshd_config per
// node, `sshd -D -e` started inside the node's namespace. No systemd involved.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface SshKeys {
  hostKey: string;
  clientKey: string;
  /** a key the daemons do not accept, for the auth-failure case */
  strangerKey: string;
  authorizedKeys: string;
}

function keygen(path: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'k8slab-test', '-f', path], { stdio: 'ignore' });
}

export function makeKeys(dir: string): SshKeys {
  const keys: SshKeys = {
    hostKey: join(dir, 'host_ed25519'),
    clientKey: join(dir, 'client_ed25519'),
    strangerKey: join(dir, 'stranger_ed25519'),
    authorizedKeys: join(dir, 'authorized_keys'),
  };
  keygen(keys.hostKey);
  keygen(keys.clientKey);
  keygen(keys.strangerKey);
  execFileSync('cp', [`${keys.clientKey}.pub`, keys.authorizedKeys]);
  return keys;
}

export interface SshdOptions {
  /** flags for internal-sftp, e.g. "-P open" to make SFTP refuse reads */
  sftpFlags?: string;
}

export function writeSshdConfig(dir: string, name: string, listen: string, keys: SshKeys, opts: SshdOptions = {}): string {
  const path = join(dir, `sshd_config.${name}`);
  const lines = [
    `ListenAddress ${listen}:22`,
    `HostKey ${keys.hostKey}`,
    `PidFile ${join(dir, `sshd.${name}.pid`)}`,
    `AuthorizedKeysFile ${keys.authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    // the keys live under /tmp, whose sticky world-writable mode StrictModes rejects
    'StrictModes no',
    'AllowTcpForwarding yes',
    `Subsystem sftp internal-sftp${opts.sftpFlags ? ` ${opts.sftpFlags}` : ''}`,
    'LogLevel VERBOSE',
  ];
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export interface RunningSshd {
  child: ChildProcess;
  log: () => string;
  stop(): void;
}

/** Starts sshd in the namespace and resolves once it listens ("Server listening on ..."). */
export function startSshd(ns: string, configPath: string, timeoutMs = 10_000): Promise<RunningSshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  execFileSync(SSHD, ['-t', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const child = spawn('ip', ['netns', 'exec', ns, SSHD, '-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    log += d;
  });
  const handle: RunningSshd = {
    child,
    log: () => log,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      handle.stop();
      reject(new Error(`sshd in ${ns} did not start within ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
    const onData = (): void => {
      if (log.includes('Server listening on')) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve(handle);
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd in ${ns} exited with ${code}:\n${log}`));
    });
  });
}

// Which connection failures mean "the node is still booting, try again" and which mean "retrying
// will not help". Pure, so the policy is unit-tested without a network.

export type ConnectFailureKind = 'retry' | 'fatal';

const RETRY_CODES = new Set([
  'ECONNREFUSED', // sshd not listening yet
  'ETIMEDOUT',
  'EHOSTUNREACH', // the VM's interface is not up yet
  'ENETUNREACH',
  'ECONNRESET', // sshd restarting (cloud-init, host key regeneration)
  'EPIPE',
  'ECONNABORTED',
  'EAI_AGAIN',
]);

/** Classifies an error emitted by ssh2's Client before 'ready'. */
export function classifyConnectError(err: unknown): ConnectFailureKind {
  const e = err as { code?: unknown; level?: unknown } | undefined;
  if (e?.level === 'client-authentication') return 'fatal';
  if (typeof e?.code === 'string' && RETRY_CODES.has(e.code)) return 'retry';
  // handshake/protocol errors and the ready timeout happen while sshd is starting up
  if (e?.level === 'client-timeout' || e?.level === 'handshake' || e?.level === 'protocol') return 'retry';
  if (e?.level === 'client-socket') return 'retry';
  return 'fatal';
}

/** Delay before attempt n+1 (n >= 1): 250 ms doubling, capped, never past the deadline. */
export function backoffMs(attempt: number, remainingMs: number, capMs = 2_000): number {
  const d = Math.min(capMs, 250 * 2 ** Math.max(0, attempt - 1));
  return Math.max(0, Math.min(d, remainingMs));
}

/** What to tell the user for the last failure seen. */
export function connectHint(err: unknown, kind: ConnectFailureKind): string {
  const e = err as { code?: unknown; level?: unknown } | undefined;
  if (e?.level === 'client-authentication') {
    return 'the node refused the key: check the user and IdentityFile in `vagrant ssh-config`, or run `vagrant ssh NODE` to compare';
  }
  if (e?.code === 'ECONNREFUSED') {
    return 'nothing listens on that port: is the VM running (`k8slab status`)? If it just booted, sshd may still be starting';
  }
  if (kind === 'retry') {
    return 'the node did not answer in time: check that the VM is running (`k8slab status`), then try `vagrant ssh NODE` in the lab folder';
  }
  return 'check the address and key from `vagrant ssh-config`';
}

/** "ECONNREFUSED: connect ECONNREFUSED 10.0.0.1:22" style reason for messages. */
export function describeConnectError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

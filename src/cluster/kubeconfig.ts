// The host's kubeconfig for the lab: admin.conf from the control plane with the server the host can
// actually reach: the control plane's private IP when routable from here, else a local SSH tunnel.
import { connect } from 'node:net';
import { parseDocument } from 'yaml';
import type { Plan } from '../plan/plan.js';

/**
 * Points every cluster of a kubeconfig at `server`. For a tunnel (127.0.0.1) the API server's certificate
 * does not name the local address, so TLS checks the name "kubernetes" it always carries instead.
 */
export function rewriteKubeconfig(text: string, server: string, tlsServerName?: string): string {
  const doc = parseDocument(text);
  const clusters = doc.get('clusters') as { items?: unknown[] } | undefined;
  if (!clusters?.items || clusters.items.length === 0) throw new Error('admin.conf has no clusters');
  clusters.items.forEach((_, i) => {
    doc.setIn(['clusters', i, 'cluster', 'server'], server);
    if (tlsServerName) doc.setIn(['clusters', i, 'cluster', 'tls-server-name'], tlsServerName);
  });
  return doc.toString();
}

export function serverOf(text: string): string | undefined {
  const v = parseDocument(text).getIn(['clusters', 0, 'cluster', 'server']);
  return typeof v === 'string' ? v : undefined;
}

/** Whether a TCP connection to host:port opens within the timeout. */
export function canReach(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * The addresses the host may try for the API server, best first: the control plane's private address,
 * then those its certificate also names (a machine's SSH address, e.g. a cloud VM's public IP). Any of
 * them works without a tunnel and without tls-server-name.
 */
export function apiServerAddresses(plan: Pick<Plan, 'controlPlane' | 'kubernetes'>): string[] {
  return [plan.controlPlane.ip, ...plan.kubernetes.certSans];
}

// Local port forward (like `ssh -L 127.0.0.1:PORT:HOST:PORT`): a TCP listener on loopback whose every
// connection is tunnelled to remoteHost:remotePort as seen from the node.
import { createServer, type Server, type Socket } from 'node:net';
import type { Client, ClientChannel } from 'ssh2';

export interface LocalForward {
  /** the port actually bound on 127.0.0.1 (useful with port 0) */
  readonly port: number;
  readonly remoteHost: string;
  readonly remotePort: number;
  /** stops listening and ends the open tunnels */
  close(): Promise<void>;
}

export interface ForwardOptions {
  /** local port; 0 (default) picks a free one */
  localPort?: number;
  /** called when one tunnelled connection fails (the listener stays up) */
  onError?: (err: Error) => void;
}

export async function forwardLocal(client: Client, node: string, remoteHost: string, remotePort: number, opts: ForwardOptions = {}): Promise<LocalForward> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.pause(); // hold the client's first bytes until the tunnel is open
    const failed = (err: Error): void => {
      opts.onError?.(new Error(`forward to ${remoteHost}:${remotePort} through ${node} failed: ${err.message}`));
      sock.destroy();
    };
    const onStream = (err: Error | undefined, stream: ClientChannel): void => {
      if (err) {
        failed(err);
        return;
      }
      stream.on('error', () => sock.destroy());
      sock.on('close', () => stream.destroy());
      stream.on('close', () => sock.destroy());
      sock.pipe(stream).pipe(sock);
      sock.resume();
    };
    try {
      client.forwardOut('127.0.0.1', sock.remotePort ?? 0, remoteHost, remotePort, onStream);
    } catch (err) {
      failed(err as Error); // the connection is already gone
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on 127.0.0.1:${opts.localPort ?? 0} for the forward to ${node}: ${e.message}`)));
    server.listen(opts.localPort ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let closed: Promise<void> | undefined;
  return {
    port,
    remoteHost,
    remotePort,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}

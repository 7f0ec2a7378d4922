// ctx.httpGet, the host-side GET of the NodePort/LoadBalancer checks, against a real HTTP server on loopback.
// Each request must come on a connection of its own: kube-proxy balances a Service per connection, so a
// kept-alive connection would send every request to one pod and "answers from more than one pod" could not pass.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../lesson-context.js';

let server: Server;
let base: string;
const clientPorts: number[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    clientPorts.push(req.socket.remotePort!);
    res.end('web-a\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ctx.httpGet from the host', () => {
  it('opens a new connection for every request, as the curl in its transcript would', async () => {
    const c = testContext();
    clientPorts.length = 0;
    for (let i = 0; i < 6; i++) expect((await c.httpGet(`${base}/hostname`)).body).toBe('web-a\n');
    expect(new Set(clientPorts).size).toBe(6);
    expect(c.transcript.map((t) => t.command)).toEqual(Array(6).fill(`curl -sS -m 5 ${base}/hostname`));
  });
});

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP listener that hostile tokens point at (`jku`, `x5u`): it serves the attacker's
 * key set and certificate, so a verifier that followed the header would be fooled, and it
 * counts every connection, so the test can prove nobody came.
 */
export interface Trap {
  url: string;
  /** TCP connections accepted so far (a connection that sent nothing counts too). */
  connections: number;
  /** The request lines received so far. */
  requests: string[];
  close(): Promise<void>;
}

export async function startTrap(files: { jwks: object; certificate: string }): Promise<Trap> {
  const server = createServer((request, response) => {
    trap.requests.push(`${request.method} ${request.url}`);
    if (request.url?.endsWith('.pem')) response.writeHead(200, { 'content-type': 'application/pem-certificate-chain' }).end(files.certificate);
    else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(files.jwks));
  });
  server.on('connection', () => {
    trap.connections++;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const trap: Trap = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: 0,
    requests: [],
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return trap;
}

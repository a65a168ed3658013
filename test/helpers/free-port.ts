import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';

/** A port free at the moment of asking (for a server whose origin must be known in advance). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
  });
}

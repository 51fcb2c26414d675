import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts `server` listening (on loopback unless told otherwise) and resolves to its port. */
export const listen = (server: Server, port = 0, host = '127.0.0.1'): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

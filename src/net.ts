import { createServer } from 'node:net';

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A loopback port nobody uses right now, chosen by the kernel and released at once. Ports picked
 * at random collide with the kernel's own outgoing connections; asking it does not.
 */
export function freePort(): Promise<number> {
  return listenOnce(0);
}

/** Whether `port` can be bound on 127.0.0.1, with the same address-reuse rules PostgreSQL uses. */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return false;
    throw error;
  }
}

import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, isPortFree } from '../../src/net.js';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('free ports', () => {
  it('hands out a port that can then be listened on, and sees it busy while it is', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await isPortFree(port)).toBe(true);
    const server = await listen(port);
    try {
      expect(await isPortFree(port)).toBe(false);
    } finally {
      await close(server);
    }
    expect(await isPortFree(port)).toBe(true);
  });
});

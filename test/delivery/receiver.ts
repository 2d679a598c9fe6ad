import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What the receiver answers one request with; `hang` never answers. */
export type Answer =
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | { hang: true };

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

/**
 * A buyer's endpoint on 127.0.0.1: records every request, answers with `answer(n)` for the
 * n-th request (0-based).
 */
export async function startReceiver(
  answer: (index: number, request: Received) => Answer = () => ({ status: 200, body: 'ok' }),
  port = 0,
): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry: Received = {
        at: Date.now(),
        method: request.method ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const reply = answer(received.length, entry);
      received.push(entry);
      if ('hang' in reply) return;
      setTimeout(() => {
        response.writeHead(reply.status, reply.headers ?? {});
        response.end(reply.body ?? '');
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/leads`,
    port: bound,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Test settings: retries in tens of ms instead of seconds. */
export const FAST_DELIVERY: Record<string, string> = {
  DELIVERY_RETRY_BASE_MS: '50',
  DELIVERY_RETRY_MAX_MS: '200',
  DELIVERY_POLL_MS: '50',
  DELIVERY_PROBE_MS: '300',
};

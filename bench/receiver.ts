/**
 * The buyer the delivery scenario delivers to, in its own process so that receiving never
 * shares an event loop with the bench's clock or load generator. It answers every POST at once
 * with 200 {"accepted":true} (keep-alive) and records each request's arrival and
 * Idempotency-Key (the delivery id). Protocol over IPC:
 *   child → { type: 'listening', port }
 *   parent → { type: 'reset' }                child → { type: 'reset' }
 *   parent → { type: 'count' }                child → { type: 'count', count, lastAt }
 *   parent → { type: 'report' }               child → ReceiverReport
 * Times are `performance.timeOrigin + performance.now()`: wall-clock ms, the clock
 * PostgreSQL's now() reads too.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceiverReport {
  type: 'report';
  count: number;
  /** Requests whose Idempotency-Key arrived before (a re-send). */
  duplicates: number;
  firstAt: number;
  lastAt: number;
  /** [Idempotency-Key, arrival ms] of each first arrival. */
  arrivals: [string, number][];
}

const ANSWER = '{"accepted":true}';
const now = (): number => performance.timeOrigin + performance.now();

let arrivals = new Map<string, number>();
let count = 0;
let duplicates = 0;
let firstAt = Number.NaN;
let lastAt = Number.NaN;

const server = http.createServer((request, response) => {
  // The body is not needed, only its end: the answer goes once the request is whole.
  request.resume();
  request.on('end', () => {
    const at = now();
    count++;
    if (count === 1) firstAt = at;
    lastAt = at;
    const key = request.headers['idempotency-key'];
    if (typeof key === 'string') {
      if (arrivals.has(key)) duplicates++;
      else arrivals.set(key, at);
    }
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': ANSWER.length,
    });
    response.end(ANSWER);
  });
});
// The dispatcher's undici agent keeps connections open between bursts.
server.keepAliveTimeout = 60_000;

process.on('message', (message: { type: string }) => {
  if (message.type === 'reset') {
    arrivals = new Map();
    count = 0;
    duplicates = 0;
    firstAt = Number.NaN;
    lastAt = Number.NaN;
    process.send!({ type: 'reset' });
  } else if (message.type === 'count') {
    process.send!({ type: 'count', count, lastAt });
  } else if (message.type === 'report') {
    const report: ReceiverReport = {
      type: 'report',
      count,
      duplicates,
      firstAt,
      lastAt,
      arrivals: [...arrivals],
    };
    process.send!(report);
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'listening', port: (server.address() as AddressInfo).port });
});

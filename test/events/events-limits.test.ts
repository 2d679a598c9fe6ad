import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { SseClient } from '../helpers/sse.js';

let db: TestDatabase;
let app: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db, { MAX_SSE_CLIENTS: '2' });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on its own connection, read to the end (HEAD, or an answer that is not a stream). */
function request(method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .request(`${app.url}${path}`, { method, agent: false, timeout: 3000 }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          resolve({ status: response.statusCode!, headers: response.headers, body }),
        );
      })
      .on('timeout', () => reject(new Error(`${method} ${path}: no complete answer in 3 s`)))
      .on('error', reject)
      .end();
  });
}

describe('event stream limits', () => {
  it('answers HEAD /api/events with the stream headers and ends at once', async () => {
    const head = await request('HEAD', '/api/events');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(head.body).toBe('');
  });

  it('refuses a stream beyond MAX_SSE_CLIENTS with 503 and Retry-After, until one leaves', async () => {
    const first = await SseClient.connect(`${app.url}/api/events`);
    const second = await SseClient.connect(`${app.url}/api/events`);
    try {
      const refused = await request('GET', '/api/events');
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toEqual({ ok: false, error: 'unavailable' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

      await first.close();
      // The server counts the stream gone when it sees the socket close, a moment later.
      let third: SseClient | undefined;
      for (let attempt = 0; third === undefined && attempt < 40; attempt++) {
        third = await SseClient.connect(`${app.url}/api/events`).catch(() => undefined);
        if (third === undefined) await sleep(50);
      }
      expect(third).toBeDefined();
      await third!.close();
    } finally {
      await first.close();
      await second.close();
    }
  });
});

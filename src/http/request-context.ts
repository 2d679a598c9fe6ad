import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';

declare module 'fastify' {
  interface FastifyRequest {
    /** What happened, for the one log line per request (e.g. `created`, `duplicate`). */
    outcome?: string;
    leadId?: string;
  }
}

// A sender's request id is echoed into logs and headers, so only a tame one is kept.
const ACCEPTABLE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

export function generateRequestId(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  if (typeof header === 'string' && ACCEPTABLE_REQUEST_ID.test(header)) return header;
  return randomUUID();
}

/** X-Request-Id on every response, and one log line per request with its outcome. */
export function registerRequestContext(app: FastifyInstance): void {
  // Callback hooks, not async ones, on every request: no promise and microtask per hook.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const idempotencyKey = request.headers['idempotency-key'];
    request.log.info(
      {
        method: request.method,
        url: request.routeOptions.url ?? request.url.split('?')[0],
        statusCode: reply.statusCode,
        responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
        idempotencyKey:
          typeof idempotencyKey === 'string' ? idempotencyKey.slice(0, 255) : undefined,
        leadId: request.leadId,
        outcome: request.outcome,
      },
      'request completed',
    );
    done();
  });
}

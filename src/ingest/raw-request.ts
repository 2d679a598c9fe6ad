import type { FastifyRequest } from 'fastify';
import type { RawRequest } from './ingest.sql.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent it: the API key's id when INGEST_API_KEYS is set, '' otherwise. */
    sender?: string;
  }
}

// Credentials never reach the database; everything else a sender sent is evidence.
const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'cookie', 'proxy-authorization']);

export function storableHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || SECRET_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Everything raw-first storage keeps about a request, exactly as it arrived. */
export function rawRequestOf(request: FastifyRequest, endpoint: string): RawRequest {
  const key = request.headers['idempotency-key'];
  return {
    endpoint,
    sender: request.sender ?? '',
    idempotencyKey: typeof key === 'string' ? key : null,
    requestId: request.id,
    contentType: request.headers['content-type'] ?? null,
    headers: storableHeaders(request),
    body: request.rawBody ?? Buffer.alloc(0),
    remoteAddr: request.ip ?? null,
  };
}

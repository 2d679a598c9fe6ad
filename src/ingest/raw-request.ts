import type { FastifyRequest } from 'fastify';
import type { RawRequest } from './ingest.sql.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent it: the API key's id when INGEST_API_KEYS is set, '' otherwise. */
    sender?: string;
  }
}

// Credentials never reach the database (SPEC §8): any header whose name looks like one —
// X-Auth-Token, Api-Key, X-Secret, Webhook-Signature — not only the ones Leadflow reads.
// Everything else a sender sent is evidence.
const CREDENTIAL_LIKE = /auth|token|secret|session|cookie|password|signature|key/;

export function isCredentialHeader(name: string): boolean {
  return name !== 'idempotency-key' && CREDENTIAL_LIKE.test(name);
}

export function storableHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || isCredentialHeader(name)) continue;
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

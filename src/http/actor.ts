import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking, as the audit log names them; set by the authentication hook. */
    actor?: string;
  }
}

/** The audit log's actor of a request (contracts/audit.ts lists the forms). */
export function actorOf(request: FastifyRequest): string {
  return request.actor ?? 'anonymous';
}

/** The actor for an operator's session: a prefix of its id, which alone opens nothing. */
export function sessionActor(sessionId: string): string {
  return `session:${sessionId.slice(0, 8)}`;
}

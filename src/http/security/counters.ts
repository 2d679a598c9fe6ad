import type { FastifyInstance } from 'fastify';

export interface SecurityCounters {
  /** Refused for missing or wrong credentials, by the surface that refused them. */
  unauthorized: { ingest: number; admin: number; webhook: number; login: number };
  rateLimited: number;
  /** Answered 503 because the event loop or the database backlog was saturated. */
  shed: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    securityCounters: SecurityCounters;
  }
}

export function createSecurityCounters(app: FastifyInstance): SecurityCounters {
  const counters: SecurityCounters = {
    unauthorized: { ingest: 0, admin: 0, webhook: 0, login: 0 },
    rateLimited: 0,
    shed: 0,
  };
  app.decorate('securityCounters', counters);
  return counters;
}

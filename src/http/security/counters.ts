import type { FastifyInstance } from 'fastify';
import type { SecurityCounters } from '../../contracts/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    securityCounters: SecurityCounters;
  }
}

export function createSecurityCounters(app: FastifyInstance): SecurityCounters {
  const counters: SecurityCounters = {
    unauthorized: { ingest: 0, admin: 0, webhook: 0, login: 0, demoBuyer: 0 },
    rateLimited: 0,
    shed: 0,
  };
  app.decorate('securityCounters', counters);
  return counters;
}

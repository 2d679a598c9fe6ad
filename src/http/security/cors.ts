import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** CORS only for the origins CORS_ORIGINS lists (landing pages posting leads from a browser). */
export async function registerCors(app: FastifyInstance, origins: string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(fastifyCors, {
    origin: origins.includes('*') ? '*' : origins,
    methods: ['GET', 'POST', 'PATCH'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'idempotency-key',
      'x-api-key',
      'x-request-id',
      'last-event-id',
    ],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
}

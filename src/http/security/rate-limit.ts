import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { ApiKeyRing } from '../auth.js';
import { AppError } from '../../errors.js';
import { senderOf } from './authentication.js';
import type { SecurityCounters } from '../../contracts/index.js';

/** Never rate limited: load balancers must see the truth about this instance. */
const HEALTH_ROUTES = new Set(['/health', '/ready']);

/** Requests per minute per sender: its API key when it presents a valid one, else its address. */
export async function registerRateLimit(
  app: FastifyInstance,
  perMinute: number,
  keys: ApiKeyRing,
  counters: SecurityCounters,
): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: perMinute > 0,
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => {
      const sender = senderOf(keys, request);
      return sender === null ? `ip:${request.ip}` : `key:${sender}`;
    },
    allowList: (request) => HEALTH_ROUTES.has(request.routeOptions.url ?? ''),
    onExceeded: (request, key) => {
      counters.rateLimited++;
      request.log.warn({ rateLimitKey: key }, 'rate limit exceeded');
    },
    errorResponseBuilder: (_request, context) =>
      new AppError(
        context.statusCode,
        'rate_limited',
        {},
        { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
      ),
  });
}

import fastifyUnderPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';
import type { Pool } from '../../db/pool.js';
import { Unavailable } from '../errors.js';
import type { SecurityCounters } from './counters.js';

const HEALTH_ROUTES = new Set(['/health', '/ready']);
const SHED_RETRY_AFTER_SECONDS = 5;
// Sampling the database backlog this often costs nothing and reacts within a quarter second.
const BACKLOG_CHECK_INTERVAL_MS = 250;

export interface LoadSheddingOptions {
  config: Pick<Config, 'MAX_EVENT_LOOP_DELAY_MS' | 'SHED_DB_BACKLOG'>;
  pool: Pool;
  /** Leads queued for the next group commit. */
  ingestBacklog: () => number;
  counters: SecurityCounters;
}

/** 503 + Retry-After past either bound: answering now beats answering 500 after a timeout. */
export async function registerLoadShedding(
  app: FastifyInstance,
  { config, pool, ingestBacklog, counters }: LoadSheddingOptions,
): Promise<void> {
  await app.register(fastifyUnderPressure, {
    maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
    sampleInterval: 500,
    healthCheck: async () => pool.waitingCount + ingestBacklog() <= config.SHED_DB_BACKLOG,
    healthCheckInterval: BACKLOG_CHECK_INTERVAL_MS,
    // A rejection reaches the one error handler, so the 503 has the spec's body.
    pressureHandler: async (request, _reply, type) => {
      if (HEALTH_ROUTES.has(request.routeOptions.url ?? '')) return;
      counters.shed++;
      request.outcome = type === 'healthCheck' ? 'shed_database_backlog' : `shed_${type}`;
      throw new Unavailable(SHED_RETRY_AFTER_SECONDS);
    },
  });
}

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { Unavailable } from '../../errors.js';

export interface LoadSheddingOptions {
  maxEventLoopDelayMs: number;
  maxDatabaseBacklog: number;
  /** Requests waiting for a database connection plus leads queued for the next group commit. */
  databaseBacklog(): number;
  /** Mean event-loop delay since the previous call, in ms; tests inject a failing one. */
  eventLoopDelayMs?(): number;
  /** Route URLs never shed: load balancers must see the truth about this instance. */
  exempt: ReadonlySet<string>;
  onShed(): void;
}

const RETRY_AFTER_SECONDS = 5;
// Both probes are read this often: a quarter second to react, nothing per request.
const SAMPLE_INTERVAL_MS = 250;
// monitorEventLoopDelay's timer granularity, subtracted from its mean as under-pressure did.
const RESOLUTION_MS = 10;
// A probe that fails on every sample (EMFILE under a connection flood) logs 1 line in 40.
const PROBE_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * SPEC §8: 503 while the event loop lags or the database backlog is past its bound. A probe
 * that throws counts as "not overloaded" and is logged: shedding or exiting because a
 * measurement failed would turn a broken gauge into an outage.
 */
export function registerLoadShedding(app: FastifyInstance, options: LoadSheddingOptions): void {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const eventLoopDelayMs =
    options.eventLoopDelayMs ??
    (() => {
      // No sample in the window: the loop was blocked throughout.
      const mean = Number.isNaN(histogram.mean) ? Infinity : histogram.mean / 1e6;
      histogram.reset();
      return Math.max(0, mean - RESOLUTION_MS);
    });
  const lastLogged = new Map<string, number>();
  const probe = (name: string, overloaded: () => boolean): boolean => {
    try {
      return overloaded();
    } catch (err) {
      const now = Date.now();
      if (now - (lastLogged.get(name) ?? -Infinity) >= PROBE_ERROR_LOG_INTERVAL_MS) {
        lastLogged.set(name, now);
        app.log.warn({ err, probe: name }, 'load probe failed; treated as not overloaded');
      }
      return false;
    }
  };

  let outcome: string | undefined;
  const sample = (): void => {
    outcome = probe('eventLoopDelay', () => eventLoopDelayMs() > options.maxEventLoopDelayMs)
      ? 'shed_eventLoopDelay'
      : probe('databaseBacklog', () => options.databaseBacklog() > options.maxDatabaseBacklog)
        ? 'shed_database_backlog'
        : undefined;
  };
  histogram.enable();
  const timer = setInterval(sample, SAMPLE_INTERVAL_MS);
  timer.unref();
  app.addHook('onClose', (_instance, done) => {
    clearInterval(timer);
    histogram.disable();
    done();
  });

  app.addHook('onRequest', (request, _reply, done) => {
    if (outcome === undefined || options.exempt.has(request.routeOptions.url ?? '')) return done();
    options.onShed();
    request.outcome = outcome;
    // Through the one error handler, so the 503 has the spec's body and Retry-After.
    done(new Unavailable(RETRY_AFTER_SECONDS));
  });
}

import type { FastifyInstance } from 'fastify';
import { Unavailable } from '../errors.js';

/** Whether this instance is on its way out (SIGTERM received, or the app closing). */
export interface Draining {
  readonly active: boolean;
  begin(): void;
}

// A retrying sender (or nginx, on to the next instance) should come back at once: the other
// instances are serving.
const RETRY_AFTER_SECONDS = 1;

/**
 * SPEC §12: once draining, /ready answers 503 and every new request except the health routes
 * gets 503 + Retry-After before it touches anything, while requests already in flight finish.
 * nginx passes such a 503 on to the next instance (proxy_next_upstream http_503, deploy/), and
 * a load balancer that probes /ready stops routing here before the port closes. Also from
 * preClose on: Fastify's own answer while closing (return503OnClosing) has no Retry-After.
 */
export function registerDraining(app: FastifyInstance, exempt: ReadonlySet<string>): Draining {
  let active = false;
  app.addHook('preClose', async () => {
    active = true;
  });
  app.addHook('onRequest', (request, _reply, done) => {
    if (!active || exempt.has(request.routeOptions.url ?? '')) return done();
    request.outcome = 'draining';
    done(new Unavailable(RETRY_AFTER_SECONDS));
  });
  return {
    get active() {
      return active;
    },
    begin: () => {
      active = true;
    },
  };
}

import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { errorBody } from '../../contracts/index.js';

/**
 * Who may call a route, declared on the route as `config: { access }`:
 * - `open`: anyone (health, login, the dashboard's static files);
 * - `ingest`: senders, with an API key when INGEST_API_KEYS is set;
 * - `signed`: the route checks its own signature (the Standard Webhooks reset webhook);
 * - `admin`: operators, with ADMIN_TOKEN or its session cookie when ADMIN_TOKEN is set.
 */
export type Access = 'open' | 'ingest' | 'signed' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

/** What a route declared; 404s (no route) reveal nothing, so they are open. */
export function accessOf(request: FastifyRequest): Access {
  return request.routeOptions.config?.access ?? 'open';
}

/**
 * Makes the declaration mandatory for Leadflow's own API: a route under /api/ without one
 * fails at start instead of being silently open or closed. Routes that plugins add get theirs
 * here: the API documentation is an operator's, the dashboard's files are public code (the
 * data behind them is not).
 */
export function requireAccessDeclarations(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const config = (route.config ??= {}) as { access?: Access };
    documentRefusals(route);
    if (config.access !== undefined) return;
    const url = route.url;
    if (url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/')) {
      config.access = 'admin';
    } else if (url.startsWith('/api/') || url === '/api') {
      throw new Error(`route ${route.method} ${url} declares no config.access`);
    } else {
      config.access = 'open';
    }
  });
}

/**
 * The refusals the security plugins can answer before a handler runs, added to every route's
 * documented answers (an OpenAPI client must know them): 401 (credentials), 403 (Host,
 * Origin), 413/415 (body), 429 (rate limit, byte budget), 503 (load shedding). Health checks
 * are never refused by them.
 */
function documentRefusals(route: RouteOptions): void {
  const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response;
  if (response === undefined || route.url === '/health' || route.url === '/ready') return;
  for (const status of [401, 403, 413, 415, 429, 503]) response[status] ??= errorBody;
}

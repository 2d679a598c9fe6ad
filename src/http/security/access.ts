import type { FastifyInstance, FastifyRequest } from 'fastify';

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

import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';

const LOOPBACK_HOSTNAME = /^(localhost|[\w-]+\.localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/**
 * SPEC §8: with no ADMIN_TOKEN (the open loopback default) anything that reaches the port can
 * read and change everything, so the port must not be reachable through a name an attacker
 * controls. DNS rebinding points such a name at 127.0.0.1 and the browser then sends
 * `Host: attacker.example`; only loopback names and ALLOWED_HOSTS are answered. Health checks
 * stay open to whatever name a load balancer uses.
 */
function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.split(':', 1)[0]!;
}

export function registerHostCheck(app: FastifyInstance, allowedHosts: string[]): void {
  const allowed = new Set(allowedHosts.map((host) => host.toLowerCase()));
  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.routeOptions.url;
    if (url === '/health' || url === '/ready') return done();
    // The Host header itself, not Fastify's hostname: behind TRUST_PROXY that would be
    // X-Forwarded-Host, which a rebinding page can set on its own same-origin requests.
    const hostname = hostnameOf(request.headers.host ?? '').toLowerCase();
    if (LOOPBACK_HOSTNAME.test(hostname) || allowed.has(hostname)) return done();
    request.outcome = 'invalid_host';
    done(new AppError(403, 'invalid_host'));
  });
}

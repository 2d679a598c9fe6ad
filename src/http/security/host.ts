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
export function registerHostCheck(app: FastifyInstance, allowedHosts: string[]): void {
  const allowed = new Set(allowedHosts.map((host) => host.toLowerCase()));
  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.routeOptions.url;
    if (url === '/health' || url === '/ready') return done();
    const hostname = request.hostname.toLowerCase();
    if (LOOPBACK_HOSTNAME.test(hostname) || allowed.has(hostname)) return done();
    request.outcome = 'invalid_host';
    done(new AppError(403, 'invalid_host'));
  });
}

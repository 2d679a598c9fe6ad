import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, UnsupportedMediaType } from '../../errors.js';
import { accessOf } from './access.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['content-type'] !== undefined ||
    request.headers['transfer-encoding'] !== undefined ||
    (length !== undefined && length !== '0')
  );
}

function isJson(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return type !== undefined && type.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * SPEC §8: browsers cannot be used against Leadflow.
 * - Admin, config and webhook writes take only `application/json`. A page on any site can
 *   submit a form (urlencoded, multipart, text/plain) without asking; a JSON body needs a CORS
 *   preflight, which no origin but CORS_ORIGINS passes. This is what stopped an auto-submitted
 *   form from resetting every quota.
 * - A write that names a foreign `Origin` is refused: the bodyless requests a page can still
 *   send (sendBeacon, a no-cors fetch) carry one.
 * Ingestion stays open to cross-origin senders (landing pages post leads, CORS_ORIGINS). A
 * write the session cookie authenticates needs the server's own Origin: authentication.ts,
 * where the cookie is known to be the credential.
 */
export function registerBrowserWriteChecks(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (SAFE_METHODS.has(request.method)) return done();
    const access = accessOf(request);
    const origin = request.headers.origin;
    const own = `${request.protocol}://${request.host}`;
    const foreign = origin !== undefined && origin !== own;
    if (access !== 'ingest') {
      if (hasBody(request) && !isJson(request)) {
        request.outcome = 'not_json';
        return done(new UnsupportedMediaType());
      }
      // CORS_ORIGINS opens ingestion to other sites, never configuration.
      if (foreign) return done(forbiddenOrigin(request));
    }
    done();
  });
}

function forbiddenOrigin(request: FastifyRequest): AppError {
  request.outcome = 'forbidden_origin';
  return new AppError(403, 'forbidden_origin');
}

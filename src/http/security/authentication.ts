import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ADMIN_SENDER,
  type AdminSessions,
  type ApiKeyRing,
  SESSION_COOKIE,
  apiKeyId,
  bearerToken,
  presentedApiKey,
} from '../auth.js';
import { AppError } from '../../errors.js';
import { accessOf } from './access.js';
import type { SecurityCounters } from './counters.js';

export interface Credentials {
  keys: ApiKeyRing;
  sessions: AdminSessions | undefined;
  /** The dashboard's test tools may ingest with an operator's session. */
  testTools: boolean;
}

const unauthorized = (): AppError =>
  new AppError(401, 'unauthorized', {}, { 'www-authenticate': 'Bearer realm="leadflow"' });

/** The session cookie a request carries, if any. */
export function sessionCookieOf(app: FastifyInstance, request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  return header === undefined ? undefined : app.parseCookie(header)[SESSION_COOKIE];
}

/** Whether the request is an operator's: the admin token as bearer, or a live session. */
export async function isAdmin(
  app: FastifyInstance,
  sessions: AdminSessions,
  request: FastifyRequest,
): Promise<boolean> {
  const bearer = bearerToken(request);
  if (bearer !== undefined && sessions.isToken(bearer)) return true;
  const cookie = sessionCookieOf(app, request);
  return cookie !== undefined && (await sessions.verify(cookie));
}

/** The API key id of the request's sender, or null; memoised per request (rate limit, auth). */
export function senderOf(keys: ApiKeyRing, request: FastifyRequest): string | null {
  if (request.sender === undefined) {
    const presented = keys.enabled ? presentedApiKey(request) : undefined;
    request.sender = (presented === undefined ? null : keys.match(presented)) ?? '';
  }
  return request.sender === '' ? null : request.sender;
}

/**
 * Checks each route's declared access (access.ts) in preParsing: after the rate limit has
 * counted the request, before its body is read, so a caller without credentials can neither
 * fill memory nor the disk, nor guess keys quickly. 401s are not stored (anyone could fill the
 * disk with them): counted and logged instead.
 */
export function registerAuthentication(
  app: FastifyInstance,
  { keys, sessions, testTools }: Credentials,
  counters: SecurityCounters,
): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const access = accessOf(request);
    if (access === 'ingest' && keys.enabled) {
      if (senderOf(keys, request) !== null) return payload;
      const cookie = sessionCookieOf(app, request);
      if (testTools && sessions && cookie !== undefined && (await sessions.verify(cookie))) {
        // The dashboard's test tools, in an operator's logged-in browser, with their own scope.
        request.sender = ADMIN_SENDER;
        return payload;
      }
      request.outcome = presentedApiKey(request) === undefined ? 'missing_key' : 'invalid_key';
      throw unauthorized();
    }
    if (access === 'admin' && sessions && !(await isAdmin(app, sessions, request))) {
      request.outcome = 'missing_or_invalid_admin_credentials';
      throw unauthorized();
    }
    return payload;
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode !== 401) return done();
    const access = accessOf(request);
    const surface =
      request.routeOptions.url === '/api/login'
        ? 'login'
        : access === 'signed'
          ? 'webhook'
          : access === 'ingest'
            ? 'ingest'
            : 'admin';
    counters.unauthorized[surface]++;
    const presented = surface === 'ingest' ? presentedApiKey(request) : undefined;
    request.log.warn(
      {
        surface,
        reason: request.outcome,
        remoteAddr: request.ip,
        // Lets an operator tell which misconfigured sender it is without logging its key.
        presentedKeyId: presented === undefined ? undefined : apiKeyId(presented),
      },
      'unauthorized request refused',
    );
    done();
  });
}

export { unauthorized };

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
import { sessionActor } from '../actor.js';
import type { SecurityCounters } from '../../contracts/index.js';

export interface Credentials {
  keys: ApiKeyRing;
  sessions: AdminSessions | undefined;
  /** The dashboard's test tools may ingest with an operator's session. */
  testTools: boolean;
}

const unauthorized = (): AppError =>
  new AppError(401, 'unauthorized', {}, { 'www-authenticate': 'Bearer realm="leadflow"' });

/**
 * Every session cookie a request carries. Usually one; a sibling subdomain can plant a second
 * with the same name, and taking only the first let a planted one hide the real session from
 * a logout (which then revoked nothing) or from authentication.
 */
export function sessionCookiesOf(request: FastifyRequest): string[] {
  const header = request.headers.cookie;
  if (header === undefined) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator < 0 || pair.slice(0, separator).trim() !== SESSION_COOKIE) continue;
    values.push(pair.slice(separator + 1).trim());
  }
  return values;
}

async function hasLiveSession(sessions: AdminSessions, request: FastifyRequest): Promise<boolean> {
  for (const cookie of sessionCookiesOf(request)) {
    if (await sessions.verify(cookie)) return true;
  }
  return false;
}

/**
 * How a request proves it is an operator's: the admin token as bearer, or a live session
 * (with its id, which names the actor in the audit log).
 */
async function adminCredential(
  sessions: AdminSessions,
  request: FastifyRequest,
): Promise<{ kind: 'token' } | { kind: 'session'; id: string } | null> {
  const bearer = bearerToken(request);
  if (bearer !== undefined && sessions.isToken(bearer)) return { kind: 'token' };
  for (const cookie of sessionCookiesOf(request)) {
    const id = await sessions.liveSessionId(cookie);
    if (id !== null) return { kind: 'session', id };
  }
  return null;
}

export async function isAdmin(sessions: AdminSessions, request: FastifyRequest): Promise<boolean> {
  return (await adminCredential(sessions, request)) !== null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * SPEC §8: a write authenticated by the session cookie needs the server's own Origin.
 * SameSite=Strict does not separate ports or sibling subdomains, so a page on 127.0.0.1:8080
 * is "same site" and its forms carry the cookie. Checked where the cookie is found to be the
 * credential, so that no other header (a junk API key) can switch the check off.
 */
function requireOwnOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (request.headers.origin === `${request.protocol}://${request.host}`) return;
  request.outcome = 'forbidden_origin';
  throw new AppError(403, 'forbidden_origin');
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
      if (testTools && sessions && (await hasLiveSession(sessions, request))) {
        // The dashboard's test tools, in an operator's logged-in browser, with their own scope.
        requireOwnOrigin(request);
        request.sender = ADMIN_SENDER;
        return payload;
      }
      request.outcome = presentedApiKey(request) === undefined ? 'missing_key' : 'invalid_key';
      throw unauthorized();
    }
    if (access === 'signed') request.actor = 'webhook';
    if (access === 'admin' && sessions) {
      const credential = await adminCredential(sessions, request);
      if (credential === null) {
        request.outcome = 'missing_or_invalid_admin_credentials';
        throw unauthorized();
      }
      if (credential.kind === 'session') {
        requireOwnOrigin(request);
        request.actor = sessionActor(credential.id);
      } else request.actor = 'admin';
    }
    return payload;
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode !== 401) return done();
    const access = accessOf(request);
    // The demo buyer is signed like the quota webhook, but a 401 there is a provider pointed at
    // it without the server's secret, not a billing system: counted apart, so an operator
    // looking into webhook refusals is not sent after it.
    const surface =
      request.routeOptions.url === '/api/login'
        ? 'login'
        : request.routeOptions.url?.startsWith('/api/demo/buyer')
          ? 'demoBuyer'
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

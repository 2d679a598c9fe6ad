import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** Name of the HttpOnly cookie that carries an operator's session. */
export const SESSION_COOKIE = 'leadflow_session';
/** Sender id of leads an operator sends through the dashboard's test tools. */
export const ADMIN_SENDER = 'admin';

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Compares two secrets in time that depends on neither: both sides are hashed first, so the
 * comparison always runs over 32 bytes and does not even reveal the expected length.
 */
export function secretsEqual(candidate: string, expected: string): boolean {
  return timingSafeEqual(sha256(candidate), sha256(expected));
}

/**
 * The stable, non-secret id of an API key: it scopes idempotency keys (`leads.sender`) and
 * names the sender in logs and rate limits. 48 bits of SHA-256 cannot be turned back into a
 * long random key, and two configured keys colliding on them is a 1-in-10^14 event.
 */
export function apiKeyId(key: string): string {
  return sha256(key).toString('hex').slice(0, 12);
}

/** The configured ingestion keys, matched without revealing which one matched, or whether any. */
export class ApiKeyRing {
  private readonly keys: { digest: Buffer; id: string }[];

  constructor(keys: readonly string[]) {
    this.keys = keys.map((key) => ({ digest: sha256(key), id: apiKeyId(key) }));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The id of the key `candidate` equals, or null. Every key is compared, always. */
  match(candidate: string): string | null {
    const digest = sha256(candidate);
    let matched: string | null = null;
    for (const key of this.keys) {
      if (timingSafeEqual(digest, key.digest) && matched === null) matched = key.id;
    }
    return matched;
  }
}

/** The bearer token of an `Authorization` header, if it has that scheme. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/** What a sender presents as its API key: `Authorization: Bearer` first, else `X-Api-Key`. */
export function presentedApiKey(request: FastifyRequest): string | undefined {
  const bearer = bearerToken(request);
  if (bearer !== undefined) return bearer;
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

/**
 * Stateless operator sessions: the cookie is `<expiry>.<HMAC(ADMIN_TOKEN, expiry)>`, so it
 * never contains the token, works on every instance without shared state, expires by
 * itself, and stops working everywhere the moment ADMIN_TOKEN is rotated.
 */
export class AdminSessions {
  private readonly signingKey: Buffer;

  constructor(
    private readonly token: string,
    readonly lifetimeSeconds = 12 * 60 * 60,
  ) {
    this.signingKey = createHmac('sha256', token).update('leadflow admin session v1').digest();
  }

  /** True when `candidate` is the admin token itself (scripts: `Authorization: Bearer`). */
  isToken(candidate: string): boolean {
    return secretsEqual(candidate, this.token);
  }

  issue(nowMs = Date.now()): string {
    const expires = Math.floor(nowMs / 1000) + this.lifetimeSeconds;
    return `${expires}.${this.sign(expires)}`;
  }

  verify(cookie: string, nowMs = Date.now()): boolean {
    const match = /^(\d{1,12})\.([\w-]{43})$/.exec(cookie);
    if (!match) return false;
    const expires = Number(match[1]);
    const expected = Buffer.from(this.sign(expires));
    const given = Buffer.from(match[2]!);
    return timingSafeEqual(given, expected) && expires * 1000 > nowMs;
  }

  private sign(expires: number): string {
    return createHmac('sha256', this.signingKey).update(String(expires)).digest('base64url');
  }
}

/** Who may call a route. Anything under /api/ not listed is an admin route by default. */
export type Access = 'open' | 'ingest' | 'signed' | 'admin';

const INGEST_ROUTES = new Set(['/api/lead', '/api/request-service']);
// The reset webhook checks its own Standard Webhooks signature (webhook.routes.ts).
const SIGNED_ROUTES = new Set(['/api/webhook/reset-quota']);
const OPEN_ROUTES = new Set(['/health', '/ready', '/api/login', '/api/logout', '/api/config/ui']);

export function accessOf(routeUrl: string | undefined): Access {
  if (routeUrl === undefined) return 'open'; // 404s reveal nothing
  if (INGEST_ROUTES.has(routeUrl)) return 'ingest';
  if (SIGNED_ROUTES.has(routeUrl)) return 'signed';
  if (OPEN_ROUTES.has(routeUrl)) return 'open';
  if (routeUrl.startsWith('/api/') || routeUrl === '/api') return 'admin';
  if (routeUrl === '/openapi.json' || routeUrl === '/docs' || routeUrl.startsWith('/docs/')) {
    return 'admin';
  }
  // The dashboard's HTML, scripts and styles: public code; the data behind it is not.
  return 'open';
}

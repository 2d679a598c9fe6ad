import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Pool } from '../db/pool.js';
import {
  insertAdminSession,
  isAdminSessionLive,
  revokeAdminSession,
} from './security/sessions.sql.js';

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
 * Operator sessions. The cookie is `<session id>.<expiry>.<HMAC(ADMIN_TOKEN, id.expiry)>`: it
 * never contains the token, a forged or expired one is refused without a query, and rotating
 * ADMIN_TOKEN ends every session at once. The session's row (admin_sessions) is what a logout
 * revokes, so the cookie stops working on every instance, not only in the browser that held it.
 */
export class AdminSessions {
  private readonly signingKey: Buffer;

  constructor(
    private readonly token: string,
    private readonly pool: Pool,
    readonly lifetimeSeconds = 12 * 60 * 60,
  ) {
    this.signingKey = createHmac('sha256', token).update('leadflow admin session v2').digest();
  }

  /** True when `candidate` is the admin token itself (scripts: `Authorization: Bearer`). */
  isToken(candidate: string): boolean {
    return secretsEqual(candidate, this.token);
  }

  async issue(nowMs = Date.now()): Promise<string> {
    const id = randomUUID();
    const expires = Math.floor(nowMs / 1000) + this.lifetimeSeconds;
    await insertAdminSession(this.pool, id, new Date(expires * 1000));
    return `${id}.${expires}.${this.sign(id, expires)}`;
  }

  async verify(cookie: string, nowMs = Date.now()): Promise<boolean> {
    return (await this.liveSessionId(cookie, nowMs)) !== null;
  }

  /** The id of the live session `cookie` carries, or null. */
  async liveSessionId(cookie: string, nowMs = Date.now()): Promise<string | null> {
    const id = this.sessionIdOf(cookie, nowMs);
    return id !== null && (await isAdminSessionLive(this.pool, id)) ? id : null;
  }

  async revoke(cookie: string): Promise<void> {
    const id = this.sessionIdOf(cookie, Date.now());
    if (id !== null) await revokeAdminSession(this.pool, id);
  }

  /** The session id of a well-signed, unexpired cookie, or null. */
  private sessionIdOf(cookie: string, nowMs: number): string | null {
    const match = /^([0-9a-f-]{36})\.(\d{1,12})\.([\w-]{43})$/.exec(cookie);
    if (!match) return null;
    const [, id, expiresText, mac] = match as unknown as [string, string, string, string];
    const expires = Number(expiresText);
    const expected = Buffer.from(this.sign(id, expires));
    if (!timingSafeEqual(Buffer.from(mac), expected) || expires * 1000 <= nowMs) return null;
    return id;
  }

  private sign(id: string, expires: number): string {
    return createHmac('sha256', this.signingKey).update(`${id}.${expires}`).digest('base64url');
  }
}

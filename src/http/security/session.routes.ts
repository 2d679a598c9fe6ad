import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorBody, loginBody, okBody, securityCounters, uiConfig } from '../../contracts/index.js';
import { SESSION_COOKIE, type AdminSessions } from '../auth.js';
import { isAdmin, sessionCookiesOf, unauthorized } from './authentication.js';
import type { SecurityCounters } from '../../contracts/index.js';

const LOGIN_ATTEMPTS_PER_MINUTE = 10;

export interface SessionRoutesOptions {
  sessions: AdminSessions | undefined;
  testTools: boolean;
  counters: SecurityCounters;
}

/** Login, logout, what the dashboard should show, and the refusal counters. */
export function registerSessionRoutes(
  app: FastifyInstance,
  { sessions, testTools, counters }: SessionRoutesOptions,
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const cookieOptions = (secure: boolean) =>
    ({ httpOnly: true, sameSite: 'strict', secure, path: '/' }) as const;

  api.post(
    '/api/login',
    {
      config: {
        access: 'open',
        rateLimit: {
          max: LOGIN_ATTEMPTS_PER_MINUTE,
          timeWindow: 60_000,
          keyGenerator: (request) => `login:${request.ip}`,
        },
      },
      schema: {
        tags: ['auth'],
        summary: 'Exchange ADMIN_TOKEN for an HttpOnly, SameSite=Strict session cookie',
        body: loginBody,
        response: { 200: okBody, 400: errorBody, 401: errorBody, 429: errorBody },
      },
    },
    async (request, reply) => {
      if (!sessions) return { ok: true as const };
      if (!sessions.isToken(request.body.token)) {
        request.outcome = 'invalid_admin_token';
        throw unauthorized();
      }
      reply.setCookie(SESSION_COOKIE, await sessions.issue(), {
        ...cookieOptions(request.protocol === 'https'),
        maxAge: sessions.lifetimeSeconds,
      });
      request.outcome = 'logged_in';
      return { ok: true as const };
    },
  );

  api.post(
    '/api/logout',
    {
      config: { access: 'open' },
      schema: {
        tags: ['auth'],
        summary: 'End the session on every instance and clear its cookie',
        response: { 200: okBody },
      },
    },
    async (request, reply) => {
      if (sessions) {
        for (const cookie of sessionCookiesOf(request)) await sessions.revoke(cookie);
      }
      reply.clearCookie(SESSION_COOKIE, cookieOptions(request.protocol === 'https'));
      return { ok: true as const };
    },
  );

  api.get(
    '/api/config/ui',
    {
      config: { access: 'open' },
      schema: {
        tags: ['auth'],
        summary: 'What the dashboard should show: test tools, and whether a login is needed',
        response: { 200: uiConfig },
      },
    },
    async (request) => ({
      testTools,
      auth: sessions !== undefined,
      authenticated: sessions === undefined || (await isAdmin(sessions, request)),
    }),
  );

  api.get(
    '/api/security/counters',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['operations'],
        summary: 'Requests refused by authentication, rate limits and load shedding since start',
        response: { 200: securityCounters, 401: errorBody },
      },
    },
    async () => counters,
  );
}

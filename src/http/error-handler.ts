import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  AppError,
  type ErrorCode,
  InvalidPayload,
  PayloadTooLarge,
  UnsupportedMediaType,
  Unavailable,
  ValidationFailed,
} from '../errors.js';
import { MALFORMED, TOO_DEEP, UNSUPPORTED } from '../ingest/parse.js';
import { isUnavailable } from '../db/pg-errors.js';

const FASTIFY_CODES: Record<string, () => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new PayloadTooLarge(),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new UnsupportedMediaType(),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new InvalidPayload(),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new InvalidPayload(),
  FST_ERR_CTP_INVALID_TYPE: () => new UnsupportedMediaType(),
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * SQLSTATE class 22: PostgreSQL refused a value (out of range, bad syntax, NUL). Every route
 * checks its input so that this cannot happen; if a check is missing, the client still gets
 * its 400 — never a 500 for what it sent (SPEC §8) — and the log says which check.
 */
function isDataException(error: FastifyError): boolean {
  return /^22[0-9A-Z]{3}$/.test(error.code ?? '') && 'severity' in error;
}

/**
 * Why a record's key was refused (a reserved header name: "set by Leadflow itself"), where
 * Zod's own message for it is only "Invalid key in record".
 */
function keyRefusal(issue: { keyword: string; params: unknown }): string | undefined {
  if (issue.keyword !== 'invalid_key') return undefined;
  const nested = (issue.params as { issues?: { message?: unknown }[] } | undefined)?.issues;
  const messages = (nested ?? []).flatMap((inner) =>
    typeof inner.message === 'string' ? [inner.message] : [],
  );
  return messages.length > 0 ? messages.join('; ') : undefined;
}

function toAppError(error: FastifyError): AppError | null {
  if (error instanceof AppError) return error;
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return mapped();
  if (error.validation) {
    const details = error.validation.map((issue) => ({
      path: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
      message: keyRefusal(issue) ?? issue.message ?? 'invalid',
    }));
    return new ValidationFailed(
      details,
      error.validationContext === 'querystring' ? 'invalid_query' : 'invalid_payload',
    );
  }
  if (isUnavailable(error)) return new Unavailable();
  if (isDataException(error)) return new InvalidPayload();
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new AppError(status, STATUS_CODES[status] ?? 'bad_request');
  }
  return null;
}

/**
 * A browser navigating to a page that does not exist (`/nosuchpage`, a mistyped link): GET or
 * HEAD, asking for HTML, outside the API and the API docs, and not a file such as
 * `/assets/x.js` that a build no longer has. Scripts and API clients keep the JSON 404.
 */
function isPageNavigation(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (!(request.headers.accept ?? '').includes('text/html')) return false;
  const path = request.url.split('?', 1)[0]!;
  if (path === '/api' || path.startsWith('/api/') || path === '/openapi.json') return false;
  if (path === '/docs' || path.startsWith('/docs/')) return false;
  return !path.slice(path.lastIndexOf('/')).includes('.');
}

export interface ErrorHandlerOptions {
  /** Sends the dashboard, whose router shows its own not-found page, with the 404 set. */
  notFoundPage?: (reply: FastifyReply) => FastifyReply;
}

/** The one place errors become responses: the spec's body, never internals. */
export function registerErrorHandler(
  app: FastifyInstance,
  { notFoundPage }: ErrorHandlerOptions = {},
): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error);
    if (appError) {
      if (isDataException(error)) {
        request.log.warn({ err: error }, 'input PostgreSQL refused reached a query: add a check');
      } else if (appError.statusCode >= 500) {
        request.log.warn({ err: error, outcome: appError.code }, 'request failed: unavailable');
      }
      request.outcome ??= appError.code;
      return reply
        .status(appError.statusCode)
        .headers(appError.headers)
        .send({ ok: false, error: appError.code, ...appError.extra });
    }
    request.outcome = 'internal_error';
    request.log.error(
      { err: error, idempotencyKey: request.headers['idempotency-key'] },
      'unexpected error',
    );
    return reply.status(500).send({ ok: false, error: 'internal_error' });
  });

  app.setNotFoundHandler((request, reply) => {
    request.outcome = 'not_found';
    if (notFoundPage && isPageNavigation(request)) return notFoundPage(reply.status(404));
    return reply.status(404).send({ ok: false, error: 'not_found' });
  });

  // Routes that do not capture raw bodies refuse unparsable ones before validation runs.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.routeOptions.config.rawCapture) done();
    else if (request.body === UNSUPPORTED) done(new UnsupportedMediaType());
    else if (request.body === MALFORMED || request.body === TOO_DEEP) done(new InvalidPayload());
    else done();
  });
}

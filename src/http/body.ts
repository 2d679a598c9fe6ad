import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received, for raw-first storage and signature checks. */
    rawBody?: Buffer;
  }
  interface FastifyContextConfig {
    /** The route stores refused bodies itself, so parse failures reach its handler. */
    rawCapture?: boolean;
  }
}

/** Body that failed to parse as its declared content type. */
export const MALFORMED = Symbol('malformed body');
/** Body whose content type Leadflow does not read. */
export const UNSUPPORTED = Symbol('unsupported media type');

export type ParsedBody = unknown;

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return MALFORMED;
  try {
    // Invalid UTF-8 decodes to U+FFFD here; the exact bytes stay in rawBody.
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return MALFORMED;
  }
}

function parseForm(raw: Buffer): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) {
    const existing = result[key];
    if (existing === undefined) result[key] = value;
    else result[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return result;
}

/**
 * Every body is read as bytes first and kept on `request.rawBody`. Parse failures and
 * unsupported types become sentinels instead of errors, so ingestion can store the request
 * before refusing it; other routes refuse them in `rejectUnparsedBodies`.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const keep = (request: FastifyRequest, raw: Buffer): void => {
    request.rawBody = raw;
  };
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request: FastifyRequest, raw: Buffer, done) => {
      keep(request, raw);
      done(null, parseJson(raw));
    },
  );
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    (request: FastifyRequest, raw: Buffer, done) => {
      keep(request, raw);
      done(null, parseForm(raw));
    },
  );
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer' },
    (request: FastifyRequest, raw: Buffer, done) => {
      keep(request, raw);
      done(null, UNSUPPORTED);
    },
  );
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import { createRequire } from 'node:module';
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

// Fastify's own Content-Type grammar, so that "unparsable" means exactly what Fastify refuses.
const FastifyContentType = createRequire(import.meta.url)('fastify/lib/content-type.js') as new (
  header: string,
) => { isValid: boolean };
const originalContentType = new WeakMap<FastifyRequest, string>();

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
  // Fastify answers a Content-Type it cannot parse ('', 'foo', ';') with 415 before reading
  // the body, so no route could store the request. Routes that capture raw bodies read it
  // with the catch-all parser instead (an unsupported type), and see the header as sent again.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const header = request.headers['content-type'];
    if (
      request.routeOptions.config.rawCapture &&
      header !== undefined &&
      !new FastifyContentType(header).isValid
    ) {
      originalContentType.set(request, header);
      request.headers['content-type'] = 'application/octet-stream';
    }
    done(null, payload);
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const header = originalContentType.get(request);
    if (header !== undefined) request.headers['content-type'] = header;
    done();
  });
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

import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseForm, parseJson, UNSUPPORTED } from '../ingest/parse.js';

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

/**
 * Every body is read as bytes first and kept on `request.rawBody`. Parse failures and
 * unsupported types become sentinels instead of errors, so ingestion can store the request
 * before refusing it; other routes refuse them before validation (error-handler.ts).
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

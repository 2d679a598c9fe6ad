import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

// The dashboard is a Vite build: module scripts and one stylesheet from this origin, no
// inline code. React's `style={…}` goes through the CSSOM, which style-src does not govern.
const DASHBOARD_CSP = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

// Swagger UI sets inline styles from its bundle; it stays on its own pages.
const DOCS_CSP = { ...DASHBOARD_CSP, styleSrc: ["'self'", "'unsafe-inline'"] };

// JSON and event-stream responses are never rendered as pages: they get the set OWASP's REST
// Security Cheat Sheet lists for APIs (no framing, no sniffing, HTTPS only, same-origin
// resource) with a CSP that allows nothing. Node validates every header it sends; the
// document-only ones (opener policy, origin agent cluster, DNS prefetch, the long page CSP)
// were ~7 % of an ingest request's instructions in the event loop (callgrind, medians).
const API_HEADERS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

const documentHeaders = (directives: typeof DASHBOARD_CSP): HelmetOptions => ({
  contentSecurityPolicy: { useDefaults: false, directives },
});

/**
 * Helmet's response headers for one set of options. @fastify/helmet builds helmet's middleware
 * anew on every request, which doubled the CPU of a bare request (autocannon, 87 → 190 µs); the
 * headers never vary, so helmet computes them once here.
 */
function helmetHeaders(options: HelmetOptions): [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return [...headers];
}

const isDocs = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');

/** Security headers on every response: the API set under /api/, the page set elsewhere. */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const dashboardHeaders = helmetHeaders(documentHeaders(DASHBOARD_CSP));
  const docsHeaders = helmetHeaders(documentHeaders(DOCS_CSP));
  const apiHeaders = helmetHeaders(API_HEADERS);
  // On the raw response, so that hijacked replies (the event stream) carry them too.
  app.addHook('onRequest', (request, reply, done) => {
    // request.url for unknown paths: a 404 under /api/ is an API answer too.
    const path = request.routeOptions.url ?? request.url;
    const headers = path.startsWith('/api/')
      ? apiHeaders
      : isDocs(path)
        ? docsHeaders
        : dashboardHeaders;
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
}

import { readFileSync } from 'node:fs';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';

export interface ConnectionLimits {
  maxConnections: number;
  maxSseClients: number;
}

// Linux's default ceiling for RLIMIT_NOFILE (fs.nr_open), standing in for "unlimited".
const UNLIMITED_FILES = 1_048_576;
// What `ulimit -n` says on most systems when /proc is not there to ask.
const FALLBACK_FILES = 1024;
// Descriptors that are not client sockets nor database connections. An idle `serve` holds 25
// (measured): stdio, the listening socket, libuv's epoll/eventfd/signal pipes, tsx's esbuild
// pipes; embedded PostgreSQL's stdout/stderr pipes, static files being served and the pool
// reconnecting add a few. 64 leaves the rest as headroom.
const RESERVED_FILES = 64;
// A stream holds its connection for hours: at most half the slots, so ingestion always has
// the other half. 1000 × the 1 MiB a slow reader may buffer bounds the streams' memory at 1 GiB.
const MAX_SSE_CLIENTS = 1000;
// One log line per kind of refusal per 10 s: a flood must not turn into a log flood.
const LOG_INTERVAL_MS = 10_000;
// Closing idle keep-alive sockets at the cap at most once a second.
const IDLE_SWEEP_INTERVAL_MS = 1000;

/** The process's soft limit on open files, from /proc/self/limits; 1024 when unreadable. */
export function openFileLimit(limitsFile = '/proc/self/limits'): number {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((row) => row.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return UNLIMITED_FILES;
    const limit = Number(soft);
    return Number.isInteger(limit) && limit > 0 ? limit : FALLBACK_FILES;
  } catch {
    return FALLBACK_FILES;
  }
}

/**
 * MAX_CONNECTIONS defaults to the open-file limit minus the database pool (DB_POOL_SIZE),
 * the event stream's LISTEN connection (1) and RESERVED_FILES: at `ulimit -n 1024` and the
 * default pool of 20, 1024 − 20 − 1 − 64 = 939 clients, so accept() never meets EMFILE.
 * MAX_SSE_CLIENTS defaults to min(1000, MAX_CONNECTIONS / 2).
 */
export function connectionLimits(
  config: Pick<Config, 'MAX_CONNECTIONS' | 'MAX_SSE_CLIENTS' | 'DB_POOL_SIZE'>,
  files: number = openFileLimit(),
): ConnectionLimits {
  const maxConnections =
    config.MAX_CONNECTIONS ?? Math.max(1, files - config.DB_POOL_SIZE - 1 - RESERVED_FILES);
  return {
    maxConnections,
    maxSseClients:
      config.MAX_SSE_CLIENTS ??
      Math.max(1, Math.min(MAX_SSE_CLIENTS, Math.floor(maxConnections / 2))),
  };
}

/**
 * Node closes a socket accepted beyond `maxConnections` at once, before any HTTP parsing.
 * Idle keep-alive sockets are then given back first; an accept that still fails (EMFILE,
 * ENFILE: another part of the process used the descriptors) is an 'error' on the server,
 * which would otherwise be an uncaught exception.
 */
export function limitConnections(app: FastifyInstance, maxConnections: number): void {
  const server = app.server;
  server.maxConnections = maxConnections;
  const lastLogged = new Map<string, number>();
  const due = (kind: string, interval: number): boolean => {
    const now = Date.now();
    if (now - (lastLogged.get(kind) ?? -Infinity) < interval) return false;
    lastLogged.set(kind, now);
    return true;
  };
  server.on('drop', () => {
    if (due('sweep', IDLE_SWEEP_INTERVAL_MS)) server.closeIdleConnections();
    if (due('drop', LOG_INTERVAL_MS)) {
      app.log.warn({ maxConnections }, 'connection limit reached: new connections are closed');
    }
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (due(`error:${err.code}`, LOG_INTERVAL_MS)) app.log.error({ err }, 'HTTP server error');
  });
}

const CLIENT_ERRORS: Record<string, [status: number, error: string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout'],
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'payload_too_large'],
};

/**
 * Fastify's `clientErrorHandler`: what Node refuses before any route runs (unparsable
 * request, headers or request too slow, headers too large) gets the spec's JSON body.
 */
export function answerClientError(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // Node's own rule: answer only if no response on this socket has started, or the bytes
  // would land in the middle of another response.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const [status, code] = CLIENT_ERRORS[error.code] ?? [400, 'bad_request'];
    const body = JSON.stringify({ ok: false, error: code });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

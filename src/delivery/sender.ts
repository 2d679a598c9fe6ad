import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { MASKED, type DeliveryConfig } from '../contracts/index.js';
import { checkLiteralHost, ForbiddenAddress, guardedLookup } from './address-guard.js';
import type { SendResult } from './outcome.js';
import { encodeBody } from './payload.js';

// The response body read for acceptPattern; the attempt log keeps its first 2 KiB.
const MAX_RESPONSE_BYTES = 64 * 1024;
export const EXCERPT_CHARS = 2048;

export interface SendRequest {
  /** The delivery's id: Idempotency-Key and webhook-id, the same on every attempt. */
  id: string;
  endpoint: DeliveryConfig;
  payload: Record<string, unknown>;
  /** Extra headers that mark the send (a test lead says so). */
  headers?: Record<string, string>;
}

/**
 * Makes one HTTP request to a buyer's endpoint. Shared by the dispatcher and the "send a test
 * lead" route, so a test goes through the very code, connection pool and address guard a
 * real delivery does.
 */
export class DeliverySender {
  private readonly agent: Agent;

  constructor(
    connections: number,
    /** Refuse loopback, private and link-local targets at connect time (production). */
    private readonly guardAddresses: boolean,
    /** A URL the server built itself and may send to despite the guard (the demo buyer). */
    private readonly isOwnUrl: (url: URL) => boolean = () => false,
  ) {
    this.agent = new Agent({
      connections,
      // undici 7 follows no redirect unless a redirect interceptor is composed: a 3xx is an
      // answer (a failure), never a second request to wherever it points.
      connect: guardAddresses ? { lookup: guardedLookup as unknown as LookupFunction } : {},
    });
  }

  /** One request, bounded by the endpoint's timeout from connect to the last body byte. */
  async send({ id, endpoint, payload, headers: marks = {} }: SendRequest): Promise<SendResult> {
    const { contentType, body } = encodeBody(payload, endpoint.format);
    const headers: Record<string, string> = {
      ...endpoint.headers,
      ...marks,
      'content-type': contentType,
      'user-agent': 'Leadflow-Delivery',
      'idempotency-key': id,
    };
    if (endpoint.signingSecret) {
      const timestamp = new Date();
      headers['webhook-id'] = id;
      headers['webhook-timestamp'] = String(Math.floor(timestamp.getTime() / 1000));
      headers['webhook-signature'] = new Webhook(endpoint.signingSecret).sign(id, timestamp, body);
    }
    const signal = AbortSignal.timeout(endpoint.timeoutMs);
    try {
      const url = new URL(endpoint.url);
      if (this.guardAddresses && !this.isOwnUrl(url)) checkLiteralHost(url);
      const response = await request(url, {
        dispatcher: this.agent,
        method: endpoint.method,
        headers,
        body,
        signal,
      });
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'response',
        statusCode: response.statusCode,
        body: redactSecrets(await readBounded(response.body), secretsSent(endpoint, headers)),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (error) {
      return describeFailure(error, signal);
    }
  }

  /** Aborts whatever is still in flight. */
  async destroy(): Promise<void> {
    await this.agent.destroy();
  }
}

/**
 * What a send carried that reads never show: the static header values (the buyer's auth) and
 * the signature. A buyer that echoes its request (httpbin and the like) would otherwise put
 * them into the attempt log and the audit log, which any operator reads and which are kept.
 * Each value, and each of its space-separated parts long enough to be a credential (the token
 * of "Bearer <token>").
 */
function secretsSent(endpoint: DeliveryConfig, headers: Record<string, string>): string[] {
  const values = [...Object.values(endpoint.headers), headers['webhook-signature'] ?? ''];
  const secrets = new Set<string>();
  for (const value of values) {
    if (value.length >= 4) secrets.add(value);
    for (const part of value.split(/[\s,]+/)) if (part.length >= 8) secrets.add(part);
  }
  // Longest first: a whole value is masked before its parts would split the mask.
  return [...secrets].sort((a, b) => b.length - a.length);
}

export function redactSecrets(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) redacted = redacted.split(secret).join(MASKED);
  return redacted;
}

/** The first MAX_RESPONSE_BYTES of a body, as text; the rest is not read. */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_RESPONSE_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current && chain.length < 5; current = (current as Error).cause) {
    chain.push(current);
  }
  return chain;
}

function describeFailure(error: unknown, signal: AbortSignal): SendResult {
  const chain = causeChain(error);
  const forbidden = chain.find((item) => item instanceof ForbiddenAddress);
  if (forbidden) {
    // Not retried: the address will not become public by waiting.
    return { kind: 'error', error: `refused: ${(forbidden as Error).message}`, retryable: false };
  }
  if (signal.aborted) return { kind: 'error', error: 'timeout', retryable: true };
  const code = chain.map((item) => (item as { code?: unknown }).code).find(Boolean);
  return {
    kind: 'error',
    error: `connection error: ${typeof code === 'string' ? code : (error as Error).message}`,
    retryable: true,
  };
}

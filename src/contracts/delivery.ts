import { z } from 'zod';
import { queryLimit, storableText, textRowId, timestamp } from './common.js';
import { DELIVERY_SOURCES, MASKED } from './delivery-constants.js';

export { DELIVERED_LEAD_FIELDS, DELIVERY_SOURCES, MASKED } from './delivery-constants.js';

// RFC 9110 token; the names the sender sets itself cannot be overridden.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// Also the hop-by-hop ones the HTTP client refuses to send (every send would fail and pause
// the provider) and `__proto__` (a record key that would vanish).
const RESERVED_HEADERS =
  /^(host|content-length|content-type|transfer-encoding|connection|idempotency-key|webhook-.*|expect|upgrade|keep-alive|te|trailer|proxy-.*|__proto__)$/i;
// Visible ASCII, space and tab: no CR/LF (header injection), no NUL, nothing undici refuses.
const HEADER_VALUE = /^[\t\x20-\x7e]{0,1000}$/;

// A JSON key `__proto__` is an own property of the parsed body, but a record drops it
// silently: refused before the record sees it.
const withoutProtoKey = <T extends z.ZodType>(schema: T) =>
  z
    .unknown()
    .refine(
      (value) =>
        !(typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')),
      'a name other than __proto__',
    )
    .pipe(schema);

const deliveryHeaders = withoutProtoKey(
  z
    .record(
      z
        .string()
        .regex(HEADER_NAME, "a header name (letters, digits and !#$%&'*+.^_`|~-)")
        .refine((name) => !RESERVED_HEADERS.test(name), 'set by Leadflow itself'),
      z
        .string()
        .regex(HEADER_VALUE, 'printable ASCII, at most 1000 characters')
        .describe(`"${MASKED}" keeps the stored value of this header`),
    )
    .refine((headers) => Object.keys(headers).length <= 20, 'at most 20 headers'),
);

const fieldSource = z
  .string()
  .refine(
    (source) =>
      (DELIVERY_SOURCES as readonly string[]).includes(source) ||
      /^extra(\.[^.\s]{1,100}){1,8}$/.test(source),
    `a lead field (${DELIVERY_SOURCES.join(', ')}) or extra.<path>`,
  );

/** Whether `pattern` compiles as a JavaScript regular expression. */
function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** A provider's endpoint, as an operator sets it (PATCH /api/providers/:id `delivery`). */
export const deliveryConfigInput = z
  .object({
    url: storableText(z.string().max(2000))
      .pipe(z.url({ protocol: /^https?$/ }))
      // Reads show the URL to every operator; credentials belong in `headers`, which are masked.
      .refine(
        (url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url),
        'no user:password@ in the URL: send credentials in headers (e.g. Authorization), which are never shown',
      )
      .describe('http or https; credentials go in headers, not in the URL'),
    method: z.enum(['POST', 'PUT']).default('POST'),
    format: z.enum(['json', 'form']).default('json'),
    headers: deliveryHeaders.default({}),
    fields: withoutProtoKey(
      z
        .record(
          z
            .string()
            .regex(/^[\w.-]{1,100}$/, 'letters, digits, _ . -')
            .refine((name) => name !== '__proto__', 'a name other than __proto__'),
          fieldSource,
        )
        .refine((fields) => Object.keys(fields).length <= 100, 'at most 100 fields'),
    )
      .nullable()
      .default(null)
      .describe('target name → lead field or extra.<path>; null sends the whole lead'),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    maxAttempts: z.number().int().min(1).max(100).default(8),
    // Bounded so a pattern stays something an operator can read; matched against at most the
    // first 64 KiB of the response.
    acceptPattern: storableText(z.string().min(1).max(200))
      .refine(compiles, 'not a valid regular expression')
      .nullable()
      .default(null),
    signingSecret: z
      .union([
        z.literal(MASKED),
        z.string().regex(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, 'whsec_ followed by a base64 key'),
      ])
      .nullable()
      .optional()
      .describe(`omitted or "${MASKED}" keeps the stored secret; null removes it`),
  })
  .strict();
export type DeliveryConfigInput = z.input<typeof deliveryConfigInput>;
/** An endpoint as sent: header values and the secret may still say "keep what is stored". */
export type DeliveryConfigRequest = z.infer<typeof deliveryConfigInput>;
/** An endpoint with every value real: what is stored and sent with. */
export type DeliveryConfig = Omit<DeliveryConfigRequest, 'signingSecret'> & {
  signingSecret: string | null;
};

/** A provider's endpoint as reads show it: header values and the secret masked. */
export const deliveryConfigView = z.object({
  url: z.string(),
  method: z.enum(['POST', 'PUT']),
  format: z.enum(['json', 'form']),
  headers: z.record(z.string(), z.literal(MASKED)),
  fields: z.record(z.string(), z.string()).nullable(),
  timeoutMs: z.number().int(),
  maxAttempts: z.number().int(),
  acceptPattern: z.string().nullable(),
  signingSecret: z.literal(MASKED).nullable(),
});
export type DeliveryConfigView = z.infer<typeof deliveryConfigView>;

export const deliveryState = z.enum(['none', 'ok', 'paused']);
export type DeliveryState = z.infer<typeof deliveryState>;

export const deliveryStatus = z.enum(['pending', 'delivered', 'rejected', 'failed']);
export type DeliveryStatus = z.infer<typeof deliveryStatus>;

export const delivery = z.object({
  id: z.uuid(),
  leadId: z.uuid(),
  providerId: z.number().int(),
  status: deliveryStatus,
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: timestamp.nullable().describe('Set while pending'),
  deliveredAt: timestamp.nullable(),
  createdAt: timestamp,
});
export type Delivery = z.infer<typeof delivery>;

export const deliveryAttempt = z.object({
  attempt: z.number().int(),
  startedAt: timestamp,
  durationMs: z.number().int(),
  outcome: z.enum(['delivered', 'rejected', 'retry', 'failed']),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  responseExcerpt: z.string().nullable().describe('The first 2 KiB of the response body'),
});
export type DeliveryAttempt = z.infer<typeof deliveryAttempt>;

export const deliveryDetail = delivery.extend({ attemptLog: z.array(deliveryAttempt) });
export type DeliveryDetail = z.infer<typeof deliveryDetail>;

export const deliveryListQuery = z
  .object({
    status: deliveryStatus.optional(),
    providerId: textRowId.optional(),
    leadId: z.uuid().optional(),
    cursor: z.uuid().optional().describe('`nextCursor` of the previous page'),
    limit: queryLimit(200, 50),
  })
  .strict();

export const deliveryPage = z.object({
  items: z.array(delivery),
  nextCursor: z.string().nullable(),
});
export type DeliveryPage = z.infer<typeof deliveryPage>;

export const deliveryParams = z.object({ id: z.uuid() });

export const bulkRetry = z
  .object({
    providerId: z.number().int().positive().max(2_147_483_647),
    status: z.enum(['failed', 'rejected']).default('failed'),
  })
  .strict();

export const bulkRetryAnswer = z.object({ ok: z.literal(true), requeued: z.number().int() });

/** `POST /api/providers/:id/delivery/test`: the stored endpoint, or one not saved yet. */
export const deliveryTestRequest = z
  .object({
    delivery: deliveryConfigInput
      .optional()
      .describe('An endpoint to try before saving it; masked values are taken from the stored one'),
  })
  .strict();

export const deliveryTestAnswer = z.object({
  id: z.uuid().describe("The test send's id: its Idempotency-Key, lead_id and delivery_id"),
  providerId: z.number().int(),
  url: z.string(),
  startedAt: timestamp,
  durationMs: z.number().int(),
  outcome: z
    .enum(['delivered', 'rejected', 'failed'])
    .describe('What a real delivery would have been on this answer'),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable().describe('Why it was not delivered'),
  responseExcerpt: z.string().nullable().describe('The first 2 KiB of the response body'),
});
export type DeliveryTestAnswer = z.infer<typeof deliveryTestAnswer>;

/** Minutes of delivery attempts the success rate covers. */
export const DELIVERY_STATS_WINDOW_MINUTES = 60;

export const providerDeliveryStats = z.object({
  providerId: z.number().int(),
  attempts: z.number().int(),
  delivered: z.number().int(),
  rejected: z.number().int(),
  failed: z.number().int().describe('Attempts that got no acceptable answer: retried or failed'),
  rate: z.number().min(0).max(1).describe('delivered / attempts'),
});
export type ProviderDeliveryStats = z.infer<typeof providerDeliveryStats>;

export const deliveryStats = z.object({
  windowMinutes: z.number().int(),
  providers: z
    .array(providerDeliveryStats)
    .describe('Providers with at least one attempt in the window'),
});
export type DeliveryStats = z.infer<typeof deliveryStats>;

/**
 * Errors the domain throws. Each carries a code from one closed list; the one error handler
 * (http/error-handler.ts) turns it into the spec's `{ ok: false, error: code }` body with its
 * status, so no domain module needs to know about HTTP beyond that number.
 */
export type ErrorCode =
  | 'bad_request'
  | 'conflict'
  | 'delivery_not_found'
  | 'duplicate_lead'
  | 'forbidden'
  | 'forbidden_origin'
  | 'insufficient_quota'
  | 'invalid_host'
  | 'invalid_idempotency_key'
  | 'invalid_payload'
  | 'invalid_query'
  | 'lead_not_found'
  | 'method_not_allowed'
  | 'not_found'
  | 'payload_too_large'
  | 'provider_not_found'
  | 'rate_limited'
  | 'request_timeout'
  | 'service_not_found'
  | 'unauthorized'
  | 'unavailable'
  | 'unknown_provider'
  | 'unsupported_media_type';

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(code);
    this.name = new.target.name;
  }
}

export class InvalidPayload extends AppError {
  /** `reason`: what is stored with a refused raw request, when it says more than the code. */
  constructor(readonly reason: 'invalid_payload' | 'too_deep' = 'invalid_payload') {
    super(400, 'invalid_payload');
  }
}

export class InvalidIdempotencyKey extends AppError {
  constructor() {
    super(400, 'invalid_idempotency_key');
  }
}

export class UnsupportedMediaType extends AppError {
  constructor() {
    super(415, 'unsupported_media_type');
  }
}

export class PayloadTooLarge extends AppError {
  constructor() {
    super(413, 'payload_too_large');
  }
}

export class NotFound extends AppError {
  constructor(
    code:
      | 'not_found'
      | 'delivery_not_found'
      | 'lead_not_found'
      | 'provider_not_found'
      | 'service_not_found' = 'not_found',
  ) {
    super(404, code);
  }
}

export class ServiceNotFound extends NotFound {
  constructor() {
    super('service_not_found');
  }
}

export class InsufficientQuota extends AppError {
  /** `skipped`: the providers that could not take the lead and why (SPEC §10). */
  constructor(leadId: string, skipped?: { providerId: number; reason: string }[]) {
    super(409, 'insufficient_quota', { lead_id: leadId, ...(skipped && { skipped }) });
  }
}

/** A contact allocated in the service within its duplicate window (SPEC §10, scope service). */
export class DuplicateLead extends AppError {
  constructor(leadId: string, duplicateOf: string) {
    super(409, 'duplicate_lead', { lead_id: leadId, duplicate_of: duplicateOf });
  }
}

export class Unauthorized extends AppError {
  constructor() {
    super(401, 'unauthorized');
  }
}

/** A body that parsed but breaks a rule: the spec's `invalid_payload`, with what and where. */
export class ValidationFailed extends AppError {
  constructor(
    details: { path: string; message: string }[],
    /** A query string that failed (an unknown parameter, `limit=0x10`) is `invalid_query` (SPEC §11). */
    code: 'invalid_payload' | 'invalid_query' = 'invalid_payload',
  ) {
    super(400, code, { details });
  }
}

export class RateLimited extends AppError {
  constructor(retryAfterSeconds: number) {
    super(429, 'rate_limited', {}, { 'retry-after': String(Math.max(1, retryAfterSeconds)) });
  }
}

export class Unavailable extends AppError {
  constructor(retryAfterSeconds = 2) {
    super(503, 'unavailable', {}, { 'retry-after': String(retryAfterSeconds) });
  }
}

/**
 * A start-up failure the user can act on, said in one sentence: the CLI prints the message
 * alone, because a stack trace would bury the one line that matters.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}

import { send } from '../../api/client.js';
import type {
  AllocatedResponse,
  ErrorBody,
  IngestResponse,
  PickedProvider,
  ResetQuotaResponse,
} from '../../../../src/contracts/index.js';

/** An answer of either kind, read field by field: the tools show refusals as they come. */
type Answer<T> = Partial<T> & Partial<ErrorBody>;

/** Random hex id; `crypto.randomUUID` is missing on plain-http origins other than localhost. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

const FIRST_NAMES = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie'];
const COUNTRIES = ['DE', 'FR', 'PL', 'ES', 'IT', 'NL', 'SE'];

function pick<T>(items: readonly T[], index: number): T {
  return items[index % items.length]!;
}

export function fakeContact(seed: number): Record<string, string> {
  const firstName = pick(FIRST_NAMES, seed);
  const lastName = pick(LAST_NAMES, seed * 3 + 1);
  const tag = randomId().slice(0, 8);
  return {
    firstName,
    lastName,
    email: `${firstName.toLowerCase()}.${tag}@example.test`,
    phone: `+49 30 ${String(1_000_000 + Math.floor(Math.random() * 8_999_999))}`,
    country: pick(COUNTRIES, seed),
    sourcetype: 'test-tools',
  };
}

export interface LeadRequestResult {
  index: number;
  serviceId: number;
  status: number;
  leadId: string | undefined;
  providers: PickedProvider[] | undefined;
  error: string | undefined;
  ms: number;
}

/**
 * Every request is started in the same tick, before any answer is awaited. The browser may
 * still queue some behind its per-host connection cap (6 over HTTP/1.1); the server sees
 * them overlap either way, which is what the allocation locks are there for.
 */
export function generateConcurrentLeads(
  serviceIds: number[],
  count: number,
): Promise<LeadRequestResult[]> {
  const requests = Array.from({ length: count }, async (_, index) => {
    const serviceId = serviceIds[index % serviceIds.length]!;
    try {
      const response = await send<Answer<AllocatedResponse>>('POST', '/api/request-service', {
        serviceId,
        ...fakeContact(index),
      });
      return {
        index,
        serviceId,
        status: response.status,
        leadId: response.body.lead_id,
        providers: response.body.providers,
        error: response.body.error,
        ms: response.ms,
      };
    } catch {
      return {
        index,
        serviceId,
        status: 0,
        leadId: undefined,
        providers: undefined,
        error: 'network_error',
        ms: 0,
      };
    }
  });
  return Promise.all(requests);
}

export interface WebhookCopyResult {
  status: number;
  duplicate: boolean | undefined;
  reset: number | undefined;
  error: string | undefined;
  ms: number;
}

async function sendReset(eventId: string): Promise<WebhookCopyResult> {
  const response = await send<Answer<ResetQuotaResponse & { reset?: number }>>(
    'POST',
    '/api/webhook/reset-quota',
    { eventId },
  );
  return {
    status: response.status,
    duplicate: response.body.duplicate,
    reset: response.body.reset,
    error: response.body.error,
    ms: response.ms,
  };
}

export interface IdempotencyResult {
  eventId: string;
  copies: WebhookCopyResult[];
  applied: number;
  duplicates: number;
}

/** Copies of one new reset event, sent at once: exactly one may reset, the rest are duplicates. */
export async function testWebhookIdempotency(copies: number): Promise<IdempotencyResult> {
  const eventId = `test-tools-${randomId()}`;
  const results = await Promise.all(Array.from({ length: copies }, () => sendReset(eventId)));
  return {
    eventId,
    copies: results,
    applied: results.filter((result) => result.status === 200 && result.duplicate === false).length,
    duplicates: results.filter((result) => result.status === 200 && result.duplicate === true)
      .length,
  };
}

export function resetAllQuotas(): Promise<WebhookCopyResult> {
  return sendReset(`test-tools-reset-${randomId()}`);
}

export interface DuplicateAttempt {
  status: number;
  leadId: string | undefined;
  deduplicated: boolean | undefined;
  error: string | undefined;
  ms: number;
}

export interface DuplicateLeadResult {
  idempotencyKey: string;
  attempts: DuplicateAttempt[];
  sameLead: boolean;
}

/** The same lead twice with one Idempotency-Key, the second after the first was answered. */
export async function sendDuplicateLead(): Promise<DuplicateLeadResult> {
  const idempotencyKey = `test-tools-${randomId()}`;
  const body = fakeContact(Math.floor(Math.random() * 100));
  const attempts: DuplicateAttempt[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await send<Answer<IngestResponse>>('POST', '/api/lead', body, {
      'idempotency-key': idempotencyKey,
    });
    attempts.push({
      status: response.status,
      leadId: response.body.lead_id,
      deduplicated: response.body.deduplicated,
      error: response.body.error,
      ms: response.ms,
    });
  }
  const leadIds = new Set(attempts.map((attempt) => attempt.leadId));
  return {
    idempotencyKey,
    attempts,
    sameLead: leadIds.size === 1 && attempts[0]?.leadId !== undefined,
  };
}

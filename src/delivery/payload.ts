import type { ClaimedDelivery } from '../db/locks.sql.js';

/** What a payload is built from: a claimed delivery, or a test lead that has no row. */
export type PayloadSource = Pick<ClaimedDelivery, 'id' | 'leadId' | 'providerId' | 'lead'> & {
  endpoint: Pick<ClaimedDelivery['endpoint'], 'fields'>;
};

/** The lead as a receiver gets it (SPEC §9): ids, the known fields in snake_case, `extra`. */
export function wholeLead(delivery: PayloadSource): Record<string, unknown> {
  return {
    lead_id: delivery.leadId,
    service_id: delivery.lead.serviceId,
    provider_id: delivery.providerId,
    delivery_id: delivery.id,
    ...delivery.lead.fields,
    extra: delivery.lead.extra,
  };
}

function valueAt(root: unknown, path: string[]): unknown {
  let value = root;
  for (const key of path) {
    // Own properties only: `extra.__proto__` names nothing.
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return null;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** What is sent: the whole lead, or the operator's `fields` (target → field or extra.<path>). */
export function deliveryPayload(delivery: PayloadSource): Record<string, unknown> {
  const whole = wholeLead(delivery);
  const { fields } = delivery.endpoint;
  if (!fields) return whole;
  return Object.fromEntries(
    Object.entries(fields).map(([target, source]) => [
      target,
      source.startsWith('extra.')
        ? valueAt(delivery.lead.extra, source.slice('extra.'.length).split('.'))
        : (whole[source] ?? null),
    ]),
  );
}

/** The request body in the endpoint's format. Forms omit empty values and JSON-encode objects. */
export function encodeBody(
  payload: Record<string, unknown>,
  format: 'json' | 'form',
): { contentType: string; body: string } {
  if (format === 'json') {
    return { contentType: 'application/json', body: JSON.stringify(payload) };
  }
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(payload)) {
    if (value === null || value === undefined) continue;
    form.append(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return { contentType: 'application/x-www-form-urlencoded', body: form.toString() };
}

/** The made-up person a test lead carries: reserved names and documentation addresses. */
const TEST_LEAD_FIELDS: Record<string, string | null> = {
  click_id: null,
  country: 'US',
  creo: null,
  description: 'A test lead sent from Leadflow: not a real person, no lead was created.',
  domain: 'example.com',
  email: 'test-lead@example.invalid',
  first_name: 'Test',
  ip: '192.0.2.1',
  lang: 'en',
  last_name: 'Lead',
  marker: null,
  offer: null,
  phone: '+15550100000',
  sourcetype: null,
};

/**
 * A test lead as the endpoint would receive a real one, marked as a test three ways: `test:
 * true` in the whole lead, `extra.test` (reachable through a field mapping) and the
 * `Leadflow-Test` header the sender adds. Its ids are fresh UUIDs, so a receiver that
 * validates them answers as it would for a real lead.
 */
export function testPayload(
  id: string,
  providerId: number,
  fields: Record<string, string> | null,
): Record<string, unknown> {
  const source: PayloadSource = {
    id,
    leadId: id,
    providerId,
    lead: { serviceId: null, fields: TEST_LEAD_FIELDS, extra: { test: true } },
    endpoint: { fields },
  };
  const payload = deliveryPayload(source);
  return fields ? payload : { ...payload, test: true };
}

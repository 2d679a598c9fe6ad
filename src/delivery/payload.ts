import type { ClaimedDelivery } from '../db/locks.sql.js';

/** The lead as a receiver gets it (SPEC §9): ids, the known fields in snake_case, `extra`. */
export function wholeLead(delivery: ClaimedDelivery): Record<string, unknown> {
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
export function deliveryPayload(delivery: ClaimedDelivery): Record<string, unknown> {
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

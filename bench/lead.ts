/**
 * What senders send: a landing-page lead with the 14 known fields, as spelled in the wild
 * (camelCase names next to snake_case ones), about 400 bytes of JSON. Every request differs.
 */

const COUNTRIES = ['DE', 'FR', 'ES', 'IT', 'PL', 'NL', 'SE', 'PT'];
const LANGS = ['de', 'fr', 'es', 'it', 'pl', 'nl', 'sv', 'pt'];
const FIRST_NAMES = ['Anna', 'Lukas', 'Marie', 'Jonas', 'Sofia', 'Mateo', 'Emma', 'Noah'];
const LAST_NAMES = ['Schmidt', 'Dubois', 'García', 'Rossi', 'Nowak', 'de Vries', 'Berg', 'Silva'];

export interface LeadFields {
  click_id: string;
  country: string;
  creo: string;
  description: string;
  domain: string;
  email: string;
  firstName: string;
  ip: string;
  lang: string;
  lastName: string;
  marker: string;
  offer: string;
  phone: string;
  sourcetype: string;
}

export function leadFields(sequence: number, runId: string): LeadFields {
  const pick = <T>(list: readonly T[]): T => list[sequence % list.length]!;
  const first = pick(FIRST_NAMES);
  const last = pick(LAST_NAMES);
  return {
    click_id: `clk-${runId}-${sequence.toString(36)}`,
    country: pick(COUNTRIES),
    creo: `creo-${(sequence % 37) + 1}`,
    description: 'Requested a call back about the premium plan; prefers evenings after 18:00.',
    domain: 'landing.example.com',
    email: `${first.toLowerCase()}.${sequence}@mail.example.com`,
    firstName: first,
    ip: `203.0.113.${sequence % 250}`,
    lang: pick(LANGS),
    lastName: last,
    marker: `utm_source=partner${sequence % 9}&utm_campaign=autumn`,
    offer: `offer-${(sequence % 5) + 1}`,
    phone: `+49 151 ${String(10_000_000 + (sequence % 89_999_999)).padStart(8, '0')}`,
    sourcetype: sequence % 3 === 0 ? 'facebook' : 'google',
  };
}

export function ingestBody(sequence: number, runId: string): string {
  return JSON.stringify(leadFields(sequence, runId));
}

/** A request-service body; services 1–3 in turn, so each service sees a third of the load. */
export function allocateBody(sequence: number, runId: string): string {
  return JSON.stringify({ serviceId: (sequence % 3) + 1, ...leadFields(sequence, runId) });
}

/** The JSON the pgbench ingestion script stores, the same shape and size as the HTTP one. */
export const PGBENCH_SAMPLE_BODY: string = ingestBody(1, 'pgbench');

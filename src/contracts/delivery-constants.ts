import { LEAD_COLUMNS } from './lead-columns.js';

/**
 * Delivery's plain values, apart from the schemas (delivery.ts) because the dashboard imports
 * them, and a module that builds Zod schemas would pull all of Zod into its bundle.
 */

/** The known lead fields as a receiver gets them (SPEC §9): snake_case, as in `leads`. */
export const DELIVERED_LEAD_FIELDS = LEAD_COLUMNS;

/** What a `fields` mapping may name besides `extra.<path>`. */
export const DELIVERY_SOURCES = [
  'lead_id',
  'service_id',
  'provider_id',
  'delivery_id',
  ...DELIVERED_LEAD_FIELDS,
] as const;

/**
 * What reads show instead of a header value or the secret. Sent back in their place it means
 * "keep the stored value", so an editor can save an endpoint without knowing its secrets.
 */
export const MASKED = '********';

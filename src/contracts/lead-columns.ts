/**
 * The known lead fields (SPEC §4/§5): the `leads` columns, snake_case, and what a buyer
 * receives by these names (SPEC §9). Zod-free, so the dashboard can import it cheaply.
 */
export const LEAD_COLUMNS = [
  'click_id',
  'country',
  'creo',
  'description',
  'domain',
  'email',
  'first_name',
  'ip',
  'lang',
  'last_name',
  'marker',
  'offer',
  'phone',
  'sourcetype',
] as const;

export type LeadColumn = (typeof LEAD_COLUMNS)[number];
